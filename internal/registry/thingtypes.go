package registry

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/names"
	"github.com/moat-iot/moat/internal/store"
	"github.com/moat-iot/moat/internal/tags"
)

// Thing type rules (AWS "Thing types").
const (
	// MaxSearchableAttributes is how many attribute names a thing type may
	// declare searchable.
	MaxSearchableAttributes = 3
	// MaxThingTypeDescription is the longest description, in characters.
	MaxThingTypeDescription = 2028
	// DefaultThingTypeDeleteDelay is how long a type must have been
	// deprecated before it can be deleted; AWS documents "about 5 minutes".
	DefaultThingTypeDeleteDelay = 5 * time.Minute
)

// ThingTypeProperties are a thing type's mutable properties. In an update,
// a nil field keeps the current value.
type ThingTypeProperties struct {
	Description          *string
	SearchableAttributes []string // nil: unchanged (update) or none (create)
}

// ThingTypeInput is what CreateThingType takes.
type ThingTypeInput struct {
	Name       string
	Properties ThingTypeProperties
	Tags       []tags.Tag
}

func thingTypeNotFound(name string) error {
	return awsapi.Errorf(awsapi.ResourceNotFound, "Thing type %s does not exist.", name)
}

func getThingType(tx store.Tx, name string) (store.ThingType, error) {
	t, err := tx.ThingType(name)
	if errors.Is(err, store.ErrNotFound) {
		return t, thingTypeNotFound(name)
	}
	return t, err
}

// assignableType checks that a thing may be given the type name: it exists
// (ResourceNotFoundException) and is not deprecated
// (InvalidRequestException: AWS refuses new associations with a deprecated
// type).
func assignableType(tx store.Tx, name string) error {
	tt, err := getThingType(tx, name)
	if err != nil {
		return err
	}
	if tt.Deprecated {
		return awsapi.Errorf(awsapi.InvalidRequest, "Thing type %s is deprecated; things cannot be given a deprecated thing type.", name)
	}
	return nil
}

// checkProperties checks the description (at most MaxThingTypeDescription
// visible characters or spaces, the model's [\p{Graph}\x20]*) and the
// searchable attribute names (at most MaxSearchableAttributes, each an
// attribute name, no repeats).
func checkProperties(p ThingTypeProperties) error {
	if p.Description != nil {
		if err := names.Description("thingTypeProperties.thingTypeDescription", *p.Description, MaxThingTypeDescription); err != nil {
			return err
		}
	}
	if len(p.SearchableAttributes) > MaxSearchableAttributes {
		return awsapi.Errorf(awsapi.InvalidRequest, "thingTypeProperties.searchableAttributes may list at most %d attributes, got %d.", MaxSearchableAttributes, len(p.SearchableAttributes))
	}
	for i, a := range p.SearchableAttributes {
		if err := names.AttributeName("thingTypeProperties.searchableAttributes", a); err != nil {
			return err
		}
		if slices.Contains(p.SearchableAttributes[:i], a) {
			return awsapi.Errorf(awsapi.InvalidRequest, "thingTypeProperties.searchableAttributes lists %q twice.", a)
		}
	}
	return nil
}

// sameAttributes compares searchable attribute lists as sets.
func sameAttributes(a, b []string) bool {
	a, b = slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b))
	return slices.Equal(a, b)
}

// CreateThingType creates a thing type with its tags. Creating it again
// with the same description and searchable attributes returns the existing
// one unchanged (AWS's idempotent create); with others it is
// ResourceAlreadyExistsException.
func (s *Service) CreateThingType(ctx context.Context, in ThingTypeInput) (store.ThingType, error) {
	if err := names.Thing("thingTypeName", in.Name); err != nil {
		return store.ThingType{}, err
	}
	if err := checkProperties(in.Properties); err != nil {
		return store.ThingType{}, err
	}
	tagMap, err := tags.Check("tags", in.Tags)
	if err != nil {
		return store.ThingType{}, err
	}
	t := store.ThingType{Name: in.Name, ID: uuid.NewString(), SearchableAttributes: in.Properties.SearchableAttributes, CreatedAt: s.now().UTC()}
	if in.Properties.Description != nil {
		t.Description = *in.Properties.Description
	}
	err = s.st.Update(ctx, func(tx store.Tx) error {
		old, err := tx.ThingType(in.Name)
		switch {
		case err == nil:
			if old.Description == t.Description && sameAttributes(old.SearchableAttributes, t.SearchableAttributes) {
				t = old
				return nil
			}
			return &awsapi.Error{Code: awsapi.ResourceAlreadyExists, Message: "Thing type " + in.Name + " already exists with a different configuration.",
				ResourceID: old.ID, ResourceARN: s.arns.ThingType(old.Name)}
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		if err := tx.InsertThingType(t); err != nil {
			return err
		}
		return tags.Put(tx, s.arns.ThingType(in.Name), tagMap)
	})
	return t, err
}

// DescribeThingType returns a thing type or ResourceNotFoundException.
func (s *Service) DescribeThingType(ctx context.Context, name string) (store.ThingType, error) {
	if err := names.Thing("thingTypeName", name); err != nil {
		return store.ThingType{}, err
	}
	var t store.ThingType
	err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		t, err = getThingType(tx, name)
		return err
	})
	return t, err
}

// UpdateThingType replaces the properties given (a nil field keeps its
// value).
func (s *Service) UpdateThingType(ctx context.Context, name string, p ThingTypeProperties) error {
	if err := names.Thing("thingTypeName", name); err != nil {
		return err
	}
	if err := checkProperties(p); err != nil {
		return err
	}
	return s.st.Update(ctx, func(tx store.Tx) error {
		t, err := getThingType(tx, name)
		if err != nil {
			return err
		}
		if p.Description != nil {
			t.Description = *p.Description
		}
		if p.SearchableAttributes != nil {
			t.SearchableAttributes = p.SearchableAttributes
		}
		return tx.UpdateThingType(t)
	})
}

// DeprecateThingType deprecates a thing type, or with undo makes it usable
// again. Deprecating a deprecated type keeps its deprecation date (the
// delete delay runs from the first deprecation); undoing clears it.
func (s *Service) DeprecateThingType(ctx context.Context, name string, undo bool) error {
	if err := names.Thing("thingTypeName", name); err != nil {
		return err
	}
	return s.st.Update(ctx, func(tx store.Tx) error {
		t, err := getThingType(tx, name)
		if err != nil {
			return err
		}
		switch {
		case undo && t.Deprecated:
			t.Deprecated, t.DeprecatedAt = false, time.Time{}
		case !undo && !t.Deprecated:
			t.Deprecated, t.DeprecatedAt = true, s.now().UTC()
		default:
			return nil
		}
		return tx.UpdateThingType(t)
	})
}

// DeleteThingType deletes a thing type and its tags. As AWS, the type must
// have been deprecated for at least ThingTypeDeleteDelay and no thing may
// still have it; either refusal is InvalidRequestException (the only
// client error besides ResourceNotFoundException the model lists).
func (s *Service) DeleteThingType(ctx context.Context, name string) error {
	if err := names.Thing("thingTypeName", name); err != nil {
		return err
	}
	return s.st.Update(ctx, func(tx store.Tx) error {
		t, err := getThingType(tx, name)
		if err != nil {
			return err
		}
		if !t.Deprecated {
			return awsapi.Errorf(awsapi.InvalidRequest, "Thing type %s is not deprecated; deprecate it (DeprecateThingType) before deleting it.", name)
		}
		if wait := t.DeprecatedAt.Add(s.ThingTypeDeleteDelay).Sub(s.now()); wait > 0 {
			return awsapi.Errorf(awsapi.InvalidRequest, "Thing type %s was deprecated less than %v ago; it can be deleted in %v.", name, s.ThingTypeDeleteDelay, wait.Round(time.Second))
		}
		things, _, err := tx.ListThings(store.ThingFilter{TypeName: name}, store.Page{Limit: 1})
		if err != nil {
			return err
		}
		if len(things) > 0 {
			return awsapi.Errorf(awsapi.InvalidRequest, "Thing type %s is still the type of thing %s; change or remove the type of its things (UpdateThing) first.", name, things[0].Name)
		}
		if err := tx.DeleteThingType(name); err != nil {
			return err
		}
		return tags.DeleteAll(tx, s.arns.ThingType(name))
	})
}

// ListThingTypes lists thing types by name, one page at a time; a
// non-empty name lists at most that one.
func (s *Service) ListThingTypes(ctx context.Context, name string, p store.Page) ([]store.ThingType, string, error) {
	if name != "" {
		if err := names.Thing("thingTypeName", name); err != nil {
			return nil, "", err
		}
	}
	return store.ViewPage(ctx, s.st, func(tx store.Tx) ([]store.ThingType, string, error) { return tx.ListThingTypes(name, p) })
}
