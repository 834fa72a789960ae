package sqlite

import (
	"fmt"

	"github.com/moat-iot/moat/internal/store"
)

const objectCols = `kind, key, value, version, created_at, updated_at`

func scanObject(sc interface{ Scan(...any) error }) (store.Object, error) {
	var o store.Object
	var ca, ua int64
	err := sc.Scan(&o.Kind, &o.Key, &o.Value, &o.Version, &ca, &ua)
	o.CreatedAt, o.UpdatedAt = fromMicros(ca), fromMicros(ua)
	return o, err
}

func (t *tx) Object(kind, key string) (store.Object, error) {
	row := t.q.QueryRowContext(t.ctx, `SELECT `+objectCols+` FROM objects WHERE kind = ? AND key = ?`, kind, key)
	o, err := scanObject(row)
	if err != nil {
		return store.Object{}, notFound("object "+kind+" "+key, err)
	}
	return o, nil
}

func (t *tx) InsertObject(o store.Object) error {
	_, err := t.exec("insert object "+o.Kind+" "+o.Key,
		`INSERT INTO objects (`+objectCols+`) VALUES (?, ?, ?, 1, ?, ?)`,
		o.Kind, o.Key, blob(o.Value), toMicros(o.CreatedAt), toMicros(o.UpdatedAt))
	return err
}

func (t *tx) UpdateObject(o store.Object) error {
	op := "update object " + o.Kind + " " + o.Key
	if o.Version == 0 {
		return t.execOne(op, `UPDATE objects SET value = ?, updated_at = ?, version = version + 1 WHERE kind = ? AND key = ?`,
			blob(o.Value), toMicros(o.UpdatedAt), o.Kind, o.Key)
	}
	res, err := t.exec(op, `UPDATE objects SET value = ?, updated_at = ?, version = version + 1 WHERE kind = ? AND key = ? AND version = ?`,
		blob(o.Value), toMicros(o.UpdatedAt), o.Kind, o.Key, o.Version)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	} else if n == 1 {
		return nil
	}
	if _, err := t.Object(o.Kind, o.Key); err != nil {
		return err
	}
	return fmt.Errorf("%s: %w", op, store.ErrConflict)
}

func (t *tx) DeleteObject(kind, key string) error {
	return t.execOne("delete object "+kind+" "+key, `DELETE FROM objects WHERE kind = ? AND key = ?`, kind, key)
}

// prefixEnd returns the smallest string greater than every string with
// this prefix ("" when there is none: the prefix is empty or all 0xff).
func prefixEnd(prefix string) string {
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1])
		}
	}
	return ""
}

// keyRange adds the bounds of a key prefix to a query.
func keyRange(q string, args []any, prefix string) (string, []any) {
	if prefix == "" {
		return q, args
	}
	q += ` AND key >= ?`
	args = append(args, prefix)
	if end := prefixEnd(prefix); end != "" {
		q += ` AND key < ?`
		args = append(args, end)
	}
	return q, args
}

func (t *tx) ListObjects(kind, prefix string, p store.Page) ([]store.Object, string, error) {
	const op = "list objects"
	n := limit(p)
	after, _, err := keyCursor(op, p.After, curObject)
	if err != nil {
		return nil, "", err
	}
	q, args := keyRange(`SELECT `+objectCols+` FROM objects WHERE kind = ? AND key > ?`, []any{kind, after}, prefix)
	q += ` ORDER BY key LIMIT ?`
	args = append(args, n+1)
	rows, err := t.q.QueryContext(t.ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	out, err := collect(rows, scanObject)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	next := ""
	if len(out) > n {
		out = out[:n]
		next = encodeCursor(curObject, out[n-1].Key)
	}
	return out, next, nil
}

func (t *tx) CountObjects(kind, prefix string) (int, error) {
	q, args := keyRange(`SELECT COUNT(*) FROM objects WHERE kind = ?`, []any{kind}, prefix)
	var n int
	if err := t.q.QueryRowContext(t.ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count objects: %w", err)
	}
	return n, nil
}
