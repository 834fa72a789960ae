package iam

import (
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

// entity is a loaded user or role record, for the operations that both
// have: inline policies and attached managed policies.
type entity struct {
	typ      EntityType
	name     string // the stored spelling
	inline   *map[string]string
	attached *[]string
	rec      any // *userRecord or *roleRecord
}

func (e *entity) change() Change {
	if e.typ == RoleEntity {
		return Change{RoleName: e.name}
	}
	return Change{UserName: e.name}
}

func (e *entity) kind() string {
	if e.typ == RoleEntity {
		return kindRole
	}
	return kindUser
}

// inlineMax is the entity's quota on its inline policies together.
func (e *entity) inlineMax() int {
	if e.typ == RoleEntity {
		return MaxRoleInlineSize
	}
	return MaxUserInlineSize
}

func (e *entity) save(tx store.Tx, now time.Time) error {
	return putRecord(tx, e.kind(), e.name, e.rec, now)
}

// loadEntity reads a user or role; NoSuchEntity when there is none.
func (s *Service) loadEntity(tx store.Tx, typ EntityType, name string) (*entity, error) {
	if typ == RoleEntity {
		r := &roleRecord{}
		if err := s.getRole(tx, name, r); err != nil {
			return nil, err
		}
		return &entity{typ: typ, name: r.Name, inline: &r.Inline, attached: &r.Attached, rec: r}, nil
	}
	u := &userRecord{}
	if err := s.getUser(tx, name, u); err != nil {
		return nil, err
	}
	return &entity{typ: typ, name: u.Name, inline: &u.Inline, attached: &u.Attached, rec: u}, nil
}

// checkEntityName validates the UserName or RoleName member.
func checkEntityName(typ EntityType, name string) error {
	if typ == RoleEntity {
		return checkName("roleName", name, maxNewNameLen)
	}
	return checkName("userName", name, maxNameLen)
}

// PutPolicy adds or replaces an inline policy of a user or role
// (PutUserPolicy, PutRolePolicy). The entity's inline policies together
// may hold at most MaxUserInlineSize or MaxRoleInlineSize characters,
// whitespace excluded.
func (s *Service) PutPolicy(ctx context.Context, typ EntityType, name, policyName, doc string) error {
	if err := checkEntityName(typ, name); err != nil {
		return err
	}
	if err := checkName("policyName", policyName, maxNameLen); err != nil {
		return err
	}
	if _, _, err := parseDocument("policyDocument", doc, policy.ModeIdentity); err != nil {
		return err
	}
	if err := s.ensureAdmin(ctx); err != nil {
		return err
	}
	return s.update(ctx, func(tx store.Tx, now time.Time) ([]Change, error) {
		e, err := s.loadEntity(tx, typ, name)
		if err != nil {
			return nil, err
		}
		inline := maps.Clone(*e.inline)
		if inline == nil {
			inline = make(map[string]string)
		}
		for n := range inline { // names compare without regard to case
			if key(n) == key(policyName) {
				delete(inline, n)
			}
		}
		inline[policyName] = doc
		total := 0
		for _, d := range inline {
			total += nonSpaceLen(d)
		}
		if total > e.inlineMax() {
			return nil, errorf(LimitExceeded, "Maximum policy size of %d bytes exceeded for %s %s", e.inlineMax(), typ, e.name)
		}
		*e.inline = inline
		return []Change{e.change()}, e.save(tx, now)
	})
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
	if err := checkEntityName(typ, name); err != nil {
		return "", "", err
	}
	if err := checkName("policyName", policyName, maxNameLen); err != nil {
		return "", "", err
	}
	if err := s.ensureAdmin(ctx); err != nil {
		return "", "", err
	}
	var stored, doc string
	err := s.view(ctx, func(tx store.Tx) error {
		e, err := s.loadEntity(tx, typ, name)
		if err != nil {
			return err
		}
		n, ok := inlineName(*e.inline, policyName)
		if !ok {
			return noSuchInline(typ, policyName)
		}
		stored, doc = n, (*e.inline)[n]
		return nil
	})
	return stored, doc, err
}

// DeleteInlinePolicy deletes an inline policy (DeleteUserPolicy,
// DeleteRolePolicy).
func (s *Service) DeleteInlinePolicy(ctx context.Context, typ EntityType, name, policyName string) error {
	if err := checkEntityName(typ, name); err != nil {
		return err
	}
	if err := checkName("policyName", policyName, maxNameLen); err != nil {
		return err
	}
	if err := s.ensureAdmin(ctx); err != nil {
		return err
	}
	return s.update(ctx, func(tx store.Tx, now time.Time) ([]Change, error) {
		e, err := s.loadEntity(tx, typ, name)
		if err != nil {
			return nil, err
		}
		n, ok := inlineName(*e.inline, policyName)
		if !ok {
			return nil, noSuchInline(typ, policyName)
		}
		delete(*e.inline, n)
		return []Change{e.change()}, e.save(tx, now)
	})
}

// ListInlinePolicies lists the names of a user's or role's inline
// policies in order (ListUserPolicies, ListRolePolicies).
func (s *Service) ListInlinePolicies(ctx context.Context, typ EntityType, name string, p Page) ([]string, string, error) {
	if err := checkEntityName(typ, name); err != nil {
		return nil, "", err
	}
	if err := s.ensureAdmin(ctx); err != nil {
		return nil, "", err
	}
	var names []string
	err := s.view(ctx, func(tx store.Tx) error {
		e, err := s.loadEntity(tx, typ, name)
		if err != nil {
			return err
		}
		names = slices.Sorted(maps.Keys(*e.inline))
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return pageNames(names, p)
}

// AttachedPolicy names a managed policy attached to a user or role.
type AttachedPolicy struct {
	Name, ARN string
}

// AttachPolicy attaches a managed policy to a user or role
// (AttachUserPolicy, AttachRolePolicy); attaching it again changes
// nothing. An entity may have at most MaxAttached.
func (s *Service) AttachPolicy(ctx context.Context, typ EntityType, name, arn string) error {
	if err := checkEntityName(typ, name); err != nil {
		return err
	}
	if err := checkPolicyARN(arn); err != nil {
		return err
	}
	if err := s.ensureAdmin(ctx); err != nil {
		return err
	}
	return s.update(ctx, func(tx store.Tx, now time.Time) ([]Change, error) {
		e, err := s.loadEntity(tx, typ, name)
		if err != nil {
			return nil, err
		}
		ref, err := s.resolvePolicy(tx, arn)
		if err != nil {
			return nil, err
		}
		if slices.Contains(*e.attached, arn) {
			return nil, nil
		}
		if len(*e.attached) >= MaxAttached {
			quota := "PoliciesPerUser"
			if typ == RoleEntity {
				quota = "PoliciesPerRole"
			}
			return nil, errorf(LimitExceeded, "Cannot exceed quota for %s: %d", quota, MaxAttached)
		}
		*e.attached = append(*e.attached, arn)
		if err := e.save(tx, now); err != nil {
			return nil, err
		}
		err = tx.InsertObject(store.Object{Kind: kindAttachment, Key: attachmentKey(ref.ref(), typ.String(), e.name),
			Value: []byte("{}"), CreatedAt: now, UpdatedAt: now})
		c := e.change()
		c.PolicyARN = arn
		return []Change{c}, err
	})
}

// DetachPolicy detaches a managed policy from a user or role
// (DetachUserPolicy, DetachRolePolicy).
func (s *Service) DetachPolicy(ctx context.Context, typ EntityType, name, arn string) error {
	if err := checkEntityName(typ, name); err != nil {
		return err
	}
	if err := checkPolicyARN(arn); err != nil {
		return err
	}
	if err := s.ensureAdmin(ctx); err != nil {
		return err
	}
	return s.update(ctx, func(tx store.Tx, now time.Time) ([]Change, error) {
		e, err := s.loadEntity(tx, typ, name)
		if err != nil {
			return nil, err
		}
		i := slices.Index(*e.attached, arn)
		if i < 0 {
			return nil, errorf(NoSuchEntity, "Policy %s was not found.", arn)
		}
		ref, err := s.resolvePolicy(tx, arn)
		if err != nil {
			return nil, err
		}
		*e.attached = slices.Delete(*e.attached, i, i+1)
		if err := e.save(tx, now); err != nil {
			return nil, err
		}
		err = tx.DeleteObject(kindAttachment, attachmentKey(ref.ref(), typ.String(), e.name))
		if notFound(err) {
			err = nil // written by every attach; tolerate its absence
		}
		c := e.change()
		c.PolicyARN = arn
		return []Change{c}, err
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
	if err := checkEntityName(typ, in.Name); err != nil {
		return nil, "", err
	}
	prefix, err := checkPolicyPath("pathPrefix", in.PathPrefix)
	if err != nil {
		return nil, "", err
	}
	if err := s.ensureAdmin(ctx); err != nil {
		return nil, "", err
	}
	var all []AttachedPolicy
	err = s.view(ctx, func(tx store.Tx) error {
		all = nil
		e, err := s.loadEntity(tx, typ, in.Name)
		if err != nil {
			return err
		}
		for _, arn := range *e.attached {
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
	slices.SortFunc(all, func(a, b AttachedPolicy) int {
		switch {
		case a.ARN < b.ARN:
			return -1
		case a.ARN > b.ARN:
			return 1
		}
		return 0
	})
	arns := make([]string, len(all))
	for i, a := range all {
		arns[i] = a.ARN
	}
	page, next, err := pageNames(arns, in.Page)
	if err != nil {
		return nil, "", err
	}
	out := make([]AttachedPolicy, len(page))
	for i, arn := range page {
		out[i] = all[slices.IndexFunc(all, func(a AttachedPolicy) bool { return a.ARN == arn })]
	}
	return out, next, nil
}
