package sqlite

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/store"
)

// TestZeroMicrosSQL checks the literal that the shadow statements and the
// tombstone index (migration 4) use for "live": the zero time as the store
// writes it.
func TestZeroMicrosSQL(t *testing.T) {
	if want := strconv.FormatInt(toMicros(time.Time{}), 10); zeroMicrosSQL != want {
		t.Fatalf("zeroMicrosSQL = %s, want %s", zeroMicrosSQL, want)
	}
	var index string
	for _, m := range migrations {
		for _, stmt := range m.stmts {
			if strings.Contains(stmt, "INDEX shadows_tombstones") {
				index = stmt
			}
		}
	}
	if !strings.Contains(index, "deleted_at <> "+zeroMicrosSQL) {
		t.Fatalf("migration 4's tombstone index %q does not use deleted_at <> %s", index, zeroMicrosSQL)
	}
}

// TestShadowStorage checks the stored form: a live shadow has deleted_at at
// the zero time and its document as a BLOB (byte for byte, "42" included),
// a tombstone an empty BLOB; only tombstones are in the tombstone index.
func TestShadowStorage(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	ctx := context.Background()
	del := time.Unix(1_700_000_000, 0)
	err := s.Update(ctx, func(tx store.Tx) error {
		for _, sh := range []store.Shadow{
			{ThingName: "t", Document: []byte("42"), Version: 3},
			{ThingName: "t", ShadowName: "gone", Version: 9, DeletedAt: del},
			{ThingName: "u", ShadowName: "empty", Document: []byte{}, Version: 1},
		} {
			if err := tx.PutShadow(sh); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ query, want string }{
		{`SELECT typeof(document) || ' ' || hex(document) || ' ' || deleted_at FROM shadows WHERE shadow_name = ''`,
			"blob 3432 " + zeroMicrosSQL},
		{`SELECT typeof(document) || ' ' || length(document) || ' ' || deleted_at FROM shadows WHERE shadow_name = 'gone'`,
			"blob 0 " + strconv.FormatInt(del.UnixMicro(), 10)},
		{`SELECT typeof(document) || ' ' || length(document) FROM shadows WHERE shadow_name = 'empty'`, "blob 0"},
		{`SELECT group_concat(shadow_name) FROM shadows INDEXED BY shadows_tombstones WHERE deleted_at <> ` + zeroMicrosSQL,
			"gone"},
	} {
		var got string
		if err := s.wconn.QueryRowContext(ctx, c.query).Scan(&got); err != nil {
			t.Fatalf("%s: %v", c.query, err)
		}
		if got != c.want {
			t.Errorf("%s: %q, want %q", c.query, got, c.want)
		}
	}
}

// TestShadowQueryPlans checks that every shadow statement walks an index:
// the primary key, or for the purge the partial index of tombstones (and
// not a scan of the live shadows).
func TestShadowQueryPlans(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	for _, c := range []struct {
		name, query string
		args        []any
		index       string
	}{
		{"shadow", shadowSQL, []any{"t", ""}, "sqlite_autoindex_shadows_1"},
		{"list shadows", listShadowsSQL, []any{"t", "", 10}, "sqlite_autoindex_shadows_1"},
		{"delete thing shadows", deleteThingShadowsSQL, []any{"t"}, "sqlite_autoindex_shadows_1"},
		{"purge", purgeShadowsSQL, []any{int64(1)}, "shadows_tombstones"},
	} {
		p := queryPlan(t, s, c.name, c.query, c.args...)
		t.Logf("%s: %s", c.name, p)
		if !strings.Contains(p, "USING INDEX "+c.index) && !strings.Contains(p, "USING COVERING INDEX "+c.index) {
			t.Errorf("%s: does not use %s: %s", c.name, c.index, p)
		}
		if strings.Contains(p, "TEMP B-TREE") {
			t.Errorf("%s: sorts: %s", c.name, p)
		}
	}
}

// TestOpen_UpgradeFromV3 checks that a database of the third release
// (migrations 1 to 3) upgrades in place: its things are kept, shadows can
// be written, listed and purged, and a thing's shadows stay when the thing
// is deleted (no foreign key).
func TestOpen_UpgradeFromV3(t *testing.T) {
	ctx := context.Background()
	s := openFromVersion(t, 3, func(ctx context.Context, conn *sql.Conn) {
		if _, err := conn.ExecContext(ctx, `INSERT INTO things (name, id, type_name, attributes, version, created_at, updated_at)
			VALUES ('old', '1', '', '{}', 1, 0, 0)`); err != nil {
			t.Fatal(err)
		}
	})
	del := time.Unix(1_700_000_000, 0).UTC()
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.PutShadow(store.Shadow{ThingName: "old", ShadowName: "a", Document: []byte("{}"), Version: 1}); err != nil {
			return err
		}
		if err := tx.PutShadow(store.Shadow{ThingName: "old", ShadowName: "b", Version: 2, DeletedAt: del}); err != nil {
			return err
		}
		return tx.DeleteThing("old")
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, func(tx store.Tx) error {
		list, _, err := tx.ListShadows("old", store.Page{})
		if err != nil {
			return err
		}
		if len(list) != 1 || list[0].ShadowName != "a" {
			t.Errorf("shadows of the deleted thing: %+v, want a", list)
		}
		n, err := tx.PurgeShadowTombstones(del.Add(time.Second))
		if err != nil {
			return err
		}
		if n != 1 {
			t.Errorf("purged %d tombstones, want 1", n)
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
