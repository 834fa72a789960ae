package storetest

import (
	"fmt"
	"sort"
	"testing"

	"github.com/moat-iot/moat/internal/store"
)

func thing(name string, attrs map[string]string) store.Thing {
	return store.Thing{
		Name:       name,
		ID:         "id-" + name,
		Attributes: attrs,
		Version:    1,
		CreatedAt:  ts(1),
		UpdatedAt:  ts(1),
	}
}

// wantThing compares things, treating nil and empty attribute maps alike.
func wantThing(t *testing.T, what string, got, want store.Thing) {
	t.Helper()
	if len(got.Attributes) == 0 && len(want.Attributes) == 0 {
		got.Attributes, want.Attributes = nil, nil
	}
	wantEqual(t, what, got, want)
}

// testThings checks thing CRUD and that UpdateThing replaces attributes.
func testThings(t *testing.T, s store.Store) {
	th := thing("lamp-1", map[string]string{"color": "red", "room": "kitchen"})
	th.TypeName = "lamp"
	bare := thing("bare", nil)
	update(t, s, func(tx store.Tx) error {
		if err := tx.InsertThing(th); err != nil {
			return err
		}
		return tx.InsertThing(bare)
	})
	err := s.Update(bg(), func(tx store.Tx) error {
		dup := thing("lamp-1", nil)
		dup.ID = "another-id"
		return tx.InsertThing(dup)
	})
	wantErr(t, "insert duplicate", err, store.ErrExists)

	view(t, s, func(tx store.Tx) error {
		got, err := tx.Thing("lamp-1")
		wantErr(t, "get", err, nil)
		wantThing(t, "get", got, th)
		got, err = tx.Thing("bare")
		wantErr(t, "get bare", err, nil)
		wantThing(t, "get bare", got, bare)
		_, err = tx.Thing("nope")
		wantErr(t, "get missing", err, store.ErrNotFound)
		return nil
	})

	u := th
	u.TypeName = ""
	u.Attributes = map[string]string{"color": "blue", "floor": "2"}
	u.Version = 2
	u.UpdatedAt = ts(5)
	update(t, s, func(tx store.Tx) error { return tx.UpdateThing(u) })
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Thing("lamp-1")
		wantErr(t, "get after update", err, nil)
		wantThing(t, "get after update", got, u)
		// The attribute filter follows the update.
		for _, c := range []struct {
			f    store.ThingFilter
			want int
		}{
			{store.ThingFilter{AttributeName: "color", AttributeValue: "red"}, 0},
			{store.ThingFilter{AttributeName: "color", AttributeValue: "blue"}, 1},
			{store.ThingFilter{AttributeName: "room"}, 0},
			{store.ThingFilter{TypeName: "lamp"}, 0},
		} {
			got, _, err := tx.ListThings(c.f, store.Page{})
			wantErr(t, "list after update", err, nil)
			if len(got) != c.want {
				t.Fatalf("filter %+v after update: %d things, want %d", c.f, len(got), c.want)
			}
		}
		return nil
	})
	err = s.Update(bg(), func(tx store.Tx) error { return tx.UpdateThing(thing("nope", nil)) })
	wantErr(t, "update missing", err, store.ErrNotFound)

	update(t, s, func(tx store.Tx) error { return tx.DeleteThing("lamp-1") })
	err = s.Update(bg(), func(tx store.Tx) error { return tx.DeleteThing("lamp-1") })
	wantErr(t, "delete missing", err, store.ErrNotFound)
	view(t, s, func(tx store.Tx) error {
		_, err := tx.Thing("lamp-1")
		wantErr(t, "get deleted", err, store.ErrNotFound)
		got, _, err := tx.ListThings(store.ThingFilter{AttributeName: "color"}, store.Page{})
		wantErr(t, "list after delete", err, nil)
		if len(got) != 0 {
			t.Fatalf("deleted thing still matches an attribute filter: %+v", got)
		}
		return nil
	})
	// The name is free again.
	update(t, s, func(tx store.Tx) error { return tx.InsertThing(thing("lamp-1", nil)) })
}

// testListThings pages over more than two pages with inserts between pages.
func testListThings(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error {
		for i := 0; i < 30; i += 2 {
			if err := tx.InsertThing(thing(name("t", i), map[string]string{"k": "v"})); err != nil {
				return err
			}
		}
		return nil
	})
	for _, f := range []store.ThingFilter{{}, {AttributeName: "k", AttributeValue: "v"}, {AttributeName: "k", AttributeValue: "v", AttributePrefix: true}} {
		t.Run(fmt.Sprintf("%+v", f), func(t *testing.T) {
			var inserted []string
			between := func(page int) {
				// A name far ahead of the cursor and one behind it.
				sfx := fmt.Sprintf("-%03d-%d-%v", page, len(f.AttributeName), f.AttributePrefix)
				ahead, behind := name("t", 9000)+sfx, name("t", 0)+sfx
				update(t, s, func(tx store.Tx) error {
					if err := tx.InsertThing(thing(ahead, map[string]string{"k": "v"})); err != nil {
						return err
					}
					return tx.InsertThing(thing(behind, map[string]string{"k": "v"}))
				})
				inserted = append(inserted, ahead)
			}
			all, pages := pageAll(t, s, 4, between, func(tx store.Tx, p store.Page) ([]store.Thing, string, error) {
				return tx.ListThings(f, p)
			})
			if pages < 3 {
				t.Fatalf("%d pages, want at least 3", pages)
			}
			seen := map[string]bool{}
			for i, th := range all {
				if i > 0 && all[i-1].Name >= th.Name {
					t.Fatalf("out of order at %d: %s then %s", i, all[i-1].Name, th.Name)
				}
				seen[th.Name] = true
			}
			for i := 0; i < 30; i += 2 {
				if !seen[name("t", i)] {
					t.Fatalf("%s missing", name("t", i))
				}
			}
			for _, n := range inserted {
				if !seen[n] {
					t.Fatalf("%s, inserted ahead of the cursor, is missing", n)
				}
			}
		})
	}
}

// testListThingsFilters checks each filter and their combinations.
func testListThingsFilters(t *testing.T, s store.Store) {
	type row struct {
		name, typ string
		attrs     map[string]string
	}
	rows := []row{
		{"a1", "lamp", map[string]string{"site": "berlin-1", "model": "x"}},
		{"a2", "lamp", map[string]string{"site": "berlin-2"}},
		{"a3", "", map[string]string{"site": "berlin"}},
		{"a4", "sensor", map[string]string{"site": "bern", "model": "x"}},
		{"a5", "sensor", map[string]string{"site": "Berlin-1"}},
		{"a6", "", map[string]string{"model": "berlin-1"}},
		{"a7", "lamp", nil},
		{"a8", "", map[string]string{"site": ""}},
		{"a9", "", map[string]string{"site": "berlin\U0010ffff"}},
	}
	update(t, s, func(tx store.Tx) error {
		for _, r := range rows {
			th := thing(r.name, r.attrs)
			th.TypeName = r.typ
			if err := tx.InsertThing(th); err != nil {
				return err
			}
		}
		return nil
	})
	cases := map[string]struct {
		f    store.ThingFilter
		want []string
	}{
		"none":               {store.ThingFilter{}, []string{"a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9"}},
		"exact":              {store.ThingFilter{AttributeName: "site", AttributeValue: "berlin-1"}, []string{"a1"}},
		"exact is exact":     {store.ThingFilter{AttributeName: "site", AttributeValue: "berlin"}, []string{"a3"}},
		"exact no match":     {store.ThingFilter{AttributeName: "site", AttributeValue: "paris"}, nil},
		"prefix":             {store.ThingFilter{AttributeName: "site", AttributeValue: "berlin", AttributePrefix: true}, []string{"a1", "a2", "a3", "a9"}},
		"prefix is binary":   {store.ThingFilter{AttributeName: "site", AttributeValue: "Ber", AttributePrefix: true}, []string{"a5"}},
		"prefix ber":         {store.ThingFilter{AttributeName: "site", AttributeValue: "ber", AttributePrefix: true}, []string{"a1", "a2", "a3", "a4", "a9"}},
		"prefix max rune":    {store.ThingFilter{AttributeName: "site", AttributeValue: "berlin\U0010ffff", AttributePrefix: true}, []string{"a9"}},
		"any value":          {store.ThingFilter{AttributeName: "site"}, []string{"a1", "a2", "a3", "a4", "a5", "a8", "a9"}},
		"empty prefix":       {store.ThingFilter{AttributeName: "model", AttributePrefix: true}, []string{"a1", "a4", "a6"}},
		"type":               {store.ThingFilter{TypeName: "lamp"}, []string{"a1", "a2", "a7"}},
		"type and exact":     {store.ThingFilter{TypeName: "lamp", AttributeName: "model", AttributeValue: "x"}, []string{"a1"}},
		"type and prefix":    {store.ThingFilter{TypeName: "sensor", AttributeName: "site", AttributeValue: "be", AttributePrefix: true}, []string{"a4"}},
		"other attr name":    {store.ThingFilter{AttributeName: "model", AttributeValue: "berlin-1"}, []string{"a6"}},
		"unknown type":       {store.ThingFilter{TypeName: "nope"}, nil},
		"unknown attribute":  {store.ThingFilter{AttributeName: "nope", AttributeValue: "x"}, nil},
		"type and any value": {store.ThingFilter{TypeName: "sensor", AttributeName: "model"}, []string{"a4"}},
	}
	keys := make([]string, 0, len(cases))
	for k := range cases {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		c := cases[k]
		t.Run(k, func(t *testing.T) {
			// Page size 2 so that every filter is also paged.
			all, _ := pageAll(t, s, 2, nil, func(tx store.Tx, p store.Page) ([]store.Thing, string, error) {
				return tx.ListThings(c.f, p)
			})
			var got []string
			for _, th := range all {
				got = append(got, th.Name)
			}
			wantEqual(t, fmt.Sprintf("filter %+v", c.f), got, c.want)
		})
	}
}
