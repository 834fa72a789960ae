package sqlite

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/moat-iot/moat/internal/store"
)

// TestQueryPlans checks that the listing queries walk an index (no full
// scan of a table and, except where documented, no sort).
func TestQueryPlans(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	cases := []struct {
		name, query string
		args        []any
		noSort      bool
	}{
		{"thing", `SELECT ` + thingCols + ` FROM things t WHERE t.name = ?`, []any{"a"}, true},
		{"certificates asc", `SELECT id FROM certificates WHERE (created_at, id) > (?, ?) ORDER BY created_at, id LIMIT ?`, []any{1, "a", 10}, true},
		{"certificates desc", `SELECT id FROM certificates WHERE (created_at, id) < (?, ?) ORDER BY created_at DESC, id DESC LIMIT ?`, []any{1, "a", 10}, true},
		{"attached policies", `SELECT policy_name FROM policy_targets WHERE target = ? AND policy_name > ? ORDER BY policy_name LIMIT ?`, []any{"a", "", 10}, true},
		{"principal things", `SELECT thing_name FROM thing_principals WHERE principal = ? AND thing_name > ? ORDER BY thing_name LIMIT ?`, []any{"a", "", 10}, true},
		{"access keys by user", `SELECT id FROM access_keys WHERE id > ? AND user_name = ? ORDER BY id LIMIT ?`, []any{"", "a", 10}, true},
		{"retained", `SELECT ` + retainedCols + ` FROM retained WHERE topic > ? ORDER BY topic LIMIT ?`, []any{"", 10}, true},
		{"sessions", `SELECT ` + sessionCols + ` FROM sessions WHERE client_id > ? ORDER BY client_id LIMIT ?`, []any{"", 10}, true},
		{"queued messages", queuedSQL, []any{"c", 0, 10}, true},
		{"reserve seqs", reserveSeqsSQL, []any{1, "c"}, true},
		{"dequeue", dequeueSQL, []any{"c", 1}, true},
		{"delete session queue", `DELETE FROM session_queue WHERE client_id = ?`, []any{"c"}, true},
		{"thing types", `SELECT ` + thingTypeCols + ` FROM thing_types WHERE name > ? ORDER BY name LIMIT ?`, []any{"", 10}, true},
		{"group things", groupThingsSQL, []any{"g", "", 10}, true},
		{"thing groups of", thingGroupsOfSQL, []any{"t", "", 10}, true},
		// What ON DELETE CASCADE runs when a thing is deleted.
		{"memberships of a thing", `DELETE FROM thing_group_members WHERE thing_name = ?`, []any{"t"}, true},
		{"tags", `SELECT tag_key, tag_value FROM tags WHERE resource_arn = ?`, []any{"a"}, true},
	}
	for _, tc := range []struct {
		name  string
		f     store.GroupFilter
		after string
	}{
		{"groups", store.GroupFilter{}, ""},
		{"groups, root", store.GroupFilter{RootOnly: true}, ""},
		{"groups, parent", store.GroupFilter{Parent: "p"}, ""},
		{"groups by prefix", store.GroupFilter{NamePrefix: "b"}, ""},
		{"groups by prefix, later page", store.GroupFilter{NamePrefix: "b"}, "bz"},
		{"groups, parent, by prefix", store.GroupFilter{Parent: "p", NamePrefix: "b"}, ""},
		{"groups, root, by prefix", store.GroupFilter{RootOnly: true, NamePrefix: "b"}, ""},
	} {
		q, args := groupsQuery(tc.f, tc.after, 10)
		cases = append(cases, struct {
			name, query string
			args        []any
			noSort      bool
		}{tc.name, q, args, true})
	}
	for _, tc := range []struct {
		name  string
		f     store.ThingFilter
		dense bool
	}{
		{"things by name", store.ThingFilter{}, false},
		{"things by type", store.ThingFilter{TypeName: "x"}, false},
		{"things by attribute", store.ThingFilter{AttributeName: "a", AttributeValue: "b"}, false},
		{"things by attribute and type", store.ThingFilter{AttributeName: "a", AttributeValue: "b", TypeName: "x"}, false},
		{"things by dense prefix", store.ThingFilter{AttributeName: "a", AttributeValue: "b", AttributePrefix: true}, true},
		{"things by dense prefix and type", store.ThingFilter{AttributeName: "a", AttributeValue: "b", AttributePrefix: true, TypeName: "x"}, true},
		{"things by sparse prefix", store.ThingFilter{AttributeName: "a", AttributeValue: "b", AttributePrefix: true}, false},
		{"things by sparse prefix and type", store.ThingFilter{AttributeName: "a", AttributeValue: "b", AttributePrefix: true, TypeName: "x"}, false},
	} {
		q, args := thingsQuery(tc.f, "", 10, tc.dense)
		cases = append(cases, struct {
			name, query string
			args        []any
			noSort      bool
		}{tc.name, q, args, !strings.Contains(tc.name, "sparse")}) // sparse sorts the matching names
	}
	for _, c := range cases {
		p := queryPlan(t, s, c.name, c.query, c.args...)
		t.Logf("%s: %s", c.name, p)
		if strings.Contains(p, "SCAN") && !strings.Contains(p, "USING") {
			t.Errorf("%s: full scan: %s", c.name, p)
		}
		if c.noSort && strings.Contains(p, "TEMP B-TREE") {
			t.Errorf("%s: sorts: %s", c.name, p)
		}
	}
}

// queryPlan returns SQLite's plan for query, its steps joined by "; ".
func queryPlan(t *testing.T, s *Store, name, query string, args ...any) string {
	t.Helper()
	rows, err := s.rdb.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return strings.Join(plan, "; ")
}

// TestThingsQuery_DensePlan checks that both plans for an attribute prefix
// return the same pages (the shared suite only reaches the sparse one).
func TestThingsQuery_DensePlan(t *testing.T) {
	s := openTemp(t)
	defer s.Close()
	ctx := context.Background()
	err := s.Update(ctx, func(tx store.Tx) error {
		for i := range 60 {
			th := store.Thing{Name: fmt.Sprintf("d-%03d", i), ID: fmt.Sprint(i), Version: 1,
				Attributes: map[string]string{"site": fmt.Sprintf("s%d", i%4)}}
			if i%3 == 0 {
				th.TypeName = "gw"
			}
			if i%5 == 0 {
				th.Attributes = nil
			}
			if err := tx.InsertThing(th); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	list := func(f store.ThingFilter, dense bool) []string {
		var names []string
		after := ""
		for {
			var page []string
			err := s.View(ctx, func(stx store.Tx) error {
				tx := stx.(*tx)
				q, args := thingsQuery(f, after, 7, dense)
				rows, err := tx.q.QueryContext(ctx, q, args...)
				if err != nil {
					return err
				}
				things, err := collect(rows, scanThing)
				for _, th := range things {
					page = append(page, th.Name)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, page...)
			if len(page) < 7 {
				return names
			}
			after = page[len(page)-1]
		}
	}
	for _, f := range []store.ThingFilter{
		{AttributeName: "site", AttributePrefix: true},
		{AttributeName: "site", AttributeValue: "s1", AttributePrefix: true},
		{AttributeName: "site", AttributeValue: "s", AttributePrefix: true, TypeName: "gw"},
		{AttributeName: "site"},
		{AttributeName: "nope", AttributePrefix: true},
	} {
		sparse, dense := list(f, false), list(f, true)
		if !reflect.DeepEqual(sparse, dense) {
			t.Errorf("filter %+v:\nsparse %v\n dense %v", f, sparse, dense)
		}
		if f.AttributeName == "site" && len(sparse) == 0 {
			t.Errorf("filter %+v matched nothing", f)
		}
	}
}
