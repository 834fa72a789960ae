package iam

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/moat-iot/moat/internal/policy"
	"github.com/moat-iot/moat/internal/store"
)

// Session duration bounds of a role (roleMaxSessionDurationType) and of
// AssumeRole (roleDurationSecondsType).
const (
	DefaultMaxSessionDuration = time.Hour
	MaxMaxSessionDuration     = 12 * time.Hour
	MinSessionDuration        = 15 * time.Minute
)

// Role is an IAM role: a trust policy saying who may assume it, and the
// permissions its sessions get (inline and attached policies).
type Role struct {
	Name, ID    string // ID: AROA...
	Path        string
	ARN         string // arn:aws:iam::ACCOUNT:role{Path}{Name}
	Description string
	// TrustPolicy is the AssumeRolePolicyDocument as given.
	TrustPolicy        string
	MaxSessionDuration time.Duration
	CreatedAt          time.Time
	Tags               []Tag
	trust              *policy.Compiled
	trustIDs           map[string]string // ARN -> unique id (trustids.go)
}

// Trusts reports whether the role's trust policy lets a principal assume
// the role: principalType is policy.PrincipalAWS (principal: the caller's
// ARN), policy.PrincipalService ("credentials.iot.amazonaws.com") or
// policy.PrincipalFederated ("cognito-identity.amazonaws.com"). vars
// supplies the condition keys of the request (aws:SourceIp,
// cognito-identity.amazonaws.com:aud and :amr, sts:ExternalId, ...); nil
// means none. The action asked about is sts:AssumeRoleWithWebIdentity for
// federated principals (what Cognito's credentials flow calls) and
// sts:AssumeRole for the others. Deny by default: a role whose trust
// policy is missing or does not parse trusts nobody.
func (r Role) Trusts(principalType, principal string, vars *policy.Vars) bool {
	if r.trust == nil {
		return false
	}
	action := "sts:AssumeRole"
	if principalType == policy.PrincipalFederated {
		action = "sts:AssumeRoleWithWebIdentity"
	}
	d := policy.Evaluate([]*policy.Compiled{r.trust}, &policy.Request{Action: action, Resource: r.ARN, Vars: vars,
		Caller: &policy.Caller{Type: principalType, ID: principal}})
	return d.Allowed
}

func (s *Service) role(r *roleRecord) Role {
	out := Role{Name: r.Name, ID: r.ID, Path: r.Path, ARN: s.roleARN(r.Path, r.Name), Description: r.Description,
		TrustPolicy: r.Trust, MaxSessionDuration: time.Duration(r.MaxSession) * time.Second, CreatedAt: r.CreatedAt, Tags: r.Tags,
		trustIDs: r.TrustIDs}
	if d, err := (policy.ParseOptions{MaxSize: maxDocumentLen, Mode: policy.ModeTrust}).Parse([]byte(r.Trust)); err == nil {
		out.trust, _ = policy.Compile(out.ARN+" trust", "", d)
	}
	return out
}

// checkTrust validates a trust policy document.
func checkTrust(member, doc string) error {
	_, size, err := parseDocument(member, doc, policy.ModeTrust)
	if err != nil {
		return err
	}
	if size > MaxTrustSize {
		return errorf(LimitExceeded, "Cannot exceed quota for ACLSizePerRole: %d", MaxTrustSize)
	}
	return nil
}

// CreateRoleInput is CreateRole's request.
type CreateRoleInput struct {
	RoleName    string
	Path        string // "" means "/"
	TrustPolicy string // AssumeRolePolicyDocument
	Description string
	// MaxSessionDuration is 1 to 12 hours; 0 means 1 hour.
	MaxSessionDuration time.Duration
	Tags               []Tag
}

// CreateRole creates a role with a trust policy and no permissions.
func (s *Service) CreateRole(ctx context.Context, in CreateRoleInput) (Role, error) {
	if err := checkName("roleName", in.RoleName, maxNewNameLen); err != nil {
		return Role{}, err
	}
	path, err := checkPath(in.Path)
	if err != nil {
		return Role{}, err
	}
	if err := checkDescription(in.Description); err != nil {
		return Role{}, err
	}
	if in.MaxSessionDuration == 0 {
		in.MaxSessionDuration = DefaultMaxSessionDuration
	}
	if d := in.MaxSessionDuration; d < DefaultMaxSessionDuration || d > MaxMaxSessionDuration || d%time.Second != 0 {
		return Role{}, constraint("maxSessionDuration", itoa(int(d/time.Second)), "Member must have value between 3600 and 43200")
	}
	if err := checkTags(in.Tags); err != nil {
		return Role{}, err
	}
	if err := checkTrust("assumeRolePolicyDocument", in.TrustPolicy); err != nil {
		return Role{}, err
	}
	var rec roleRecord
	err = s.update(ctx, func(tx store.Tx, now time.Time) ([]Change, error) {
		ids, err := s.trustIDs(tx, in.TrustPolicy)
		if err != nil {
			return nil, err
		}
		return []Change{{RoleName: in.RoleName}}, roleRecords.create(tx, in.RoleName, s.cfg.MaxRoles, now, func(id string) any {
			rec = roleRecord{entityRecord: entityRecord{Name: in.RoleName, ID: id, Path: path, CreatedAt: now, Tags: in.Tags},
				Description: in.Description, Trust: in.TrustPolicy, TrustIDs: ids, MaxSession: int(in.MaxSessionDuration / time.Second)}
			return &rec
		})
	})
	if err != nil {
		return Role{}, err
	}
	return s.role(&rec), nil
}

// Role returns a role by name (GetRole).
func (s *Service) Role(ctx context.Context, name string) (Role, error) {
	var r Role
	err := s.viewEntity(ctx, RoleEntity, name, nil, func(_ store.Tx, e *entity) error {
		r = s.role(e.rec.(*roleRecord))
		return nil
	})
	return r, err
}

// RoleByARN returns the role an ARN of this account names, path included;
// NoSuchEntity for any other ARN.
func (s *Service) RoleByARN(ctx context.Context, arn string) (Role, error) {
	noSuch := errorf(NoSuchEntity, "The role %s cannot be found.", clip(arn))
	rest, ok := strings.CutPrefix(arn, "arn:aws:iam::"+s.cfg.Account+":role/")
	if !ok {
		return Role{}, noSuch
	}
	i := strings.LastIndexByte(rest, '/')
	path, name := "/"+rest[:i+1], rest[i+1:]
	if checkName("roleName", name, maxNewNameLen) != nil {
		return Role{}, noSuch
	}
	var rec roleRecord
	err := s.view(ctx, func(tx store.Tx) error { return roleRecords.get(tx, name, &rec) })
	if errors.Is(err, ErrNoSuchEntity) || err == nil && (rec.Path != path || rec.Name != name) {
		return Role{}, noSuch
	}
	if err != nil {
		return Role{}, err
	}
	return s.role(&rec), nil
}

// ListRolesInput is ListRoles' request.
type ListRolesInput struct {
	PathPrefix string // "" means "/"
	Page
}

// ListRoles lists roles whose path starts with PathPrefix, by name.
func (s *Service) ListRoles(ctx context.Context, in ListRolesInput) ([]Role, string, error) {
	prefix, max, err := checkListing(in.PathPrefix, in.Page)
	if err != nil {
		return nil, "", err
	}
	return listEntities(ctx, s, kindRole, prefix, in.Marker, max, s.role)
}

// DeleteRole deletes a role that has no inline or attached policies left.
// Sessions of the role lose every permission at once: their policies are
// read when each request is decided.
func (s *Service) DeleteRole(ctx context.Context, name string) error {
	return s.updateEntity(ctx, RoleEntity, name, nil, func(tx store.Tx, _ time.Time, e *entity) ([]Change, error) {
		return e.delete(tx)
	})
}

// UpdateAssumeRolePolicy replaces a role's trust policy.
func (s *Service) UpdateAssumeRolePolicy(ctx context.Context, name, doc string) error {
	return s.updateEntity(ctx, RoleEntity, name, checkTrust("policyDocument", doc), func(tx store.Tx, now time.Time, e *entity) ([]Change, error) {
		ids, err := s.trustIDs(tx, doc)
		if err != nil {
			return nil, err
		}
		r := e.rec.(*roleRecord)
		r.Trust, r.TrustIDs = doc, ids
		return []Change{e.change()}, e.save(tx, now)
	})
}
