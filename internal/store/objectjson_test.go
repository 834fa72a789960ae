package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/store"
	"github.com/moat-iot/moat/internal/store/sqlite"
)

// record is the Go value the tests keep in objects.
type record struct {
	Name  string   `json:"name"`
	Count int      `json:"count"`
	Tags  []string `json:"tags,omitempty"`
}

func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "moat.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func at(sec int64) time.Time { return time.Unix(1_700_000_000+sec, 0).UTC() }

// TestJSON_roundTrip checks that InsertJSON and UpdateJSON store the JSON
// of a value that GetJSON and DecodeJSON give back, with the object's
// version and times.
func TestJSON_roundTrip(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	want := record{Name: "Alice", Count: 1, Tags: []string{"a", "b"}}
	err := st.Update(ctx, func(tx store.Tx) error {
		// A Value given with the object is replaced by the JSON of v.
		return store.InsertJSON(tx, store.Object{Kind: "test/rec", Key: "alice", Value: []byte("ignored"), CreatedAt: at(1), UpdatedAt: at(2)}, want)
	})
	if err != nil {
		t.Fatal(err)
	}
	err = st.View(ctx, func(tx store.Tx) error {
		var got record
		o, err := store.GetJSON(tx, "test/rec", "alice", &got)
		if err != nil {
			return err
		}
		if got.Name != want.Name || got.Count != want.Count || strings.Join(got.Tags, ",") != "a,b" {
			t.Errorf("GetJSON value = %+v, want %+v", got, want)
		}
		if o.Kind != "test/rec" || o.Key != "alice" || o.Version != 1 || !o.CreatedAt.Equal(at(1)) || !o.UpdatedAt.Equal(at(2)) {
			t.Errorf("GetJSON object = %+v", o)
		}
		if string(o.Value) != `{"name":"Alice","count":1,"tags":["a","b"]}` {
			t.Errorf("stored value %s", o.Value)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// An update replaces the value, keeps CreatedAt and counts versions.
	err = st.Update(ctx, func(tx store.Tx) error {
		return store.UpdateJSON(tx, store.Object{Kind: "test/rec", Key: "alice", Version: 1, UpdatedAt: at(3)}, &record{Name: "Alice", Count: 2})
	})
	if err != nil {
		t.Fatal(err)
	}
	err = st.View(ctx, func(tx store.Tx) error {
		objs, _, err := tx.ListObjects("test/rec", "", store.Page{Limit: 10})
		if err != nil {
			return err
		}
		if len(objs) != 1 {
			t.Fatalf("listed %d objects, want 1", len(objs))
		}
		var got record
		if err := store.DecodeJSON(objs[0], &got); err != nil {
			return err
		}
		if got.Count != 2 || got.Tags != nil {
			t.Errorf("after update: %+v", got)
		}
		if o := objs[0]; o.Version != 2 || !o.CreatedAt.Equal(at(1)) || !o.UpdatedAt.Equal(at(3)) {
			t.Errorf("after update: object %+v", o)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestJSON_errors checks that the store's sentinels come through the
// helpers for errors.Is, and that values that do not decode or encode are
// errors naming the object, wrapping encoding/json's error.
func TestJSON_errors(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	err := st.Update(ctx, func(tx store.Tx) error {
		if err := store.InsertJSON(tx, store.Object{Kind: "test/rec", Key: "a", CreatedAt: at(1), UpdatedAt: at(1)}, record{Name: "a"}); err != nil {
			return err
		}
		return tx.InsertObject(store.Object{Kind: "test/rec", Key: "broken", Value: []byte(`{"count":"many"}`), CreatedAt: at(1), UpdatedAt: at(1)})
	})
	if err != nil {
		t.Fatal(err)
	}

	tests := map[string]struct {
		do   func(tx store.Tx) error
		want error  // matched with errors.Is; nil: see as
		as   any    // a pointer to the encoding/json error type wrapped
		text string // in the message
	}{
		// A missing object is ErrNotFound, and the value is left alone.
		"get missing": {do: func(tx store.Tx) error {
			v := record{Name: "kept"}
			_, err := store.GetJSON(tx, "test/rec", "nobody", &v)
			if v.Name != "kept" {
				t.Errorf("GetJSON of a missing object changed the value to %+v", v)
			}
			return err
		}, want: store.ErrNotFound},
		// The same key under another kind is another object.
		"get other kind": {do: func(tx store.Tx) error {
			_, err := store.GetJSON(tx, "test/other", "a", &record{})
			return err
		}, want: store.ErrNotFound},
		"insert taken": {do: func(tx store.Tx) error {
			return store.InsertJSON(tx, store.Object{Kind: "test/rec", Key: "a", CreatedAt: at(2), UpdatedAt: at(2)}, record{})
		}, want: store.ErrExists},
		"update missing": {do: func(tx store.Tx) error {
			return store.UpdateJSON(tx, store.Object{Kind: "test/rec", Key: "nobody", UpdatedAt: at(2)}, record{})
		}, want: store.ErrNotFound},
		// A version other than the stored one is a conflict.
		"update stale": {do: func(tx store.Tx) error {
			return store.UpdateJSON(tx, store.Object{Kind: "test/rec", Key: "a", Version: 7, UpdatedAt: at(2)}, record{})
		}, want: store.ErrConflict},
		// A stored value of the wrong shape is a decode error, not "not found".
		"get undecodable": {do: func(tx store.Tx) error {
			_, err := store.GetJSON(tx, "test/rec", "broken", &record{})
			return err
		}, as: new(*json.UnmarshalTypeError), text: `store: decode object test/rec "broken"`},
		"decode not JSON": {do: func(tx store.Tx) error {
			return store.DecodeJSON(store.Object{Kind: "test/rec", Key: "x", Value: []byte("{")}, &record{})
		}, as: new(*json.SyntaxError), text: `store: decode object test/rec "x"`},
		"insert unencodable": {do: func(tx store.Tx) error {
			return store.InsertJSON(tx, store.Object{Kind: "test/rec", Key: "c", CreatedAt: at(2), UpdatedAt: at(2)}, make(chan int))
		}, as: new(*json.UnsupportedTypeError), text: `store: encode object test/rec "c"`},
		"update unencodable": {do: func(tx store.Tx) error {
			return store.UpdateJSON(tx, store.Object{Kind: "test/rec", Key: "a", UpdatedAt: at(2)}, func() {})
		}, as: new(*json.UnsupportedTypeError), text: `store: encode object test/rec "a"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var err error
			// The Update commits, so that a failed write that wrote
			// anything would show below.
			if uerr := st.Update(ctx, func(tx store.Tx) error { err = tc.do(tx); return nil }); uerr != nil {
				t.Fatalf("Update: %v", uerr)
			}
			if err == nil {
				t.Fatal("no error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if tc.as != nil {
				if !errors.As(err, tc.as) {
					t.Fatalf("error %v (%T) does not wrap %T", err, err, tc.as)
				}
				if errors.Is(err, store.ErrNotFound) {
					t.Fatalf("error %v is ErrNotFound", err)
				}
			}
			if !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("error %q does not say %q", err, tc.text)
			}
		})
	}

	// Nothing unencodable was written: "a" is still version 1 and "c"
	// does not exist.
	err = st.View(ctx, func(tx store.Tx) error {
		var v record
		o, err := store.GetJSON(tx, "test/rec", "a", &v)
		if err != nil || o.Version != 1 || v.Name != "a" {
			t.Errorf("a after the failed writes: %+v %+v %v", o, v, err)
		}
		if _, err := tx.Object("test/rec", "c"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("c after the failed insert: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
