package iam

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/moat-iot/moat/internal/policy"
	"github.com/moat-iot/moat/internal/store"
)

// EntityType is the kind of identity that policies attach to.
type EntityType uint8

// Entity types.
const (
	UserEntity EntityType = iota + 1
	RoleEntity
)

// String returns "user" or "role".
func (t EntityType) String() string {
	if t == RoleEntity {
		return "role"
	}
	return "user"
}

// records is how the entities of the type are stored.
func (t EntityType) records() recordKind {
	if t == RoleEntity {
		return roleRecords
	}
	return userRecords
}

// entity is a loaded user or role record, for the operations that both
// have: inline policies, attached managed policies, deletion.
type entity struct {
	*entityRecord // the part of rec that users and roles share

	typ EntityType
	rec any // *userRecord or *roleRecord: what save writes
}

func (e *entity) change() Change {
	if e.typ == RoleEntity {
		return Change{RoleName: e.Name}
	}
	return Change{UserName: e.Name}
}

// inlineMax is the entity's quota on its inline policies together.
func (e *entity) inlineMax() int {
	if e.typ == RoleEntity {
		return MaxRoleInlineSize
	}
	return MaxUserInlineSize
}

func (e *entity) save(tx store.Tx, now time.Time) error {
	return putRecord(tx, e.typ.records().kind, e.Name, e.rec, now)
}

// delete deletes the user or role, which must have no inline or attached
// policies left (DeleteConflict otherwise).
func (e *entity) delete(tx store.Tx) ([]Change, error) {
	switch {
	case len(e.Inline) > 0:
		return nil, errorf(DeleteConflict, "Cannot delete entity, must delete policies first.")
	case len(e.Attached) > 0:
		return nil, errorf(DeleteConflict, "Cannot delete entity, must detach all policies first.")
	}
	return []Change{e.change()}, tx.DeleteObject(e.typ.records().kind, key(e.Name))
}

// loadEntity reads a user or role; NoSuchEntity when there is none.
func (s *Service) loadEntity(tx store.Tx, typ EntityType, name string) (*entity, error) {
	var rec interface{ common() *entityRecord } = &userRecord{}
	if typ == RoleEntity {
		rec = &roleRecord{}
	}
	if err := typ.records().get(tx, name, rec); err != nil {
		return nil, err
	}
	return &entity{typ: typ, entityRecord: rec.common(), rec: rec}, nil
}

// checkEntityName validates the UserName or RoleName member.
func checkEntityName(typ EntityType, name string) error {
	if typ == RoleEntity {
		return checkName("roleName", name, maxNewNameLen)
	}
	return checkName("userName", name, maxNameLen)
}

// updateEntity runs fn on a user or role in a store transaction and
// reports the changes fn returns once it commits. Before the store, it
// validates the name, then answers refuse if it is not nil (the
// operation's own validation of its other members), then records the
// administrator when typ is UserEntity (see ensureAdmin).
func (s *Service) updateEntity(ctx context.Context, typ EntityType, name string, refuse error, fn func(tx store.Tx, now time.Time, e *entity) ([]Change, error)) error {
	if err := s.entityReady(ctx, typ, name, refuse); err != nil {
		return err
	}
	return s.update(ctx, func(tx store.Tx, now time.Time) ([]Change, error) {
		e, err := s.loadEntity(tx, typ, name)
		if err != nil {
			return nil, err
		}
		return fn(tx, now, e)
	})
}

// viewEntity is updateEntity for reads.
func (s *Service) viewEntity(ctx context.Context, typ EntityType, name string, refuse error, fn func(tx store.Tx, e *entity) error) error {
	if err := s.entityReady(ctx, typ, name, refuse); err != nil {
		return err
	}
	return s.view(ctx, func(tx store.Tx) error {
		e, err := s.loadEntity(tx, typ, name)
		if err != nil {
			return err
		}
		return fn(tx, e)
	})
}

// entityReady is what updateEntity and viewEntity do before the store.
func (s *Service) entityReady(ctx context.Context, typ EntityType, name string, refuse error) error {
	if err := cmp.Or(checkEntityName(typ, name), refuse); err != nil {
		return err
	}
	if typ == UserEntity {
		return s.ensureAdmin(ctx)
	}
	return nil
}

// listEntities lists the users or roles (the records R of kind) whose
// path starts with prefix, in name order, as conv makes them; the marker
// is the store's cursor.
func listEntities[R any, P interface {
	*R
	common() *entityRecord
}, T any](ctx context.Context, s *Service, kind, prefix, marker string, max int, conv func(P) T) ([]T, string, error) {
	var recs []R
	var next string
	err := s.view(ctx, func(tx store.Tx) error {
		var err error
		recs, next, err = listRecords(tx, kind, marker, max, func(r *R) bool {
			return strings.HasPrefix(P(r).common().Path, prefix)
		})
		return err
	})
	if err != nil {
		return nil, "", err
	}
	out := make([]T, len(recs))
	for i := range recs {
		out[i] = conv(&recs[i])
	}
	return out, next, nil
}

// PutPolicy adds or replaces an inline policy of a user or role
// (PutUserPolicy, PutRolePolicy). The entity's inline policies together
// may hold at most MaxUserInlineSize or MaxRoleInlineSize characters,
// whitespace excluded.
func (s *Service) PutPolicy(ctx context.Context, typ EntityType, name, policyName, doc string) error {
	return s.updateEntity(ctx, typ, name, checkInlinePolicy(policyName, doc), func(tx store.Tx, now time.Time, e *entity) ([]Change, error) {
		inline := maps.Clone(e.Inline)
		if inline == nil {
			inline = make(map[string]string)
		}
		if n, ok := inlineName(inline, policyName); ok { // names compare without regard to case
			delete(inline, n)
		}
		inline[policyName] = doc
		total := 0
		for _, d := range inline {
			total += nonSpaceLen(d)
		}
		if total > e.inlineMax() {
			return nil, errorf(LimitExceeded, "Maximum policy size of %d bytes exceeded for %s %s", e.inlineMax(), typ, e.Name)
		}
		e.Inline = inline
		return []Change{e.change()}, e.save(tx, now)
	})
}

// checkInlinePolicy validates the PolicyName and PolicyDocument members
// of PutUserPolicy and PutRolePolicy.
func checkInlinePolicy(policyName, doc string) error {
	if err := checkName("policyName", policyName, maxNameLen); err != nil {
		return err
	}
	_, _, err := parseDocument("policyDocument", doc, policy.ModeIdentity)
	return err
}

// inlineName finds an inline policy by name, without regard to case.
func inlineName(inline map[string]string, name string) (string, bool) {
	for n := range inline {
		if key(n) == key(name) {
			return n, true
		}
	}
	return "", false
}

func noSuchInline(typ EntityType, policyName string) *Error {
	return errorf(NoSuchEntity, "The %s policy with name %s cannot be found.", typ, policyName)
}

// GetInlinePolicy returns an inline policy's document (GetUserPolicy,
// GetRolePolicy) and the policy's stored name.
func (s *Service) GetInlinePolicy(ctx context.Context, typ EntityType, name, policyName string) (string, string, error) {
	var stored, doc string
	err := s.viewEntity(ctx, typ, name, checkName("policyName", policyName, maxNameLen), func(tx store.Tx, e *entity) error {
		n, ok := inlineName(e.Inline, policyName)
		if !ok {
			return noSuchInline(typ, policyName)
		}
		stored, doc = n, e.Inline[n]
		return nil
	})
	return stored, doc, err
}

// DeleteInlinePolicy deletes an inline policy (DeleteUserPolicy,
// DeleteRolePolicy).
func (s *Service) DeleteInlinePolicy(ctx context.Context, typ EntityType, name, policyName string) error {
	return s.updateEntity(ctx, typ, name, checkName("policyName", policyName, maxNameLen), func(tx store.Tx, now time.Time, e *entity) ([]Change, error) {
		n, ok := inlineName(e.Inline, policyName)
		if !ok {
			return nil, noSuchInline(typ, policyName)
		}
		delete(e.Inline, n)
		return []Change{e.change()}, e.save(tx, now)
	})
}

// ListInlinePolicies lists the names of a user's or role's inline
// policies in order (ListUserPolicies, ListRolePolicies).
func (s *Service) ListInlinePolicies(ctx context.Context, typ EntityType, name string, p Page) ([]string, string, error) {
	var names []string
	err := s.viewEntity(ctx, typ, name, nil, func(tx store.Tx, e *entity) error {
		names = slices.Collect(maps.Keys(e.Inline))
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return pageSorted(names, func(n string) string { return n }, p)
}

// AttachedPolicy names a managed policy attached to a user or role.
type AttachedPolicy struct {
	Name, ARN string
}

// AttachPolicy attaches a managed policy to a user or role
// (AttachUserPolicy, AttachRolePolicy); attaching it again changes
// nothing. An entity may have at most MaxAttached.
func (s *Service) AttachPolicy(ctx context.Context, typ EntityType, name, arn string) error {
	return s.updateEntity(ctx, typ, name, checkPolicyARN(arn), func(tx store.Tx, now time.Time, e *entity) ([]Change, error) {
		ref, err := s.resolvePolicy(tx, arn)
		if err != nil {
			return nil, err
		}
		if slices.Contains(e.Attached, arn) {
			return nil, nil
		}
		if len(e.Attached) >= MaxAttached {
			quota := "PoliciesPerUser"
			if typ == RoleEntity {
				quota = "PoliciesPerRole"
			}
			return nil, errorf(LimitExceeded, "Cannot exceed quota for %s: %d", quota, MaxAttached)
		}
		e.Attached = append(e.Attached, arn)
		if err := e.save(tx, now); err != nil {
			return nil, err
		}
		err = tx.InsertObject(store.Object{Kind: kindAttachment, Key: attachmentKey(ref.ref(), typ.String(), e.Name),
			Value: []byte("{}"), CreatedAt: now, UpdatedAt: now})
		return e.policyChange(arn), err
	})
}

// policyChange is the change of attaching or detaching a policy.
func (e *entity) policyChange(arn string) []Change {
	c := e.change()
	c.PolicyARN = arn
	return []Change{c}
}

// DetachPolicy detaches a managed policy from a user or role
// (DetachUserPolicy, DetachRolePolicy).
func (s *Service) DetachPolicy(ctx context.Context, typ EntityType, name, arn string) error {
	return s.updateEntity(ctx, typ, name, checkPolicyARN(arn), func(tx store.Tx, now time.Time, e *entity) ([]Change, error) {
		i := slices.Index(e.Attached, arn)
		if i < 0 {
			return nil, errorf(NoSuchEntity, "Policy %s was not found.", arn)
		}
		ref, err := s.resolvePolicy(tx, arn)
		if err != nil {
			return nil, err
		}
		e.Attached = slices.Delete(e.Attached, i, i+1)
		if err := e.save(tx, now); err != nil {
			return nil, err
		}
		err = tx.DeleteObject(kindAttachment, attachmentKey(ref.ref(), typ.String(), e.Name))
		if notFound(err) {
			err = nil // written by every attach; tolerate its absence
		}
		return e.policyChange(arn), err
	})
}

// ListAttachedPoliciesInput is ListAttachedUserPolicies' and
// ListAttachedRolePolicies' request.
type ListAttachedPoliciesInput struct {
	Name       string
	PathPrefix string // "" means "/"
	Page
}

// ListAttachedPolicies lists the managed policies attached to a user or
// role whose path starts with PathPrefix, ordered by ARN.
func (s *Service) ListAttachedPolicies(ctx context.Context, typ EntityType, in ListAttachedPoliciesInput) ([]AttachedPolicy, string, error) {
	prefix, err := checkPolicyPath("pathPrefix", in.PathPrefix)
	var all []AttachedPolicy
	err = s.viewEntity(ctx, typ, in.Name, err, func(tx store.Tx, e *entity) error {
		all = nil
		for _, arn := range e.Attached {
			r, err := s.resolvePolicy(tx, arn)
			if err != nil {
				return err
			}
			name, path := "", "/"
			if r.aws != nil {
				name = r.aws.name
			} else {
				name, path = r.local.Name, r.local.Path
			}
			if strings.HasPrefix(path, prefix) {
				all = append(all, AttachedPolicy{Name: name, ARN: arn})
			}
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return pageSorted(all, func(a AttachedPolicy) string { return a.ARN }, in.Page)
}
