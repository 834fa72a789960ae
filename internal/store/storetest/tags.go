package storetest

import (
	"fmt"
	"testing"

	"github.com/moat-iot/moat/internal/store"
)

func groupARN(name string) string {
	return "arn:aws:iot:us-east-1:000000000000:thinggroup/" + name
}

// wantTags compares tag maps, treating nil and empty alike.
func wantTags(t *testing.T, tx store.Tx, arn string, want map[string]string) {
	t.Helper()
	got, err := tx.Tags(arn)
	wantErr(t, "tags of "+arn, err, nil)
	if len(got) == 0 && len(want) == 0 {
		return
	}
	wantEqual(t, "tags of "+arn, got, want)
}

// testTags checks that PutTags merges, DeleteTags removes by key (all with
// nil keys, none with empty keys) and that resources are independent.
func testTags(t *testing.T, s store.Store) {
	a, b := groupARN("a"), groupARN("b")
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Tags(a)
		wantErr(t, "tags of an unknown resource", err, nil)
		if got == nil || len(got) != 0 {
			t.Fatalf("tags of an unknown resource: %#v, want an empty map", got)
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error {
		if err := tx.PutTags(a, map[string]string{"env": "prod", "owner": "ops", "empty": ""}); err != nil {
			return err
		}
		if err := tx.PutTags(a, nil); err != nil { // no-op
			return err
		}
		return tx.PutTags(b, map[string]string{"env": "dev", "ключ": "значение"})
	})
	view(t, s, func(tx store.Tx) error {
		wantTags(t, tx, a, map[string]string{"env": "prod", "owner": "ops", "empty": ""})
		wantTags(t, tx, b, map[string]string{"env": "dev", "ключ": "значение"})
		wantTags(t, tx, groupARN("c"), nil)
		return nil
	})

	// Merge: replace one value, add one key, keep the rest.
	update(t, s, func(tx store.Tx) error {
		return tx.PutTags(a, map[string]string{"env": "staging", "team": "iot"})
	})
	view(t, s, func(tx store.Tx) error {
		wantTags(t, tx, a, map[string]string{"env": "staging", "owner": "ops", "empty": "", "team": "iot"})
		return nil
	})

	// By key; missing keys ignored; empty (not nil) keys remove nothing.
	update(t, s, func(tx store.Tx) error {
		if err := tx.DeleteTags(a, []string{"owner", "nope", "empty"}); err != nil {
			return err
		}
		if err := tx.DeleteTags(a, []string{}); err != nil {
			return err
		}
		return tx.DeleteTags(groupARN("c"), []string{"x"})
	})
	view(t, s, func(tx store.Tx) error {
		wantTags(t, tx, a, map[string]string{"env": "staging", "team": "iot"})
		wantTags(t, tx, b, map[string]string{"env": "dev", "ключ": "значение"})
		return nil
	})

	// nil keys: every tag of the resource, and only of that resource.
	update(t, s, func(tx store.Tx) error { return tx.DeleteTags(a, nil) })
	update(t, s, func(tx store.Tx) error { return tx.DeleteTags(groupARN("c"), nil) })
	view(t, s, func(tx store.Tx) error {
		wantTags(t, tx, a, nil)
		wantTags(t, tx, b, map[string]string{"env": "dev", "ключ": "значение"})
		return nil
	})

	// Many tags at once (more than fit one statement's parameters in a
	// naive implementation).
	many := map[string]string{}
	var odd []string
	for i := range 1000 {
		k := fmt.Sprintf("k%04d", i)
		many[k] = fmt.Sprint(i)
		if i%2 == 1 {
			odd = append(odd, k)
		}
	}
	update(t, s, func(tx store.Tx) error { return tx.PutTags(a, many) })
	update(t, s, func(tx store.Tx) error { return tx.DeleteTags(a, odd) })
	for _, k := range odd {
		delete(many, k)
	}
	view(t, s, func(tx store.Tx) error {
		wantTags(t, tx, a, many)
		return nil
	})
}
