package storetest

import (
	"fmt"
	"testing"

	"github.com/moat-iot/moat/internal/store"
)

func session(clientID string, n int) store.Session {
	return store.Session{
		ClientID:        clientID,
		ProtocolVersion: 5,
		ExpiryInterval:  3600,
		DisconnectedAt:  ts(n + 10),
		CertificateID:   fmt.Sprintf("%064d", n),
		Subscriptions: []store.Subscription{
			{Filter: "devices/" + clientID + "/#", QoS: 1},
			{Filter: "$aws/things/x/shadow/update/delta", QoS: 0, NoLocal: true, RetainAsPublished: true, RetainHandling: 2, Identifier: 268435455},
		},
		Will:      []byte{0x00, 0x01, 'w', 0xff},
		CreatedAt: ts(n),
		UpdatedAt: ts(n + 1),
	}
}

// testSessions checks get, put (insert and replace), delete and their
// sentinels; subscriptions, the will and zero times round-trip.
func testSessions(t *testing.T, s store.Store) {
	view(t, s, func(tx store.Tx) error {
		_, err := tx.Session("c1")
		wantErr(t, "missing session", err, store.ErrNotFound)
		return nil
	})
	s1 := session("c1", 1)
	update(t, s, func(tx store.Tx) error { return tx.PutSession(s1) })
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Session("c1")
		wantErr(t, "get", err, nil)
		wantEqual(t, "session", got, s1)
		return nil
	})

	// Replacing changes every field; extreme values, no subscriptions, no
	// will and zero times round-trip (empty comes back nil).
	s2 := store.Session{ClientID: "c1", ProtocolVersion: 4, ExpiryInterval: 0xFFFFFFFF, Subscriptions: []store.Subscription{}, Will: []byte{}}
	update(t, s, func(tx store.Tx) error { return tx.PutSession(s2) })
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Session("c1")
		wantErr(t, "get replaced", err, nil)
		wantEqual(t, "replaced session", got, store.Session{ClientID: "c1", ProtocolVersion: 4, ExpiryInterval: 0xFFFFFFFF})
		return nil
	})

	// Wills of every shape, byte for byte.
	ps := payloads()
	update(t, s, func(tx store.Tx) error {
		for k, p := range ps {
			ss := session("will-"+k, 2)
			ss.Will = p
			if err := tx.PutSession(ss); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		for k, p := range ps {
			got, err := tx.Session("will-" + k)
			wantErr(t, "get will-"+k, err, nil)
			wantBytes(t, k+" will", got.Will, p)
		}
		return nil
	})

	update(t, s, func(tx store.Tx) error { return tx.DeleteSession("c1") })
	err := s.Update(bg(), func(tx store.Tx) error { return tx.DeleteSession("c1") })
	wantErr(t, "delete twice", err, store.ErrNotFound)
	view(t, s, func(tx store.Tx) error {
		_, err := tx.Session("c1")
		wantErr(t, "deleted session", err, store.ErrNotFound)
		return nil
	})

	// A failing Update leaves sessions as they were.
	err = s.Update(bg(), func(tx store.Tx) error {
		if err := tx.PutSession(session("gone", 1)); err != nil {
			return err
		}
		if err := tx.DeleteSession("will-nul"); err != nil {
			return err
		}
		return errBoom
	})
	wantErr(t, "failing update", err, errBoom)
	view(t, s, func(tx store.Tx) error {
		_, err := tx.Session("gone")
		wantErr(t, "rolled-back put", err, store.ErrNotFound)
		_, err = tx.Session("will-nul")
		wantErr(t, "rolled-back delete", err, nil)
		return nil
	})
}

// testListSessions pages in client-id order over more than two pages, with
// inserts ahead of and behind the cursor between pages.
func testListSessions(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error {
		for i := 0; i < 20; i += 2 {
			if err := tx.PutSession(session(name("c", i), i)); err != nil {
				return err
			}
		}
		return nil
	})
	var inserted []string
	between := func(page int) {
		ahead, behind := name("c", 9000+page), name("c", 1)+fmt.Sprint(page)
		update(t, s, func(tx store.Tx) error {
			if err := tx.PutSession(session(ahead, page)); err != nil {
				return err
			}
			return tx.PutSession(session(behind, page))
		})
		inserted = append(inserted, ahead)
	}
	all, pages := pageAll(t, s, 4, between, func(tx store.Tx, p store.Page) ([]store.Session, string, error) {
		return tx.ListSessions(p)
	})
	if pages < 3 {
		t.Fatalf("%d pages, want at least 3", pages)
	}
	seen := map[string]store.Session{}
	for i, ss := range all {
		if i > 0 && all[i-1].ClientID >= ss.ClientID {
			t.Fatalf("out of order at %d: %q then %q", i, all[i-1].ClientID, ss.ClientID)
		}
		seen[ss.ClientID] = ss
	}
	for i := 0; i < 20; i += 2 {
		wantEqual(t, "listed "+name("c", i), seen[name("c", i)], session(name("c", i), i))
	}
	for _, id := range inserted {
		if _, ok := seen[id]; !ok {
			t.Fatalf("%q, inserted ahead of the cursor, is missing", id)
		}
	}
}
