package store

import (
	"encoding/json"
	"fmt"
)

// JSON values of objects. Most owners of an object kind keep one Go value
// per object, encoded as JSON; these helpers do the reading, decoding,
// encoding and writing they would otherwise each repeat. They take the
// value as json.Unmarshal and json.Marshal do (v a pointer to decode into,
// any value to encode), so one helper serves an owner whose Go type is
// chosen at run time. The store's sentinels pass through wrapped, so
// errors.Is(err, ErrNotFound) and the like still work; a value that does
// not decode or encode is an error naming the object, wrapping the
// encoding/json error.

// GetJSON reads the object kind/key and decodes its JSON value into v (a
// pointer, as for json.Unmarshal). It returns the object (Version,
// CreatedAt, UpdatedAt) with it. ErrNotFound if there is none; v is then
// left as it was.
func GetJSON(tx Tx, kind, key string, v any) (Object, error) {
	o, err := tx.Object(kind, key)
	if err != nil {
		return o, err
	}
	return o, DecodeJSON(o, v)
}

// DecodeJSON decodes the JSON value of o (read by Tx.Object or
// Tx.ListObjects) into v (a pointer, as for json.Unmarshal).
func DecodeJSON(o Object, v any) error {
	if err := json.Unmarshal(o.Value, v); err != nil {
		return fmt.Errorf("store: decode object %s %q: %w", o.Kind, o.Key, err)
	}
	return nil
}

// InsertJSON adds o with the JSON of v as its Value (o.Value is ignored),
// as Tx.InsertObject does: ErrExists if (Kind, Key) is taken.
func InsertJSON(tx Tx, o Object, v any) error {
	if err := encodeJSON(&o, v); err != nil {
		return err
	}
	return tx.InsertObject(o)
}

// UpdateJSON replaces the value of the existing object o.Kind/o.Key with
// the JSON of v (o.Value is ignored), as Tx.UpdateObject does: it sets
// UpdatedAt from o and increments the version; ErrNotFound if there is
// none, ErrConflict if o.Version is not 0 and not the stored version.
func UpdateJSON(tx Tx, o Object, v any) error {
	if err := encodeJSON(&o, v); err != nil {
		return err
	}
	return tx.UpdateObject(o)
}

// encodeJSON sets o.Value to the JSON of v.
func encodeJSON(o *Object, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("store: encode object %s %q: %w", o.Kind, o.Key, err)
	}
	o.Value = b
	return nil
}
