package iam

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/policy"
	"github.com/moat-iot/moat/internal/store"
)

// IdentityPolicies returns the compiled identity policies of a principal,
// for policy.Evaluate: a user's inline policies and the default versions
// of its attached managed policies (KindUser), or the same of the role of
// a role session (KindRole). The error wraps ErrNoSuchEntity when the
// user or role no longer exists, so that its callers deny; other kinds of
// principal have no identity policies and get an error.
//
// Inline policies are named "user/NAME/POLICY" (or "role/...") with
// version "inline"; managed ones by their ARN and version id.
//
// Results are cached per user and role. Every change this Service commits
// makes all cached entries stale at once (a generation counter read
// before the store and compared after), so an answer never predates a
// change that returned before the call began; entries also expire after
// identityCacheTTL, for changes other nodes make to a shared store.
func (s *Service) IdentityPolicies(ctx context.Context, p auth.Principal) ([]*policy.Compiled, error) {
	var typ EntityType
	var name string
	switch {
	case p.Kind == auth.KindUser && p.UserName != "":
		typ, name = UserEntity, p.UserName
	case p.Kind == auth.KindRole && p.Session != nil && p.Session.RoleName != "":
		typ, name = RoleEntity, p.Session.RoleName
	default:
		return nil, fmt.Errorf("iam: a %s principal has no identity policies", p.Kind)
	}
	if typ == UserEntity {
		if err := s.ensureAdmin(ctx); err != nil {
			return nil, err
		}
	}
	// A role session is bound to the role it was issued for: a role of
	// the same name made since is another role (AWS ties sessions to the
	// role's unique id).
	roleID := ""
	if typ == RoleEntity {
		roleID = p.Session.RoleID
	}
	ck := typ.String() + "/" + key(name) + "/" + roleID
	now := s.now()
	gen := s.gen.Load()
	if ps, ok := s.cache.get(ck, gen, now); ok {
		return ps, nil
	}
	var ps []*policy.Compiled
	err := s.view(ctx, func(tx store.Tx) error {
		e, err := s.loadEntity(tx, typ, name)
		if err != nil {
			return err
		}
		if typ == RoleEntity && roleID != "" && e.ID != roleID {
			return errorf(NoSuchEntity, "The role with name %s cannot be found.", name)
		}
		ps, err = s.compileEntity(tx, e)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.cache.put(ck, ps, gen, now)
	return ps, nil
}

// compileEntity compiles an entity's inline policies (by name) and its
// attached policies (in attachment order).
func (s *Service) compileEntity(tx store.Tx, e *entity) ([]*policy.Compiled, error) {
	out := make([]*policy.Compiled, 0, len(e.Inline)+len(e.Attached))
	for _, n := range slices.Sorted(maps.Keys(e.Inline)) {
		c, err := compileIdentity(e.typ.String()+"/"+e.Name+"/"+n, "inline", e.Inline[n])
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	for _, arn := range e.Attached {
		r, err := s.resolvePolicy(tx, arn)
		if err != nil {
			return nil, fmt.Errorf("iam: %s %s: attached policy %s: %w", e.typ, e.Name, arn, err)
		}
		if r.aws != nil {
			out = append(out, r.aws.compiled)
			continue
		}
		v, ok := r.local.version(r.local.Default)
		if !ok {
			return nil, fmt.Errorf("iam: policy %s has no default version %s", arn, r.local.Default)
		}
		c, err := compileIdentity(arn, v.ID, v.Document)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// compileIdentity compiles a stored identity policy; it was validated
// when written, so a failure means the store was changed behind our back.
func compileIdentity(name, version, doc string) (*policy.Compiled, error) {
	d, err := policy.ParseOptions{MaxSize: maxDocumentLen, Mode: policy.ModeIdentity}.Parse([]byte(doc))
	if err != nil {
		return nil, fmt.Errorf("iam: stored policy %s does not parse: %w", name, err)
	}
	return policy.Compile(name, version, d)
}

// identityCacheTTL bounds how long a cached answer is used without a
// change on this node; it is how long a change made by another node
// sharing the store may take to apply.
const identityCacheTTL = 5 * time.Second

// policyCache maps "user/name" and "role/name" to compiled policies,
// tagged with the generation they were read at. It holds at most max
// entries and is emptied when full.
type policyCache struct {
	mu  sync.Mutex
	max int
	m   map[string]cachedPolicies
}

type cachedPolicies struct {
	gen      uint64
	expires  time.Time
	policies []*policy.Compiled
}

func (c *policyCache) get(k string, gen uint64, now time.Time) ([]*policy.Compiled, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok || e.gen != gen || !now.Before(e.expires) {
		return nil, false
	}
	return e.policies, true
}

// put stores policies read at generation gen. A reader that began before
// a change stores an entry tagged with the older generation, which get
// never returns once the change has bumped the counter.
func (c *policyCache) put(k string, ps []*policy.Compiled, gen uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= c.max {
		c.m = make(map[string]cachedPolicies)
	}
	c.m[k] = cachedPolicies{gen: gen, expires: now.Add(identityCacheTTL), policies: ps}
}

// len reports the number of entries (for tests).
func (c *policyCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
