package registry

import (
	"context"
	"errors"

	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/certs"
	"github.com/moat-iot/moat/internal/names"
	"github.com/moat-iot/moat/internal/store"
)

// Thing principal types (AWS ThingPrincipalType).
const (
	Exclusive    = "EXCLUSIVE_THING"
	NonExclusive = "NON_EXCLUSIVE_THING"
)

// checkPrincipal resolves a principal to something that exists. Today that
// is a certificate of this account, by ARN.
func (s *Service) checkPrincipal(tx store.Tx, principal string) error {
	_, err := certs.Existing(tx, s.arns, "principal (x-amzn-principal header)", principal)
	return err
}

// AttachThingPrincipal attaches a principal to a thing. An EXCLUSIVE_THING
// attachment makes the thing the principal's only thing: it fails while the
// principal is attached elsewhere, and later attachments elsewhere fail.
func (s *Service) AttachThingPrincipal(ctx context.Context, thing, principal, typ string) error {
	if err := names.Thing("thingName", thing); err != nil {
		return err
	}
	switch typ {
	case "":
		typ = NonExclusive
	case Exclusive, NonExclusive:
	default:
		return awsapi.Errorf(awsapi.InvalidRequest, "thingPrincipalType must be EXCLUSIVE_THING or NON_EXCLUSIVE_THING, got %q.", typ)
	}
	err := s.st.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.Thing(thing); errors.Is(err, store.ErrNotFound) {
			return thingNotFound(thing)
		} else if err != nil {
			return err
		}
		if err := s.checkPrincipal(tx, principal); err != nil {
			return err
		}
		others, _, err := tx.PrincipalThings(principal, store.Page{Limit: 2})
		if err != nil {
			return err
		}
		for _, o := range others {
			if o.ThingName == thing {
				continue
			}
			if o.Type == Exclusive {
				return awsapi.Errorf(awsapi.InvalidRequest, "Principal is exclusively attached to thing %s.", o.ThingName)
			}
			if typ == Exclusive {
				return awsapi.Errorf(awsapi.InvalidRequest, "Principal is already attached to thing %s; an exclusive attachment needs it attached nowhere else.", o.ThingName)
			}
		}
		return tx.AttachThingPrincipal(store.ThingPrincipal{ThingName: thing, Principal: principal, Type: typ, CreatedAt: s.now().UTC()})
	})
	if err == nil && s.OnPrincipalChange != nil {
		s.OnPrincipalChange(principal, thing)
	}
	return err
}

// DetachThingPrincipal detaches a principal from a thing. Detaching what is
// not attached succeeds, as in AWS; an unknown thing is
// ResourceNotFoundException.
func (s *Service) DetachThingPrincipal(ctx context.Context, thing, principal string) error {
	if err := names.Thing("thingName", thing); err != nil {
		return err
	}
	if principal == "" {
		return names.Required("principal (x-amzn-principal header)")
	}
	err := s.st.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.Thing(thing); errors.Is(err, store.ErrNotFound) {
			return thingNotFound(thing)
		} else if err != nil {
			return err
		}
		if err := tx.DetachThingPrincipal(thing, principal); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return nil
	})
	if err == nil && s.OnPrincipalChange != nil {
		s.OnPrincipalChange(principal, thing)
	}
	return err
}

// ThingPrincipals lists the principals of a thing.
func (s *Service) ThingPrincipals(ctx context.Context, thing string, p store.Page) ([]store.ThingPrincipal, string, error) {
	if err := names.Thing("thingName", thing); err != nil {
		return nil, "", err
	}
	return store.ViewPage(ctx, s.st, func(tx store.Tx) ([]store.ThingPrincipal, string, error) {
		if _, err := tx.Thing(thing); errors.Is(err, store.ErrNotFound) {
			return nil, "", thingNotFound(thing)
		} else if err != nil {
			return nil, "", err
		}
		return tx.ThingPrincipals(thing, p)
	})
}

// PrincipalThings lists the things a principal is attached to.
func (s *Service) PrincipalThings(ctx context.Context, principal string, p store.Page) ([]store.ThingPrincipal, string, error) {
	if principal == "" {
		return nil, "", names.Required("principal (x-amzn-principal header)")
	}
	return store.ViewPage(ctx, s.st, func(tx store.Tx) ([]store.ThingPrincipal, string, error) { return tx.PrincipalThings(principal, p) })
}
