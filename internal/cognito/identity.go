package cognito

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/store"
)

// Identity is one identity of a pool.
type Identity struct {
	ID     string `json:"id"`
	PoolID string `json:"pool"`
	// Logins are the logins linked to the identity, at most one per
	// provider; none for a guest identity.
	Logins    []Login   `json:"logins,omitempty"`
	CreatedAt time.Time `json:"created"`
	UpdatedAt time.Time `json:"updated"`
}

// Login is a user of a login provider linked to an identity.
type Login struct {
	Provider string `json:"p"` // the Logins key, or the developer provider name
	Subject  string `json:"s"` // the token's sub, or the developer user identifier
}

// Authenticated reports whether a login is linked to the identity.
func (i Identity) Authenticated() bool { return len(i.Logins) > 0 }

// Providers lists the providers of the identity's logins.
func (i Identity) Providers() []string {
	out := make([]string, len(i.Logins))
	for n, l := range i.Logins {
		out[n] = l.Provider
	}
	return out
}

func loginKey(pool, provider, subject string) string {
	return pool + "\x00" + provider + "\x00" + subject
}

func poolIdentityKey(pool, id string) string { return pool + "\x00" + id }

func getIdentity(tx store.Tx, id string) (Identity, error) {
	return getJSON[Identity](tx, KindIdentity, id, identityNotFound(id))
}

// putIdentity writes i: a new identity (insert) or a change.
func putIdentity(tx store.Tx, i Identity, insert bool) error {
	return putJSON(tx, KindIdentity, i.ID, i, insert, i.CreatedAt, i.UpdatedAt)
}

// login is a verified login of a request.
type login struct {
	Login
	// identity is the identity a developer token names ("" for other
	// logins, which the login index resolves).
	identity string
}

// resolve returns the identity that the logins name (every one that is
// linked must name the same; ok is false when two name different
// identities) and the logins that are not linked yet.
func resolve(tx store.Tx, poolID string, logins []login) (found string, unlinked []login, ok bool, err error) {
	for _, l := range logins {
		id := l.identity
		if id == "" {
			o, err := tx.Object(KindLogin, loginKey(poolID, l.Provider, l.Subject))
			if errors.Is(err, store.ErrNotFound) {
				unlinked = append(unlinked, l)
				continue
			}
			if err != nil {
				return "", nil, false, err
			}
			id = string(o.Value)
		}
		if found != "" && found != id {
			return found, nil, false, nil
		}
		found = id
	}
	return found, unlinked, true, nil
}

// link finds or makes the identity of pool poolID that the logins name,
// and links to it the logins not linked yet, inside tx. want, if set, is
// the identity the caller names; mismatch answers logins that name
// another one (or each other's different ones).
func (s *Service) link(tx store.Tx, poolID, want string, logins []login, mismatch func(found string) error) (Identity, error) {
	pool, err := getPool(tx, poolID)
	if err != nil {
		return Identity{}, err
	}
	found, unlinked, ok, err := resolve(tx, poolID, logins)
	if err != nil {
		return Identity{}, err
	}
	if !ok || want != "" && found != "" && found != want {
		return Identity{}, mismatch(found)
	}
	if want != "" {
		found = want
	}
	now := s.now()
	var ident Identity
	created := found == ""
	if created {
		if pool.Identities >= int64(s.opts.MaxIdentitiesPerPool) {
			return Identity{}, errorf(LimitExceeded, "Identity pool %s already has the maximum of %d identities.", poolID, s.opts.MaxIdentitiesPerPool)
		}
		ident = Identity{ID: newID(s.opts.Region), PoolID: poolID, CreatedAt: now, UpdatedAt: now}
	} else {
		if ident, err = getIdentity(tx, found); err != nil {
			return Identity{}, err
		}
		if ident.PoolID != poolID {
			return Identity{}, notAuthorized(nil, "Access to Identity '%s' is forbidden.", found)
		}
	}
	for _, l := range unlinked {
		for _, have := range ident.Logins {
			if have.Provider == l.Provider {
				return Identity{}, errorf(ResourceConflict, "Identity '%s' is already linked to another login of %s.", ident.ID, l.Provider)
			}
		}
		if err := tx.InsertObject(store.Object{Kind: KindLogin, Key: loginKey(poolID, l.Provider, l.Subject), Value: []byte(ident.ID), CreatedAt: now, UpdatedAt: now}); err != nil {
			return Identity{}, err
		}
		ident.Logins = append(ident.Logins, l.Login)
		ident.UpdatedAt = now
	}
	switch {
	case created:
		if err := putIdentity(tx, ident, true); err != nil {
			return Identity{}, err
		}
		if err := tx.InsertObject(store.Object{Kind: KindPoolIdentity, Key: poolIdentityKey(poolID, ident.ID), CreatedAt: now, UpdatedAt: now}); err != nil {
			return Identity{}, err
		}
		pool.Identities++
		return ident, putPool(tx, pool, false, now)
	case len(unlinked) > 0:
		return ident, putIdentity(tx, ident, false)
	}
	return ident, nil
}

// GetID returns the identity of the logins in a pool, making it on first
// use; without logins, a new guest identity when the pool allows guests
// (GetId). accountID, if given, must be this account's.
func (s *Service) GetID(ctx context.Context, poolID, accountID string, logins map[string]string) (string, error) {
	if err := s.checkID("IdentityPoolId", poolID, poolNotFound); err != nil {
		return "", err
	}
	if accountID != "" && accountID != s.opts.Account {
		return "", poolNotFound(poolID)
	}
	pool, err := s.DescribePool(ctx, poolID)
	if err != nil {
		return "", err
	}
	ls, err := s.verifyLogins(ctx, pool, logins)
	if err != nil {
		return "", err
	}
	if len(ls) == 0 && !pool.AllowUnauthenticated {
		return "", notAuthorized(nil, "Unauthenticated access is not supported for this identity pool.")
	}
	if len(ls) > 0 {
		// Most calls name an identity that exists: answer without a write.
		var found string
		var done bool
		err := s.st.View(ctx, func(tx store.Tx) error {
			f, unlinked, ok, err := resolve(tx, poolID, ls)
			if err != nil || !ok || f == "" || len(unlinked) > 0 {
				return err
			}
			ident, err := getIdentity(tx, f)
			if err != nil {
				return err
			}
			found, done = f, ident.PoolID == poolID
			return nil
		})
		if err != nil {
			return "", err
		}
		if done {
			return found, nil
		}
	}
	var ident Identity
	err = s.st.Update(ctx, func(tx store.Tx) error {
		var err error
		ident, err = s.link(tx, poolID, "", ls, func(string) error {
			return errorf(ResourceConflict, "The logins are linked to different identities.")
		})
		return err
	})
	return ident.ID, err
}

// DescribeIdentity returns an identity (DescribeIdentity).
func (s *Service) DescribeIdentity(ctx context.Context, id string) (Identity, error) {
	if err := s.checkID("IdentityId", id, identityNotFound); err != nil {
		return Identity{}, err
	}
	var i Identity
	err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		i, err = getIdentity(tx, id)
		return err
	})
	return i, err
}

// ListIdentities lists a pool's identities ordered by id, max (1 to 60)
// at a time; next is the NextToken of the previous page.
func (s *Service) ListIdentities(ctx context.Context, poolID string, max int, next string) ([]Identity, string, error) {
	if err := s.checkID("IdentityPoolId", poolID, poolNotFound); err != nil {
		return nil, "", err
	}
	if max < 1 || max > 60 {
		return nil, "", invalid("MaxResults must be 1 to 60, got %d.", max)
	}
	var out []Identity
	var after string
	err := s.st.View(ctx, func(tx store.Tx) error {
		if _, err := getPool(tx, poolID); err != nil {
			return err
		}
		objs, n, err := tx.ListObjects(KindPoolIdentity, poolID+"\x00", store.Page{After: next, Limit: max})
		if errors.Is(err, store.ErrInvalidCursor) {
			return invalid("NextToken is not valid.")
		}
		if err != nil {
			return err
		}
		out, after = make([]Identity, 0, len(objs)), n
		for _, o := range objs {
			i, err := getIdentity(tx, strings.TrimPrefix(o.Key, poolID+"\x00"))
			if err != nil {
				return err
			}
			out = append(out, i)
		}
		return nil
	})
	return out, after, err
}

// DeleteIdentities deletes identities (DeleteIdentities), with their
// logins and their IoT policy attachments; ids that do not exist are
// skipped. It returns the ids deleted.
func (s *Service) DeleteIdentities(ctx context.Context, ids []string) ([]string, error) {
	if len(ids) < 1 || len(ids) > 60 {
		return nil, invalid("IdentityIdsToDelete must name 1 to 60 identities, got %d.", len(ids))
	}
	for _, id := range ids {
		if _, _, ok := splitID(id); !ok {
			return nil, invalid("IdentityIdsToDelete: %q must match the pattern [\\w-]+:[0-9a-f-]+.", id)
		}
	}
	var gone []string
	err := s.st.Update(ctx, func(tx store.Tx) error {
		gone = gone[:0]
		for _, id := range ids {
			err := deleteIdentity(tx, id, s.now())
			if errors.Is(err, errIdentityGone) {
				continue
			}
			if err != nil {
				return err
			}
			gone = append(gone, id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.identitiesDeleted(gone)
	return gone, nil
}

var errIdentityGone = errors.New("identity does not exist")

// deleteIdentity removes an identity, its login index entries, its place
// in its pool (whose count goes down if the pool still exists) and its
// IoT policy attachments. errIdentityGone if it does not exist.
func deleteIdentity(tx store.Tx, id string, now time.Time) error {
	ident, err := getJSON[Identity](tx, KindIdentity, id, errIdentityGone)
	if err != nil {
		return err
	}
	for _, l := range ident.Logins {
		if err := ignoreNotFound(tx.DeleteObject(KindLogin, loginKey(ident.PoolID, l.Provider, l.Subject))); err != nil {
			return err
		}
	}
	if err := ignoreNotFound(tx.DeleteObject(KindPoolIdentity, poolIdentityKey(ident.PoolID, id))); err != nil {
		return err
	}
	if err := tx.DeleteObject(KindIdentity, id); err != nil {
		return err
	}
	for {
		names, _, err := tx.AttachedPolicies(id, store.Page{Limit: 100})
		if err != nil {
			return err
		}
		if len(names) == 0 {
			break
		}
		for _, n := range names {
			if err := ignoreNotFound(tx.DetachPolicy(n, id)); err != nil {
				return err
			}
		}
	}
	pool, err := getPool(tx, ident.PoolID)
	if awsapi.Is(err, ResourceNotFound) {
		return nil // the pool is being deleted
	}
	if err != nil {
		return err
	}
	pool.Identities--
	return putPool(tx, pool, false, now)
}

func ignoreNotFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}
