package cognito

import (
	"errors"
	"time"

	"github.com/moat-iot/moat/internal/store"
)

// getJSON reads the object kind/key and decodes its JSON value; missing
// is the error when there is none.
func getJSON[T any](tx store.Tx, kind, key string, missing error) (T, error) {
	var v T
	_, err := store.GetJSON(tx, kind, key, &v)
	if errors.Is(err, store.ErrNotFound) {
		return v, missing
	}
	if err != nil {
		var zero T
		return zero, err
	}
	return v, nil
}

// decodeJSON decodes an object's JSON value.
func decodeJSON[T any](o store.Object) (T, error) {
	var v T
	if err := store.DecodeJSON(o, &v); err != nil {
		var zero T
		return zero, err
	}
	return v, nil
}

// putJSON writes v as the JSON value of the object kind/key: a new object
// (insert) or a change.
func putJSON(tx store.Tx, kind, key string, v any, insert bool, created, updated time.Time) error {
	o := store.Object{Kind: kind, Key: key, CreatedAt: created, UpdatedAt: updated}
	if insert {
		return store.InsertJSON(tx, o, v)
	}
	return store.UpdateJSON(tx, o, v)
}
