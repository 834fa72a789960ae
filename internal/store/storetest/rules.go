package storetest

import (
	"fmt"
	"testing"

	"github.com/moat-iot/moat/internal/store"
)

// topicRule is a rule whose fields all depend on its name and n.
func topicRule(name, topic string, disabled bool, n int) store.TopicRule {
	return store.TopicRule{
		Name:      name,
		Payload:   []byte(fmt.Sprintf(`{"sql":"SELECT * FROM '%s'","actions":[{"republish":{"topic":"out/%d"}}]}`, topic, n)),
		Topic:     topic,
		Disabled:  disabled,
		CreatedAt: ts(n),
		UpdatedAt: ts(n + 1),
	}
}

// insertRules inserts every rule of rs in one Update.
func insertRules(t *testing.T, s store.Store, rs ...store.TopicRule) {
	t.Helper()
	update(t, s, func(tx store.Tx) error {
		for _, r := range rs {
			if err := tx.InsertTopicRule(r); err != nil {
				return err
			}
		}
		return nil
	})
}

// wantRule fails unless the stored rule want.Name is want.
func wantRule(t *testing.T, s store.Store, want store.TopicRule) {
	t.Helper()
	view(t, s, func(tx store.Tx) error {
		got, err := tx.TopicRule(want.Name)
		wantErr(t, "rule "+want.Name, err, nil)
		wantEqual(t, "rule "+want.Name, got, want)
		return nil
	})
}

// wantNoRule fails unless the rule name is ErrNotFound.
func wantNoRule(t *testing.T, s store.Store, name string) {
	t.Helper()
	view(t, s, func(tx store.Tx) error {
		_, err := tx.TopicRule(name)
		wantErr(t, "rule "+name, err, store.ErrNotFound)
		return nil
	})
}

// ruleNames returns the names of rs, in order.
func ruleNames(rs []store.TopicRule) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}

// testTopicRules checks rule CRUD: the round trip of every field, the
// payload byte for byte (spacing, key order, NUL and invalid UTF-8 kept;
// empty reads nil), ErrExists and ErrNotFound, an update that replaces the
// mutable fields only, a rolled-back Update that leaves nothing, and a
// name free again after delete.
func testTopicRules(t *testing.T, s store.Store) {
	wantNoRule(t, s, "r1")
	r1 := topicRule("r1", "sensors/+/temp", false, 1)
	// Not canonical JSON, nor JSON at all: the store keeps what it is given.
	odd := store.TopicRule{
		Name:      "odd",
		Payload:   []byte("{ \"z\":1,\n\t\"a\" : [ ] }\x00\xff\xfe"),
		Topic:     "a/#",
		Disabled:  true,
		CreatedAt: ts(3),
		UpdatedAt: ts(3),
	}
	bare := store.TopicRule{Name: "bare"} // empty payload and topic, zero times
	insertRules(t, s, r1, odd, bare)
	wantRule(t, s, r1)
	wantRule(t, s, odd)
	bare.Payload = nil // empty reads back as nil
	wantRule(t, s, bare)
	wantNoRule(t, s, "R1") // names are case-sensitive

	err := s.Update(bg(), func(tx store.Tx) error { return tx.InsertTopicRule(topicRule("r1", "other", true, 9)) })
	wantErr(t, "insert duplicate", err, store.ErrExists)
	wantRule(t, s, r1)

	// Update replaces payload, topic, disabled and updated-at; name and
	// created-at stay.
	u := topicRule("r1", "devices/#", true, 50)
	u.Payload = []byte(`{"sql":"SELECT a FROM 'devices/#'","actions":[]}`)
	update(t, s, func(tx store.Tx) error { return tx.UpdateTopicRule(u) })
	want := u
	want.CreatedAt = r1.CreatedAt
	wantRule(t, s, want)
	// And back to enabled: false is written too.
	u.Disabled, u.UpdatedAt = false, ts(60)
	update(t, s, func(tx store.Tx) error { return tx.UpdateTopicRule(u) })
	want.Disabled, want.UpdatedAt = false, ts(60)
	wantRule(t, s, want)
	err = s.Update(bg(), func(tx store.Tx) error { return tx.UpdateTopicRule(topicRule("nope", "x", false, 1)) })
	wantErr(t, "update missing", err, store.ErrNotFound)
	wantNoRule(t, s, "nope")

	// A failing Update leaves no trace of its rule writes.
	err = s.Update(bg(), func(tx store.Tx) error {
		if err := tx.InsertTopicRule(topicRule("ghost", "g", false, 1)); err != nil {
			return err
		}
		if err := tx.UpdateTopicRule(topicRule("odd", "changed", false, 70)); err != nil {
			return err
		}
		if err := tx.DeleteTopicRule("bare"); err != nil {
			return err
		}
		return errBoom
	})
	wantErr(t, "rolled back", err, errBoom)
	wantNoRule(t, s, "ghost")
	wantRule(t, s, odd)
	wantRule(t, s, bare)

	update(t, s, func(tx store.Tx) error { return tx.DeleteTopicRule("r1") })
	wantNoRule(t, s, "r1")
	err = s.Update(bg(), func(tx store.Tx) error { return tx.DeleteTopicRule("r1") })
	wantErr(t, "delete missing", err, store.ErrNotFound)
	wantRule(t, s, odd)
	// The name is free again.
	insertRules(t, s, r1)
	wantRule(t, s, r1)
}

// testListTopicRules checks the listing: byte-wise name order, paging over
// several pages with rules inserted ahead of and behind the cursor, the
// topic filter (exact, not a topic match), the disabled filter, both
// together with paging, AllTopicRules, and bad or foreign cursors.
func testListTopicRules(t *testing.T, s store.Store) {
	view(t, s, func(tx store.Tx) error {
		got, next, err := tx.ListTopicRules(store.Page{}, "", nil)
		wantErr(t, "list empty", err, nil)
		if len(got) != 0 || next != "" {
			t.Fatalf("empty store: %d rules, next %q", len(got), next)
		}
		all, err := tx.AllTopicRules()
		wantErr(t, "all of none", err, nil)
		if len(all) != 0 {
			t.Fatalf("empty store: AllTopicRules = %v", ruleNames(all))
		}
		return nil
	})

	// 30 rules over three topics; every third one disabled.
	topics := []string{"a/b", "a/+", "a/#"}
	var rs []store.TopicRule
	for i := range 30 {
		rs = append(rs, topicRule(name("r", i), topics[i%3], i%3 == 0, i))
	}
	// Byte-wise order: upper case and '_' against digits and lower case.
	rs = append(rs, topicRule("R_9", "a/b", false, 100), topicRule("r_", "a/b", true, 101), topicRule("r", "", false, 102))
	insertRules(t, s, rs...)

	var inserted []string
	between := func(page int) {
		ahead, behind := name("r", 9000+page), name("r", 0)+"_"+name("b", page)
		update(t, s, func(tx store.Tx) error {
			if err := tx.InsertTopicRule(topicRule(ahead, "a/b", false, 200+page)); err != nil {
				return err
			}
			return tx.InsertTopicRule(topicRule(behind, "a/b", false, 300+page))
		})
		inserted = append(inserted, ahead)
	}
	listAll := func(tx store.Tx, p store.Page) ([]store.TopicRule, string, error) {
		return tx.ListTopicRules(p, "", nil)
	}
	got, pages := pageAll(t, s, 7, between, listAll)
	if pages < 3 {
		t.Fatalf("%d pages, want at least 3", pages)
	}
	seen := map[string]bool{}
	for i, r := range got {
		if i > 0 && got[i-1].Name >= r.Name {
			t.Fatalf("out of order at %d: %s then %s", i, got[i-1].Name, r.Name)
		}
		seen[r.Name] = true
	}
	if got[0].Name != "R_9" {
		t.Fatalf("first rule %s, want R_9 (byte-wise order)", got[0].Name)
	}
	wantEqual(t, "first rule", got[0], rs[30])
	for _, r := range rs {
		if !seen[r.Name] {
			t.Fatalf("%s missing from %v", r.Name, ruleNames(got))
		}
	}
	for _, n := range inserted {
		if !seen[n] {
			t.Fatalf("%s, inserted ahead of the cursor, is missing", n)
		}
	}

	// Now that nothing changes, each filter is exactly its rules, whatever
	// the page size.
	var all []store.TopicRule
	view(t, s, func(tx store.Tx) error {
		var err error
		all, err = tx.AllTopicRules()
		wantErr(t, "all", err, nil)
		return nil
	})
	complete, _ := pageAll(t, s, 1000, nil, listAll)
	wantEqual(t, "AllTopicRules against the listing", all, complete)
	filter := func(topic string, disabled *bool) []store.TopicRule {
		var out []store.TopicRule
		for _, r := range all {
			if (topic == "" || r.Topic == topic) && (disabled == nil || r.Disabled == *disabled) {
				out = append(out, r)
			}
		}
		return out
	}
	yes, no := true, false
	for _, c := range []struct {
		topic    string
		disabled *bool
		min      int // the fixture has at least this many such rules
	}{
		{"a/b", nil, 12},
		{"a/+", nil, 10}, // the filter itself, not what it matches
		{"a/b", &yes, 11},
		{"a/b", &no, 1},
		{"a/#", &yes, 0}, // no a/# rule is disabled
		{"a/#", &no, 10},
		{"", &yes, 11},
		{"", &no, 21},
		{"a", nil, 0},   // exact: no prefix match
		{"a/c", nil, 0}, // not matched against the rules' filters
		{"A/B", nil, 0}, // case-sensitive
		{"", nil, len(rs)},
	} {
		what := fmt.Sprintf("topic %q", c.topic)
		if c.disabled != nil {
			what += fmt.Sprintf(" disabled %v", *c.disabled)
		}
		want := filter(c.topic, c.disabled)
		if len(want) < c.min {
			t.Fatalf("%s: the fixture has %d rules, want at least %d", what, len(want), c.min)
		}
		for _, n := range []int{1, 3, 1000} {
			rows, _ := pageAll(t, s, n, nil, func(tx store.Tx, p store.Page) ([]store.TopicRule, string, error) {
				return tx.ListTopicRules(p, c.topic, c.disabled)
			})
			// Names first, for a readable failure; then every field.
			wantEqual(t, fmt.Sprintf("%s, pages of %d", what, n), ruleNames(rows), ruleNames(want))
			wantEqual(t, fmt.Sprintf("%s, pages of %d: rows", what, n), rows, want)
		}
	}

	view(t, s, func(tx store.Tx) error {
		// A cursor of one filter continues another: it is a position.
		_, next, err := tx.ListTopicRules(store.Page{Limit: 1}, "a/+", nil)
		wantErr(t, "first a/+ page", err, nil)
		rest, _, err := tx.ListTopicRules(store.Page{After: next}, "", nil)
		wantErr(t, "continue unfiltered", err, nil)
		if len(rest) == 0 || rest[0].Name <= name("r", 1) {
			t.Fatalf("after the cursor of r-0001: %v", ruleNames(rest))
		}

		// Bad cursors, and cursors of other listings, both ways.
		_, _, err = tx.ListTopicRules(store.Page{After: "!!not a cursor!!"}, "", nil)
		wantErr(t, "bad cursor", err, store.ErrInvalidCursor)
		_, _, err = tx.ListTopicRules(store.Page{After: "!!not a cursor!!"}, "a/b", &yes)
		wantErr(t, "bad cursor, filtered", err, store.ErrInvalidCursor)
		return nil
	})
	update(t, s, func(tx store.Tx) error {
		if err := tx.InsertThingType(thingType("y1")); err != nil {
			return err
		}
		if err := tx.InsertThingType(thingType("y2")); err != nil {
			return err
		}
		return tx.PutShadow(store.Shadow{ThingName: "t", ShadowName: "s1"})
	})
	view(t, s, func(tx store.Tx) error {
		_, rnext, err := tx.ListTopicRules(store.Page{Limit: 1}, "", nil)
		wantErr(t, "rules page", err, nil)
		_, ynext, err := tx.ListThingTypes("", store.Page{Limit: 1})
		wantErr(t, "thing types page", err, nil)
		_, _, err = tx.ListTopicRules(store.Page{After: ynext}, "", nil)
		wantErr(t, "thing-type cursor to rules", err, store.ErrInvalidCursor)
		_, _, err = tx.ListThingTypes("", store.Page{After: rnext})
		wantErr(t, "rules cursor to thing types", err, store.ErrInvalidCursor)
		_, _, err = tx.ListShadows("t", store.Page{After: rnext})
		wantErr(t, "rules cursor to shadows", err, store.ErrInvalidCursor)
		_, _, err = tx.ListThingGroups(store.GroupFilter{}, store.Page{After: rnext})
		wantErr(t, "rules cursor to thing groups", err, store.ErrInvalidCursor)
		return nil
	})
}
