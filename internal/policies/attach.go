package policies

import (
	"context"
	"errors"

	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/certs"
	"github.com/moat-iot/moat/internal/names"
	"github.com/moat-iot/moat/internal/store"
)

// checkTarget resolves an attachment target to something that exists:
// today a certificate of this account, by ARN.
func (s *Service) checkTarget(tx store.Tx, target string) error {
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
	var out []string
	var next string
	err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		out, next, err = tx.AttachedPolicies(target, p)
		return err
	})
	return out, next, err
}

// Targets lists the targets a policy is attached to.
func (s *Service) Targets(ctx context.Context, name string, p store.Page) ([]string, string, error) {
	if err := names.Policy("policyName", name); err != nil {
		return nil, "", err
	}
	var out []string
	var next string
	err := s.st.View(ctx, func(tx store.Tx) error {
		if _, err := getPolicy(tx, name); err != nil {
			return err
		}
		var err error
		out, next, err = tx.PolicyTargets(name, p)
		return err
	})
	return out, next, err
}
