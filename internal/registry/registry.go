// Package registry is the thing registry: things with their attributes and
// versions, and the principals (certificates, later identities) attached to
// them. It enforces AWS IoT's rules (names, attribute limits, idempotent
// create, exclusive attachments) over the store; every call is one store
// transaction, so a call that fails changes nothing.
package registry

import (
	"context"
	"errors"
	"maps"
	"time"

	"github.com/google/uuid"

	"github.com/moat-iot/moat/internal/arn"
	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/names"
	"github.com/moat-iot/moat/internal/store"
	"github.com/moat-iot/moat/internal/tags"
)

// Attribute limits per thing (AWS "Thing limits").
const (
	// MaxAttributesUntyped is how many attributes a thing without a thing
	// type may have (AWS: 3).
	MaxAttributesUntyped = 3
	// MaxAttributesTyped is how many attributes a thing with a thing type
	// may have (AWS: 50).
	MaxAttributesTyped = 50
)

// Service is the registry over a store.
type Service struct {
	st   store.Store
	arns arn.Builder
	now  func() time.Time
	// OnPrincipalChange, if set, is called after a principal was attached
	// to or detached from a thing, outside the transaction.
	OnPrincipalChange func(principal, thing string)
	// OnGroupChange, if set, is called after a change to thing groups that
	// may alter which policies apply to the things named (membership, a
	// deleted group), outside the transaction. See groups.go.
	OnGroupChange func(things []string)
	// OnThingDeleted, if set, is called after a thing was deleted,
	// outside the transaction (the shadow service deletes its shadows).
	OnThingDeleted func(ctx context.Context, thing string)
	// dynamic caches the dynamic groups' compiled queries (dynamic.go).
	dynamic dynamicCache
	// ThingTypeDeleteDelay is how long a thing type must have been
	// deprecated before DeleteThingType accepts it (AWS: about 5 minutes).
	// New sets DefaultThingTypeDeleteDelay; 0 means no wait (tests).
	ThingTypeDeleteDelay time.Duration
	// Tags serves TagResource, UntagResource and ListTagsForResource over
	// the same store.
	Tags *tags.Service
}

// New returns a registry service.
func New(st store.Store, arns arn.Builder) *Service {
	return &Service{st: st, arns: arns, now: time.Now, ThingTypeDeleteDelay: DefaultThingTypeDeleteDelay, Tags: tags.New(st, arns)}
}

// ThingInput is what CreateThing takes.
type ThingInput struct {
	Name       string
	TypeName   string
	Attributes map[string]string
}

// CreateThing creates a thing, or returns the existing one when it exists
// with the same type and attributes (AWS's idempotent create); a thing of
// that name with another configuration is ResourceAlreadyExistsException.
// A thing type, if given, must exist (ResourceNotFoundException) and not be
// deprecated (InvalidRequestException). A thing has at most
// MaxAttributesUntyped attributes without a type, MaxAttributesTyped with
// one.
func (s *Service) CreateThing(ctx context.Context, in ThingInput) (store.Thing, error) {
	if err := names.Thing("thingName", in.Name); err != nil {
		return store.Thing{}, err
	}
	if err := checkAttributes(in.Attributes); err != nil {
		return store.Thing{}, err
	}
	if in.TypeName != "" {
		if err := names.Thing("thingTypeName", in.TypeName); err != nil {
			return store.Thing{}, err
		}
	}
	attrs := map[string]string{}
	for k, v := range in.Attributes {
		if v != "" { // an empty value means "no attribute", as on update
			attrs[k] = v
		}
	}
	if err := attributeLimit(in.TypeName, len(in.Attributes)); err != nil {
		return store.Thing{}, err
	}
	now := s.now().UTC()
	t := store.Thing{Name: in.Name, ID: uuid.NewString(), TypeName: in.TypeName, Attributes: attrs, Version: 1, CreatedAt: now, UpdatedAt: now}
	err := s.st.Update(ctx, func(tx store.Tx) error {
		old, err := tx.Thing(in.Name)
		switch {
		case err == nil:
			if old.TypeName == t.TypeName && maps.Equal(old.Attributes, t.Attributes) {
				t = old
				return nil
			}
			return &awsapi.Error{Code: awsapi.ResourceAlreadyExists, Message: "Thing " + in.Name + " already exists with a different configuration.",
				ResourceID: old.ID, ResourceARN: s.arns.Thing(old.Name)}
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		if in.TypeName != "" {
			if err := assignableType(tx, in.TypeName); err != nil {
				return err
			}
		}
		return tx.InsertThing(t)
	})
	s.afterThingWrite(ctx, in.Name, err)
	return t, err
}

// checkAttributes checks the names and values of an attribute payload
// (empty values allowed: they mean "remove") and the largest count any
// thing may have.
func checkAttributes(attrs map[string]string) error {
	if len(attrs) > MaxAttributesTyped {
		return awsapi.Errorf(awsapi.InvalidRequest, "A thing can have at most %d attributes, got %d.", MaxAttributesTyped, len(attrs))
	}
	return checkAttributePairs(attrs)
}

// checkAttributePairs checks the names and values of an attribute payload
// (things and thing groups share the rules).
func checkAttributePairs(attrs map[string]string) error {
	for k, v := range attrs {
		if err := names.AttributeName("attributePayload.attributes key", k); err != nil {
			return err
		}
		if err := names.AttributeValue("attributePayload.attributes["+k+"]", v); err != nil {
			return err
		}
	}
	return nil
}

// attributeLimit checks n attributes against the limit of a thing of type
// typeName ("" for none).
func attributeLimit(typeName string, n int) error {
	if typeName == "" && n > MaxAttributesUntyped {
		return awsapi.Errorf(awsapi.InvalidRequest, "A thing without a thing type can have at most %d attributes, got %d.", MaxAttributesUntyped, n)
	}
	if n > MaxAttributesTyped {
		return awsapi.Errorf(awsapi.InvalidRequest, "A thing can have at most %d attributes, got %d.", MaxAttributesTyped, n)
	}
	return nil
}

// ThingUpdate is what UpdateThing takes. Zero fields change nothing.
type ThingUpdate struct {
	Name string
	// TypeName, if set, becomes the thing's type; RemoveType clears it.
	// Setting both is InvalidRequestException.
	TypeName   string
	RemoveType bool
	// Attributes, if non-nil, is the attribute payload: with Merge, each
	// key is set and a key with an empty value removed; without Merge, the
	// thing's attributes become exactly the non-empty ones given.
	Attributes map[string]string
	Merge      bool
	// ExpectedVersion, if non-zero, must be the thing's current version
	// (VersionConflictException otherwise).
	ExpectedVersion int64
}

// UpdateThing changes a thing's type and attributes and adds one to its
// version, in one transaction.
func (s *Service) UpdateThing(ctx context.Context, in ThingUpdate) (store.Thing, error) {
	if err := names.Thing("thingName", in.Name); err != nil {
		return store.Thing{}, err
	}
	if in.TypeName != "" {
		if in.RemoveType {
			return store.Thing{}, awsapi.Errorf(awsapi.InvalidRequest, "thingTypeName and removeThingType cannot be used together.")
		}
		if err := names.Thing("thingTypeName", in.TypeName); err != nil {
			return store.Thing{}, err
		}
	}
	if in.ExpectedVersion < 0 {
		return store.Thing{}, awsapi.Errorf(awsapi.InvalidRequest, "expectedVersion must be a positive whole number, got %d.", in.ExpectedVersion)
	}
	if err := checkAttributes(in.Attributes); err != nil {
		return store.Thing{}, err
	}
	var out store.Thing
	err := s.st.Update(ctx, func(tx store.Tx) error {
		t, err := tx.Thing(in.Name)
		if errors.Is(err, store.ErrNotFound) {
			return thingNotFound(in.Name)
		} else if err != nil {
			return err
		}
		if in.ExpectedVersion != 0 && t.Version != in.ExpectedVersion {
			return awsapi.Errorf(awsapi.VersionConflict, "The version of thing %s is %d, not the expected %d.", in.Name, t.Version, in.ExpectedVersion)
		}
		switch {
		case in.RemoveType:
			t.TypeName = ""
		case in.TypeName != "" && in.TypeName != t.TypeName:
			if err := assignableType(tx, in.TypeName); err != nil {
				return err
			}
			t.TypeName = in.TypeName
		}
		if in.Attributes != nil {
			attrs := map[string]string{}
			if in.Merge {
				maps.Copy(attrs, t.Attributes)
			}
			for k, v := range in.Attributes {
				if v == "" {
					delete(attrs, k)
				} else {
					attrs[k] = v
				}
			}
			t.Attributes = attrs
		}
		if err := attributeLimit(t.TypeName, len(t.Attributes)); err != nil {
			return err
		}
		t.Version++
		t.UpdatedAt = s.now().UTC()
		out = t
		return tx.UpdateThing(t)
	})
	s.afterThingWrite(ctx, in.Name, err)
	return out, err
}

// DescribeThing returns a thing or ResourceNotFoundException.
func (s *Service) DescribeThing(ctx context.Context, name string) (store.Thing, error) {
	if err := names.Thing("thingName", name); err != nil {
		return store.Thing{}, err
	}
	var t store.Thing
	err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		t, err = tx.Thing(name)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return t, thingNotFound(name)
	}
	return t, err
}

func thingNotFound(name string) error {
	return awsapi.Errorf(awsapi.ResourceNotFound, "Thing %s cannot be found.", name)
}

// DeleteThing deletes a thing (and, through OnThingDeleted, its shadows).
// Deleting a thing that does not exist succeeds, as in AWS. expectedVersion, when non-zero, must match. A thing
// with principals attached cannot be deleted (DeleteConflictException):
// detach them first.
func (s *Service) DeleteThing(ctx context.Context, name string, expectedVersion int64) error {
	if err := names.Thing("thingName", name); err != nil {
		return err
	}
	deleted := false
	err := s.st.Update(ctx, func(tx store.Tx) error {
		deleted = false
		t, err := tx.Thing(name)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if expectedVersion != 0 && t.Version != expectedVersion {
			return awsapi.Errorf(awsapi.VersionConflict, "The version of thing %s is %d, not the expected %d.", name, t.Version, expectedVersion)
		}
		ps, _, err := tx.ThingPrincipals(name, store.Page{Limit: 1})
		if err != nil {
			return err
		}
		if len(ps) > 0 {
			return awsapi.Errorf(awsapi.DeleteConflict, "Thing %s has principals attached; detach them before deleting the thing.", name)
		}
		deleted = true
		return tx.DeleteThing(name)
	})
	if err == nil && deleted && s.OnThingDeleted != nil {
		s.OnThingDeleted(ctx, name)
	}
	return err
}

// ListThings lists things that pass the filter, one page at a time.
func (s *Service) ListThings(ctx context.Context, f store.ThingFilter, p store.Page) ([]store.Thing, string, error) {
	if f.AttributeValue != "" && f.AttributeName == "" {
		return nil, "", awsapi.Errorf(awsapi.InvalidRequest, "attributeValue requires attributeName.")
	}
	if f.AttributeName != "" {
		if err := names.AttributeName("attributeName", f.AttributeName); err != nil {
			return nil, "", err
		}
		if err := names.AttributeValue("attributeValue", f.AttributeValue); err != nil {
			return nil, "", err
		}
	}
	if f.TypeName != "" {
		if err := names.Thing("thingTypeName", f.TypeName); err != nil {
			return nil, "", err
		}
	}
	var things []store.Thing
	var next string
	err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		things, next, err = tx.ListThings(f, p)
		return err
	})
	return things, next, err
}
