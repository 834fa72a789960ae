// Package policies keeps the stored IoT policies: their versions, the
// default version, and their attachments to targets (certificates, thing
// groups and Cognito identities). Documents are checked by
// internal/policy before anything is written; every call is one store
// transaction.
package policies

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strconv"
	"time"

	"github.com/moat-iot/moat/internal/arn"
	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/names"
	"github.com/moat-iot/moat/internal/policy"
	"github.com/moat-iot/moat/internal/store"
	"github.com/moat-iot/moat/internal/tags"
)

// Limits as AWS IoT's quotas.
const (
	// MaxVersions is how many versions a policy may have.
	MaxVersions = 5
	// MaxPoliciesPerTarget is how many policies one target may have.
	MaxPoliciesPerTarget = 10
)

// Service manages stored policies.
type Service struct {
	st   store.Store
	arns arn.Builder
	now  func() time.Time
	// OnChange, if set, is called after a change that may alter what a
	// principal is allowed, outside the transaction: with the policy name
	// and "" when every principal using the policy is affected (a new
	// default version), or with the target an attach or detach concerned.
	OnChange func(policyName, target string)

	cache compiledCache
}

// New returns a policy service.
func New(st store.Store, arns arn.Builder) *Service {
	return &Service{st: st, arns: arns, now: time.Now}
}

// Version is a policy with one of its documents.
type Version struct {
	Policy    store.Policy
	Version   store.PolicyVersion
	IsDefault bool
}

func checkDocument(doc string) error {
	if doc == "" {
		return names.Required("policyDocument")
	}
	if _, err := policy.Parse([]byte(doc)); err != nil {
		var se *policy.SyntaxError
		if errors.As(err, &se) {
			return &awsapi.Error{Code: awsapi.MalformedPolicy, Message: se.Error(), Cause: err}
		}
		return &awsapi.Error{Code: awsapi.MalformedPolicy, Message: err.Error(), Cause: err}
	}
	return nil
}

func notFound(name string) error {
	return awsapi.Errorf(awsapi.ResourceNotFound, "Policy %s does not exist.", name)
}

func getPolicy(tx store.Tx, name string) (store.Policy, error) {
	p, err := tx.Policy(name)
	if errors.Is(err, store.ErrNotFound) {
		return p, notFound(name)
	}
	return p, err
}

func newGenerationID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Create stores a new policy with its first version as the default, and
// its tags (nil for none; see internal/tags for the rules).
func (s *Service) Create(ctx context.Context, name, doc string, ts []tags.Tag) (Version, error) {
	if err := names.Policy("policyName", name); err != nil {
		return Version{}, err
	}
	if err := checkDocument(doc); err != nil {
		return Version{}, err
	}
	tagMap, err := tags.Check("tags", ts)
	if err != nil {
		return Version{}, err
	}
	now := s.now().UTC()
	p := store.Policy{Name: name, DefaultVersionID: 1, CreatedAt: now, UpdatedAt: now, GenerationID: newGenerationID()}
	v := store.PolicyVersion{PolicyName: name, VersionID: 1, Document: doc, CreatedAt: now}
	err = s.st.Update(ctx, func(tx store.Tx) error {
		if err := tx.InsertPolicy(p); errors.Is(err, store.ErrExists) {
			return &awsapi.Error{Code: awsapi.ResourceAlreadyExists, Message: "Policy " + name + " already exists.", ResourceID: name, ResourceARN: s.arns.Policy(name)}
		} else if err != nil {
			return err
		}
		if err := tx.InsertPolicyVersion(v); err != nil {
			return err
		}
		return tags.Put(tx, s.arns.Policy(name), tagMap)
	})
	return Version{Policy: p, Version: v, IsDefault: true}, err
}

// Get returns a policy with its default version.
func (s *Service) Get(ctx context.Context, name string) (Version, error) {
	if err := names.Policy("policyName", name); err != nil {
		return Version{}, err
	}
	var out Version
	err := s.st.View(ctx, func(tx store.Tx) error {
		p, err := getPolicy(tx, name)
		if err != nil {
			return err
		}
		v, err := tx.PolicyVersion(name, p.DefaultVersionID)
		if err != nil {
			return err
		}
		out = Version{Policy: p, Version: v, IsDefault: true}
		return nil
	})
	return out, err
}

// List returns one page of policies ordered by name.
func (s *Service) List(ctx context.Context, p store.Page, ascending bool) ([]store.Policy, string, error) {
	return store.ViewPage(ctx, s.st, func(tx store.Tx) ([]store.Policy, string, error) { return tx.ListPolicies(p, ascending) })
}

// Delete removes a policy that is attached nowhere and has no version but
// its default (DeleteConflictException otherwise, as AWS).
func (s *Service) Delete(ctx context.Context, name string) error {
	if err := names.Policy("policyName", name); err != nil {
		return err
	}
	err := s.st.Update(ctx, func(tx store.Tx) error {
		if _, err := getPolicy(tx, name); err != nil {
			return err
		}
		targets, _, err := tx.PolicyTargets(name, store.Page{Limit: 1})
		if err != nil {
			return err
		}
		if len(targets) > 0 {
			return awsapi.Errorf(awsapi.DeleteConflict, "Policy %s is attached to %s; detach it first.", name, targets[0])
		}
		vs, err := tx.PolicyVersions(name)
		if err != nil {
			return err
		}
		if len(vs) > 1 {
			return awsapi.Errorf(awsapi.DeleteConflict, "Policy %s has %d versions; delete every version but the default first.", name, len(vs))
		}
		if err := tx.DeletePolicy(name); err != nil {
			return err
		}
		return tags.DeleteAll(tx, s.arns.Policy(name))
	})
	if err == nil {
		s.forget(name)
	}
	if err == nil && s.OnChange != nil {
		s.OnChange(name, "")
	}
	return err
}

// CreateVersion adds a version; with setAsDefault it becomes the default.
// A policy has at most MaxVersions versions (VersionsLimitExceededException).
func (s *Service) CreateVersion(ctx context.Context, name, doc string, setAsDefault bool) (Version, error) {
	if err := names.Policy("policyName", name); err != nil {
		return Version{}, err
	}
	if err := checkDocument(doc); err != nil {
		return Version{}, err
	}
	var out Version
	err := s.st.Update(ctx, func(tx store.Tx) error {
		p, err := getPolicy(tx, name)
		if err != nil {
			return err
		}
		vs, err := tx.PolicyVersions(name)
		if err != nil {
			return err
		}
		if len(vs) >= MaxVersions {
			return awsapi.Errorf(awsapi.VersionsLimitExceeded, "Policy %s already has the maximum of %d versions; delete one first.", name, MaxVersions)
		}
		next := 1
		for _, v := range vs {
			next = max(next, v.VersionID+1)
		}
		now := s.now().UTC()
		v := store.PolicyVersion{PolicyName: name, VersionID: next, Document: doc, CreatedAt: now}
		if err := tx.InsertPolicyVersion(v); err != nil {
			return err
		}
		p.UpdatedAt = now
		p.GenerationID = newGenerationID()
		if setAsDefault {
			p.DefaultVersionID = next
		}
		out = Version{Policy: p, Version: v, IsDefault: setAsDefault}
		return tx.UpdatePolicy(p)
	})
	if err == nil && setAsDefault && s.OnChange != nil {
		s.OnChange(name, "")
	}
	return out, err
}

func parseVersionID(id string) (int, error) {
	if err := names.PolicyVersionID("policyVersionId", id); err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(id)
	if err != nil || n < 1 {
		return 0, awsapi.Errorf(awsapi.InvalidRequest, "policyVersionId %q is not a version number.", id)
	}
	return n, nil
}

func getVersion(tx store.Tx, name string, id int) (store.PolicyVersion, error) {
	v, err := tx.PolicyVersion(name, id)
	if errors.Is(err, store.ErrNotFound) {
		return v, awsapi.Errorf(awsapi.ResourceNotFound, "Version %d of policy %s does not exist.", id, name)
	}
	return v, err
}

// GetVersion returns one version.
func (s *Service) GetVersion(ctx context.Context, name, versionID string) (Version, error) {
	if err := names.Policy("policyName", name); err != nil {
		return Version{}, err
	}
	id, err := parseVersionID(versionID)
	if err != nil {
		return Version{}, err
	}
	var out Version
	err = s.st.View(ctx, func(tx store.Tx) error {
		p, err := getPolicy(tx, name)
		if err != nil {
			return err
		}
		v, err := getVersion(tx, name, id)
		out = Version{Policy: p, Version: v, IsDefault: p.DefaultVersionID == id}
		return err
	})
	return out, err
}

// ListVersions returns every version of a policy.
func (s *Service) ListVersions(ctx context.Context, name string) (store.Policy, []store.PolicyVersion, error) {
	if err := names.Policy("policyName", name); err != nil {
		return store.Policy{}, nil, err
	}
	var p store.Policy
	var vs []store.PolicyVersion
	err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		if p, err = getPolicy(tx, name); err != nil {
			return err
		}
		vs, err = tx.PolicyVersions(name)
		return err
	})
	return p, vs, err
}

// SetDefaultVersion makes a version the default.
func (s *Service) SetDefaultVersion(ctx context.Context, name, versionID string) error {
	if err := names.Policy("policyName", name); err != nil {
		return err
	}
	id, err := parseVersionID(versionID)
	if err != nil {
		return err
	}
	err = s.st.Update(ctx, func(tx store.Tx) error {
		p, err := getPolicy(tx, name)
		if err != nil {
			return err
		}
		if _, err := getVersion(tx, name, id); err != nil {
			return err
		}
		p.DefaultVersionID = id
		p.UpdatedAt = s.now().UTC()
		p.GenerationID = newGenerationID()
		return tx.UpdatePolicy(p)
	})
	if err == nil && s.OnChange != nil {
		s.OnChange(name, "")
	}
	return err
}

// DeleteVersion deletes a version that is not the default
// (DeleteConflictException for the default: delete the policy instead).
func (s *Service) DeleteVersion(ctx context.Context, name, versionID string) error {
	if err := names.Policy("policyName", name); err != nil {
		return err
	}
	id, err := parseVersionID(versionID)
	if err != nil {
		return err
	}
	err = s.st.Update(ctx, func(tx store.Tx) error {
		p, err := getPolicy(tx, name)
		if err != nil {
			return err
		}
		if _, err := getVersion(tx, name, id); err != nil {
			return err
		}
		if p.DefaultVersionID == id {
			return awsapi.Errorf(awsapi.DeleteConflict, "Version %d is the default version of policy %s; it cannot be deleted.", id, name)
		}
		return tx.DeletePolicyVersion(name, id)
	})
	if err == nil {
		// A later version may reuse the id (ids are max+1): drop the
		// compiled copy.
		s.forget(name)
	}
	return err
}
