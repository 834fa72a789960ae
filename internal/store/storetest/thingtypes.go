package storetest

import (
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/store"
)

func thingType(name string) store.ThingType {
	return store.ThingType{
		Name:                 name,
		ID:                   "id-" + name,
		Description:          "type " + name,
		SearchableAttributes: []string{"serial", "model"},
		CreatedAt:            ts(1),
	}
}

// testThingTypes checks thing-type CRUD, that UpdateThingType replaces the
// mutable fields only, and that DeleteThingType leaves things alone.
func testThingTypes(t *testing.T, s store.Store) {
	lamp := thingType("lamp")
	bare := store.ThingType{Name: "bare", ID: "id-bare", CreatedAt: ts(2)}
	update(t, s, func(tx store.Tx) error {
		if err := tx.InsertThingType(lamp); err != nil {
			return err
		}
		if err := tx.InsertThingType(bare); err != nil {
			return err
		}
		th := thing("lamp-1", nil)
		th.TypeName = "lamp"
		return tx.InsertThing(th)
	})
	err := s.Update(bg(), func(tx store.Tx) error {
		dup := thingType("lamp")
		dup.ID = "another-id"
		return tx.InsertThingType(dup)
	})
	wantErr(t, "insert duplicate", err, store.ErrExists)

	view(t, s, func(tx store.Tx) error {
		got, err := tx.ThingType("lamp")
		wantErr(t, "get", err, nil)
		wantEqual(t, "get", got, lamp)
		got, err = tx.ThingType("bare")
		wantErr(t, "get bare", err, nil)
		wantEqual(t, "get bare", got, bare) // nil SearchableAttributes stay nil
		_, err = tx.ThingType("nope")
		wantErr(t, "get missing", err, store.ErrNotFound)
		return nil
	})

	u := lamp
	u.Description = "deprecated lamp"
	u.SearchableAttributes = []string{"z", "a"} // order kept
	u.Deprecated, u.DeprecatedAt = true, ts(7)
	u.ID, u.CreatedAt = "changed", ts(99) // immutable: ignored
	update(t, s, func(tx store.Tx) error { return tx.UpdateThingType(u) })
	want := lamp
	want.Description, want.SearchableAttributes = "deprecated lamp", []string{"z", "a"}
	want.Deprecated, want.DeprecatedAt = true, ts(7)
	view(t, s, func(tx store.Tx) error {
		got, err := tx.ThingType("lamp")
		wantErr(t, "get after update", err, nil)
		wantEqual(t, "get after update", got, want)
		return nil
	})
	// Undeprecating clears the flag and the time; no attributes reads nil.
	v := u
	v.Deprecated, v.DeprecatedAt, v.SearchableAttributes = false, time.Time{}, []string{}
	update(t, s, func(tx store.Tx) error { return tx.UpdateThingType(v) })
	want.Deprecated, want.DeprecatedAt, want.SearchableAttributes = false, time.Time{}, nil
	view(t, s, func(tx store.Tx) error {
		got, err := tx.ThingType("lamp")
		wantErr(t, "get after undeprecate", err, nil)
		wantEqual(t, "get after undeprecate", got, want)
		return nil
	})
	err = s.Update(bg(), func(tx store.Tx) error { return tx.UpdateThingType(thingType("nope")) })
	wantErr(t, "update missing", err, store.ErrNotFound)

	// "Is any thing of this type?": one row of ListThings by type.
	view(t, s, func(tx store.Tx) error {
		got, _, err := tx.ListThings(store.ThingFilter{TypeName: "lamp"}, store.Page{Limit: 1})
		wantErr(t, "things of type", err, nil)
		if len(got) != 1 || got[0].Name != "lamp-1" {
			t.Fatalf("things of type lamp: %+v", got)
		}
		return nil
	})

	update(t, s, func(tx store.Tx) error { return tx.DeleteThingType("lamp") })
	err = s.Update(bg(), func(tx store.Tx) error { return tx.DeleteThingType("lamp") })
	wantErr(t, "delete missing", err, store.ErrNotFound)
	view(t, s, func(tx store.Tx) error {
		_, err := tx.ThingType("lamp")
		wantErr(t, "get deleted", err, store.ErrNotFound)
		th, err := tx.Thing("lamp-1")
		wantErr(t, "thing of a deleted type", err, nil)
		if th.TypeName != "lamp" {
			t.Fatalf("thing of a deleted type has TypeName %q, want lamp", th.TypeName)
		}
		return nil
	})
	// The name is free again.
	update(t, s, func(tx store.Tx) error { return tx.InsertThingType(thingType("lamp")) })
}

// testListThingTypes checks order (byte-wise), the name filter, and
// paging over more than two pages with inserts between pages.
func testListThingTypes(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error {
		for i := 0; i < 20; i += 2 {
			if err := tx.InsertThingType(thingType(name("tt", i))); err != nil {
				return err
			}
		}
		for _, n := range []string{"TT", "tt_", "tt-"} {
			if err := tx.InsertThingType(thingType(n)); err != nil {
				return err
			}
		}
		return nil
	})
	var inserted []string
	between := func(page int) {
		ahead, behind := name("tt", 9000+page), name("tt", 1)+"-"+name("b", page)
		update(t, s, func(tx store.Tx) error {
			if err := tx.InsertThingType(thingType(ahead)); err != nil {
				return err
			}
			return tx.InsertThingType(thingType(behind))
		})
		inserted = append(inserted, ahead)
	}
	all, pages := pageAll(t, s, 4, between, func(tx store.Tx, p store.Page) ([]store.ThingType, string, error) {
		return tx.ListThingTypes("", p)
	})
	if pages < 3 {
		t.Fatalf("%d pages, want at least 3", pages)
	}
	var got []string
	seen := map[string]bool{}
	for i, tt := range all {
		if i > 0 && all[i-1].Name >= tt.Name {
			t.Fatalf("out of order at %d: %s then %s", i, all[i-1].Name, tt.Name)
		}
		if i == 0 {
			wantEqual(t, "first type", tt, thingType("TT"))
		}
		seen[tt.Name] = true
		got = append(got, tt.Name)
	}
	for i := 0; i < 20; i += 2 {
		if !seen[name("tt", i)] {
			t.Fatalf("%s missing", name("tt", i))
		}
	}
	for _, n := range append(inserted, "TT", "tt_", "tt-") {
		if !seen[n] {
			t.Fatalf("%s missing from %v", n, got)
		}
	}

	view(t, s, func(tx store.Tx) error {
		for _, c := range []struct {
			name string
			want []string
		}{
			{"tt-0004", []string{"tt-0004"}},
			{"tt_", []string{"tt_"}},
			{"tt", nil}, // exact, not a prefix
			{"nope", nil},
		} {
			got, next, err := tx.ListThingTypes(c.name, store.Page{Limit: 1})
			wantErr(t, "list by name "+c.name, err, nil)
			var names []string
			for _, tt := range got {
				names = append(names, tt.Name)
			}
			wantEqual(t, "list by name "+c.name, names, c.want)
			if next != "" {
				t.Fatalf("list by name %s: next cursor %q, want none", c.name, next)
			}
		}
		return nil
	})
}
