package sqlite

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/moat-iot/moat/internal/store"
)

// Interface guard.
var _ store.Tx = (*tx)(nil)

// Page sizes.
const (
	defaultLimit = 100  // store.Page: Limit <= 0
	maxLimit     = 1000 // larger limits are cut to this; the cursor continues
)

// errReadOnly: a write method was called inside View.
var errReadOnly = errors.New("sqlite: write in a read-only transaction")

// tx implements store.Tx over one *sql.Tx (a View's, or a batch's inside a
// savepoint on the writer).
type tx struct {
	ctx   context.Context
	q     execer
	write bool
	// stmts caches the hot statements (see prepared) for the life of the
	// transaction: on the writer, one group-commit batch.
	stmts map[string]*sql.Stmt
}

// prepared returns query prepared in this transaction, preparing it on its
// first use. Without it, every Exec and Query parses its SQL again (the
// driver prepares, runs and finalizes each statement); with it, the
// statements that run many times per batch (EnqueueMessages' insert, the
// per-seq delete of DeleteQueuedMessages) are parsed once per batch.
// database/sql closes the statements when the transaction ends. Use it
// only for a fixed set of query strings: the cache is unbounded.
func (t *tx) prepared(op, query string) (*sql.Stmt, error) {
	if st, ok := t.stmts[query]; ok {
		return st, nil
	}
	st, err := t.q.PrepareContext(t.ctx, query)
	if err != nil {
		return nil, fmt.Errorf("%s: prepare: %w", op, err)
	}
	if t.stmts == nil {
		t.stmts = make(map[string]*sql.Stmt)
	}
	t.stmts[query] = st
	return st, nil
}

// execPrepared is exec through the statement cache.
func (t *tx) execPrepared(op, query string, args ...any) (sql.Result, error) {
	if !t.write {
		return nil, fmt.Errorf("%s: %w", op, errReadOnly)
	}
	st, err := t.prepared(op, query)
	if err != nil {
		return nil, err
	}
	res, err := st.ExecContext(t.ctx, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, mapErr(err))
	}
	return res, nil
}

func (t *tx) exec(op, query string, args ...any) (sql.Result, error) {
	if !t.write {
		return nil, fmt.Errorf("%s: %w", op, errReadOnly)
	}
	res, err := t.q.ExecContext(t.ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, mapErr(err))
	}
	return res, nil
}

// execOne runs a statement that must affect one row; none is ErrNotFound.
func (t *tx) execOne(op, query string, args ...any) error {
	res, err := t.exec(op, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", op, store.ErrNotFound)
	}
	return nil
}

// mapErr turns constraint violations into store sentinels, keeping the
// driver's message: a unique or primary-key collision is ErrExists, a
// foreign key pointing at nothing is ErrNotFound.
func mapErr(err error) error {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		return fmt.Errorf("%w (%v)", store.ErrExists, err)
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return fmt.Errorf("%w (%v)", store.ErrNotFound, err)
	}
	return err
}

// notFound maps sql.ErrNoRows to store.ErrNotFound.
func notFound(op string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", op, store.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// Times: BIGINT unix microseconds, UTC; the zero time round-trips.

func toMicros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// limit returns the number of rows a page holds.
func limit(p store.Page) int {
	switch {
	case p.Limit <= 0:
		return defaultLimit
	case p.Limit > maxLimit:
		return maxLimit
	}
	return p.Limit
}

// Cursors: base64url of a one-letter kind tag followed by the key parts
// separated by NUL (keys never contain NUL: they come from AWS names, ids
// and ARNs, none of which allow it). The tag catches a cursor from another
// kind of listing.
const (
	curName     = "n" // a single name or id
	curCert     = "c" // created_at micros, id
	curRetained = "r" // a retained message's topic
	curSession  = "s" // a session's client id
	curType     = "y" // ListThingTypes: a thing type's name
	curGroup    = "g" // ListThingGroups: a group's name
	curMember   = "m" // GroupThings: a thing's name
	curGroupOf  = "o" // ThingGroupsOf: a group's name
	curObject   = "k" // ListObjects: an object's key
)

func encodeCursor(kind string, parts ...string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + strings.Join(parts, "\x00")))
}

// decodeCursor returns the n parts of cursor c of this kind; c == "" gives
// ok == false (first page).
func decodeCursor(c, kind string, n int) (parts []string, ok bool, err error) {
	if c == "" {
		return nil, false, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || !strings.HasPrefix(string(b), kind) {
		return nil, false, store.ErrInvalidCursor
	}
	parts = strings.SplitN(string(b[len(kind):]), "\x00", n)
	if len(parts) != n {
		return nil, false, store.ErrInvalidCursor
	}
	return parts, true, nil
}

// nameCursor decodes a single-key cursor.
func nameCursor(op, c string) (string, bool, error) {
	return keyCursor(op, c, curName)
}

// keyCursor decodes a single-key cursor of this kind.
func keyCursor(op, c, kind string) (string, bool, error) {
	parts, ok, err := decodeCursor(c, kind, 1)
	if err != nil {
		return "", false, fmt.Errorf("%s: %w", op, err)
	}
	if !ok {
		return "", false, nil
	}
	return parts[0], true, nil
}

// certCursor decodes a (created_at, id) cursor.
func certCursor(op, c string) (int64, string, bool, error) {
	parts, ok, err := decodeCursor(c, curCert, 2)
	if err == nil && ok {
		us, perr := strconv.ParseInt(parts[0], 10, 64)
		if perr != nil {
			err = store.ErrInvalidCursor
		} else {
			return us, parts[1], true, nil
		}
	}
	if err != nil {
		return 0, "", false, fmt.Errorf("%s: %w", op, err)
	}
	return 0, "", false, nil
}

// listNames runs a query whose single column is a string key, ordered, with
// n+1 rows asked for; it returns at most n keys and the next cursor.
func (t *tx) listNames(op string, n int, query string, args ...any) ([]string, string, error) {
	return t.listKeys(op, curName, n, query, args...)
}

// listKeys is listNames with cursors of this kind.
func (t *tx) listKeys(op, kind string, n int, query string, args ...any) ([]string, string, error) {
	rows, err := t.q.QueryContext(t.ctx, query, args...)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, "", fmt.Errorf("%s: %w", op, err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	next := ""
	if len(out) > n {
		out = out[:n]
		next = encodeCursor(kind, out[n-1])
	}
	return out, next, nil
}
