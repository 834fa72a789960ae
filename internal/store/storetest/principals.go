package storetest

import (
	"fmt"
	"testing"

	"github.com/moat-iot/moat/internal/store"
)

func certARN(i int) string {
	return fmt.Sprintf("arn:aws:iot:us-east-1:000000000000:cert/%064d", i)
}

// testThingPrincipals checks attach (twice updates the type), detach, both
// listings with pagination, and that DeleteThing drops attachments.
func testThingPrincipals(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error {
		for i := range 7 {
			if err := tx.InsertThing(thing(name("tp", i), nil)); err != nil {
				return err
			}
		}
		for i := range 7 {
			// Principal 0 on every thing; principals 1..5 on thing 0.
			if err := tx.AttachThingPrincipal(store.ThingPrincipal{ThingName: name("tp", 6-i), Principal: certARN(0), Type: "NON_EXCLUSIVE_THING", CreatedAt: ts(i)}); err != nil {
				return err
			}
		}
		for i := 1; i <= 5; i++ {
			if err := tx.AttachThingPrincipal(store.ThingPrincipal{ThingName: "tp-0000", Principal: certARN(i), Type: "NON_EXCLUSIVE_THING", CreatedAt: ts(i)}); err != nil {
				return err
			}
		}
		return nil
	})
	err := s.Update(bg(), func(tx store.Tx) error {
		return tx.AttachThingPrincipal(store.ThingPrincipal{ThingName: "nope", Principal: certARN(0), Type: "NON_EXCLUSIVE_THING", CreatedAt: ts(1)})
	})
	wantErr(t, "attach to missing thing", err, store.ErrNotFound)

	// Attaching again changes the type only.
	update(t, s, func(tx store.Tx) error {
		return tx.AttachThingPrincipal(store.ThingPrincipal{ThingName: "tp-0000", Principal: certARN(3), Type: "EXCLUSIVE_THING", CreatedAt: ts(3)})
	})

	ps, pages := pageAll(t, s, 2, nil, func(tx store.Tx, p store.Page) ([]store.ThingPrincipal, string, error) {
		return tx.ThingPrincipals("tp-0000", p)
	})
	if pages != 3 || len(ps) != 6 {
		t.Fatalf("ThingPrincipals: %d rows in %d pages, want 6 in 3", len(ps), pages)
	}
	for i, p := range ps {
		want := store.ThingPrincipal{ThingName: "tp-0000", Principal: certARN(i), Type: "NON_EXCLUSIVE_THING", CreatedAt: ts(i)}
		if i == 0 {
			want.CreatedAt = ts(6)
		}
		if i == 3 {
			want.Type = "EXCLUSIVE_THING"
		}
		wantEqual(t, fmt.Sprintf("principal %d", i), p, want)
	}

	things, pages := pageAll(t, s, 3, nil, func(tx store.Tx, p store.Page) ([]store.ThingPrincipal, string, error) {
		return tx.PrincipalThings(certARN(0), p)
	})
	if pages < 3 || len(things) != 7 {
		t.Fatalf("PrincipalThings: %d rows in %d pages, want 7 in at least 3", len(things), pages)
	}
	for i, p := range things {
		if p.ThingName != name("tp", i) || p.Principal != certARN(0) {
			t.Fatalf("PrincipalThings[%d] = %+v", i, p)
		}
	}

	update(t, s, func(tx store.Tx) error { return tx.DetachThingPrincipal("tp-0001", certARN(0)) })
	err = s.Update(bg(), func(tx store.Tx) error { return tx.DetachThingPrincipal("tp-0001", certARN(0)) })
	wantErr(t, "detach twice", err, store.ErrNotFound)

	// Deleting a thing drops its attachments.
	update(t, s, func(tx store.Tx) error { return tx.DeleteThing("tp-0000") })
	view(t, s, func(tx store.Tx) error {
		got, _, err := tx.PrincipalThings(certARN(0), store.Page{})
		wantErr(t, "principal things", err, nil)
		if len(got) != 5 {
			t.Fatalf("PrincipalThings after detach and delete: %+v", got)
		}
		got, _, err = tx.PrincipalThings(certARN(3), store.Page{})
		wantErr(t, "principal things", err, nil)
		if len(got) != 0 {
			t.Fatalf("attachments of a deleted thing survived: %+v", got)
		}
		return nil
	})
}

// testAccessKeys checks access-key CRUD and listing by user.
func testAccessKeys(t *testing.T, s store.Store) {
	key := func(i int, user string) store.AccessKey {
		return store.AccessKey{
			ID:        fmt.Sprintf("AKIA%016d", i),
			Secret:    fmt.Sprintf("%040d", i),
			UserName:  user,
			Status:    "Active",
			CreatedAt: ts(i),
		}
	}
	update(t, s, func(tx store.Tx) error {
		for i := range 9 {
			user := "alice"
			if i%3 == 0 {
				user = "admin"
			}
			if err := tx.InsertAccessKey(key(8-i, user)); err != nil {
				return err
			}
		}
		return nil
	})
	err := s.Update(bg(), func(tx store.Tx) error { return tx.InsertAccessKey(key(1, "bob")) })
	wantErr(t, "insert duplicate", err, store.ErrExists)

	k := key(4, "alice")
	view(t, s, func(tx store.Tx) error {
		got, err := tx.AccessKey(k.ID)
		wantErr(t, "get", err, nil)
		wantEqual(t, "get", got, k)
		if !got.LastUsedAt.IsZero() {
			t.Fatalf("LastUsedAt %v, want zero", got.LastUsedAt)
		}
		_, err = tx.AccessKey("AKIANOPE")
		wantErr(t, "get missing", err, store.ErrNotFound)
		return nil
	})

	u := k
	u.Status, u.LastUsedAt = "Inactive", ts(100)
	u.Secret, u.UserName = "changed", "mallory" // immutable: ignored
	update(t, s, func(tx store.Tx) error { return tx.UpdateAccessKey(u) })
	want := k
	want.Status, want.LastUsedAt = "Inactive", ts(100)
	view(t, s, func(tx store.Tx) error {
		got, err := tx.AccessKey(k.ID)
		wantErr(t, "get after update", err, nil)
		wantEqual(t, "get after update", got, want)
		return nil
	})
	err = s.Update(bg(), func(tx store.Tx) error { return tx.UpdateAccessKey(key(99, "x")) })
	wantErr(t, "update missing", err, store.ErrNotFound)

	all, pages := pageAll(t, s, 4, nil, func(tx store.Tx, p store.Page) ([]store.AccessKey, string, error) {
		return tx.ListAccessKeys("", p)
	})
	if len(all) != 9 || pages != 3 {
		t.Fatalf("all keys: %d in %d pages, want 9 in 3", len(all), pages)
	}
	for i, k := range all {
		if k.ID != key(i, "").ID {
			t.Fatalf("key %d is %s", i, k.ID)
		}
	}
	admin, _ := pageAll(t, s, 2, nil, func(tx store.Tx, p store.Page) ([]store.AccessKey, string, error) {
		return tx.ListAccessKeys("admin", p)
	})
	var ids []string
	for _, k := range admin {
		ids = append(ids, k.ID)
	}
	wantEqual(t, "admin keys", ids, []string{key(2, "").ID, key(5, "").ID, key(8, "").ID})

	update(t, s, func(tx store.Tx) error { return tx.DeleteAccessKey(k.ID) })
	err = s.Update(bg(), func(tx store.Tx) error { return tx.DeleteAccessKey(k.ID) })
	wantErr(t, "delete missing", err, store.ErrNotFound)
}

// testInvalidCursor checks that garbage cursors are ErrInvalidCursor.
func testInvalidCursor(t *testing.T, s store.Store) {
	bad := store.Page{After: "!!not a cursor!!"}
	view(t, s, func(tx store.Tx) error {
		_, _, err := tx.ListCertificates(bad, true)
		wantErr(t, "certificates", err, store.ErrInvalidCursor)
		_, _, err = tx.ListPolicies(bad, true)
		wantErr(t, "policies", err, store.ErrInvalidCursor)
		_, _, err = tx.ListThings(store.ThingFilter{}, bad)
		wantErr(t, "things", err, store.ErrInvalidCursor)
		_, _, err = tx.ListAccessKeys("", bad)
		wantErr(t, "access keys", err, store.ErrInvalidCursor)
		_, _, err = tx.AttachedPolicies("x", bad)
		wantErr(t, "attached policies", err, store.ErrInvalidCursor)
		_, _, err = tx.ThingPrincipals("x", bad)
		wantErr(t, "thing principals", err, store.ErrInvalidCursor)
		_, _, err = tx.ListRetained(bad)
		wantErr(t, "retained", err, store.ErrInvalidCursor)
		_, _, err = tx.ListSessions(bad)
		wantErr(t, "sessions", err, store.ErrInvalidCursor)
		_, _, err = tx.ListThingTypes("", bad)
		wantErr(t, "thing types", err, store.ErrInvalidCursor)
		_, _, err = tx.ListThingGroups(store.GroupFilter{}, bad)
		wantErr(t, "thing groups", err, store.ErrInvalidCursor)
		_, _, err = tx.GroupThings("x", bad)
		wantErr(t, "group things", err, store.ErrInvalidCursor)
		_, _, err = tx.ThingGroupsOf("x", bad)
		wantErr(t, "thing groups of", err, store.ErrInvalidCursor)
		return nil
	})
	// A cursor of one MQTT listing is not a cursor of the other.
	update(t, s, func(tx store.Tx) error {
		for i := range 2 {
			if err := tx.PutSession(store.Session{ClientID: name("c", i)}); err != nil {
				return err
			}
			if err := tx.PutRetained(store.Retained{Topic: name("t", i)}); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		_, next, err := tx.ListSessions(store.Page{Limit: 1})
		wantErr(t, "sessions page", err, nil)
		_, _, err = tx.ListRetained(store.Page{After: next})
		wantErr(t, "sessions cursor to retained", err, store.ErrInvalidCursor)
		_, next, err = tx.ListRetained(store.Page{Limit: 1})
		wantErr(t, "retained page", err, nil)
		_, _, err = tx.ListSessions(store.Page{After: next})
		wantErr(t, "retained cursor to sessions", err, store.ErrInvalidCursor)
		return nil
	})
	// Nor is a cursor of one group listing a cursor of another.
	update(t, s, func(tx store.Tx) error {
		for i := range 2 {
			if err := tx.InsertThingType(thingType(name("y", i))); err != nil {
				return err
			}
			if err := tx.InsertThingGroup(group(name("g", i), "")); err != nil {
				return err
			}
			if err := tx.InsertThing(thing(name("m", i), nil)); err != nil {
				return err
			}
			if err := tx.AddThingToGroup(name("g", i), "m-0000"); err != nil {
				return err
			}
			if err := tx.AddThingToGroup("g-0000", name("m", i)); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		listings := map[string]func(p store.Page) (string, error){
			"thing types": func(p store.Page) (string, error) {
				_, next, err := tx.ListThingTypes("", p)
				return next, err
			},
			"thing groups": func(p store.Page) (string, error) {
				_, next, err := tx.ListThingGroups(store.GroupFilter{}, p)
				return next, err
			},
			"group things": func(p store.Page) (string, error) {
				_, next, err := tx.GroupThings("g-0000", p)
				return next, err
			},
			"thing groups of": func(p store.Page) (string, error) {
				_, next, err := tx.ThingGroupsOf("m-0000", p)
				return next, err
			},
		}
		for from, list := range listings {
			next, err := list(store.Page{Limit: 1})
			wantErr(t, from+" page", err, nil)
			if next == "" {
				t.Fatalf("%s: no next cursor", from)
			}
			_, err = list(store.Page{After: next})
			wantErr(t, from+" cursor to itself", err, nil)
			for to, other := range listings {
				if to != from {
					_, err := other(store.Page{After: next})
					wantErr(t, from+" cursor to "+to, err, store.ErrInvalidCursor)
				}
			}
		}
		return nil
	})
}
