package iam

import (
	"errors"
	"strings"

	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/policy"
	"github.com/moat-iot/moat/internal/store"
)

// Trust policies name users and roles by ARN, but trust the entity, not
// the name: as IAM does, when a trust policy is stored, each user or role
// of this account it names is recorded with its unique id (AIDA..., AROA...).
// A user or role deleted and made again under the same name has another
// id, and the old trust does not extend to it; for that caller the
// statement naming it does not match (another statement, trusting the
// whole account say, still may).

// trustIDs resolves the AWS principals of a trust policy that name users
// or roles of this account to their ids, for those that exist now.
func (s *Service) trustIDs(tx store.Tx, doc string) (map[string]string, error) {
	d, err := (policy.ParseOptions{MaxSize: maxDocumentLen, Mode: policy.ModeTrust}).Parse([]byte(doc))
	if err != nil {
		return nil, nil // checkTrust refused it already; nothing to record
	}
	ids := map[string]string{}
	for _, st := range d.Statements {
		if st.Principal == nil {
			continue
		}
		for _, a := range st.Principal.IDs[policy.PrincipalAWS] {
			kind, name, ok := s.entityOfARN(a)
			if !ok {
				continue
			}
			var rec entityRecord
			err := kind.get(tx, name, &rec)
			switch {
			case err == nil && s.entityARN(kind, rec.Path, rec.Name) == a:
				ids[a] = rec.ID
			case err != nil && !errors.Is(err, ErrNoSuchEntity):
				return nil, err
			}
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	return ids, nil
}

// entityOfARN reads a user or role ARN of this account.
func (s *Service) entityOfARN(a string) (recordKind, string, bool) {
	rest, ok := strings.CutPrefix(a, "arn:aws:iam::"+s.cfg.Account+":")
	if !ok {
		return recordKind{}, "", false
	}
	var kind recordKind
	switch {
	case strings.HasPrefix(rest, "user/"):
		kind = userRecords
	case strings.HasPrefix(rest, "role/"):
		kind = roleRecords
	default:
		return recordKind{}, "", false
	}
	name := rest[strings.LastIndexByte(rest, '/')+1:]
	return kind, name, name != ""
}

func (s *Service) entityARN(kind recordKind, path, name string) string {
	if kind.kind == roleRecords.kind {
		return s.roleARN(path, name)
	}
	return s.userARN(path, name)
}

// staleTrust reports whether the trust policy names the caller's ARN (a
// user's, or for a role session its role's) as recorded for another
// entity of that name than the caller.
func (r Role) staleTrust(p auth.Principal, callerARN, userID string) bool {
	if p.Kind == auth.KindRole && p.Session != nil {
		id, named := r.trustIDs[p.Session.RoleARN]
		return named && p.Session.RoleID != "" && id != p.Session.RoleID
	}
	id, named := r.trustIDs[callerARN]
	return named && id != userID
}

// trustsOtherwise reports whether the trust policy trusts the caller other
// than by naming it (its account, "*"): the caller's name in its ARN (a
// user's name, or a session's role) is replaced by one no statement can
// name.
func (r Role) trustsOtherwise(callerARN string, session bool, vars *policy.Vars) bool {
	parts := strings.Split(callerARN, "/")
	if len(parts) < 2 {
		return false
	}
	i := len(parts) - 1
	if session {
		i = 1 // arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION
	}
	parts[i] = "\x00stale"
	return r.Trusts(policy.PrincipalAWS, strings.Join(parts, "/"), vars)
}
