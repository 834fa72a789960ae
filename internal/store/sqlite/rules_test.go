package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/moat-iot/moat/internal/store"
)

// TestTopicRuleStorage checks the stored form: the payload is a BLOB byte
// for byte (JSON text included, which SQLite would otherwise be free to
// store as TEXT), an empty payload the empty BLOB, disabled 0 or 1.
func TestTopicRuleStorage(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	ctx := context.Background()
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.InsertTopicRule(store.TopicRule{Name: "a", Payload: []byte(`{"sql":"x"}`), Topic: "t/#", Disabled: true}); err != nil {
			return err
		}
		return tx.InsertTopicRule(store.TopicRule{Name: "b"})
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ query, want string }{
		{`SELECT typeof(payload) || ' ' || hex(payload) || ' ' || disabled FROM topic_rules WHERE name = 'a'`,
			"blob 7B2273716C223A2278227D 1"},
		{`SELECT typeof(payload) || ' ' || length(payload) || ' ' || disabled FROM topic_rules WHERE name = 'b'`,
			"blob 0 0"},
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

// TestTopicRuleQueryPlans checks that every rule statement walks an index
// without sorting: the primary key, or (topic, name) when listing by topic.
func TestTopicRuleQueryPlans(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	const pk = "sqlite_autoindex_topic_rules_1"
	for _, c := range []struct {
		name, query string
		args        []any
		index       string
	}{
		{"rule", topicRuleSQL, []any{"r"}, pk},
		{"update", updateTopicRuleSQL, []any{[]byte{}, "t", 0, 0, "r"}, pk},
		{"delete", deleteTopicRuleSQL, []any{"r"}, pk},
		{"list", listTopicRulesSQL, []any{"", 10}, pk},
		{"list by state", listTopicRulesStateSQL, []any{"", 1, 10}, pk},
		{"list by topic", listTopicRulesTopicSQL, []any{"t/#", "", 10}, "topic_rules_topic"},
		{"list by topic and state", listTopicRulesTopicStateSQL, []any{"t/#", "", 0, 10}, "topic_rules_topic"},
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

// TestOpen_UpgradeFromV4 checks that a database of the fourth release
// (migrations 1 to 4) upgrades in place: its shadows are kept, and topic
// rules can be written, listed by topic and read back.
func TestOpen_UpgradeFromV4(t *testing.T) {
	ctx := context.Background()
	s := openFromVersion(t, 4, func(ctx context.Context, conn *sql.Conn) {
		if _, err := conn.ExecContext(ctx, `INSERT INTO shadows (thing_name, shadow_name, document, version, updated_at, deleted_at)
			VALUES ('old', '', X'7B7D', 3, 0, `+zeroMicrosSQL+`)`); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, `SELECT 1 FROM topic_rules`); err == nil {
			t.Fatal("a version 4 database already has topic_rules")
		}
	})
	rule := store.TopicRule{Name: "r", Payload: []byte(`{"sql":"SELECT * FROM 'a/b'","actions":[]}`), Topic: "a/b"}
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.InsertTopicRule(rule) }); err != nil {
		t.Fatal(err)
	}
	err := s.View(ctx, func(tx store.Tx) error {
		sh, err := tx.Shadow("old", "")
		if err != nil || string(sh.Document) != "{}" || sh.Version != 3 {
			t.Errorf("shadow after upgrade: %+v, %v", sh, err)
		}
		rs, next, err := tx.ListTopicRules(store.Page{}, "a/b", nil)
		if err != nil || len(rs) != 1 || next != "" || string(rs[0].Payload) != string(rule.Payload) {
			t.Errorf("rules by topic after upgrade: %+v, %q, %v", rs, next, err)
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
