package sqlite

import (
	"fmt"
	"time"

	"github.com/moat-iot/moat/internal/store"
)

// Device shadows live in one table, shadows (migration 4), keyed by
// (thing_name, shadow_name); the classic shadow's name is ''. A tombstone is
// the same row with deleted_at set and an empty document, so re-creating a
// deleted shadow is an upsert on the row that remembers its version.
//
// deleted_at holds the zero time's microseconds (zeroMicrosSQL) while the
// shadow lives, as every other zero time in the schema does, so "live" is
// deleted_at = zeroMicrosSQL and "a tombstone" deleted_at <> zeroMicrosSQL.
// The statements write that value as a literal: SQLite uses the partial
// index of tombstones (shadows_tombstones, whose WHERE has the literal)
// only for a query whose WHERE has the same term, not a bound parameter.
//
// PutShadow is the hot write (every shadow update, through group commit):
// one upsert through the statement cache, which touches the table and its
// primary key only; the tombstone index changes only when a shadow is
// deleted or re-created. Shadow, which the shadow service calls before
// each update in the same Update, goes through the cache too.

// curShadow is the cursor kind of ListShadows (with the others in tx.go).
const curShadow = "h"

// zeroMicrosSQL is the zero time.Time as stored (its unix microseconds):
// deleted_at of a live shadow. It is also in migration 4's index.
const zeroMicrosSQL = "-62135596800000000"

const shadowCols = `thing_name, shadow_name, document, version, updated_at, deleted_at`

// The statements of this file; the first two run through the statement
// cache (tx.prepared).
const (
	shadowSQL    = `SELECT ` + shadowCols + ` FROM shadows WHERE thing_name = ? AND shadow_name = ?`
	putShadowSQL = `INSERT INTO shadows (` + shadowCols + `) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (thing_name, shadow_name) DO UPDATE SET document = excluded.document,
			version = excluded.version, updated_at = excluded.updated_at, deleted_at = excluded.deleted_at`
	// listShadowsSQL walks the primary key from (thing, after): with
	// after = '' the classic shadow is skipped by the range itself.
	// Tombstones are skipped row by row (purging keeps them few).
	listShadowsSQL = `SELECT ` + shadowCols + ` FROM shadows
		WHERE thing_name = ? AND shadow_name > ? AND deleted_at = ` + zeroMicrosSQL + `
		ORDER BY shadow_name LIMIT ?`
	deleteThingShadowsSQL = `DELETE FROM shadows WHERE thing_name = ?`
	purgeShadowsSQL       = `DELETE FROM shadows WHERE deleted_at <> ` + zeroMicrosSQL + ` AND deleted_at < ?`
)

func scanShadow(sc interface{ Scan(...any) error }) (store.Shadow, error) {
	var s store.Shadow
	var ua, da int64
	err := sc.Scan(&s.ThingName, &s.ShadowName, &s.Document, &s.Version, &ua, &da)
	s.Document = unblob(s.Document)
	s.UpdatedAt, s.DeletedAt = fromMicros(ua), fromMicros(da)
	return s, err
}

func (t *tx) Shadow(thingName, shadowName string) (store.Shadow, error) {
	op := "shadow " + shadowKey(thingName, shadowName)
	st, err := t.prepared(op, shadowSQL)
	if err != nil {
		return store.Shadow{}, err
	}
	s, err := scanShadow(st.QueryRowContext(t.ctx, thingName, shadowName))
	if err != nil {
		return store.Shadow{}, notFound(op, err)
	}
	return s, nil
}

// PutShadow upserts every column. A tombstone's document is stored empty;
// one that comes with a document is a caller's mistake, refused rather
// than half stored.
func (t *tx) PutShadow(s store.Shadow) error {
	op := "put shadow " + shadowKey(s.ThingName, s.ShadowName)
	if s.Deleted() && len(s.Document) > 0 {
		return fmt.Errorf("%s: a tombstone (DeletedAt %v) has a %d-byte document", op, s.DeletedAt, len(s.Document))
	}
	_, err := t.execPrepared(op, putShadowSQL,
		s.ThingName, s.ShadowName, blob(s.Document), s.Version, toMicros(s.UpdatedAt), toMicros(s.DeletedAt))
	return err
}

func (t *tx) DeleteThingShadows(thingName string) error {
	_, err := t.exec("delete shadows of thing "+thingName, deleteThingShadowsSQL, thingName)
	return err
}

func (t *tx) ListShadows(thingName string, p store.Page) ([]store.Shadow, string, error) {
	op := "list shadows of thing " + thingName
	n := limit(p)
	after, _, err := keyCursor(op, p.After, curShadow)
	if err != nil {
		return nil, "", err
	}
	rows, err := t.q.QueryContext(t.ctx, listShadowsSQL, thingName, after, n+1)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	out, err := collect(rows, scanShadow)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	next := ""
	if len(out) > n {
		out = out[:n]
		next = encodeCursor(curShadow, out[n-1].ShadowName)
	}
	return out, next, nil
}

// PurgeShadowTombstones deletes in one statement, walking the index of
// tombstones by deleted_at.
func (t *tx) PurgeShadowTombstones(before time.Time) (int, error) {
	const op = "purge shadow tombstones"
	res, err := t.exec(op, purgeShadowsSQL, toMicros(before))
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	return int(n), nil
}

// shadowKey names a shadow in errors: thing, or thing/name for a named one.
func shadowKey(thingName, shadowName string) string {
	if shadowName == "" {
		return thingName
	}
	return thingName + "/" + shadowName
}
