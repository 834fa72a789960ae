package registry

import (
	"context"
	"encoding/base64"
	"errors"
	"maps"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/names"
	"github.com/moat-iot/moat/internal/store"
	"github.com/moat-iot/moat/internal/tags"
)

// Thing group limits (AWS "Thing groups" quotas, reference §1).
const (
	// MaxGroupDepth is the deepest a hierarchy goes: a root group is at
	// depth 1.
	MaxGroupDepth = 7
	// MaxGroupChildren is how many direct children a group may have.
	MaxGroupChildren = 100
	// MaxGroupAttributes is how many attributes a group may have.
	MaxGroupAttributes = 50
	// MaxGroupsPerThing is how many groups, static and dynamic, one thing
	// may be in.
	MaxGroupsPerThing = 10
	// MaxGroupDescription is the longest description, in characters.
	MaxGroupDescription = 2028
)

// Dynamic group statuses (DynamicGroupStatus).
const (
	StatusActive     = "ACTIVE"
	StatusBuilding   = "BUILDING"
	StatusRebuilding = "REBUILDING"
)

// GroupProperties are a group's thingGroupProperties. In an update a nil
// Description keeps the current one and a nil Attributes keeps the current
// attributes; Merge merges Attributes into them (an empty value removes
// one) instead of replacing them.
type GroupProperties struct {
	Description *string
	Attributes  map[string]string
	Merge       bool
}

// GroupInput is what CreateThingGroup and CreateDynamicThingGroup take.
type GroupInput struct {
	Name       string
	Parent     string // static groups only
	Properties GroupProperties
	Tags       []tags.Tag
	// Dynamic groups.
	Dynamic      bool
	QueryString  string
	QueryVersion string
	IndexName    string
}

// GroupInfo is a group with its ancestors, root first and parent last.
type GroupInfo struct {
	Group     store.ThingGroup
	Ancestors []store.ThingGroup
}

func groupNotFound(name string) error {
	return awsapi.Errorf(awsapi.ResourceNotFound, "Thing group %s does not exist.", name)
}

func getGroup(tx store.Tx, name string) (store.ThingGroup, error) {
	g, err := tx.ThingGroup(name)
	if errors.Is(err, store.ErrNotFound) {
		return g, groupNotFound(name)
	}
	return g, err
}

func getThing(tx store.Tx, name string) (store.Thing, error) {
	t, err := tx.Thing(name)
	if errors.Is(err, store.ErrNotFound) {
		return t, thingNotFound(name)
	}
	return t, err
}

func checkGroupProperties(p GroupProperties) error {
	if p.Description != nil {
		if err := names.Description("thingGroupDescription", *p.Description, MaxGroupDescription); err != nil {
			return err
		}
	}
	if len(p.Attributes) > MaxGroupAttributes {
		return awsapi.Errorf(awsapi.InvalidRequest, "A thing group can have at most %d attributes, got %d.", MaxGroupAttributes, len(p.Attributes))
	}
	return checkAttributePairs(p.Attributes)
}

// ancestors returns g's ancestors, root first.
func ancestors(tx store.Tx, g store.ThingGroup) ([]store.ThingGroup, error) {
	var out []store.ThingGroup
	for p := g.ParentName; p != ""; {
		if len(out) >= MaxGroupDepth {
			return nil, errors.New("thing group hierarchy deeper than the maximum (a cycle?) at " + g.Name)
		}
		pg, err := tx.ThingGroup(p)
		if errors.Is(err, store.ErrNotFound) {
			break // a parent deleted under a child; not possible through the API
		}
		if err != nil {
			return nil, err
		}
		out = append(out, pg)
		p = pg.ParentName
	}
	slices.Reverse(out)
	return out, nil
}

func sameGroup(a, b store.ThingGroup) bool {
	return a.ParentName == b.ParentName && a.Description == b.Description && maps.Equal(a.Attributes, b.Attributes) &&
		a.Dynamic == b.Dynamic && a.QueryString == b.QueryString && a.IndexName == b.IndexName && a.QueryVersion == b.QueryVersion
}

// CreateThingGroup creates a static thing group, or returns the existing
// one when it exists with the same parent and properties (AWS's idempotent
// create); another configuration is ResourceAlreadyExistsException. The
// parent must exist and be static (InvalidRequestException: the operation
// has no ResourceNotFoundException in the model), the hierarchy stays
// within MaxGroupDepth levels and a parent within MaxGroupChildren children.
func (s *Service) CreateThingGroup(ctx context.Context, in GroupInput) (store.ThingGroup, error) {
	in.Dynamic, in.QueryString, in.QueryVersion, in.IndexName = false, "", "", ""
	return s.createGroup(ctx, in)
}

func (s *Service) createGroup(ctx context.Context, in GroupInput) (store.ThingGroup, error) {
	if err := names.Thing("thingGroupName", in.Name); err != nil {
		return store.ThingGroup{}, err
	}
	if in.Parent != "" {
		if err := names.Thing("parentGroupName", in.Parent); err != nil {
			return store.ThingGroup{}, err
		}
	}
	if err := checkGroupProperties(in.Properties); err != nil {
		return store.ThingGroup{}, err
	}
	tagMap, err := tags.Check("tags", in.Tags)
	if err != nil {
		return store.ThingGroup{}, err
	}
	attrs := map[string]string{}
	for k, v := range in.Properties.Attributes {
		if v != "" {
			attrs[k] = v
		}
	}
	g := store.ThingGroup{Name: in.Name, ID: uuid.NewString(), ParentName: in.Parent, Attributes: attrs, Version: 1,
		CreatedAt: s.now().UTC(), Dynamic: in.Dynamic, QueryString: in.QueryString, QueryVersion: in.QueryVersion, IndexName: in.IndexName}
	if in.Properties.Description != nil {
		g.Description = *in.Properties.Description
	}
	if g.Dynamic {
		g.Status = StatusBuilding
	}
	created := false
	err = s.st.Update(ctx, func(tx store.Tx) error {
		created = false
		old, err := tx.ThingGroup(in.Name)
		switch {
		case err == nil:
			cmp := g
			cmp.Status = old.Status
			if sameGroup(old, cmp) {
				g = old
				return nil
			}
			return &awsapi.Error{Code: awsapi.ResourceAlreadyExists, Message: "Thing group " + in.Name + " already exists with a different configuration.",
				ResourceID: old.ID, ResourceARN: s.arns.ThingGroup(old.Name)}
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		if in.Parent != "" {
			if err := checkParent(tx, in.Parent); err != nil {
				return err
			}
		}
		if err := tx.InsertThingGroup(g); err != nil {
			return err
		}
		created = true
		if len(tagMap) > 0 {
			return tags.Put(tx, s.arns.ThingGroup(g.Name), tagMap)
		}
		return nil
	})
	if err == nil && created && g.Dynamic {
		s.setDynamic(g.Name, g.QueryString)
		g, err = s.rebuild(ctx, g.Name)
	}
	return g, err
}

// checkParent checks that a new child fits under parent.
func checkParent(tx store.Tx, parent string) error {
	pg, err := tx.ThingGroup(parent)
	if errors.Is(err, store.ErrNotFound) {
		return awsapi.Errorf(awsapi.InvalidRequest, "Parent thing group %s does not exist.", parent)
	}
	if err != nil {
		return err
	}
	if pg.Dynamic {
		return awsapi.Errorf(awsapi.InvalidRequest, "Thing group %s is dynamic; dynamic thing groups cannot be part of a hierarchy.", parent)
	}
	anc, err := ancestors(tx, pg)
	if err != nil {
		return err
	}
	if len(anc)+2 > MaxGroupDepth {
		return awsapi.Errorf(awsapi.InvalidRequest, "A thing group hierarchy can be at most %d levels deep; %s is at level %d.", MaxGroupDepth, parent, len(anc)+1)
	}
	kids, _, err := tx.ListThingGroups(store.GroupFilter{Parent: parent}, store.Page{Limit: MaxGroupChildren})
	if err != nil {
		return err
	}
	if len(kids) >= MaxGroupChildren {
		return awsapi.Errorf(awsapi.InvalidRequest, "Thing group %s already has the maximum of %d child groups.", parent, MaxGroupChildren)
	}
	return nil
}

// DescribeThingGroup returns a group with its ancestors, or
// ResourceNotFoundException.
func (s *Service) DescribeThingGroup(ctx context.Context, name string) (GroupInfo, error) {
	if err := names.Thing("thingGroupName", name); err != nil {
		return GroupInfo{}, err
	}
	var out GroupInfo
	err := s.st.View(ctx, func(tx store.Tx) error {
		g, err := getGroup(tx, name)
		if err != nil {
			return err
		}
		anc, err := ancestors(tx, g)
		out = GroupInfo{Group: g, Ancestors: anc}
		return err
	})
	return out, err
}

// UpdateThingGroup changes a group's description and attributes and
// returns its new version. expectedVersion, when non-zero, must match
// (VersionConflictException).
func (s *Service) UpdateThingGroup(ctx context.Context, name string, p GroupProperties, expectedVersion int64) (int64, error) {
	if err := names.Thing("thingGroupName", name); err != nil {
		return 0, err
	}
	if err := checkGroupProperties(p); err != nil {
		return 0, err
	}
	g, err := s.updateGroup(ctx, name, expectedVersion, func(g *store.ThingGroup) error {
		applyProperties(g, p)
		return nil
	})
	return g.Version, err
}

func applyProperties(g *store.ThingGroup, p GroupProperties) {
	if p.Description != nil {
		g.Description = *p.Description
	}
	if p.Attributes == nil {
		return
	}
	next := map[string]string{}
	if p.Merge {
		maps.Copy(next, g.Attributes)
	}
	for k, v := range p.Attributes {
		if v == "" {
			delete(next, k)
		} else {
			next[k] = v
		}
	}
	g.Attributes = next
}

// updateGroup reads a group, checks its version, applies change and
// writes it with the version incremented.
func (s *Service) updateGroup(ctx context.Context, name string, expectedVersion int64, change func(g *store.ThingGroup) error) (store.ThingGroup, error) {
	var out store.ThingGroup
	err := s.st.Update(ctx, func(tx store.Tx) error {
		g, err := getGroup(tx, name)
		if err != nil {
			return err
		}
		if expectedVersion != 0 && g.Version != expectedVersion {
			return awsapi.Errorf(awsapi.VersionConflict, "The version of thing group %s is %d, not the expected %d.", name, g.Version, expectedVersion)
		}
		if err := change(&g); err != nil {
			return err
		}
		if len(g.Attributes) > MaxGroupAttributes {
			return awsapi.Errorf(awsapi.InvalidRequest, "A thing group can have at most %d attributes, got %d.", MaxGroupAttributes, len(g.Attributes))
		}
		g.Version++
		out = g
		return tx.UpdateThingGroup(g)
	})
	return out, err
}

// DeleteThingGroup deletes a static group (dynamic: DeleteDynamicThingGroup).
// Deleting a group that does not exist succeeds, as in AWS; a group with
// child groups is refused (InvalidRequestException: delete the children
// first). The group's memberships, tags and policy attachments go with it.
func (s *Service) DeleteThingGroup(ctx context.Context, name string, expectedVersion int64) error {
	return s.deleteGroup(ctx, name, expectedVersion, false)
}

func (s *Service) deleteGroup(ctx context.Context, name string, expectedVersion int64, dynamic bool) error {
	if err := names.Thing("thingGroupName", name); err != nil {
		return err
	}
	var members []string
	deleted := false
	err := s.st.Update(ctx, func(tx store.Tx) error {
		members, deleted = nil, false
		g, err := tx.ThingGroup(name)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if g.Dynamic != dynamic {
			if g.Dynamic {
				return awsapi.Errorf(awsapi.InvalidRequest, "Thing group %s is dynamic; delete it with DeleteDynamicThingGroup.", name)
			}
			return awsapi.Errorf(awsapi.InvalidRequest, "Thing group %s is static; delete it with DeleteThingGroup.", name)
		}
		if expectedVersion != 0 && g.Version != expectedVersion {
			return awsapi.Errorf(awsapi.VersionConflict, "The version of thing group %s is %d, not the expected %d.", name, g.Version, expectedVersion)
		}
		kids, _, err := tx.ListThingGroups(store.GroupFilter{Parent: name}, store.Page{Limit: 1})
		if err != nil {
			return err
		}
		if len(kids) > 0 {
			return awsapi.Errorf(awsapi.InvalidRequest, "Thing group %s has child groups (%s); delete them first.", name, kids[0].Name)
		}
		if members, err = allGroupThings(tx, name); err != nil {
			return err
		}
		target := s.arns.ThingGroup(name)
		pols, err := allPages(func(p store.Page) ([]string, string, error) { return tx.AttachedPolicies(target, p) })
		if err != nil {
			return err
		}
		for _, p := range pols {
			if err := tx.DetachPolicy(p, target); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		if err := tags.DeleteAll(tx, target); err != nil {
			return err
		}
		deleted = true
		return tx.DeleteThingGroup(name)
	})
	if err != nil || !deleted {
		return err
	}
	if dynamic {
		s.setDynamic(name, "")
		return nil
	}
	s.membershipChanged(ctx, members)
	return nil
}

func allPages(list func(store.Page) ([]string, string, error)) ([]string, error) {
	var all []string
	after := ""
	for {
		page, next, err := list(store.Page{After: after, Limit: 1000})
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if next == "" {
			return all, nil
		}
		after = next
	}
}

func allGroupThings(tx store.Tx, group string) ([]string, error) {
	return allPages(func(p store.Page) ([]string, string, error) { return tx.GroupThings(group, p) })
}

func allThingGroups(tx store.Tx, thing string) ([]string, error) {
	return allPages(func(p store.Page) ([]string, string, error) { return tx.ThingGroupsOf(thing, p) })
}

// membershipChanged runs after a commit that changed the static groups of
// things: their dynamic memberships are re-evaluated (a query may test
// thingGroupNames) and OnGroupChange reports them.
func (s *Service) membershipChanged(ctx context.Context, things []string) {
	if len(things) == 0 {
		return
	}
	for _, t := range things {
		s.ThingChanged(ctx, t)
	}
	if s.OnGroupChange != nil {
		s.OnGroupChange(things)
	}
}

// descendants returns every group under root (not root), by name.
func descendants(tx store.Tx, root string) ([]store.ThingGroup, error) {
	var out []store.ThingGroup
	queue := []string{root}
	for len(queue) > 0 {
		parent := queue[0]
		queue = queue[1:]
		after := ""
		for {
			kids, next, err := tx.ListThingGroups(store.GroupFilter{Parent: parent}, store.Page{After: after, Limit: 1000})
			if err != nil {
				return nil, err
			}
			for _, k := range kids {
				out = append(out, k)
				queue = append(queue, k.Name)
			}
			if next == "" {
				break
			}
			after = next
		}
	}
	slices.SortFunc(out, func(a, b store.ThingGroup) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Listings computed in memory (recursive ones) page with their own cursor:
// the last name returned, encoded.
const nameCursorPrefix = "n1:"

func encodeNameCursor(name string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(nameCursorPrefix + name))
}

func decodeNameCursor(tok string) (string, error) {
	if tok == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || !strings.HasPrefix(string(b), nameCursorPrefix) {
		return "", awsapi.Errorf(awsapi.InvalidRequest, "nextToken is not valid.")
	}
	return strings.TrimPrefix(string(b), nameCursorPrefix), nil
}

// pageNames pages a sorted list of names with a name cursor.
func pageNames[T any](items []T, name func(T) string, p store.Page) ([]T, string, error) {
	after, err := decodeNameCursor(p.After)
	if err != nil {
		return nil, "", err
	}
	n := p.Limit
	if n <= 0 {
		n = 100
	}
	i, _ := slices.BinarySearchFunc(items, after, func(it T, a string) int { return strings.Compare(name(it), a) })
	for i < len(items) && after != "" && name(items[i]) <= after {
		i++
	}
	items = items[i:]
	if len(items) <= n {
		return items, "", nil
	}
	return items[:n], encodeNameCursor(name(items[n-1])), nil
}

// ListThingGroups lists groups. recursive (nil means true, as AWS's
// RecursiveWithoutDefault behaves) also lists groups below the level
// asked for: without parent, every group (recursive) or the root groups
// only; with parent, all its descendants (recursive) or its direct
// children. A parent that does not exist is ResourceNotFoundException.
// The recursive listing under a parent is computed in memory (cost:
// the size of the subtree).
func (s *Service) ListThingGroups(ctx context.Context, parent, prefix string, recursive *bool, p store.Page) ([]store.ThingGroup, string, error) {
	if parent != "" {
		if err := names.Thing("parentGroup", parent); err != nil {
			return nil, "", err
		}
	}
	if prefix != "" {
		if err := names.Thing("namePrefixFilter", prefix); err != nil {
			return nil, "", err
		}
	}
	rec := recursive == nil || *recursive
	var out []store.ThingGroup
	var next string
	err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		if parent == "" {
			out, next, err = tx.ListThingGroups(store.GroupFilter{RootOnly: !rec, NamePrefix: prefix}, p)
			return err
		}
		if _, err := getGroup(tx, parent); err != nil {
			return err
		}
		if !rec {
			out, next, err = tx.ListThingGroups(store.GroupFilter{Parent: parent, NamePrefix: prefix}, p)
			return err
		}
		all, err := descendants(tx, parent)
		if err != nil {
			return err
		}
		all = slices.DeleteFunc(all, func(g store.ThingGroup) bool { return !strings.HasPrefix(g.Name, prefix) })
		out, next, err = pageNames(all, func(g store.ThingGroup) string { return g.Name }, p)
		return err
	})
	return out, next, err
}

// Membership is one thing and one group, each named or given by ARN.
type Membership struct {
	GroupName, GroupARN string
	ThingName, ThingARN string
}

func (s *Service) resolveRef(nameMember, arnMember, typ, name, arnValue string) (string, error) {
	if arnValue != "" {
		n, ok := s.arns.Own(arnValue, typ)
		if !ok || names.Thing(arnMember, n) != nil {
			return "", awsapi.Errorf(awsapi.InvalidRequest, "%s %q is not a %s ARN of this region and account.", arnMember, arnValue, typ)
		}
		if name != "" && name != n {
			return "", awsapi.Errorf(awsapi.InvalidRequest, "%s and %s name different resources.", nameMember, arnMember)
		}
		return n, nil
	}
	if name == "" {
		return "", awsapi.Errorf(awsapi.InvalidRequest, "%s or %s is required.", nameMember, arnMember)
	}
	return name, names.Thing(nameMember, name)
}

func (s *Service) resolveMembership(m Membership) (group, thing string, err error) {
	if group, err = s.resolveRef("thingGroupName", "thingGroupArn", "thinggroup", m.GroupName, m.GroupARN); err != nil {
		return "", "", err
	}
	thing, err = s.resolveRef("thingName", "thingArn", "thing", m.ThingName, m.ThingARN)
	return group, thing, err
}

// AddThingToThingGroup adds a thing to a static group; adding it twice
// succeeds. A dynamic group is refused (InvalidRequestException). A thing
// already in MaxGroupsPerThing groups is refused, unless override is set
// and one of them is dynamic: then it leaves that dynamic group (the last
// by name), as AWS's overrideDynamicGroups.
func (s *Service) AddThingToThingGroup(ctx context.Context, m Membership, override bool) error {
	group, thing, err := s.resolveMembership(m)
	if err != nil {
		return err
	}
	changed := false
	err = s.st.Update(ctx, func(tx store.Tx) error {
		changed, err = s.addMember(tx, group, thing, override)
		return err
	})
	if err == nil && changed {
		s.membershipChanged(ctx, []string{thing})
	}
	return err
}

func (s *Service) addMember(tx store.Tx, group, thing string, override bool) (bool, error) {
	g, err := getGroup(tx, group)
	if err != nil {
		return false, err
	}
	if g.Dynamic {
		return false, awsapi.Errorf(awsapi.InvalidRequest, "Thing group %s is dynamic; its things come from its query and cannot be added by hand.", group)
	}
	if _, err := getThing(tx, thing); err != nil {
		return false, err
	}
	cur, _, err := tx.ThingGroupsOf(thing, store.Page{Limit: 100})
	if err != nil {
		return false, err
	}
	if slices.Contains(cur, group) {
		return false, nil
	}
	if len(cur) >= MaxGroupsPerThing {
		evicted := false
		if override {
			for i := len(cur) - 1; i >= 0 && !evicted; i-- {
				og, err := tx.ThingGroup(cur[i])
				if err != nil {
					return false, err
				}
				if og.Dynamic {
					if err := tx.RemoveThingFromGroup(og.Name, thing); err != nil {
						return false, err
					}
					evicted = true
				}
			}
		}
		if !evicted {
			return false, awsapi.Errorf(awsapi.InvalidRequest, "Thing %s is already in the maximum of %d thing groups.", thing, MaxGroupsPerThing)
		}
	}
	return true, tx.AddThingToGroup(group, thing)
}

// RemoveThingFromThingGroup removes a thing from a static group; removing
// a thing that is not a member succeeds. A dynamic group is refused.
func (s *Service) RemoveThingFromThingGroup(ctx context.Context, m Membership) error {
	group, thing, err := s.resolveMembership(m)
	if err != nil {
		return err
	}
	changed := false
	err = s.st.Update(ctx, func(tx store.Tx) error {
		changed, err = removeMember(tx, group, thing)
		return err
	})
	if err == nil && changed {
		s.membershipChanged(ctx, []string{thing})
	}
	return err
}

func removeMember(tx store.Tx, group, thing string) (bool, error) {
	g, err := getGroup(tx, group)
	if err != nil {
		return false, err
	}
	if g.Dynamic {
		return false, awsapi.Errorf(awsapi.InvalidRequest, "Thing group %s is dynamic; its things come from its query and cannot be removed by hand.", group)
	}
	if _, err := getThing(tx, thing); err != nil {
		return false, err
	}
	err = tx.RemoveThingFromGroup(group, thing)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// UpdateThingGroupsForThing removes a thing from some static groups and
// adds it to others, in one transaction: removals first, then additions.
func (s *Service) UpdateThingGroupsForThing(ctx context.Context, thing string, add, remove []string, override bool) error {
	if err := names.Thing("thingName", thing); err != nil {
		return err
	}
	for _, g := range append(slices.Clone(add), remove...) {
		if err := names.Thing("thingGroupsToAdd/thingGroupsToRemove member", g); err != nil {
			return err
		}
	}
	changed := false
	err := s.st.Update(ctx, func(tx store.Tx) error {
		changed = false
		if _, err := getThing(tx, thing); err != nil {
			return err
		}
		for _, g := range remove {
			c, err := removeMember(tx, g, thing)
			if err != nil {
				return err
			}
			changed = changed || c
		}
		for _, g := range add {
			c, err := s.addMember(tx, g, thing, override)
			if err != nil {
				return err
			}
			changed = changed || c
		}
		return nil
	})
	if err == nil && changed {
		s.membershipChanged(ctx, []string{thing})
	}
	return err
}

// ListThingsInThingGroup lists the things of a group; recursive adds the
// things of all its descendants (computed in memory: cost is the
// subtree's memberships). An unknown group is ResourceNotFoundException.
func (s *Service) ListThingsInThingGroup(ctx context.Context, group string, recursive bool, p store.Page) ([]string, string, error) {
	if err := names.Thing("thingGroupName", group); err != nil {
		return nil, "", err
	}
	var out []string
	var next string
	err := s.st.View(ctx, func(tx store.Tx) error {
		if _, err := getGroup(tx, group); err != nil {
			return err
		}
		var err error
		if !recursive {
			out, next, err = tx.GroupThings(group, p)
			return err
		}
		ds, err := descendants(tx, group)
		if err != nil {
			return err
		}
		set := map[string]bool{}
		for _, g := range append([]string{group}, groupNames(ds)...) {
			ts, err := allGroupThings(tx, g)
			if err != nil {
				return err
			}
			for _, t := range ts {
				set[t] = true
			}
		}
		all := slices.Sorted(maps.Keys(set))
		out, next, err = pageNames(all, func(s string) string { return s }, p)
		return err
	})
	return out, next, err
}

func groupNames(gs []store.ThingGroup) []string {
	out := make([]string, len(gs))
	for i, g := range gs {
		out[i] = g.Name
	}
	return out
}

// ListThingGroupsForThing lists the groups (static and dynamic) a thing is
// directly in. An unknown thing is ResourceNotFoundException.
func (s *Service) ListThingGroupsForThing(ctx context.Context, thing string, p store.Page) ([]string, string, error) {
	if err := names.Thing("thingName", thing); err != nil {
		return nil, "", err
	}
	return store.ViewPage(ctx, s.st, func(tx store.Tx) ([]string, string, error) {
		if _, err := getThing(tx, thing); err != nil {
			return nil, "", err
		}
		return tx.ThingGroupsOf(thing, p)
	})
}

// GroupPolicyTargets returns the ARNs of the groups whose policies apply
// to a thing: every static group it is in and all their ancestors, as AWS
// IoT applies a group's policies to the things of its descendants.
// (Dynamic groups cannot have policies.) An unknown thing has none.
func (s *Service) GroupPolicyTargets(ctx context.Context, thing string) ([]string, error) {
	var out []string
	err := s.st.View(ctx, func(tx store.Tx) error {
		out = nil
		gs, err := allThingGroups(tx, thing)
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, name := range gs {
			g, err := tx.ThingGroup(name)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if g.Dynamic {
				continue
			}
			anc, err := ancestors(tx, g)
			if err != nil {
				return err
			}
			for _, a := range append(anc, g) {
				if !seen[a.Name] {
					seen[a.Name] = true
					out = append(out, s.arns.ThingGroup(a.Name))
				}
			}
		}
		return nil
	})
	return out, err
}
