package sqlite

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/moat-iot/moat/internal/store"
)

const thingCols = `t.name, t.id, t.type_name, t.attributes, t.version, t.created_at, t.updated_at`

// denseMatches is where ListThings by attribute prefix (or any value)
// switches plan. With fewer matching attribute rows it reads the matching
// names from the covering (name, value, thing_name) index, sorts them and
// reads one page of things: cost grows with the number of matches. With
// more, it walks things in name order and keeps the ones that match: cost
// grows with the things skipped per page, small when matches are dense (the
// worst case, at 1,000,000 things and 5,000 matches, skips about 20,000
// things per page of 100). Counting up to denseMatches costs about as much
// as sorting that many names, so it also bounds the sparse plan's cost.
const denseMatches = 5000

func scanThing(sc interface{ Scan(...any) error }) (store.Thing, error) {
	var th store.Thing
	var attrs string
	var ca, ua int64
	if err := sc.Scan(&th.Name, &th.ID, &th.TypeName, &attrs, &th.Version, &ca, &ua); err != nil {
		return th, err
	}
	th.CreatedAt, th.UpdatedAt = fromMicros(ca), fromMicros(ua)
	th.Attributes = map[string]string{}
	if err := json.Unmarshal([]byte(attrs), &th.Attributes); err != nil {
		return th, fmt.Errorf("thing %s: attributes: %w", th.Name, err)
	}
	return th, nil
}

func (t *tx) Thing(name string) (store.Thing, error) {
	row := t.q.QueryRowContext(t.ctx, `SELECT `+thingCols+` FROM things t WHERE t.name = ?`, name)
	th, err := scanThing(row)
	if err != nil {
		return store.Thing{}, notFound("thing "+name, err)
	}
	return th, nil
}

// encodeAttrs returns the JSON object stored in things.attributes. JSON
// cannot carry invalid UTF-8 unchanged, so it is refused.
func encodeAttrs(m map[string]string) (string, error) {
	if len(m) == 0 {
		return "{}", nil
	}
	for k, v := range m {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return "", fmt.Errorf("attribute %q: invalid UTF-8", k)
		}
	}
	b, err := json.Marshal(m) // sorted keys: deterministic
	return string(b), err
}

func (t *tx) InsertThing(th store.Thing) error {
	op := "insert thing " + th.Name
	attrs, err := encodeAttrs(th.Attributes)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if _, err := t.exec(op,
		`INSERT INTO things (name, id, type_name, attributes, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		th.Name, th.ID, th.TypeName, attrs, th.Version, toMicros(th.CreatedAt), toMicros(th.UpdatedAt)); err != nil {
		return err
	}
	return t.insertAttrs(op, th.Name, th.Attributes)
}

// insertAttrs writes the thing_attributes rows of one thing in one
// statement.
func (t *tx) insertAttrs(op, thing string, m map[string]string) error {
	if len(m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(`INSERT INTO thing_attributes (thing_name, name, value) VALUES `)
	args := make([]any, 0, 3*len(keys))
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?)")
		args = append(args, thing, k, m[k])
	}
	_, err := t.exec(op, b.String(), args...)
	return err
}

func (t *tx) UpdateThing(th store.Thing) error {
	op := "update thing " + th.Name
	attrs, err := encodeAttrs(th.Attributes)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if err := t.execOne(op,
		`UPDATE things SET type_name = ?, attributes = ?, version = ?, updated_at = ? WHERE name = ?`,
		th.TypeName, attrs, th.Version, toMicros(th.UpdatedAt), th.Name); err != nil {
		return err
	}
	if _, err := t.exec(op, `DELETE FROM thing_attributes WHERE thing_name = ?`, th.Name); err != nil {
		return err
	}
	return t.insertAttrs(op, th.Name, th.Attributes)
}

// DeleteThing removes the thing; its attribute rows and principal
// attachments go with it (ON DELETE CASCADE).
func (t *tx) DeleteThing(name string) error {
	return t.execOne("delete thing "+name, `DELETE FROM things WHERE name = ?`, name)
}

// ListThings picks one of three plans, each an index walk in name order
// (or, for a sparse attribute prefix, a small sort):
//
//   - no attribute filter: things by primary key, or by (type_name, name);
//   - attribute, exact value: thing_attributes (name, value, thing_name);
//   - attribute, prefix (or any value): see denseMatches.
func (t *tx) ListThings(f store.ThingFilter, p store.Page) ([]store.Thing, string, error) {
	const op = "list things"
	n := limit(p)
	after, _, err := nameCursor(op, p.After)
	if err != nil {
		return nil, "", err
	}
	dense := false
	if f.AttributeName != "" && (f.AttributePrefix || f.AttributeValue == "") {
		lo, hi, bounded := prefixRange(f.AttributeValue)
		if dense, err = t.denseAttr(f.AttributeName, lo, hi, bounded); err != nil {
			return nil, "", fmt.Errorf("%s: %w", op, err)
		}
	}
	q, args := thingsQuery(f, after, n+1, dense)
	rows, err := t.q.QueryContext(t.ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	out, err := collect(rows, scanThing)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	next := ""
	if len(out) > n {
		out = out[:n]
		next = encodeCursor(curName, out[n-1].Name)
	}
	return out, next, nil
}

// thingsQuery builds the ListThings query for one page of n rows after the
// name after. dense picks the plan for an attribute prefix (see
// denseMatches); it is ignored for other filters.
func thingsQuery(f store.ThingFilter, after string, n int, dense bool) (string, []any) {
	var q string
	var args []any
	switch {
	case f.AttributeName == "":
		q = `SELECT ` + thingCols + ` FROM things t WHERE t.name > ?`
		args = append(args, after)
		if f.TypeName != "" {
			q += ` AND t.type_name = ?`
			args = append(args, f.TypeName)
		}
		q += ` ORDER BY t.name LIMIT ?`
	case !f.AttributePrefix && f.AttributeValue != "":
		q = `SELECT ` + thingCols + ` FROM thing_attributes a JOIN things t ON t.name = a.thing_name
			WHERE a.name = ? AND a.value = ? AND a.thing_name > ?`
		args = append(args, f.AttributeName, f.AttributeValue, after)
		if f.TypeName != "" {
			q += ` AND t.type_name = ?`
			args = append(args, f.TypeName)
		}
		q += ` ORDER BY a.thing_name LIMIT ?`
	case dense:
		// Walk things by primary key; probe each one's attribute row by
		// its primary key. Unary + keeps SQLite off the value index.
		lo, hi, bounded := prefixRange(f.AttributeValue)
		q = `SELECT ` + thingCols + ` FROM things t CROSS JOIN thing_attributes a
			ON a.thing_name = t.name AND a.name = ?
			WHERE t.name > ? AND +a.value >= ?`
		args = append(args, f.AttributeName, after, lo)
		if bounded {
			q += ` AND +a.value < ?`
			args = append(args, hi)
		}
		if f.TypeName != "" {
			q += ` AND t.type_name = ?`
			args = append(args, f.TypeName)
		}
		q += ` ORDER BY t.name LIMIT ?`
	default:
		// Sparse: sort the matching names from the covering value index
		// (and the covering type index), then read only one page of rows.
		lo, hi, bounded := prefixRange(f.AttributeValue)
		sub := `SELECT a.thing_name FROM thing_attributes a`
		if f.TypeName != "" {
			sub += ` JOIN things tt ON tt.name = a.thing_name AND tt.type_name = ?`
			args = append(args, f.TypeName)
		}
		sub += ` WHERE a.name = ? AND a.thing_name > ? AND a.value >= ?`
		args = append(args, f.AttributeName, after, lo)
		if bounded {
			sub += ` AND a.value < ?`
			args = append(args, hi)
		}
		sub += ` ORDER BY a.thing_name LIMIT ?`
		args = append(args, n)
		q = `SELECT ` + thingCols + ` FROM things t WHERE t.name IN (` + sub + `) ORDER BY t.name`
		return q, args
	}
	return q, append(args, n)
}

// denseAttr reports whether at least denseMatches attribute rows fall in
// the value range (a bounded index count).
func (t *tx) denseAttr(name, lo, hi string, bounded bool) (bool, error) {
	q := `SELECT COUNT(*) FROM (SELECT 1 FROM thing_attributes WHERE name = ? AND value >= ?`
	args := []any{name, lo}
	if bounded {
		q += ` AND value < ?`
		args = append(args, hi)
	}
	q += ` LIMIT ?)`
	args = append(args, denseMatches)
	var c int
	if err := t.q.QueryRowContext(t.ctx, q, args...).Scan(&c); err != nil {
		return false, err
	}
	return c >= denseMatches, nil
}

// prefixRange returns the byte-wise range [lo, hi) of strings that start
// with prefix (SQLite compares TEXT with memcmp). bounded is false when no
// upper bound exists (prefix empty or all 0xff bytes).
func prefixRange(prefix string) (lo, hi string, bounded bool) {
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] != 0xff {
			b[i]++
			return prefix, string(b[:i+1]), true
		}
	}
	return prefix, "", false
}
