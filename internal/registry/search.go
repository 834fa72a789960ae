package registry

import (
	"context"

	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/fleetquery"
	"github.com/moat-iot/moat/internal/names"
	"github.com/moat-iot/moat/internal/store"
)

// SearchIndex limits.
const (
	// MaxSearchResults is the largest maxResults SearchIndex takes.
	MaxSearchResults = 500
	// DefaultSearchResults is its page size when maxResults is unset.
	DefaultSearchResults = 100
)

// ThingHit is one SearchIndex result of the AWS_Things index.
type ThingHit struct {
	Thing  store.Thing
	Groups []string // every group it is in, static and dynamic
}

// GroupHit is one SearchIndex result of the AWS_ThingGroups index.
type GroupHit struct {
	Group   store.ThingGroup
	Parents []string // its ancestors, root first
}

// SearchResult is one page of SearchIndex: Things or Groups, by index.
type SearchResult struct {
	Things []ThingHit
	Groups []GroupHit
	Next   string
}

// Search answers SearchIndex over the registry. It is a scan: every thing
// (or group) after the cursor is read and tested until a page is full, so
// a query that matches little costs a read of the whole registry: O(things)
// per page, plus one membership lookup per thing when the query tests
// thingGroupNames. moat keeps no separate index: results are always
// current.
func (s *Service) Search(ctx context.Context, indexName, query, queryVersion string, p store.Page) (SearchResult, error) {
	if indexName == "" {
		indexName = fleetquery.ThingsIndexName
	}
	if err := names.Thing("indexName", indexName); err != nil {
		return SearchResult{}, err
	}
	idx, ok := fleetquery.IndexNamed(indexName)
	if !ok {
		return SearchResult{}, awsapi.Errorf(awsapi.ResourceNotFound, "Index %s does not exist (moat has %s and %s).", indexName, fleetquery.ThingsIndexName, fleetquery.ThingGroupsIndexName)
	}
	if queryVersion != "" && queryVersion != QueryVersion {
		return SearchResult{}, awsapi.Errorf(awsapi.InvalidRequest, "queryVersion must be %s, got %q.", QueryVersion, queryVersion)
	}
	q, err := ParseQuery(query, idx)
	if err != nil {
		return SearchResult{}, err
	}
	if p.Limit <= 0 {
		p.Limit = DefaultSearchResults
	}
	var out SearchResult
	err = s.st.View(ctx, func(tx store.Tx) error {
		out = SearchResult{}
		if idx == fleetquery.ThingGroups {
			return searchGroups(tx, q, p, &out)
		}
		return searchThings(tx, q, p, &out)
	})
	return out, err
}

// Both scans read pages no larger than the room left in the result, so
// that every row read is consumed and the store's own cursor is the next
// token.

func searchThings(tx store.Tx, q *fleetquery.Query, p store.Page, out *SearchResult) error {
	needGroups := q.Uses("thingGroupNames")
	after := p.After
	for {
		things, next, err := tx.ListThings(store.ThingFilter{}, store.Page{After: after, Limit: p.Limit - len(out.Things)})
		if err != nil {
			return err
		}
		for _, t := range things {
			doc := thingDoc{t: t}
			if needGroups {
				if doc.groups, err = allThingGroups(tx, t.Name); err != nil {
					return err
				}
			}
			if !q.Match(doc) {
				continue
			}
			if !needGroups {
				if doc.groups, err = allThingGroups(tx, t.Name); err != nil {
					return err
				}
			}
			out.Things = append(out.Things, ThingHit{Thing: t, Groups: doc.groups})
		}
		if next == "" || len(out.Things) >= p.Limit {
			out.Next = next
			return nil
		}
		after = next
	}
}

// groupDoc is a thing group as the ThingGroups index sees it.
type groupDoc struct {
	g       store.ThingGroup
	parents []string
}

func (d groupDoc) Values(field string) []string {
	switch field {
	case "thingGroupName":
		return []string{d.g.Name}
	case "thingGroupId":
		return []string{d.g.ID}
	case "thingGroupDescription":
		if d.g.Description == "" {
			return nil
		}
		return []string{d.g.Description}
	case "parentGroupNames":
		return d.parents
	}
	if name, ok := cutAttr(field); ok {
		if v, ok := d.g.Attributes[name]; ok {
			return []string{v}
		}
	}
	return nil
}

func searchGroups(tx store.Tx, q *fleetquery.Query, p store.Page, out *SearchResult) error {
	after := p.After
	for {
		gs, next, err := tx.ListThingGroups(store.GroupFilter{}, store.Page{After: after, Limit: p.Limit - len(out.Groups)})
		if err != nil {
			return err
		}
		for _, g := range gs {
			anc, err := ancestors(tx, g)
			if err != nil {
				return err
			}
			doc := groupDoc{g: g, parents: groupNames(anc)}
			if q.Match(doc) {
				out.Groups = append(out.Groups, GroupHit{Group: g, Parents: doc.parents})
			}
		}
		if next == "" || len(out.Groups) >= p.Limit {
			out.Next = next
			return nil
		}
		after = next
	}
}
