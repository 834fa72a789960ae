package sqlite

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/moat-iot/moat/internal/store"
)

const thingTypeCols = `name, id, description, searchable_attributes, deprecated, deprecated_at, created_at`

// encodeNames returns the JSON array stored in
// thing_types.searchable_attributes. JSON cannot carry invalid UTF-8
// unchanged, so it is refused.
func encodeNames(ns []string) (string, error) {
	if len(ns) == 0 {
		return "[]", nil
	}
	for _, n := range ns {
		if !utf8.ValidString(n) {
			return "", fmt.Errorf("name %q: invalid UTF-8", n)
		}
	}
	b, err := json.Marshal(ns)
	return string(b), err
}

// decodeNames is the inverse of encodeNames; an empty array is nil.
func decodeNames(s string) ([]string, error) {
	var ns []string
	if err := json.Unmarshal([]byte(s), &ns); err != nil {
		return nil, err
	}
	if len(ns) == 0 {
		return nil, nil
	}
	return ns, nil
}

func scanThingType(sc interface{ Scan(...any) error }) (store.ThingType, error) {
	var tt store.ThingType
	var attrs string
	var dep, da, ca int64
	if err := sc.Scan(&tt.Name, &tt.ID, &tt.Description, &attrs, &dep, &da, &ca); err != nil {
		return tt, err
	}
	tt.Deprecated = dep != 0
	tt.DeprecatedAt, tt.CreatedAt = fromMicros(da), fromMicros(ca)
	var err error
	if tt.SearchableAttributes, err = decodeNames(attrs); err != nil {
		return tt, fmt.Errorf("thing type %s: searchable attributes: %w", tt.Name, err)
	}
	return tt, nil
}

func (t *tx) ThingType(name string) (store.ThingType, error) {
	row := t.q.QueryRowContext(t.ctx, `SELECT `+thingTypeCols+` FROM thing_types WHERE name = ?`, name)
	tt, err := scanThingType(row)
	if err != nil {
		return store.ThingType{}, notFound("thing type "+name, err)
	}
	return tt, nil
}

func (t *tx) InsertThingType(tt store.ThingType) error {
	op := "insert thing type " + tt.Name
	attrs, err := encodeNames(tt.SearchableAttributes)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	_, err = t.exec(op,
		`INSERT INTO thing_types (`+thingTypeCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		tt.Name, tt.ID, tt.Description, attrs, boolInt(tt.Deprecated), toMicros(tt.DeprecatedAt), toMicros(tt.CreatedAt))
	return err
}

func (t *tx) UpdateThingType(tt store.ThingType) error {
	op := "update thing type " + tt.Name
	attrs, err := encodeNames(tt.SearchableAttributes)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return t.execOne(op,
		`UPDATE thing_types SET description = ?, searchable_attributes = ?, deprecated = ?, deprecated_at = ? WHERE name = ?`,
		tt.Description, attrs, boolInt(tt.Deprecated), toMicros(tt.DeprecatedAt), tt.Name)
}

// DeleteThingType removes the type only: things of that type keep their
// TypeName (see store.Tx).
func (t *tx) DeleteThingType(name string) error {
	return t.execOne("delete thing type "+name, `DELETE FROM thing_types WHERE name = ?`, name)
}

func (t *tx) ListThingTypes(name string, p store.Page) ([]store.ThingType, string, error) {
	const op = "list thing types"
	n := limit(p)
	after, _, err := keyCursor(op, p.After, curType)
	if err != nil {
		return nil, "", err
	}
	q := `SELECT ` + thingTypeCols + ` FROM thing_types WHERE name > ?`
	args := []any{after}
	if name != "" {
		q += ` AND name = ?`
		args = append(args, name)
	}
	q += ` ORDER BY name LIMIT ?`
	args = append(args, n+1)
	rows, err := t.q.QueryContext(t.ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	out, err := collect(rows, scanThingType)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	next := ""
	if len(out) > n {
		out = out[:n]
		next = encodeCursor(curType, out[n-1].Name)
	}
	return out, next, nil
}
