package registry

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"sync"

	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/fleetquery"
	"github.com/moat-iot/moat/internal/names"
	"github.com/moat-iot/moat/internal/store"
)

// Dynamic thing groups: a group whose things are the things its query
// (internal/fleetquery, index AWS_Things) matches.
//
// How membership stays current, and what it costs:
//   - Creating a group, or changing its query, rebuilds it: every thing is
//     read (store ListThings pages of rebuildPage, one transaction each)
//     and added or removed. Cost O(things); the API call returns when the
//     group is ACTIVE.
//   - After a thing is created, updated or changes static groups,
//     ThingChanged evaluates every dynamic group for that one thing. Cost
//     O(dynamic groups) per thing write, nothing when there are none.
//
// Memberships are written after the change that causes them commits, in
// their own transactions: each re-reads the thing and the group, so the
// last one to commit reflects the latest state. A group created while a
// thing changes is still right: the thing's evaluation either sees the
// group in the cache, or committed before the rebuild's scan read it.
//
// In a dynamic group's query, thingGroupNames tests the thing's static
// groups only (so that dynamic groups cannot depend on each other);
// SearchIndex tests all its groups. A thing already in MaxGroupsPerThing
// groups is not added to more dynamic groups.

// Dynamic group rules.
const (
	// MaxDynamicGroups is how many dynamic groups may exist (AWS: 100).
	MaxDynamicGroups = 100
	// QueryVersion is the only query version (the default).
	QueryVersion = "2017-09-30"
	rebuildPage  = 200
)

// InvalidQuery is the AWS error code of a query that does not parse (400).
const InvalidQuery awsapi.Code = "InvalidQueryException"

// dynamicCache holds the compiled queries of the dynamic groups for
// ThingChanged. gen counts changes, so that a load racing a change is
// retried rather than kept.
type dynamicCache struct {
	mu      sync.Mutex
	loaded  bool
	gen     uint64
	queries map[string]*fleetquery.Query // by group name
}

// ParseQuery parses a fleet-indexing query for an index, answering
// InvalidQueryException for a bad one.
func ParseQuery(q string, idx fleetquery.Index) (*fleetquery.Query, error) {
	if q == "" {
		return nil, names.Required("queryString")
	}
	parsed, err := fleetquery.Parse(q, idx)
	if err != nil {
		return nil, &awsapi.Error{Code: InvalidQuery, Message: "Syntax error in query string " + err.Error() + ".", Cause: err}
	}
	return parsed, nil
}

// setDynamic records a dynamic group's query ("" when it is gone).
func (s *Service) setDynamic(name, query string) {
	var q *fleetquery.Query
	if query != "" {
		q, _ = fleetquery.Parse(query, fleetquery.Things)
	}
	c := &s.dynamic
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if !c.loaded {
		return
	}
	// Copy on write: maps handed out by dynamicQueries never change.
	m := maps.Clone(c.queries)
	if q == nil {
		delete(m, name)
	} else {
		m[name] = q
	}
	c.queries = m
}

// dynamicQueries returns the dynamic groups' queries, loading them from
// the store the first time.
func (s *Service) dynamicQueries(ctx context.Context) (map[string]*fleetquery.Query, error) {
	c := &s.dynamic
	for {
		c.mu.Lock()
		if c.loaded {
			m := c.queries
			c.mu.Unlock()
			return m, nil
		}
		gen := c.gen
		c.mu.Unlock()
		m := map[string]*fleetquery.Query{}
		err := s.st.View(ctx, func(tx store.Tx) error {
			clear(m)
			after := ""
			for {
				gs, next, err := tx.ListThingGroups(store.GroupFilter{}, store.Page{After: after, Limit: 1000})
				if err != nil {
					return err
				}
				for _, g := range gs {
					if g.Dynamic {
						if q, err := fleetquery.Parse(g.QueryString, fleetquery.Things); err == nil {
							m[g.Name] = q
						}
					}
				}
				if next == "" {
					return nil
				}
				after = next
			}
		})
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		if c.gen == gen {
			c.loaded, c.queries = true, m
			c.mu.Unlock()
			return m, nil
		}
		c.mu.Unlock()
	}
}

// thingDoc is a thing as the Things index sees it.
type thingDoc struct {
	t      store.Thing
	groups []string
}

func (d thingDoc) Values(field string) []string {
	switch field {
	case "thingName":
		return []string{d.t.Name}
	case "thingId":
		return []string{d.t.ID}
	case "thingTypeName":
		if d.t.TypeName == "" {
			return nil
		}
		return []string{d.t.TypeName}
	case "thingGroupNames":
		return d.groups
	}
	if name, ok := cutAttr(field); ok {
		if v, ok := d.t.Attributes[name]; ok {
			return []string{v}
		}
	}
	return nil
}

func cutAttr(field string) (string, bool) {
	const p = "attributes."
	if len(field) > len(p) && field[:len(p)] == p {
		return field[len(p):], true
	}
	return "", false
}

// ThingChanged re-evaluates the dynamic groups for one thing after it was
// created, updated or changed static groups. The registry calls it after
// its own changes; it is exported for callers that change things another
// way. Failures are logged: the change that caused it has committed.
func (s *Service) ThingChanged(ctx context.Context, thing string) {
	qs, err := s.dynamicQueries(ctx)
	if err == nil && len(qs) > 0 {
		err = s.st.Update(context.WithoutCancel(ctx), func(tx store.Tx) error {
			return evaluateThing(tx, thing, qs)
		})
	}
	if err != nil {
		slog.Default().Warn("dynamic thing groups: evaluating a thing failed", "thing", thing, "err", err)
	}
}

// evaluateThing brings one thing's memberships of the groups in qs up to
// date.
func evaluateThing(tx store.Tx, thing string, qs map[string]*fleetquery.Query) error {
	t, err := tx.Thing(thing)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	cur, err := allThingGroups(tx, thing)
	if err != nil {
		return err
	}
	static := slices.DeleteFunc(slices.Clone(cur), func(g string) bool { return qs[g] != nil })
	doc := thingDoc{t: t, groups: static}
	n := len(cur)
	for _, name := range slices.Sorted(maps.Keys(qs)) {
		in := slices.Contains(cur, name)
		match := qs[name].Match(doc)
		switch {
		case match && !in && n < MaxGroupsPerThing:
			if err := tx.AddThingToGroup(name, thing); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			n++
		case !match && in:
			if err := tx.RemoveThingFromGroup(name, thing); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			n--
		}
	}
	return nil
}

// rebuild recomputes a dynamic group's things from its current query and
// marks it ACTIVE. It runs to the end even if ctx is cancelled (a
// half-built group would stay BUILDING).
func (s *Service) rebuild(ctx context.Context, group string) (store.ThingGroup, error) {
	ctx = context.WithoutCancel(ctx)
	after := ""
	for {
		next := ""
		err := s.st.Update(ctx, func(tx store.Tx) error {
			next = ""
			g, err := tx.ThingGroup(group)
			if errors.Is(err, store.ErrNotFound) || err == nil && !g.Dynamic {
				return nil // deleted meanwhile
			}
			if err != nil {
				return err
			}
			q, err := fleetquery.Parse(g.QueryString, fleetquery.Things)
			if err != nil {
				return err
			}
			things, n, err := tx.ListThings(store.ThingFilter{}, store.Page{After: after, Limit: rebuildPage})
			if err != nil {
				return err
			}
			for _, t := range things {
				if err := evaluateThing(tx, t.Name, map[string]*fleetquery.Query{group: q}); err != nil {
					return err
				}
			}
			next = n
			return nil
		})
		if err != nil {
			return store.ThingGroup{}, err
		}
		if next == "" {
			break
		}
		after = next
	}
	var out store.ThingGroup
	err := s.st.Update(ctx, func(tx store.Tx) error {
		g, err := getGroup(tx, group)
		if err != nil {
			return err
		}
		if g.Status != StatusActive {
			g.Status = StatusActive
			if err := tx.UpdateThingGroup(g); err != nil {
				return err
			}
		}
		out = g
		return nil
	})
	return out, err
}

// DynamicQuery is the query part of a dynamic group; in an update, empty
// fields keep their current values.
type DynamicQuery struct {
	QueryString  string
	QueryVersion string
	IndexName    string
}

func checkDynamicQuery(q *DynamicQuery, create bool) error {
	if create && q.QueryString == "" {
		return names.Required("queryString")
	}
	if q.QueryString != "" {
		if _, err := ParseQuery(q.QueryString, fleetquery.Things); err != nil {
			return err
		}
	}
	if create && q.IndexName == "" {
		q.IndexName = fleetquery.ThingsIndexName
	}
	if q.IndexName != "" {
		if err := names.Thing("indexName", q.IndexName); err != nil {
			return err
		}
		if q.IndexName != fleetquery.ThingsIndexName {
			return awsapi.Errorf(awsapi.ResourceNotFound, "Index %s does not exist; dynamic thing groups use %s.", q.IndexName, fleetquery.ThingsIndexName)
		}
	}
	if create && q.QueryVersion == "" {
		q.QueryVersion = QueryVersion
	}
	if q.QueryVersion != "" && q.QueryVersion != QueryVersion {
		return awsapi.Errorf(awsapi.InvalidRequest, "queryVersion must be %s, got %q.", QueryVersion, q.QueryVersion)
	}
	return nil
}

// CreateDynamicThingGroup creates a dynamic group and builds its
// membership before returning (status ACTIVE). At most MaxDynamicGroups
// may exist (LimitExceededException); identical input returns the existing
// group.
func (s *Service) CreateDynamicThingGroup(ctx context.Context, in GroupInput) (store.ThingGroup, error) {
	q := DynamicQuery{QueryString: in.QueryString, QueryVersion: in.QueryVersion, IndexName: in.IndexName}
	if err := names.Thing("thingGroupName", in.Name); err != nil {
		return store.ThingGroup{}, err
	}
	if err := checkDynamicQuery(&q, true); err != nil {
		return store.ThingGroup{}, err
	}
	qs, err := s.dynamicQueries(ctx)
	if err != nil {
		return store.ThingGroup{}, err
	}
	if _, exists := qs[in.Name]; !exists && len(qs) >= MaxDynamicGroups {
		return store.ThingGroup{}, awsapi.Errorf(awsapi.LimitExceeded, "There are already %d dynamic thing groups, the maximum.", MaxDynamicGroups)
	}
	in.Parent, in.Dynamic = "", true
	in.QueryString, in.QueryVersion, in.IndexName = q.QueryString, q.QueryVersion, q.IndexName
	return s.createGroup(ctx, in)
}

// UpdateDynamicThingGroup changes a dynamic group's properties and query;
// a changed query rebuilds its membership before returning.
func (s *Service) UpdateDynamicThingGroup(ctx context.Context, name string, p GroupProperties, q DynamicQuery, expectedVersion int64) (int64, error) {
	if err := names.Thing("thingGroupName", name); err != nil {
		return 0, err
	}
	if err := checkGroupProperties(p); err != nil {
		return 0, err
	}
	if err := checkDynamicQuery(&q, false); err != nil {
		return 0, err
	}
	requery := false
	g, err := s.updateGroup(ctx, name, expectedVersion, func(g *store.ThingGroup) error {
		if !g.Dynamic {
			return awsapi.Errorf(awsapi.InvalidRequest, "Thing group %s is static; update it with UpdateThingGroup.", name)
		}
		applyProperties(g, p)
		requery = q.QueryString != "" && q.QueryString != g.QueryString
		if requery {
			g.QueryString, g.Status = q.QueryString, StatusRebuilding
		}
		if q.QueryVersion != "" {
			g.QueryVersion = q.QueryVersion
		}
		if q.IndexName != "" {
			g.IndexName = q.IndexName
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if requery {
		s.setDynamic(name, g.QueryString)
		if _, err := s.rebuild(ctx, name); err != nil {
			return 0, err
		}
	}
	return g.Version, nil
}

// DeleteDynamicThingGroup deletes a dynamic group; an unknown one
// succeeds, a static one is InvalidRequestException.
func (s *Service) DeleteDynamicThingGroup(ctx context.Context, name string, expectedVersion int64) error {
	return s.deleteGroup(ctx, name, expectedVersion, true)
}

// afterThingWrite is the registry's hook after CreateThing and UpdateThing
// (err is theirs: nothing happens when they failed).
func (s *Service) afterThingWrite(ctx context.Context, thing string, err error) {
	if err == nil {
		s.ThingChanged(ctx, thing)
	}
}
