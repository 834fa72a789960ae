package cognito

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/moat-iot/moat/internal/arn"
	"github.com/moat-iot/moat/internal/store"
)

// Pool is an identity pool.
type Pool struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	PoolConfig
	// Roles are the pool's role ARNs (SetIdentityPoolRoles); "" for none.
	Roles PoolRoles `json:"roles"`
	// Identities counts the pool's identities.
	Identities int64 `json:"identities"`
	// Deleting marks a pool DeletePool is deleting: it is gone for every
	// operation, and kept only until its identities are.
	Deleting bool `json:"deleting,omitempty"`
}

// PoolConfig is what CreateIdentityPool and UpdateIdentityPool set.
type PoolConfig struct {
	// AllowUnauthenticated lets GetId make guest identities.
	AllowUnauthenticated bool `json:"allowUnauthenticated"`
	// AllowClassicFlow is kept and returned; moat has no basic flow
	// (STS AssumeRoleWithWebIdentity).
	AllowClassicFlow bool `json:"allowClassicFlow,omitempty"`
	// SupportedLoginProviders maps a provider name (an OIDC provider
	// this server knows) to the client id its tokens must be issued to.
	SupportedLoginProviders map[string]string `json:"supportedLoginProviders,omitempty"`
	// DeveloperProviderName names the app back end's users in
	// GetOpenIdTokenForDeveloperIdentity; once set it cannot change.
	DeveloperProviderName string `json:"developerProviderName,omitempty"`
	// OpenIDConnectProviderARNs name the OIDC providers the pool trusts
	// with the operator's client ids (arn:aws:iam::ACCOUNT:oidc-provider/NAME).
	OpenIDConnectProviderARNs []string `json:"openIdConnectProviderArns,omitempty"`
	// Tags are the pool's tags (IdentityPoolTags).
	Tags map[string]string `json:"tags,omitempty"`
}

// PoolRoles are a pool's role ARNs.
type PoolRoles struct {
	Authenticated   string `json:"authenticated,omitempty"`
	Unauthenticated string `json:"unauthenticated,omitempty"`
}

// Limits of pool members (botocore shapes).
const (
	maxPoolName       = 128
	maxProviderName   = 128
	maxTagsPerPool    = 50
	maxTagKeyLength   = 128
	maxTagValueLength = 256
)

func checkPoolName(name string) error {
	n := utf8.RuneCountInString(name)
	if n < 1 || n > maxPoolName {
		return invalid("IdentityPoolName must be 1 to %d characters long, got %d.", maxPoolName, n)
	}
	for _, r := range name {
		if !word(r) && !strings.ContainsRune(" \t\n\r\f\v+=,.@-", r) {
			return invalid("IdentityPoolName %q must match the pattern [\\w\\s+=,.@-]+.", name)
		}
	}
	return nil
}

// checkConfig validates a pool configuration and returns it normalized
// (OIDC provider ARNs deduplicated and sorted).
func (s *Service) checkConfig(c PoolConfig) (PoolConfig, error) {
	if len(c.SupportedLoginProviders) > 10 {
		return c, invalid("SupportedLoginProviders has %d entries; at most 10 are allowed.", len(c.SupportedLoginProviders))
	}
	for name, client := range c.SupportedLoginProviders {
		if n := utf8.RuneCountInString(name); n < 1 || n > maxProviderName {
			return c, invalid("SupportedLoginProviders: a provider name must be 1 to %d characters long, got %q.", maxProviderName, name)
		}
		if err := checkClientID("SupportedLoginProviders["+name+"]", client); err != nil {
			return c, err
		}
		if _, ok := s.oidc[name]; !ok {
			return c, invalid("SupportedLoginProviders: %s is not an OpenID Connect provider of this server (see --oidc-provider).", name)
		}
	}
	if d := c.DeveloperProviderName; d != "" {
		if len(d) > maxProviderName {
			return c, invalid("DeveloperProviderName must be 1 to %d characters long.", maxProviderName)
		}
		for _, r := range d {
			if !word(r) && r != '.' && r != '-' {
				return c, invalid("DeveloperProviderName %q must match the pattern [\\w._-]+.", d)
			}
		}
		if d == DeveloperIssuerName {
			return c, invalid("DeveloperProviderName cannot be %s.", DeveloperIssuerName)
		}
	}
	arns := map[string]bool{}
	for _, a := range c.OpenIDConnectProviderARNs {
		name, err := s.oidcProviderName(a)
		if err != nil {
			return c, err
		}
		if _, ok := s.oidc[name]; !ok {
			return c, invalid("OpenIdConnectProviderARNs: %s names no OpenID Connect provider of this server (see --oidc-provider).", a)
		}
		arns[a] = true
	}
	c.OpenIDConnectProviderARNs = slices.Sorted(maps.Keys(arns))
	if len(c.Tags) > maxTagsPerPool {
		return c, invalid("IdentityPoolTags has %d tags; at most %d are allowed.", len(c.Tags), maxTagsPerPool)
	}
	for k, v := range c.Tags {
		if n := utf8.RuneCountInString(k); n < 1 || n > maxTagKeyLength {
			return c, invalid("IdentityPoolTags: a key must be 1 to %d characters long, got %q.", maxTagKeyLength, k)
		}
		if n := utf8.RuneCountInString(v); n > maxTagValueLength {
			return c, invalid("IdentityPoolTags[%s] must be at most %d characters long.", k, maxTagValueLength)
		}
	}
	return c, nil
}

func checkClientID(member, id string) error {
	if n := len(id); n < 1 || n > maxProviderName {
		return invalid("%s must be 1 to %d characters long.", member, maxProviderName)
	}
	for _, r := range id {
		if !word(r) && !strings.ContainsRune(".;_/-", r) {
			return invalid("%s %q must match the pattern [\\w.;_/-]+.", member, id)
		}
	}
	return nil
}

// oidcProviderName reads the provider name of an IAM OIDC provider ARN of
// this account.
func (s *Service) oidcProviderName(a string) (string, error) {
	p, err := arn.Parse(a)
	if err != nil || p.Service != "iam" || p.Region != "" || p.Type() != "oidc-provider" || p.Name() == "" {
		return "", invalid("OpenIdConnectProviderARNs: %q is not an OIDC provider ARN (arn:aws:iam::ACCOUNT:oidc-provider/NAME).", a)
	}
	if p.Account != s.opts.Account {
		return "", invalid("OpenIdConnectProviderARNs: %q is not in this account (%s).", a, s.opts.Account)
	}
	return p.Name(), nil
}

// getPool returns a pool; one being deleted is not found.
func getPool(tx store.Tx, id string) (Pool, error) {
	p, err := readPool(tx, id)
	if err == nil && p.Deleting {
		return Pool{}, poolNotFound(id)
	}
	return p, err
}

// readPool returns a pool, even one being deleted.
func readPool(tx store.Tx, id string) (Pool, error) {
	return getJSON[Pool](tx, KindPool, id, poolNotFound(id))
}

// putPool writes p: a new pool (insert) or a change, at time at.
func putPool(tx store.Tx, p Pool, insert bool, at time.Time) error {
	return putJSON(tx, KindPool, p.ID, p, insert, at, at)
}

// CreatePool makes an identity pool (CreateIdentityPool).
func (s *Service) CreatePool(ctx context.Context, name string, c PoolConfig) (Pool, error) {
	if err := checkPoolName(name); err != nil {
		return Pool{}, err
	}
	c, err := s.checkConfig(c)
	if err != nil {
		return Pool{}, err
	}
	p := Pool{ID: newID(s.opts.Region), Name: name, PoolConfig: c}
	now := s.now()
	err = s.st.Update(ctx, func(tx store.Tx) error {
		n, err := tx.CountObjects(KindPool, "")
		if err != nil {
			return err
		}
		if n >= s.opts.MaxPools {
			return errorf(LimitExceeded, "The account already has the maximum of %d identity pools.", s.opts.MaxPools)
		}
		return putPool(tx, p, true, now)
	})
	return p, err
}

// DescribePool returns a pool (DescribeIdentityPool).
func (s *Service) DescribePool(ctx context.Context, id string) (Pool, error) {
	if err := s.checkID("IdentityPoolId", id, poolNotFound); err != nil {
		return Pool{}, err
	}
	var p Pool
	err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		p, err = getPool(tx, id)
		return err
	})
	return p, err
}

// UpdatePool replaces a pool's name and configuration
// (UpdateIdentityPool). Tags not given (nil) are kept; a
// DeveloperProviderName once set cannot change (an empty one keeps it).
func (s *Service) UpdatePool(ctx context.Context, id, name string, c PoolConfig) (Pool, error) {
	if err := s.checkID("IdentityPoolId", id, poolNotFound); err != nil {
		return Pool{}, err
	}
	if err := checkPoolName(name); err != nil {
		return Pool{}, err
	}
	c, err := s.checkConfig(c)
	if err != nil {
		return Pool{}, err
	}
	var p Pool
	err = s.st.Update(ctx, func(tx store.Tx) error {
		var err error
		if p, err = getPool(tx, id); err != nil {
			return err
		}
		old := p.DeveloperProviderName
		if old != "" && c.DeveloperProviderName != "" && c.DeveloperProviderName != old {
			return invalid("DeveloperProviderName of identity pool %s is %s and cannot be changed.", id, old)
		}
		if c.DeveloperProviderName == "" {
			c.DeveloperProviderName = old
		}
		if c.Tags == nil {
			c.Tags = p.Tags
		}
		p.Name, p.PoolConfig = name, c
		return putPool(tx, p, false, s.now())
	})
	return p, err
}

// ListPools lists pools ordered by id, max (1 to 60) at a time; next is
// the NextToken of the previous page.
func (s *Service) ListPools(ctx context.Context, max int, next string) ([]Pool, string, error) {
	if max < 1 || max > 60 {
		return nil, "", invalid("MaxResults must be 1 to 60, got %d.", max)
	}
	var out []Pool
	var after string
	err := s.st.View(ctx, func(tx store.Tx) error {
		objs, n, err := tx.ListObjects(KindPool, "", store.Page{After: next, Limit: max})
		if errors.Is(err, store.ErrInvalidCursor) {
			return invalid("NextToken is not valid.")
		}
		if err != nil {
			return err
		}
		out, after = make([]Pool, 0, len(objs)), n
		for _, o := range objs {
			p, err := decodeJSON[Pool](o)
			if err != nil {
				return err
			}
			if !p.Deleting {
				out = append(out, p)
			}
		}
		return nil
	})
	return out, after, err
}

// SetRoles sets a pool's roles (SetIdentityPoolRoles): each must be an
// IAM role ARN of this account that exists. An empty ARN removes it.
func (s *Service) SetRoles(ctx context.Context, id string, roles PoolRoles) error {
	if err := s.checkID("IdentityPoolId", id, poolNotFound); err != nil {
		return err
	}
	for _, r := range []struct{ member, arn string }{{"Roles.authenticated", roles.Authenticated}, {"Roles.unauthenticated", roles.Unauthenticated}} {
		if r.arn == "" {
			continue
		}
		if err := CheckRoleARN(r.member, r.arn, s.opts.Account, func(f string, a ...any) error { return invalid(f, a...) }); err != nil {
			return err
		}
		if _, err := s.roles.RoleByARN(ctx, r.arn); errors.Is(err, ErrNoSuchRole) {
			return invalid("%s: role %s does not exist.", r.member, r.arn)
		} else if err != nil {
			return err
		}
	}
	return s.st.Update(ctx, func(tx store.Tx) error {
		p, err := getPool(tx, id)
		if err != nil {
			return err
		}
		p.Roles = roles
		return putPool(tx, p, false, s.now())
	})
}

// DeletePool deletes a pool and its identities (DeleteIdentityPool),
// with their logins and IoT policy attachments. The pool is marked
// deleting at once, in one transaction (from then on every operation
// finds it no more); its identities go after, in bounded batches; the
// pool itself goes last. A delete that was interrupted (a crash) is
// finished by the next DeletePool of the pool.
func (s *Service) DeletePool(ctx context.Context, id string) error {
	if err := s.checkID("IdentityPoolId", id, poolNotFound); err != nil {
		return err
	}
	err := s.st.Update(ctx, func(tx store.Tx) error {
		p, err := readPool(tx, id)
		if err != nil || p.Deleting {
			return err
		}
		p.Deleting = true
		return putPool(tx, p, false, s.now())
	})
	if err != nil {
		return err
	}
	for {
		var gone []string
		err := s.st.Update(ctx, func(tx store.Tx) error {
			gone = gone[:0]
			objs, _, err := tx.ListObjects(KindPoolIdentity, id+"\x00", store.Page{Limit: deleteBatch})
			if err != nil {
				return err
			}
			for _, o := range objs {
				iid := strings.TrimPrefix(o.Key, id+"\x00")
				if err := deleteIdentity(tx, iid, s.now()); err != nil && !errors.Is(err, errIdentityGone) {
					return err
				}
				if err := ignoreNotFound(tx.DeleteObject(KindPoolIdentity, o.Key)); err != nil {
					return err
				}
				gone = append(gone, iid)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("delete identities of pool %s: %w", id, err)
		}
		s.identitiesDeleted(gone)
		if len(gone) < deleteBatch {
			break
		}
	}
	return s.st.Update(ctx, func(tx store.Tx) error { return ignoreNotFound(tx.DeleteObject(KindPool, id)) })
}

// deleteBatch is how many identities one transaction deletes (a
// variable for tests).
var deleteBatch = 500

func (s *Service) identitiesDeleted(ids []string) {
	if s.OnIdentityDeleted == nil {
		return
	}
	for _, id := range ids {
		s.OnIdentityDeleted(id)
	}
}
