package sqlite

import (
	"fmt"

	"github.com/moat-iot/moat/internal/store"
)

func scanThingPrincipal(sc interface{ Scan(...any) error }) (store.ThingPrincipal, error) {
	var a store.ThingPrincipal
	var ca int64
	err := sc.Scan(&a.ThingName, &a.Principal, &a.Type, &ca)
	a.CreatedAt = fromMicros(ca)
	return a, err
}

// AttachThingPrincipal inserts the attachment or, if it exists, updates its
// type (CreatedAt keeps the first attachment's time).
func (t *tx) AttachThingPrincipal(a store.ThingPrincipal) error {
	_, err := t.exec("attach thing principal "+a.ThingName,
		`INSERT INTO thing_principals (thing_name, principal, type, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (thing_name, principal) DO UPDATE SET type = excluded.type`,
		a.ThingName, a.Principal, a.Type, toMicros(a.CreatedAt))
	return err
}

func (t *tx) DetachThingPrincipal(thingName, principal string) error {
	return t.execOne("detach thing principal "+thingName,
		`DELETE FROM thing_principals WHERE thing_name = ? AND principal = ?`, thingName, principal)
}

func (t *tx) ThingPrincipals(thingName string, p store.Page) ([]store.ThingPrincipal, string, error) {
	const op = "thing principals"
	return t.listThingPrincipals(op, p, func(a store.ThingPrincipal) string { return a.Principal },
		`SELECT thing_name, principal, type, created_at FROM thing_principals
		WHERE thing_name = ? AND principal > ? ORDER BY principal LIMIT ?`, thingName)
}

func (t *tx) PrincipalThings(principal string, p store.Page) ([]store.ThingPrincipal, string, error) {
	const op = "principal things"
	return t.listThingPrincipals(op, p, func(a store.ThingPrincipal) string { return a.ThingName },
		`SELECT thing_name, principal, type, created_at FROM thing_principals
		WHERE principal = ? AND thing_name > ? ORDER BY thing_name LIMIT ?`, principal)
}

// listThingPrincipals runs query with (key, after, limit+1) and pages by
// the column key returns.
func (t *tx) listThingPrincipals(op string, p store.Page, key func(store.ThingPrincipal) string,
	query, arg string) ([]store.ThingPrincipal, string, error) {
	n := limit(p)
	after, _, err := nameCursor(op, p.After)
	if err != nil {
		return nil, "", err
	}
	rows, err := t.q.QueryContext(t.ctx, query, arg, after, n+1)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	out, err := collect(rows, scanThingPrincipal)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	next := ""
	if len(out) > n {
		out = out[:n]
		next = encodeCursor(curName, key(out[n-1]))
	}
	return out, next, nil
}
