package sqlite

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/moat-iot/moat/internal/store"
)

const groupCols = `name, id, parent_name, description, attributes, version, created_at,
	dynamic, query_string, query_version, index_name, status`

func scanGroup(sc interface{ Scan(...any) error }) (store.ThingGroup, error) {
	var g store.ThingGroup
	var attrs string
	var ca, dyn int64
	if err := sc.Scan(&g.Name, &g.ID, &g.ParentName, &g.Description, &attrs, &g.Version, &ca,
		&dyn, &g.QueryString, &g.QueryVersion, &g.IndexName, &g.Status); err != nil {
		return g, err
	}
	g.CreatedAt = fromMicros(ca)
	g.Dynamic = dyn != 0
	g.Attributes = map[string]string{}
	if err := json.Unmarshal([]byte(attrs), &g.Attributes); err != nil {
		return g, fmt.Errorf("thing group %s: attributes: %w", g.Name, err)
	}
	return g, nil
}

func (t *tx) ThingGroup(name string) (store.ThingGroup, error) {
	row := t.q.QueryRowContext(t.ctx, `SELECT `+groupCols+` FROM thing_groups WHERE name = ?`, name)
	g, err := scanGroup(row)
	if err != nil {
		return store.ThingGroup{}, notFound("thing group "+name, err)
	}
	return g, nil
}

// InsertThingGroup checks the parent first (so a missing parent is
// ErrNotFound even if the name is also taken), then inserts. The check and
// the insert are one transaction on the single writer, so the parent
// cannot vanish in between.
func (t *tx) InsertThingGroup(g store.ThingGroup) error {
	op := "insert thing group " + g.Name
	attrs, err := encodeAttrs(g.Attributes)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if !t.write {
		return fmt.Errorf("%s: %w", op, errReadOnly)
	}
	if g.ParentName != "" {
		var one int
		err := t.q.QueryRowContext(t.ctx, `SELECT 1 FROM thing_groups WHERE name = ?`, g.ParentName).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%s: parent %s: %w", op, g.ParentName, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
	}
	_, err = t.exec(op,
		`INSERT INTO thing_groups (`+groupCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		g.Name, g.ID, g.ParentName, g.Description, attrs, g.Version, toMicros(g.CreatedAt),
		boolInt(g.Dynamic), g.QueryString, g.QueryVersion, g.IndexName, g.Status)
	return err
}

func (t *tx) UpdateThingGroup(g store.ThingGroup) error {
	op := "update thing group " + g.Name
	attrs, err := encodeAttrs(g.Attributes)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return t.execOne(op,
		`UPDATE thing_groups SET description = ?, attributes = ?, version = ?,
			query_string = ?, query_version = ?, index_name = ?, status = ? WHERE name = ?`,
		g.Description, attrs, g.Version, g.QueryString, g.QueryVersion, g.IndexName, g.Status, g.Name)
}

// DeleteThingGroup removes the group; its memberships go with it (ON
// DELETE CASCADE). Its children, if the caller left any, keep their
// ParentName; its tags are the caller's to delete.
func (t *tx) DeleteThingGroup(name string) error {
	return t.execOne("delete thing group "+name, `DELETE FROM thing_groups WHERE name = ?`, name)
}

// ListThingGroups walks the primary key, or (parent_name, name) when a
// parent or RootOnly is given, from the later of the cursor and the name
// prefix: one index range either way, no sort.
func (t *tx) ListThingGroups(f store.GroupFilter, p store.Page) ([]store.ThingGroup, string, error) {
	const op = "list thing groups"
	n := limit(p)
	after, _, err := keyCursor(op, p.After, curGroup)
	if err != nil {
		return nil, "", err
	}
	q, args := groupsQuery(f, after, n+1)
	rows, err := t.q.QueryContext(t.ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	out, err := collect(rows, scanGroup)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	next := ""
	if len(out) > n {
		out = out[:n]
		next = encodeCursor(curGroup, out[n-1].Name)
	}
	return out, next, nil
}

// groupsQuery builds the ListThingGroups query for n rows after the name
// after. The prefix is a byte-wise range (no LIKE, so '%' and '_' are plain
// bytes), and the query has one lower bound on name: with two, SQLite may
// start the range at the smaller one and filter the rest.
func groupsQuery(f store.GroupFilter, after string, n int) (string, []any) {
	q := `SELECT ` + groupCols + ` FROM thing_groups WHERE `
	var args []any
	lo, hi, bounded := prefixRange(f.NamePrefix)
	if f.NamePrefix != "" && after < lo {
		q += `name >= ?`
		args = append(args, lo)
	} else {
		q += `name > ?`
		args = append(args, after)
	}
	if f.NamePrefix != "" && bounded {
		q += ` AND name < ?`
		args = append(args, hi)
	}
	if f.Parent != "" {
		q += ` AND parent_name = ?`
		args = append(args, f.Parent)
	}
	if f.RootOnly {
		q += ` AND parent_name = ''`
	}
	q += ` ORDER BY name LIMIT ?`
	return q, append(args, n)
}

// AddThingToGroup inserts the membership; a missing thing or group fails
// the foreign key, which is ErrNotFound.
func (t *tx) AddThingToGroup(group, thing string) error {
	_, err := t.exec("add thing "+thing+" to group "+group,
		`INSERT INTO thing_group_members (group_name, thing_name) VALUES (?, ?)
		ON CONFLICT (group_name, thing_name) DO NOTHING`,
		group, thing)
	return err
}

func (t *tx) RemoveThingFromGroup(group, thing string) error {
	return t.execOne("remove thing "+thing+" from group "+group,
		`DELETE FROM thing_group_members WHERE group_name = ? AND thing_name = ?`, group, thing)
}

// Membership listings, each one index range: groupThingsSQL walks the
// primary key (group_name, thing_name), thingGroupsOfSQL the index
// (thing_name, group_name). Arguments: key, after, limit.
const (
	groupThingsSQL   = `SELECT thing_name FROM thing_group_members WHERE group_name = ? AND thing_name > ? ORDER BY thing_name LIMIT ?`
	thingGroupsOfSQL = `SELECT group_name FROM thing_group_members WHERE thing_name = ? AND group_name > ? ORDER BY group_name LIMIT ?`
)

// GroupThings lists a group's members; a missing group has none.
func (t *tx) GroupThings(group string, p store.Page) ([]string, string, error) {
	const op = "group things"
	n := limit(p)
	after, _, err := keyCursor(op, p.After, curMember)
	if err != nil {
		return nil, "", err
	}
	return t.listKeys(op, curMember, n, groupThingsSQL, group, after, n+1)
}

// ThingGroupsOf lists a thing's groups; a missing thing is in none.
func (t *tx) ThingGroupsOf(thing string, p store.Page) ([]string, string, error) {
	const op = "thing groups of"
	n := limit(p)
	after, _, err := keyCursor(op, p.After, curGroupOf)
	if err != nil {
		return nil, "", err
	}
	return t.listKeys(op, curGroupOf, n, thingGroupsOfSQL, thing, after, n+1)
}
