package storetest

import (
	"fmt"
	"testing"

	"github.com/moat-iot/moat/internal/store"
)

func testObjects(t *testing.T, s store.Store) {
	o := store.Object{Kind: "iam/user", Key: "alice", Value: []byte(`{"a":1}`), CreatedAt: ts(1), UpdatedAt: ts(1)}
	update(t, s, func(tx store.Tx) error { return tx.InsertObject(o) })
	update(t, s, func(tx store.Tx) error {
		wantErr(t, "insert twice", tx.InsertObject(o), store.ErrExists)
		return nil
	})
	// The same key in another kind is another object.
	update(t, s, func(tx store.Tx) error {
		return tx.InsertObject(store.Object{Kind: "iam/role", Key: "alice", Value: nil, CreatedAt: ts(2), UpdatedAt: ts(2)})
	})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Object("iam/user", "alice")
		if err != nil {
			t.Fatal(err)
		}
		o.Version = 1
		wantEqual(t, "object", got, o)
		r, err := tx.Object("iam/role", "alice")
		if err != nil {
			t.Fatal(err)
		}
		wantEqual(t, "empty value", len(r.Value), 0)
		_, err = tx.Object("iam/user", "bob")
		wantErr(t, "missing", err, store.ErrNotFound)
		return nil
	})

	// Update bumps the version; a stale version conflicts.
	update(t, s, func(tx store.Tx) error {
		return tx.UpdateObject(store.Object{Kind: "iam/user", Key: "alice", Value: []byte(`{"a":2}`), UpdatedAt: ts(3), Version: 1})
	})
	update(t, s, func(tx store.Tx) error {
		err := tx.UpdateObject(store.Object{Kind: "iam/user", Key: "alice", Value: []byte(`{"a":3}`), UpdatedAt: ts(4), Version: 1})
		wantErr(t, "stale version", err, store.ErrConflict)
		err = tx.UpdateObject(store.Object{Kind: "iam/user", Key: "nobody", Value: []byte(`{}`), UpdatedAt: ts(4), Version: 1})
		wantErr(t, "update missing", err, store.ErrNotFound)
		err = tx.UpdateObject(store.Object{Kind: "iam/user", Key: "nobody", Value: []byte(`{}`), UpdatedAt: ts(4)})
		wantErr(t, "update missing, no version", err, store.ErrNotFound)
		return tx.UpdateObject(store.Object{Kind: "iam/user", Key: "alice", Value: []byte(`{"a":4}`), UpdatedAt: ts(5)})
	})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Object("iam/user", "alice")
		if err != nil {
			t.Fatal(err)
		}
		want := store.Object{Kind: "iam/user", Key: "alice", Value: []byte(`{"a":4}`), Version: 3, CreatedAt: ts(1), UpdatedAt: ts(5)}
		wantEqual(t, "updated", got, want)
		return nil
	})

	update(t, s, func(tx store.Tx) error { return tx.DeleteObject("iam/role", "alice") })
	update(t, s, func(tx store.Tx) error {
		wantErr(t, "delete twice", tx.DeleteObject("iam/role", "alice"), store.ErrNotFound)
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		_, err := tx.Object("iam/role", "alice")
		wantErr(t, "deleted", err, store.ErrNotFound)
		_, err = tx.Object("iam/user", "alice")
		wantErr(t, "other kind kept", err, nil)
		return nil
	})
}

func testListObjects(t *testing.T, s store.Store) {
	// Keys under two prefixes, one of them a prefix of the other's
	// strings, and a key with the byte 0xff.
	var keys []string
	update(t, s, func(tx store.Tx) error {
		for i := range 7 {
			for _, p := range []string{"u1/", "u10/"} {
				k := p + name("p", i)
				keys = append(keys, k)
				if err := tx.InsertObject(store.Object{Kind: "pol", Key: k, Value: []byte(k)}); err != nil {
					return err
				}
			}
		}
		if err := tx.InsertObject(store.Object{Kind: "pol", Key: "\xff\xff"}); err != nil {
			return err
		}
		return tx.InsertObject(store.Object{Kind: "other", Key: "u1/x"})
	})
	for _, tc := range []struct {
		prefix string
		want   int
	}{{"u1/", 7}, {"u10/", 7}, {"u1", 14}, {"", 15}, {"\xff", 1}, {"v", 0}} {
		for _, lim := range []int{1, 3, 100} {
			var got []string
			after := ""
			for page := 0; ; page++ {
				if page > 20 {
					t.Fatalf("prefix %q: too many pages", tc.prefix)
				}
				var objs []store.Object
				var next string
				view(t, s, func(tx store.Tx) error {
					var err error
					objs, next, err = tx.ListObjects("pol", tc.prefix, store.Page{After: after, Limit: lim})
					return err
				})
				for _, o := range objs {
					if o.Kind != "pol" || string(o.Key[:len(tc.prefix)]) != tc.prefix {
						t.Fatalf("prefix %q: got %s %q", tc.prefix, o.Kind, o.Key)
					}
					got = append(got, o.Key)
				}
				if next == "" {
					break
				}
				after = next
			}
			if len(got) != tc.want {
				t.Fatalf("prefix %q limit %d: %d objects, want %d (%q)", tc.prefix, lim, len(got), tc.want, got)
			}
			for i := 1; i < len(got); i++ {
				if got[i-1] >= got[i] {
					t.Fatalf("prefix %q: not ordered: %q", tc.prefix, got)
				}
			}
			var n int
			view(t, s, func(tx store.Tx) error {
				var err error
				n, err = tx.CountObjects("pol", tc.prefix)
				return err
			})
			wantEqual(t, fmt.Sprintf("count %q", tc.prefix), n, tc.want)
		}
	}
	view(t, s, func(tx store.Tx) error {
		_, _, err := tx.ListObjects("pol", "", store.Page{After: "!!not a cursor"})
		wantErr(t, "bad cursor", err, store.ErrInvalidCursor)
		return nil
	})
}
