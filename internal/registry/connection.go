package registry

import (
	"context"
	"errors"

	"github.com/moat-iot/moat/internal/store"
)

// ConnectionThing resolves the thing a connection acts as, for the
// ${iot:Connection.Thing.*} policy variables: the thing the principal is
// attached to exclusively; else, when it is attached to exactly one thing,
// that thing; else the attached thing named like the client id. It returns
// nil when none applies (IsAttached is then false).
func (s *Service) ConnectionThing(ctx context.Context, principal, clientID string) (*store.Thing, error) {
	var out *store.Thing
	err := s.st.View(ctx, func(tx store.Tx) error {
		ps, _, err := tx.PrincipalThings(principal, store.Page{Limit: 2})
		if err != nil {
			return err
		}
		name := ""
		switch {
		case len(ps) == 0:
			return nil
		case ps[0].Type == Exclusive || len(ps) == 1:
			name = ps[0].ThingName
		default:
			// Attached to several: the one named like the client id.
			all, err := s.allPrincipalThings(tx, principal)
			if err != nil {
				return err
			}
			for _, tp := range all {
				if tp.ThingName == clientID {
					name = clientID
				}
			}
			if name == "" {
				return nil
			}
		}
		t, err := tx.Thing(name)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		out = &t
		return nil
	})
	return out, err
}

func (s *Service) allPrincipalThings(tx store.Tx, principal string) ([]store.ThingPrincipal, error) {
	var all []store.ThingPrincipal
	after := ""
	for {
		ps, next, err := tx.PrincipalThings(principal, store.Page{After: after, Limit: 100})
		if err != nil {
			return nil, err
		}
		all = append(all, ps...)
		if next == "" {
			return all, nil
		}
		after = next
	}
}
