package policies

import (
	"context"
	"encoding/base64"
	"errors"
	"maps"
	"slices"
	"strings"

	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/certs"
	"github.com/moat-iot/moat/internal/cognito"
	"github.com/moat-iot/moat/internal/names"
	"github.com/moat-iot/moat/internal/store"
)

// checkTarget resolves an attachment target to something that exists: a
// static thing group of this account (arn:aws:iot:R:A:thinggroup/NAME), a
// Cognito identity of this region by its id (REGION:UUID, see
// cognito.CheckTarget), or a certificate by ARN. A dynamic group cannot
// have policies, as in AWS (InvalidRequestException).
func (s *Service) checkTarget(tx store.Tx, target string) error {
	if cognito.IsIdentityID(target) {
		return cognito.CheckTarget(tx, s.arns.Region, target)
	}
	if name, ok := s.arns.Own(target, "thinggroup"); ok {
		if names.Thing("target", name) != nil {
			return awsapi.Errorf(awsapi.InvalidRequest, "target %q is not a valid thing group ARN.", target)
		}
		g, err := tx.ThingGroup(name)
		if errors.Is(err, store.ErrNotFound) {
			return awsapi.Errorf(awsapi.ResourceNotFound, "Thing group %s does not exist.", name)
		}
		if err != nil {
			return err
		}
		if g.Dynamic {
			return awsapi.Errorf(awsapi.InvalidRequest, "Thing group %s is dynamic; policies cannot be attached to dynamic thing groups.", name)
		}
		return nil
	}
	_, err := certs.Existing(tx, s.arns, "target", target)
	return err
}

// Attach attaches a policy to a target. Attaching twice succeeds. A target
// has at most MaxPoliciesPerTarget policies (LimitExceededException).
func (s *Service) Attach(ctx context.Context, name, target string) error {
	if err := names.Policy("policyName", name); err != nil {
		return err
	}
	attachedNow := false
	err := s.st.Update(ctx, func(tx store.Tx) error {
		if _, err := getPolicy(tx, name); err != nil {
			return err
		}
		if err := s.checkTarget(tx, target); err != nil {
			return err
		}
		attached, _, err := tx.AttachedPolicies(target, store.Page{Limit: MaxPoliciesPerTarget + 1})
		if err != nil {
			return err
		}
		for _, a := range attached {
			if a == name {
				return nil
			}
		}
		if len(attached) >= MaxPoliciesPerTarget {
			return awsapi.Errorf(awsapi.LimitExceeded, "Target already has the maximum of %d policies attached.", MaxPoliciesPerTarget)
		}
		attachedNow = true
		return tx.AttachPolicy(name, target)
	})
	if err == nil && attachedNow && s.OnChange != nil {
		s.OnChange(name, target)
	}
	return err
}

// Detach detaches a policy from a target. Detaching what is not attached
// succeeds; an unknown policy is ResourceNotFoundException.
func (s *Service) Detach(ctx context.Context, name, target string) error {
	if err := names.Policy("policyName", name); err != nil {
		return err
	}
	if target == "" {
		return names.Required("target")
	}
	detached := false
	err := s.st.Update(ctx, func(tx store.Tx) error {
		if _, err := getPolicy(tx, name); err != nil {
			return err
		}
		err := tx.DetachPolicy(name, target)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		detached = err == nil
		return err
	})
	if err == nil && detached && s.OnChange != nil {
		s.OnChange(name, target)
	}
	return err
}

// AttachedPolicies lists the policies attached to a target.
func (s *Service) AttachedPolicies(ctx context.Context, target string, p store.Page) ([]string, string, error) {
	if target == "" {
		return nil, "", names.Required("target")
	}
	return store.ViewPage(ctx, s.st, func(tx store.Tx) ([]string, string, error) { return tx.AttachedPolicies(target, p) })
}

// Targets lists the targets a policy is attached to.
func (s *Service) Targets(ctx context.Context, name string, p store.Page) ([]string, string, error) {
	if err := names.Policy("policyName", name); err != nil {
		return nil, "", err
	}
	return store.ViewPage(ctx, s.st, func(tx store.Tx) ([]string, string, error) {
		if _, err := getPolicy(tx, name); err != nil {
			return nil, "", err
		}
		return tx.PolicyTargets(name, p)
	})
}

// AttachedPoliciesRecursive lists the policies attached to a target and,
// when the target is a thing group, to its ancestors too (what its things
// inherit; ListAttachedPolicies recursive=true). Each policy appears once,
// by name; the listing is computed in memory and pages with its own
// cursor (the last name, encoded).
func (s *Service) AttachedPoliciesRecursive(ctx context.Context, target string, p store.Page) ([]string, string, error) {
	name, ok := s.arns.Own(target, "thinggroup")
	if !ok {
		return s.AttachedPolicies(ctx, target, p)
	}
	after, err := decodeCursor(p.After)
	if err != nil {
		return nil, "", err
	}
	set := map[string]bool{}
	err = s.st.View(ctx, func(tx store.Tx) error {
		clear(set)
		for depth := 0; name != "" && depth < 16; depth++ {
			for next := ""; ; {
				ns, n, err := tx.AttachedPolicies(s.arns.ThingGroup(name), store.Page{After: next, Limit: 100})
				if err != nil {
					return err
				}
				for _, pn := range ns {
					set[pn] = true
				}
				if n == "" {
					break
				}
				next = n
			}
			g, err := tx.ThingGroup(name)
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			name = g.ParentName
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	all := slices.Sorted(maps.Keys(set))
	i := 0
	for i < len(all) && after != "" && all[i] <= after {
		i++
	}
	all = all[i:]
	n := p.Limit
	if n <= 0 {
		n = 100
	}
	if len(all) <= n {
		return all, "", nil
	}
	return all[:n], encodeCursor(all[n-1]), nil
}

const cursorPrefix = "p1:"

func encodeCursor(name string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + name))
}

func decodeCursor(tok string) (string, error) {
	if tok == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || !strings.HasPrefix(string(b), cursorPrefix) {
		return "", awsapi.Errorf(awsapi.InvalidRequest, "marker is not valid.")
	}
	return strings.TrimPrefix(string(b), cursorPrefix), nil
}
