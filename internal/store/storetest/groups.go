package storetest

import (
	"fmt"
	"sort"
	"testing"

	"github.com/moat-iot/moat/internal/store"
)

func group(name, parent string) store.ThingGroup {
	return store.ThingGroup{
		Name:        name,
		ID:          "id-" + name,
		ParentName:  parent,
		Description: "group " + name,
		Attributes:  map[string]string{"site": "berlin"},
		Version:     1,
		CreatedAt:   ts(1),
	}
}

// wantGroup compares groups, treating nil and empty attribute maps alike.
func wantGroup(t *testing.T, what string, got, want store.ThingGroup) {
	t.Helper()
	if len(got.Attributes) == 0 && len(want.Attributes) == 0 {
		got.Attributes, want.Attributes = nil, nil
	}
	wantEqual(t, what, got, want)
}

// groupNames returns the names of gs.
func groupNames(gs []store.ThingGroup) []string {
	var out []string
	for _, g := range gs {
		out = append(out, g.Name)
	}
	return out
}

// testThingGroups checks group CRUD: the parent must exist, UpdateThingGroup
// replaces the mutable fields only, dynamic groups round-trip.
func testThingGroups(t *testing.T, s store.Store) {
	root := group("root", "")
	child := group("child", "root")
	child.Attributes = nil
	dyn := group("dyn", "")
	dyn.Dynamic, dyn.QueryString, dyn.QueryVersion, dyn.IndexName, dyn.Status = true, "attributes.site:berlin", "2017-09-30", "AWS_Things", "BUILDING"
	update(t, s, func(tx store.Tx) error {
		for _, g := range []store.ThingGroup{root, child, dyn} {
			if err := tx.InsertThingGroup(g); err != nil {
				return err
			}
		}
		return nil
	})
	err := s.Update(bg(), func(tx store.Tx) error {
		dup := group("root", "")
		dup.ID = "another-id"
		return tx.InsertThingGroup(dup)
	})
	wantErr(t, "insert duplicate", err, store.ErrExists)
	err = s.Update(bg(), func(tx store.Tx) error { return tx.InsertThingGroup(group("orphan", "nope")) })
	wantErr(t, "insert with a missing parent", err, store.ErrNotFound)
	err = s.Update(bg(), func(tx store.Tx) error { return tx.InsertThingGroup(group("self", "self")) })
	wantErr(t, "insert as its own parent", err, store.ErrNotFound)

	view(t, s, func(tx store.Tx) error {
		for _, want := range []store.ThingGroup{root, child, dyn} {
			got, err := tx.ThingGroup(want.Name)
			wantErr(t, "get "+want.Name, err, nil)
			wantGroup(t, "get "+want.Name, got, want)
		}
		for _, n := range []string{"nope", "orphan", "self"} {
			_, err := tx.ThingGroup(n)
			wantErr(t, "get "+n, err, store.ErrNotFound)
		}
		return nil
	})

	u := dyn
	u.Description, u.Attributes, u.Version = "updated", map[string]string{"floor": "2"}, 2
	u.QueryString, u.QueryVersion, u.IndexName, u.Status = "attributes.floor:2", "2", "idx", "ACTIVE"
	// Immutable: ignored.
	u.ID, u.ParentName, u.CreatedAt, u.Dynamic = "changed", "root", ts(99), false
	update(t, s, func(tx store.Tx) error { return tx.UpdateThingGroup(u) })
	want := dyn
	want.Description, want.Attributes, want.Version = "updated", map[string]string{"floor": "2"}, 2
	want.QueryString, want.QueryVersion, want.IndexName, want.Status = "attributes.floor:2", "2", "idx", "ACTIVE"
	view(t, s, func(tx store.Tx) error {
		got, err := tx.ThingGroup("dyn")
		wantErr(t, "get after update", err, nil)
		wantGroup(t, "get after update", got, want)
		return nil
	})
	err = s.Update(bg(), func(tx store.Tx) error { return tx.UpdateThingGroup(group("nope", "")) })
	wantErr(t, "update missing", err, store.ErrNotFound)

	// Deleting a parent is not refused by the store: the child keeps its
	// ParentName.
	update(t, s, func(tx store.Tx) error { return tx.DeleteThingGroup("root") })
	err = s.Update(bg(), func(tx store.Tx) error { return tx.DeleteThingGroup("root") })
	wantErr(t, "delete missing", err, store.ErrNotFound)
	view(t, s, func(tx store.Tx) error {
		_, err := tx.ThingGroup("root")
		wantErr(t, "get deleted", err, store.ErrNotFound)
		got, err := tx.ThingGroup("child")
		wantErr(t, "get child of deleted", err, nil)
		wantGroup(t, "child of deleted", got, child)
		return nil
	})
	// The name is free again, and a missing parent is refused even if the
	// name is taken.
	update(t, s, func(tx store.Tx) error { return tx.InsertThingGroup(group("root", "")) })
	err = s.Update(bg(), func(tx store.Tx) error { return tx.InsertThingGroup(group("root", "nope")) })
	wantErr(t, "insert duplicate with a missing parent", err, store.ErrNotFound)
}

// testListThingGroups pages each filter over more than two pages with
// inserts between pages.
func testListThingGroups(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error {
		if err := tx.InsertThingGroup(group("p", "")); err != nil {
			return err
		}
		for i := 0; i < 20; i += 2 {
			if err := tx.InsertThingGroup(group(name("g", i), "")); err != nil {
				return err
			}
			if err := tx.InsertThingGroup(group(name("g", i)+"-c", "p")); err != nil {
				return err
			}
		}
		return nil
	})
	for _, f := range []store.GroupFilter{{}, {RootOnly: true}, {Parent: "p"}, {NamePrefix: "g-"}, {Parent: "p", NamePrefix: "g-00"}} {
		t.Run(fmt.Sprintf("%+v", f), func(t *testing.T) {
			var inserted []string
			between := func(page int) {
				// Names far ahead of the cursor and behind it, root and
				// child.
				sfx := fmt.Sprintf("-%03d-%v-%s-%s", page, f.RootOnly, f.Parent, f.NamePrefix)
				update(t, s, func(tx store.Tx) error {
					for _, n := range []string{name("g", 0), name("g", 9000)} {
						if err := tx.InsertThingGroup(group(n+sfx, "")); err != nil {
							return err
						}
						if err := tx.InsertThingGroup(group(n+sfx+"-c", "p")); err != nil {
							return err
						}
					}
					return nil
				})
				inserted = append(inserted, name("g", 9000)+sfx, name("g", 9000)+sfx+"-c")
			}
			all, pages := pageAll(t, s, 3, between, func(tx store.Tx, p store.Page) ([]store.ThingGroup, string, error) {
				return tx.ListThingGroups(f, p)
			})
			if pages < 3 {
				t.Fatalf("%d pages, want at least 3", pages)
			}
			match := func(g store.ThingGroup) bool {
				switch {
				case f.RootOnly && g.ParentName != "",
					f.Parent != "" && g.ParentName != f.Parent,
					len(g.Name) < len(f.NamePrefix) || g.Name[:len(f.NamePrefix)] != f.NamePrefix:
					return false
				}
				return true
			}
			seen := map[string]bool{}
			for i, g := range all {
				if i > 0 && all[i-1].Name >= g.Name {
					t.Fatalf("out of order at %d: %s then %s", i, all[i-1].Name, g.Name)
				}
				if !match(g) {
					t.Fatalf("%+v does not pass the filter", g)
				}
				seen[g.Name] = true
			}
			for i := 0; i < 20; i += 2 {
				for _, g := range []store.ThingGroup{group(name("g", i), ""), group(name("g", i)+"-c", "p")} {
					if match(g) && !seen[g.Name] {
						t.Fatalf("%s missing", g.Name)
					}
				}
			}
			for _, n := range inserted {
				parent := ""
				if n[len(n)-2:] == "-c" {
					parent = "p"
				}
				if match(group(n, parent)) && !seen[n] {
					t.Fatalf("%s, inserted ahead of the cursor, is missing", n)
				}
			}
		})
	}
}

// testListThingGroupsFilters checks each filter and their combinations;
// name order and prefixes are byte-wise, and '%' and '_' are not
// wildcards.
func testListThingGroupsFilters(t *testing.T, s store.Store) {
	groups := []store.ThingGroup{
		group("ber", ""),
		group("Ber", ""),
		group("ber%", ""),
		group("ber%x", "ber%"),
		group("berlin", "ber"),
		group("berlin-1", "berlin"),
		group("berlin_2", "berlin"),
		group("berlin\U0010ffff", ""),
		group("bern", "ber"),
		group("berxlin", "ber"),
	}
	update(t, s, func(tx store.Tx) error {
		for _, g := range groups {
			if err := tx.InsertThingGroup(g); err != nil {
				return err
			}
		}
		return nil
	})
	cases := map[string]struct {
		f    store.GroupFilter
		want []string
	}{
		"none":             {store.GroupFilter{}, []string{"Ber", "ber", "ber%", "ber%x", "berlin", "berlin-1", "berlin_2", "berlin\U0010ffff", "bern", "berxlin"}},
		"root only":        {store.GroupFilter{RootOnly: true}, []string{"Ber", "ber", "ber%", "berlin\U0010ffff"}},
		"parent":           {store.GroupFilter{Parent: "ber"}, []string{"berlin", "bern", "berxlin"}},
		"parent is direct": {store.GroupFilter{Parent: "berlin"}, []string{"berlin-1", "berlin_2"}},
		"parent missing":   {store.GroupFilter{Parent: "nope"}, nil},
		"parent leaf":      {store.GroupFilter{Parent: "bern"}, nil},
		"prefix":           {store.GroupFilter{NamePrefix: "ber"}, []string{"ber", "ber%", "ber%x", "berlin", "berlin-1", "berlin_2", "berlin\U0010ffff", "bern", "berxlin"}},
		"prefix is binary": {store.GroupFilter{NamePrefix: "Ber"}, []string{"Ber"}},
		"prefix _":         {store.GroupFilter{NamePrefix: "berlin_"}, []string{"berlin_2"}},
		"prefix %":         {store.GroupFilter{NamePrefix: "ber%"}, []string{"ber%", "ber%x"}},
		"prefix max rune":  {store.GroupFilter{NamePrefix: "berlin\U0010ffff"}, []string{"berlin\U0010ffff"}},
		"prefix whole":     {store.GroupFilter{NamePrefix: "berlin-1"}, []string{"berlin-1"}},
		"prefix none":      {store.GroupFilter{NamePrefix: "z"}, nil},
		"prefix before":    {store.GroupFilter{NamePrefix: "A"}, nil},
		"parent, prefix":   {store.GroupFilter{Parent: "ber", NamePrefix: "berl"}, []string{"berlin"}},
		"root, prefix":     {store.GroupFilter{RootOnly: true, NamePrefix: "ber"}, []string{"ber", "ber%", "berlin\U0010ffff"}},
		"root and parent":  {store.GroupFilter{RootOnly: true, Parent: "ber"}, nil},
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
			all, _ := pageAll(t, s, 2, nil, func(tx store.Tx, p store.Page) ([]store.ThingGroup, string, error) {
				return tx.ListThingGroups(c.f, p)
			})
			wantEqual(t, fmt.Sprintf("filter %+v", c.f), groupNames(all), c.want)
		})
	}
	// Rows come back whole.
	view(t, s, func(tx store.Tx) error {
		got, _, err := tx.ListThingGroups(store.GroupFilter{NamePrefix: "berlin_"}, store.Page{})
		wantErr(t, "list", err, nil)
		if len(got) != 1 {
			t.Fatalf("list berlin_: %+v", got)
		}
		wantGroup(t, "listed group", got[0], group("berlin_2", "berlin"))
		return nil
	})
}

// testGroupMembers checks adding (twice is a no-op; thing and group must
// exist), removing, both listings, and that deleting a thing or a group
// removes its memberships.
func testGroupMembers(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error {
		for i := range 7 {
			if err := tx.InsertThing(thing(name("m", i), nil)); err != nil {
				return err
			}
		}
		for _, g := range []store.ThingGroup{group("g1", ""), group("g2", ""), group("g3", "g1"), group("g4", "")} {
			if err := tx.InsertThingGroup(g); err != nil {
				return err
			}
		}
		// Every thing in g1, in reverse order; m-0000 in every group.
		for i := range 7 {
			if err := tx.AddThingToGroup("g1", name("m", 6-i)); err != nil {
				return err
			}
		}
		for _, g := range []string{"g4", "g3", "g2"} {
			if err := tx.AddThingToGroup(g, "m-0000"); err != nil {
				return err
			}
		}
		return tx.AddThingToGroup("g2", "m-0001")
	})
	// Adding again is a no-op.
	update(t, s, func(tx store.Tx) error { return tx.AddThingToGroup("g1", "m-0003") })
	for _, c := range []struct{ group, thing string }{{"nope", "m-0000"}, {"g1", "nope"}, {"nope", "nope"}} {
		err := s.Update(bg(), func(tx store.Tx) error { return tx.AddThingToGroup(c.group, c.thing) })
		wantErr(t, fmt.Sprintf("add %s to %s", c.thing, c.group), err, store.ErrNotFound)
	}

	things, pages := pageAll(t, s, 3, nil, func(tx store.Tx, p store.Page) ([]string, string, error) {
		return tx.GroupThings("g1", p)
	})
	if pages != 3 {
		t.Fatalf("GroupThings g1: %d pages, want 3", pages)
	}
	wantEqual(t, "GroupThings g1", things, []string{"m-0000", "m-0001", "m-0002", "m-0003", "m-0004", "m-0005", "m-0006"})
	gs, pages := pageAll(t, s, 1, nil, func(tx store.Tx, p store.Page) ([]string, string, error) {
		return tx.ThingGroupsOf("m-0000", p)
	})
	if pages != 4 {
		t.Fatalf("ThingGroupsOf m-0000: %d pages, want 4", pages)
	}
	wantEqual(t, "ThingGroupsOf m-0000", gs, []string{"g1", "g2", "g3", "g4"})
	view(t, s, func(tx store.Tx) error {
		for _, c := range []struct {
			group string
			want  []string
		}{{"g2", []string{"m-0000", "m-0001"}}, {"g3", []string{"m-0000"}}, {"nope", nil}} {
			// A parent's listing does not include its children's things,
			// nor a child's its parent's.
			got, next, err := tx.GroupThings(c.group, store.Page{})
			wantErr(t, "GroupThings "+c.group, err, nil)
			wantEqual(t, "GroupThings "+c.group, got, c.want)
			if next != "" {
				t.Fatalf("GroupThings %s: next cursor %q on the last page", c.group, next)
			}
		}
		got, _, err := tx.ThingGroupsOf("m-0006", store.Page{})
		wantErr(t, "ThingGroupsOf m-0006", err, nil)
		wantEqual(t, "ThingGroupsOf m-0006", got, []string{"g1"})
		got, _, err = tx.ThingGroupsOf("nope", store.Page{})
		wantErr(t, "ThingGroupsOf missing thing", err, nil)
		wantEqual(t, "ThingGroupsOf missing thing", got, []string(nil))
		return nil
	})

	update(t, s, func(tx store.Tx) error { return tx.RemoveThingFromGroup("g2", "m-0001") })
	for _, c := range []struct{ group, thing string }{{"g2", "m-0001"}, {"g3", "m-0001"}, {"nope", "m-0000"}, {"g1", "nope"}} {
		err := s.Update(bg(), func(tx store.Tx) error { return tx.RemoveThingFromGroup(c.group, c.thing) })
		wantErr(t, fmt.Sprintf("remove %s from %s", c.thing, c.group), err, store.ErrNotFound)
	}

	// Deleting a thing removes its memberships; a new thing of that name
	// is in no group.
	update(t, s, func(tx store.Tx) error { return tx.DeleteThing("m-0000") })
	update(t, s, func(tx store.Tx) error { return tx.InsertThing(thing("m-0000", nil)) })
	// Deleting a group removes its memberships; a new group of that name
	// is empty.
	update(t, s, func(tx store.Tx) error { return tx.DeleteThingGroup("g1") })
	update(t, s, func(tx store.Tx) error { return tx.InsertThingGroup(group("g1", "")) })
	view(t, s, func(tx store.Tx) error {
		for _, c := range []struct {
			group string
			want  []string
		}{{"g1", nil}, {"g2", nil}, {"g3", nil}, {"g4", nil}} {
			got, _, err := tx.GroupThings(c.group, store.Page{})
			wantErr(t, "GroupThings after deletes "+c.group, err, nil)
			wantEqual(t, "GroupThings after deletes "+c.group, got, c.want)
		}
		for i := range 7 {
			got, _, err := tx.ThingGroupsOf(name("m", i), store.Page{})
			wantErr(t, "ThingGroupsOf after deletes", err, nil)
			if len(got) != 0 {
				t.Fatalf("ThingGroupsOf %s after deletes: %v", name("m", i), got)
			}
		}
		return nil
	})
}

// testGroupMembersPaging pages both membership listings over more than two
// pages with memberships added between pages.
func testGroupMembersPaging(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error {
		if err := tx.InsertThingGroup(group("big", "")); err != nil {
			return err
		}
		if err := tx.InsertThing(thing("member", nil)); err != nil {
			return err
		}
		for i := 0; i < 20; i += 2 {
			if err := tx.InsertThing(thing(name("t", i), nil)); err != nil {
				return err
			}
			if err := tx.AddThingToGroup("big", name("t", i)); err != nil {
				return err
			}
			if err := tx.InsertThingGroup(group(name("g", i), "")); err != nil {
				return err
			}
			if err := tx.AddThingToGroup(name("g", i), "member"); err != nil {
				return err
			}
		}
		return nil
	})
	var ahead []string
	things, pages := pageAll(t, s, 3, func(page int) {
		a, b := name("t", 9000+page), name("t", 1)+fmt.Sprint(page)
		update(t, s, func(tx store.Tx) error {
			for _, n := range []string{a, b} {
				if err := tx.InsertThing(thing(n, nil)); err != nil {
					return err
				}
				if err := tx.AddThingToGroup("big", n); err != nil {
					return err
				}
			}
			return nil
		})
		ahead = append(ahead, a)
	}, func(tx store.Tx, p store.Page) ([]string, string, error) {
		return tx.GroupThings("big", p)
	})
	checkPaged(t, "GroupThings", things, pages, "t", ahead)

	ahead = nil
	gs, pages := pageAll(t, s, 3, func(page int) {
		a, b := name("g", 9000+page), name("g", 1)+fmt.Sprint(page)
		update(t, s, func(tx store.Tx) error {
			for _, n := range []string{a, b} {
				if err := tx.InsertThingGroup(group(n, "")); err != nil {
					return err
				}
				if err := tx.AddThingToGroup(n, "member"); err != nil {
					return err
				}
			}
			return nil
		})
		ahead = append(ahead, a)
	}, func(tx store.Tx, p store.Page) ([]string, string, error) {
		return tx.ThingGroupsOf("member", p)
	})
	checkPaged(t, "ThingGroupsOf", gs, pages, "g", ahead)
}

// checkPaged checks a paged listing of names: at least 3 pages, strictly
// ordered, holding the even names prefix-0000 to prefix-0018 and every
// name in ahead.
func checkPaged(t *testing.T, what string, got []string, pages int, prefix string, ahead []string) {
	t.Helper()
	if pages < 3 {
		t.Fatalf("%s: %d pages, want at least 3", what, pages)
	}
	seen := map[string]bool{}
	for i, n := range got {
		if i > 0 && got[i-1] >= n {
			t.Fatalf("%s: out of order at %d: %s then %s", what, i, got[i-1], n)
		}
		seen[n] = true
	}
	for i := 0; i < 20; i += 2 {
		if !seen[name(prefix, i)] {
			t.Fatalf("%s: %s missing", what, name(prefix, i))
		}
	}
	for _, n := range ahead {
		if !seen[n] {
			t.Fatalf("%s: %s, added ahead of the cursor, is missing", what, n)
		}
	}
}
