package iam

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/policy"
	"github.com/moat-iot/moat/internal/store"
)

// Identity is what STS GetCallerIdentity says of a caller.
type Identity struct {
	// UserID is a user's id (AIDA...), or for a role session the role's
	// id and the session name ("AROA...:session").
	UserID string
	// Account is the account id.
	Account string
	// ARN is arn:aws:iam::ACCOUNT:user{path}NAME for a user and
	// arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION for a role session.
	ARN string
	// Type is "User" or "AssumedRole" (aws:PrincipalType).
	Type string
}

// CallerIdentity describes an authenticated user or role session. It
// needs no permission, as in AWS.
func (s *Service) CallerIdentity(ctx context.Context, p auth.Principal) (Identity, error) {
	switch {
	case p.Kind == auth.KindUser:
		if err := s.ensureAdmin(ctx); err != nil {
			return Identity{}, err
		}
		var rec userRecord
		if err := s.view(ctx, func(tx store.Tx) error { return userRecords.get(tx, p.UserName, &rec) }); err != nil {
			return Identity{}, err
		}
		return Identity{UserID: rec.ID, Account: s.cfg.Account, ARN: s.userARN(rec.Path, rec.Name), Type: "User"}, nil
	case p.Kind == auth.KindRole && p.Session != nil:
		id := p.Session.RoleName
		var rec roleRecord
		err := s.view(ctx, func(tx store.Tx) error { return roleRecords.get(tx, p.Session.RoleName, &rec) })
		switch {
		case err == nil && (p.Session.RoleID == "" || rec.ID == p.Session.RoleID):
			id = rec.ID
		case err == nil:
			// The role was deleted and made again: the session's is gone.
		case !errors.Is(err, ErrNoSuchEntity):
			return Identity{}, err
		}
		return Identity{UserID: id + ":" + p.Session.SessionName, Account: s.cfg.Account,
			ARN: p.Session.ARN(s.cfg.Account), Type: "AssumedRole"}, nil
	}
	return Identity{}, errorf(AccessDenied, "A %s principal has no IAM identity.", p.Kind)
}

// AssumeRoleInput is STS AssumeRole's request.
type AssumeRoleInput struct {
	// Caller is who asks: a user or a role session (role chaining). The
	// caller's identity policies must already allow sts:AssumeRole on
	// the role (the API layer authorizes that).
	Caller      auth.Principal
	RoleARN     string
	SessionName string // 2-64 characters of [\w+=,.@-]
	// Duration is 15 minutes to the role's MaxSessionDuration (1 hour
	// for role chaining); 0 means 1 hour.
	Duration time.Duration
	// Tags become the session's tags (aws:PrincipalTag/KEY).
	Tags []Tag
	// ExternalID is sts:ExternalId for the trust policy's conditions.
	ExternalID string
	// Policy is a session policy. moat does not support session
	// policies: a non-empty one is refused rather than ignored, since
	// ignoring it would grant more than the caller asked for.
	Policy string
	// Vars are the request's condition keys (aws:SourceIp, ...), to which
	// AssumeRole adds the caller's (aws:PrincipalArn, aws:username, ...).
	Vars policy.Vars
}

// AssumeRoleOutput is AssumeRole's answer.
type AssumeRoleOutput struct {
	Credentials auth.Credentials
	// AssumedRoleID is "ROLEID:SESSION"; ARN is the session's
	// arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION.
	AssumedRoleID, ARN string
}

// AssumeRole issues temporary credentials for a role whose trust policy
// trusts the caller (its ARN, its account, or for a session its role).
// An unknown role and an untrusting one get the same AccessDenied, as in
// AWS, so that roles cannot be discovered by asking.
func (s *Service) AssumeRole(ctx context.Context, in AssumeRoleInput) (AssumeRoleOutput, error) {
	if err := checkString("roleArn", in.RoleARN, 20, 2048, nil); err != nil {
		return AssumeRoleOutput{}, err
	}
	if err := checkString("roleSessionName", in.SessionName, 2, 64, sessionPattern); err != nil {
		return AssumeRoleOutput{}, err
	}
	if in.Duration == 0 {
		in.Duration = time.Hour
	}
	if d := in.Duration; d < MinSessionDuration || d > MaxMaxSessionDuration {
		return AssumeRoleOutput{}, constraint("durationSeconds", itoa(int(d/time.Second)), "Member must have value between 900 and 43200")
	}
	if err := checkTags(in.Tags); err != nil {
		return AssumeRoleOutput{}, err
	}
	if in.Policy != "" {
		return AssumeRoleOutput{}, errorf(ValidationError, "Session policies (Policy, PolicyArns) are not supported: leave them out; the session gets the role's permissions.")
	}
	if s.cfg.Minter == nil {
		return AssumeRoleOutput{}, errors.New("iam: AssumeRole: no Minter configured")
	}
	callerARN, vars, err := s.callerVars(ctx, in.Caller, in.Vars)
	if err != nil {
		return AssumeRoleOutput{}, err
	}
	denied := errorf(AccessDenied, "User: %s is not authorized to perform: sts:AssumeRole on resource: %s", callerARN, clip(in.RoleARN))
	role, err := s.RoleByARN(ctx, in.RoleARN)
	if errors.Is(err, ErrNoSuchEntity) {
		return AssumeRoleOutput{}, denied
	}
	if err != nil {
		return AssumeRoleOutput{}, err
	}
	if in.Caller.Kind == auth.KindRole && in.Duration > time.Hour {
		return AssumeRoleOutput{}, errorf(ValidationError, "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	}
	if in.Duration > role.MaxSessionDuration {
		return AssumeRoleOutput{}, errorf(ValidationError, "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	vars.Set("sts:RoleSessionName", in.SessionName)
	if in.ExternalID != "" {
		vars.Set("sts:ExternalId", in.ExternalID)
	}
	for _, t := range in.Tags {
		vars.Set("aws:RequestTag/"+t.Key, t.Value)
	}
	if !role.Trusts(policy.PrincipalAWS, callerARN, &vars) {
		return AssumeRoleOutput{}, denied
	}
	var userID string
	if ids := vars.Extra["aws:userid"]; len(ids) == 1 {
		userID = ids[0]
	}
	if role.staleTrust(in.Caller, callerARN, userID) && !role.trustsOtherwise(callerARN, in.Caller.Kind == auth.KindRole, &vars) {
		// The trust names a user or role of the caller's name that was
		// deleted since: not the caller.
		return AssumeRoleOutput{}, denied
	}
	now := s.now().UTC()
	sess := auth.Session{RoleName: role.Name, RoleARN: role.ARN, RoleID: role.ID, SessionName: in.SessionName, Source: auth.SourceSTS,
		SourceARN: callerARN, IssuedAt: now, Expiration: now.Add(in.Duration)}
	if len(in.Tags) > 0 {
		sess.Tags = make(map[string]string, len(in.Tags))
		for _, t := range in.Tags {
			sess.Tags[t.Key] = t.Value
		}
	}
	creds, err := s.cfg.Minter.Mint(ctx, sess)
	if err != nil {
		return AssumeRoleOutput{}, fmt.Errorf("iam: AssumeRole: %w", err)
	}
	return AssumeRoleOutput{Credentials: creds, AssumedRoleID: role.ID + ":" + in.SessionName, ARN: sess.ARN(s.cfg.Account)}, nil
}

// callerVars returns the caller's ARN and the request's condition keys
// completed with the caller's: aws:PrincipalArn, aws:PrincipalAccount,
// aws:PrincipalType, aws:username and aws:userid (users), and
// aws:PrincipalTag/KEY (session tags).
func (s *Service) callerVars(ctx context.Context, p auth.Principal, vars policy.Vars) (string, policy.Vars, error) {
	if p.Kind != auth.KindUser && p.Kind != auth.KindRole {
		return "", vars, errorf(AccessDenied, "Only IAM users and role sessions may assume roles; this caller is a %s.", p.Kind)
	}
	id, err := s.CallerIdentity(ctx, p)
	if err != nil {
		return "", vars, err
	}
	extra := make(map[string][]string, len(vars.Extra)+6)
	for k, v := range vars.Extra {
		extra[k] = v
	}
	vars.Extra = extra
	vars.Set("aws:PrincipalArn", id.ARN)
	vars.Set("aws:PrincipalAccount", s.cfg.Account)
	vars.Set("aws:PrincipalType", id.Type)
	vars.Set("aws:userid", id.UserID)
	if p.Kind == auth.KindUser {
		vars.Set("aws:username", p.UserName)
	}
	if p.Session != nil {
		for k, v := range p.Session.Tags {
			vars.Set("aws:PrincipalTag/"+k, v)
		}
	}
	return id.ARN, vars, nil
}
