package cognito

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/moat-iot/moat/internal/store"
)

// getJSON reads the object kind/key and decodes its JSON value; missing
// is the error when there is none.
func getJSON[T any](tx store.Tx, kind, key string, missing error) (T, error) {
	o, err := tx.Object(kind, key)
	if errors.Is(err, store.ErrNotFound) {
		var zero T
		return zero, missing
	}
	if err != nil {
		var zero T
		return zero, err
	}
	return decodeJSON[T](o)
}

// decodeJSON decodes an object's JSON value.
func decodeJSON[T any](o store.Object) (T, error) {
	var v T
	if err := json.Unmarshal(o.Value, &v); err != nil {
		var zero T
		return zero, fmt.Errorf("%s %s: %w", o.Kind, o.Key, err)
	}
	return v, nil
}

// putJSON writes v as the JSON value of the object kind/key: a new object
// (insert) or a change.
func putJSON(tx store.Tx, kind, key string, v any, insert bool, created, updated time.Time) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	o := store.Object{Kind: kind, Key: key, Value: b, CreatedAt: created, UpdatedAt: updated}
	if insert {
		return tx.InsertObject(o)
	}
	return tx.UpdateObject(o)
}
