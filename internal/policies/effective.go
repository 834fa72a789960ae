package policies

import (
	"context"
	"strconv"
	"sync"

	"github.com/moat-iot/moat/internal/policy"
	"github.com/moat-iot/moat/internal/store"
)

// compiledCache holds compiled policy versions. A version is immutable, so
// an entry never goes stale; entries of deleted versions are dropped when
// their policy changes.
type compiledCache struct {
	mu sync.Mutex
	m  map[versionKey]*policy.Compiled
}

type versionKey struct {
	name    string
	version int
}

// Effective returns the compiled default versions of the policies attached
// to any of the targets (a certificate ARN, thing group ARNs — the caller
// passes a thing's groups and their ancestors, see
// registry.GroupPolicyTargets — later identities), each policy once.
func (s *Service) Effective(ctx context.Context, targets ...string) ([]*policy.Compiled, error) {
	type pv struct {
		name    string
		version int
		doc     string
	}
	var found []pv
	err := s.st.View(ctx, func(tx store.Tx) error {
		seen := map[string]bool{}
		for _, t := range targets {
			after := ""
			for {
				names, next, err := tx.AttachedPolicies(t, store.Page{After: after, Limit: 100})
				if err != nil {
					return err
				}
				for _, n := range names {
					if seen[n] {
						continue
					}
					seen[n] = true
					p, err := tx.Policy(n)
					if err != nil {
						return err
					}
					entry := pv{name: n, version: p.DefaultVersionID}
					if s.cached(n, p.DefaultVersionID) == nil {
						v, err := tx.PolicyVersion(n, p.DefaultVersionID)
						if err != nil {
							return err
						}
						entry.doc = v.Document
					}
					found = append(found, entry)
				}
				if next == "" {
					break
				}
				after = next
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]*policy.Compiled, 0, len(found))
	for _, f := range found {
		c := s.cached(f.name, f.version)
		if c == nil {
			doc, err := policy.Parse([]byte(f.doc))
			if err != nil {
				return nil, err
			}
			if c, err = policy.Compile(f.name, strconv.Itoa(f.version), doc); err != nil {
				return nil, err
			}
			s.cache.mu.Lock()
			if s.cache.m == nil {
				s.cache.m = map[versionKey]*policy.Compiled{}
			}
			s.cache.m[versionKey{f.name, f.version}] = c
			s.cache.mu.Unlock()
		}
		out = append(out, c)
	}
	return out, nil
}

func (s *Service) cached(name string, version int) *policy.Compiled {
	s.cache.mu.Lock()
	defer s.cache.mu.Unlock()
	return s.cache.m[versionKey{name, version}]
}

// forget drops the compiled versions of a policy.
func (s *Service) forget(name string) {
	s.cache.mu.Lock()
	defer s.cache.mu.Unlock()
	for k := range s.cache.m {
		if k.name == name {
			delete(s.cache.m, k)
		}
	}
}
