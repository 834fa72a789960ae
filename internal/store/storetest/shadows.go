package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/store"
)

// shadow is a live shadow whose fields all depend on n.
func shadow(thingName, shadowName string, n int) store.Shadow {
	return store.Shadow{
		ThingName:  thingName,
		ShadowName: shadowName,
		Document:   []byte(fmt.Sprintf(`{"state":{"reported":{"n":%d}},"metadata":{}}`, n)),
		Version:    int64(n),
		UpdatedAt:  ts(n),
	}
}

// tombstone is the tombstone of a shadow deleted at ts(n), at version v.
func tombstone(thingName, shadowName string, v int64, n int) store.Shadow {
	return store.Shadow{ThingName: thingName, ShadowName: shadowName, Version: v, UpdatedAt: ts(n), DeletedAt: ts(n)}
}

// putShadows puts every shadow of ss in one Update.
func putShadows(t *testing.T, s store.Store, ss ...store.Shadow) {
	t.Helper()
	update(t, s, func(tx store.Tx) error {
		for _, sh := range ss {
			if err := tx.PutShadow(sh); err != nil {
				return err
			}
		}
		return nil
	})
}

// wantShadow fails unless the stored shadow (thing, name) is want.
func wantShadow(t *testing.T, s store.Store, want store.Shadow) {
	t.Helper()
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Shadow(want.ThingName, want.ShadowName)
		wantErr(t, "shadow "+want.ThingName+"/"+want.ShadowName, err, nil)
		wantEqual(t, "shadow "+want.ThingName+"/"+want.ShadowName, got, want)
		return nil
	})
}

// wantNoShadow fails unless the shadow (thing, name) is ErrNotFound.
func wantNoShadow(t *testing.T, s store.Store, thingName, shadowName string) {
	t.Helper()
	view(t, s, func(tx store.Tx) error {
		_, err := tx.Shadow(thingName, shadowName)
		wantErr(t, "shadow "+thingName+"/"+shadowName, err, store.ErrNotFound)
		return nil
	})
}

// testShadows checks get and put: insert, replace of every field, the
// classic and a named shadow of one thing kept apart, a tombstone's round
// trip and its version continuing when the shadow is re-created, zero
// times, and documents byte for byte.
func testShadows(t *testing.T, s store.Store) {
	wantNoShadow(t, s, "t", "")
	wantNoShadow(t, s, "t", "n")

	// Insert: the classic and a named shadow of the same thing are two
	// shadows; neither is the other.
	classic, named := shadow("t", "", 1), shadow("t", "n", 2)
	putShadows(t, s, classic)
	wantShadow(t, s, classic)
	wantNoShadow(t, s, "t", "n")
	putShadows(t, s, named)
	wantShadow(t, s, classic)
	wantShadow(t, s, named)
	wantNoShadow(t, s, "u", "")
	wantNoShadow(t, s, "t", "N")

	// Replace: every field; zero times round-trip.
	classic = store.Shadow{ThingName: "t", Document: []byte(`{"state":{}}`), Version: 7}
	putShadows(t, s, classic)
	wantShadow(t, s, classic)
	wantShadow(t, s, named)
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Shadow("t", "")
		wantErr(t, "get replaced", err, nil)
		if !got.UpdatedAt.IsZero() || !got.DeletedAt.IsZero() || got.Deleted() {
			t.Fatalf("zero times came back as %v, %v (deleted %v)", got.UpdatedAt, got.DeletedAt, got.Deleted())
		}
		return nil
	})

	// Delete: the tombstone reads back with its version and no document.
	tomb := tombstone("t", "n", 3, 10)
	putShadows(t, s, tomb)
	wantShadow(t, s, tomb)
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Shadow("t", "n")
		wantErr(t, "tombstone", err, nil)
		if !got.Deleted() || got.Document != nil || got.Version != 3 {
			t.Fatalf("tombstone read back as deleted %v, document %q, version %d", got.Deleted(), got.Document, got.Version)
		}
		return nil
	})
	wantShadow(t, s, classic) // the classic shadow is not deleted with it

	// Re-create: the caller continues from the tombstone's version.
	update(t, s, func(tx store.Tx) error {
		old, err := tx.Shadow("t", "n")
		if err != nil {
			return err
		}
		sh := shadow("t", "n", 20)
		sh.Version = old.Version + 1
		return tx.PutShadow(sh)
	})
	recreated := shadow("t", "n", 20)
	recreated.Version = 4
	wantShadow(t, s, recreated)

	// A tombstone with a document is refused and changes nothing.
	bad := tombstone("t", "n", 5, 30)
	bad.Document = []byte("{}")
	err := s.Update(bg(), func(tx store.Tx) error { return tx.PutShadow(bad) })
	if err == nil {
		t.Fatal("PutShadow of a tombstone with a document succeeded")
	}
	wantShadow(t, s, recreated)

	// Documents, byte for byte (NUL, invalid UTF-8, every byte value,
	// 256 KiB), of the classic and named shadows of many things.
	ps := payloads()
	update(t, s, func(tx store.Tx) error {
		for k, p := range ps {
			for _, name := range []string{"", k} {
				if err := tx.PutShadow(store.Shadow{ThingName: "bin-" + k, ShadowName: name, Document: p, Version: 1}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		for k, p := range ps {
			for _, name := range []string{"", k} {
				got, err := tx.Shadow("bin-"+k, name)
				wantErr(t, "get "+k, err, nil)
				wantBytes(t, k+" document", got.Document, p)
				if got.Deleted() {
					t.Fatalf("%s: a live shadow with a %d-byte document reads back as a tombstone", k, len(p))
				}
			}
		}
		return nil
	})

	// PutShadow is a write: refused inside View.
	s.View(bg(), func(tx store.Tx) error {
		if err := tx.PutShadow(shadow("ro", "", 1)); err == nil {
			t.Error("PutShadow inside View succeeded")
		}
		return nil
	})
	wantNoShadow(t, s, "ro", "")
}

// testListShadows checks that ListShadows lists the live named shadows of
// one thing only, in byte-wise name order, without the classic shadow or
// tombstones, over more than two pages with shadows created and deleted
// between pages; and its cursors.
func testListShadows(t *testing.T, s store.Store) {
	listOf := func(thingName string) func(tx store.Tx, p store.Page) ([]store.Shadow, string, error) {
		return func(tx store.Tx, p store.Page) ([]store.Shadow, string, error) { return tx.ListShadows(thingName, p) }
	}
	names := []string{"b", "a", "A", "a-b", "a_b", "$x", "0", "z:9", "Z", "m"}
	var ss []store.Shadow
	for i, n := range names {
		ss = append(ss, shadow("t", n, i))
	}
	ss = append(ss,
		shadow("t", "", 100),             // the classic shadow
		tombstone("t", "dead", 5, 101),   // a tombstone
		shadow("t0", "other", 102),       // other things, before and after t
		shadow("u", "other", 103),        //
		shadow("t-", "b", 104),           // a thing whose name extends t's
		tombstone("u", "dead", 1, 105),   //
		shadow("tombs", "live", 106),     // a thing with tombstones on each side of a live shadow
		tombstone("tombs", "a", 1, 107),  //
		tombstone("tombs", "zz", 1, 108), //
		shadow("only-classic", "", 109),  // a thing with no named shadow
		tombstone("only-classic", "x", 1, 110),
	)
	putShadows(t, s, ss...)
	// Rows for other listings' cursors.
	update(t, s, func(tx store.Tx) error {
		for i := range 2 {
			if err := tx.PutRetained(store.Retained{Topic: name("r", i)}); err != nil {
				return err
			}
			if err := tx.InsertThing(thing(name("th", i), nil)); err != nil {
				return err
			}
		}
		return nil
	})

	// Between pages: a shadow is created ahead of the cursor, another
	// behind it, and one ahead is deleted.
	var ahead []string
	between := func(page int) {
		a, behind := fmt.Sprintf("zz%d", page), fmt.Sprintf("!%d", page)
		putShadows(t, s, shadow("t", a, 200+page), shadow("t", behind, 300+page), tombstone("t", "z:9", 50, 400+page))
		ahead = append(ahead, a)
	}
	all, pages := pageAll(t, s, 3, between, listOf("t"))
	if pages < 3 {
		t.Fatalf("%d pages, want at least 3", pages)
	}
	seen := map[string]store.Shadow{}
	for i, sh := range all {
		if i > 0 && all[i-1].ShadowName >= sh.ShadowName {
			t.Fatalf("out of order at %d: %q then %q", i, all[i-1].ShadowName, sh.ShadowName)
		}
		if sh.ThingName != "t" || sh.ShadowName == "" || sh.Deleted() {
			t.Fatalf("listed %+v: want live named shadows of t only", sh)
		}
		seen[sh.ShadowName] = sh
	}
	for i, n := range names {
		if n == "z:9" {
			continue // deleted during the listing: either is fine
		}
		wantEqual(t, "listed "+n, seen[n], shadow("t", n, i)) // documents included
	}
	for _, n := range ahead {
		if _, ok := seen[n]; !ok {
			t.Fatalf("%q, created ahead of the cursor, is missing", n)
		}
	}

	// Once nothing changes, a listing is exactly the live named shadows.
	got, _ := pageAll(t, s, 2, nil, listOf("tombs"))
	wantEqual(t, "shadows of tombs", got, []store.Shadow{shadow("tombs", "live", 106)})
	got, _ = pageAll(t, s, 100, nil, listOf("t-"))
	wantEqual(t, "shadows of t-", got, []store.Shadow{shadow("t-", "b", 104)})

	view(t, s, func(tx store.Tx) error {
		// No named shadows, or no shadows at all: an empty last page.
		for _, thing := range []string{"nothing", "only-classic"} {
			got, next, err := tx.ListShadows(thing, store.Page{})
			wantErr(t, "list "+thing, err, nil)
			if len(got) != 0 || next != "" {
				t.Fatalf("%s: %d shadows, next %q; want none", thing, len(got), next)
			}
		}

		// A full last page has no next cursor.
		got, next, err := tx.ListShadows("u", store.Page{Limit: 1})
		wantErr(t, "list u", err, nil)
		if len(got) != 1 || next != "" {
			t.Fatalf("u: %d shadows, next %q; want 1 and no cursor", len(got), next)
		}

		// Bad cursors, and cursors of other listings, both ways.
		_, _, err = tx.ListShadows("t", store.Page{After: "!!not a cursor!!"})
		wantErr(t, "bad cursor", err, store.ErrInvalidCursor)
		_, rnext, err := tx.ListRetained(store.Page{Limit: 1})
		wantErr(t, "retained page", err, nil)
		_, _, err = tx.ListShadows("t", store.Page{After: rnext})
		wantErr(t, "retained cursor to shadows", err, store.ErrInvalidCursor)
		_, tnext, err := tx.ListThings(store.ThingFilter{}, store.Page{Limit: 1})
		wantErr(t, "things page", err, nil)
		_, _, err = tx.ListShadows("t", store.Page{After: tnext})
		wantErr(t, "things cursor to shadows", err, store.ErrInvalidCursor)
		_, snext, err := tx.ListShadows("t", store.Page{Limit: 1})
		wantErr(t, "shadows page", err, nil)
		_, _, err = tx.ListRetained(store.Page{After: snext})
		wantErr(t, "shadows cursor to retained", err, store.ErrInvalidCursor)
		_, _, err = tx.ListThings(store.ThingFilter{}, store.Page{After: snext})
		wantErr(t, "shadows cursor to things", err, store.ErrInvalidCursor)
		return nil
	})
}

// testDeleteThingShadows checks that DeleteThingShadows removes every
// shadow of one thing, classic, named and tombstones, and nothing of
// other things (including one whose name starts with the same letters).
func testDeleteThingShadows(t *testing.T, s store.Store) {
	kept := []store.Shadow{shadow("t2", "", 1), shadow("t2", "a", 2), tombstone("t2", "b", 3, 3), shadow("s", "a", 4)}
	putShadows(t, s, kept...)
	putShadows(t, s, shadow("t", "", 5), shadow("t", "a", 6), tombstone("t", "b", 7, 7))
	update(t, s, func(tx store.Tx) error { return tx.DeleteThingShadows("t") })
	for _, n := range []string{"", "a", "b"} {
		wantNoShadow(t, s, "t", n)
	}
	for _, sh := range kept {
		wantShadow(t, s, sh)
	}
	// A thing without shadows: no error, nothing else touched.
	update(t, s, func(tx store.Tx) error { return tx.DeleteThingShadows("t") })
	update(t, s, func(tx store.Tx) error { return tx.DeleteThingShadows("never") })
	for _, sh := range kept {
		wantShadow(t, s, sh)
	}
	// Re-created after the thing's deletion, a shadow starts afresh.
	putShadows(t, s, shadow("t", "a", 1))
	wantShadow(t, s, shadow("t", "a", 1))
}

// testPurgeShadowTombstones checks that purging removes the tombstones
// deleted strictly before the time, counts them, and never removes a live
// shadow, however old.
func testPurgeShadowTombstones(t *testing.T, s store.Store) {
	live := []store.Shadow{shadow("t", "", 1), shadow("t", "old", 2), shadow("u", "x", 3)}
	putShadows(t, s, live...)
	putShadows(t, s, tombstone("t", "a", 1, 10), tombstone("t", "b", 1, 20), tombstone("u", "", 1, 20), tombstone("v", "c", 1, 30))
	purge := func(before time.Time, want int) {
		t.Helper()
		var n int
		update(t, s, func(tx store.Tx) error { // fn runs off the test goroutine: no t.Fatal in it
			var err error
			n, err = tx.PurgeShadowTombstones(before)
			return err
		})
		if n != want {
			t.Fatalf("purged %d tombstones before %v, want %d", n, before, want)
		}
	}
	purge(time.Time{}, 0)
	purge(ts(10), 0) // strictly before
	purge(ts(10).Add(time.Microsecond), 1)
	wantNoShadow(t, s, "t", "a")
	wantShadow(t, s, tombstone("t", "b", 1, 20))
	purge(ts(20), 0)
	purge(ts(21), 2)
	wantNoShadow(t, s, "t", "b")
	wantNoShadow(t, s, "u", "")
	wantShadow(t, s, tombstone("v", "c", 1, 30))
	purge(ts(21), 0)
	purge(time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), 1)
	wantNoShadow(t, s, "v", "c")
	for _, sh := range live {
		wantShadow(t, s, sh)
	}
	purge(time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), 0)

	// PurgeShadowTombstones is a write: refused inside View.
	putShadows(t, s, tombstone("w", "", 1, 1))
	s.View(bg(), func(tx store.Tx) error {
		if _, err := tx.PurgeShadowTombstones(ts(100)); err == nil {
			t.Error("PurgeShadowTombstones inside View succeeded")
		}
		return nil
	})
	wantShadow(t, s, tombstone("w", "", 1, 1))
}

// testShadowRollback checks that a failing Update leaves shadows as they
// were, whatever it did first (insert, replace, tombstone, delete, purge),
// alone and mixed with concurrent successful Updates that share its
// group-commit batch.
func testShadowRollback(t *testing.T, s store.Store) {
	before := []store.Shadow{shadow("t", "", 1), shadow("t", "a", 2), tombstone("t", "b", 3, 3), shadow("u", "", 4)}
	putShadows(t, s, before...)
	err := s.Update(bg(), func(tx store.Tx) error {
		for _, sh := range []store.Shadow{shadow("new", "", 9), shadow("t", "", 9), tombstone("t", "a", 9, 9), shadow("t", "b", 9)} {
			if err := tx.PutShadow(sh); err != nil {
				return err
			}
		}
		if err := tx.DeleteThingShadows("u"); err != nil {
			return err
		}
		if _, err := tx.PurgeShadowTombstones(ts(100)); err != nil {
			return err
		}
		return errBoom
	})
	wantErr(t, "failing update", err, errBoom)
	wantNoShadow(t, s, "new", "")
	for _, sh := range before {
		wantShadow(t, s, sh)
	}

	// Concurrent: odd Updates write a shadow then fail; even ones succeed.
	const workers, rounds = 16, 8
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				i := w*rounds + r
				err := s.Update(bg(), func(tx store.Tx) error {
					if err := tx.PutShadow(shadow(name("c", i), "", i)); err != nil {
						return err
					}
					if i%2 == 1 {
						return errBoom
					}
					return nil
				})
				if (i%2 == 1) != (err != nil) {
					errs <- fmt.Errorf("update %d: error %v", i, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i := range workers * rounds {
		if i%2 == 1 {
			wantNoShadow(t, s, name("c", i), "")
		} else {
			wantShadow(t, s, shadow(name("c", i), "", i))
		}
	}
}
