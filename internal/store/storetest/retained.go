package storetest

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/store"
)

// payloads are byte strings that must round-trip exactly: empty (nil and
// non-nil), NUL bytes, invalid UTF-8, every byte value, and a large one.
func payloads() map[string][]byte {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	big := bytes.Repeat([]byte{0, 1, 0xff, 'x'}, 64<<10) // 256 KiB
	return map[string][]byte{
		"nil":          nil,
		"empty":        {},
		"nul":          {0},
		"nuls":         {0, 0, 0},
		"nul-inside":   []byte("a\x00b\x00"),
		"invalid-utf8": {0xff, 0xfe, 0xc3, 0x28},
		"all-bytes":    all,
		"numeric-text": []byte("42"), // must not turn into a number
		"big":          big,
	}
}

// wantBytes fails unless got has exactly want's bytes; an empty value must
// come back as nil (the store's documented form of "empty").
func wantBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: got %d bytes %.16x..., want %d bytes %.16x...", what, len(got), got, len(want), want)
	}
	if len(want) == 0 && got != nil {
		t.Fatalf("%s: empty value came back as %#v, want nil", what, got)
	}
}

func retained(topic string, n int) store.Retained {
	return store.Retained{
		Topic:      topic,
		Payload:    []byte(fmt.Sprintf("payload %d", n)),
		QoS:        1,
		Properties: []byte{0x03, 0x00, 0x04, 't', 'e', 'x', 't'},
		UpdatedAt:  ts(n),
		ExpiresAt:  ts(n + 3600),
	}
}

// testRetained checks get, put (insert and replace), delete and their
// sentinels, zero times, and that binary payloads round-trip exactly.
func testRetained(t *testing.T, s store.Store) {
	view(t, s, func(tx store.Tx) error {
		_, err := tx.Retained("a/b")
		wantErr(t, "missing retained", err, store.ErrNotFound)
		return nil
	})
	r := retained("a/b", 1)
	update(t, s, func(tx store.Tx) error { return tx.PutRetained(r) })
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Retained("a/b")
		wantErr(t, "get", err, nil)
		wantEqual(t, "retained", got, r)
		return nil
	})

	// Put again replaces every field; zero times round-trip.
	r2 := store.Retained{Topic: "a/b", Payload: []byte("v2"), QoS: 0}
	update(t, s, func(tx store.Tx) error { return tx.PutRetained(r2) })
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Retained("a/b")
		wantErr(t, "get replaced", err, nil)
		wantEqual(t, "replaced retained", got, store.Retained{Topic: "a/b", Payload: []byte("v2"), UpdatedAt: time.Time{}, ExpiresAt: time.Time{}})
		if !got.UpdatedAt.IsZero() || !got.ExpiresAt.IsZero() {
			t.Fatalf("zero times came back as %v, %v", got.UpdatedAt, got.ExpiresAt)
		}
		return nil
	})

	// Binary payloads and properties, byte for byte.
	ps := payloads()
	update(t, s, func(tx store.Tx) error {
		for k, p := range ps {
			if err := tx.PutRetained(store.Retained{Topic: "bin/" + k, Payload: p, Properties: p, QoS: 2}); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		for k, p := range ps {
			got, err := tx.Retained("bin/" + k)
			wantErr(t, "get "+k, err, nil)
			wantBytes(t, k+" payload", got.Payload, p)
			wantBytes(t, k+" properties", got.Properties, p)
			if got.QoS != 2 {
				t.Fatalf("%s: QoS %d", k, got.QoS)
			}
		}
		return nil
	})

	update(t, s, func(tx store.Tx) error { return tx.DeleteRetained("a/b") })
	err := s.Update(bg(), func(tx store.Tx) error { return tx.DeleteRetained("a/b") })
	wantErr(t, "delete twice", err, store.ErrNotFound)
	view(t, s, func(tx store.Tx) error {
		_, err := tx.Retained("a/b")
		wantErr(t, "deleted retained", err, store.ErrNotFound)
		return nil
	})

	// A failing Update leaves retained messages as they were.
	err = s.Update(bg(), func(tx store.Tx) error {
		if err := tx.PutRetained(retained("gone", 1)); err != nil {
			return err
		}
		if err := tx.DeleteRetained("bin/nul"); err != nil {
			return err
		}
		return errBoom
	})
	wantErr(t, "failing update", err, errBoom)
	view(t, s, func(tx store.Tx) error {
		_, err := tx.Retained("gone")
		wantErr(t, "rolled-back put", err, store.ErrNotFound)
		_, err = tx.Retained("bin/nul")
		wantErr(t, "rolled-back delete", err, nil)
		return nil
	})
}

// testListRetained pages in byte-wise topic order over more than two pages,
// with inserts ahead of and behind the cursor between pages.
func testListRetained(t *testing.T, s store.Store) {
	topics := []string{"a", "a/b", "a/b/c", "A", "$aws/things/x/shadow", "b", "a b", "z/é", "a/+", "0"}
	update(t, s, func(tx store.Tx) error {
		for i, tp := range topics {
			if err := tx.PutRetained(retained(tp, i)); err != nil {
				return err
			}
		}
		return nil
	})
	var inserted []string
	between := func(page int) {
		ahead, behind := fmt.Sprintf("zz/%d", page), fmt.Sprintf("!/%d", page)
		update(t, s, func(tx store.Tx) error {
			if err := tx.PutRetained(retained(ahead, page)); err != nil {
				return err
			}
			return tx.PutRetained(retained(behind, page))
		})
		inserted = append(inserted, ahead)
	}
	all, pages := pageAll(t, s, 3, between, func(tx store.Tx, p store.Page) ([]store.Retained, string, error) {
		return tx.ListRetained(p)
	})
	if pages < 3 {
		t.Fatalf("%d pages, want at least 3", pages)
	}
	seen := map[string]store.Retained{}
	for i, r := range all {
		if i > 0 && all[i-1].Topic >= r.Topic {
			t.Fatalf("out of order at %d: %q then %q", i, all[i-1].Topic, r.Topic)
		}
		seen[r.Topic] = r
	}
	for i, tp := range topics {
		wantEqual(t, "listed "+tp, seen[tp], retained(tp, i))
	}
	for _, tp := range inserted {
		if _, ok := seen[tp]; !ok {
			t.Fatalf("%q, inserted ahead of the cursor, is missing", tp)
		}
	}
}
