package sqlite

import (
	"context"
	"database/sql"
	"testing"

	"github.com/moat-iot/moat/internal/store"
)

// TestOpen_UpgradeFromV2 checks that a database of the second release
// (migrations 1 and 2) upgrades in place: a thing it holds can join a
// group, and deleting it still cascades, memberships included.
func TestOpen_UpgradeFromV2(t *testing.T) {
	ctx := context.Background()
	s := openFromVersion(t, 2, func(ctx context.Context, conn *sql.Conn) {
		if _, err := conn.ExecContext(ctx, `INSERT INTO things (name, id, type_name, attributes, version, created_at, updated_at)
			VALUES ('old', '1', 'lamp', '{}', 1, 0, 0)`); err != nil {
			t.Fatal(err)
		}
	})
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.InsertThingType(store.ThingType{Name: "lamp", ID: "t1"}); err != nil {
			return err
		}
		if err := tx.InsertThingGroup(store.ThingGroup{Name: "g", ID: "g1", Version: 1}); err != nil {
			return err
		}
		if err := tx.AddThingToGroup("g", "old"); err != nil {
			return err
		}
		return tx.PutTags("arn:g", map[string]string{"k": "v"})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.DeleteThing("old") }); err != nil {
		t.Fatal(err)
	}
	err = s.View(ctx, func(tx store.Tx) error {
		things, _, err := tx.GroupThings("g", store.Page{})
		if err != nil {
			return err
		}
		if len(things) != 0 {
			t.Errorf("memberships of a deleted thing: %v", things)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var n, max int
	if err := s.wconn.QueryRowContext(ctx, `SELECT COUNT(*), MAX(version) FROM schema_migrations`).Scan(&n, &max); err != nil {
		t.Fatal(err)
	}
	if n != len(migrations) || max != schemaVersion() {
		t.Fatalf("schema_migrations has %d rows up to %d, want %d up to %d", n, max, len(migrations), schemaVersion())
	}
}

// TestRegistryStorage checks the stored form of the JSON columns (the
// on-disk format, shared with store/postgres): searchable attributes as a
// JSON array, group attributes as a JSON object with sorted keys, empty
// ones as [] and {}; flags as 0 or 1.
func TestRegistryStorage(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	ctx := context.Background()
	err := s.Update(ctx, func(tx store.Tx) error {
		for _, tt := range []store.ThingType{
			{Name: "a", ID: "1", SearchableAttributes: []string{"serial", "model"}, Deprecated: true},
			{Name: "b", ID: "2"},
		} {
			if err := tx.InsertThingType(tt); err != nil {
				return err
			}
		}
		for _, g := range []store.ThingGroup{
			{Name: "a", ID: "1", Attributes: map[string]string{"z": "1", "a": "2"}, Dynamic: true},
			{Name: "b", ID: "2"},
		} {
			if err := tx.InsertThingGroup(g); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ query, want string }{
		{`SELECT searchable_attributes || ' ' || deprecated FROM thing_types WHERE name = 'a'`, `["serial","model"] 1`},
		{`SELECT searchable_attributes || ' ' || deprecated FROM thing_types WHERE name = 'b'`, `[] 0`},
		{`SELECT attributes || ' ' || dynamic FROM thing_groups WHERE name = 'a'`, `{"a":"2","z":"1"} 1`},
		{`SELECT attributes || ' ' || dynamic FROM thing_groups WHERE name = 'b'`, `{} 0`},
	} {
		var got string
		if err := s.rdb.QueryRowContext(ctx, c.query).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("%s = %s, want %s", c.query, got, c.want)
		}
	}
	// Invalid UTF-8 cannot go into JSON unchanged: refused, not mangled.
	err = s.Update(ctx, func(tx store.Tx) error {
		return tx.InsertThingGroup(store.ThingGroup{Name: "c", ID: "3", Attributes: map[string]string{"k": "\xff"}})
	})
	if err == nil {
		t.Error("group attribute with invalid UTF-8 accepted")
	}
	err = s.Update(ctx, func(tx store.Tx) error {
		return tx.InsertThingType(store.ThingType{Name: "c", ID: "3", SearchableAttributes: []string{"\xff"}})
	})
	if err == nil {
		t.Error("searchable attribute with invalid UTF-8 accepted")
	}
}
