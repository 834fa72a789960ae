package control

import (
	"context"
	"net/http"
	"strconv"

	"github.com/moat-iot/moat/internal/api"
	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/registry"
	"github.com/moat-iot/moat/internal/store"
	"github.com/moat-iot/moat/internal/tags"
)

// groupOperations are the thing group operations (static and dynamic) and
// SearchIndex.
func (a *API) groupOperations() []api.Operation {
	return []api.Operation{
		{Name: "CreateThingGroup", Method: http.MethodPost, Path: "/thing-groups/{thingGroupName}", Handle: a.createThingGroup, Resource: a.thingGroupARN()},
		{Name: "DescribeThingGroup", Method: http.MethodGet, Path: "/thing-groups/{thingGroupName}", Handle: a.describeThingGroup, Resource: a.thingGroupARN()},
		{Name: "UpdateThingGroup", Method: http.MethodPatch, Path: "/thing-groups/{thingGroupName}", Handle: a.updateThingGroup, Resource: a.thingGroupARN()},
		{Name: "DeleteThingGroup", Method: http.MethodDelete, Path: "/thing-groups/{thingGroupName}", Handle: a.deleteThingGroup, Resource: a.thingGroupARN()},
		{Name: "ListThingGroups", Method: http.MethodGet, Path: "/thing-groups", Handle: a.listThingGroups, Resource: api.NoResource},
		{Name: "AddThingToThingGroup", Method: http.MethodPut, Path: "/thing-groups/addThingToThingGroup", Handle: a.addThingToThingGroup, Resources: a.membershipARNs},
		{Name: "RemoveThingFromThingGroup", Method: http.MethodPut, Path: "/thing-groups/removeThingFromThingGroup", Handle: a.removeThingFromThingGroup, Resources: a.membershipARNs},
		{Name: "UpdateThingGroupsForThing", Method: http.MethodPut, Path: "/thing-groups/updateThingGroupsForThing", Handle: a.updateThingGroupsForThing, Resources: a.groupsForThingARNs},
		{Name: "ListThingsInThingGroup", Method: http.MethodGet, Path: "/thing-groups/{thingGroupName}/things", Handle: a.listThingsInThingGroup, Resource: a.thingGroupARN()},
		{Name: "ListThingGroupsForThing", Method: http.MethodGet, Path: "/things/{thingName}/thing-groups", Handle: a.listThingGroupsForThing, Resource: a.thingARN()},

		{Name: "CreateDynamicThingGroup", Method: http.MethodPost, Path: "/dynamic-thing-groups/{thingGroupName}", Handle: a.createDynamicThingGroup, Resource: a.thingGroupARN()},
		{Name: "UpdateDynamicThingGroup", Method: http.MethodPatch, Path: "/dynamic-thing-groups/{thingGroupName}", Handle: a.updateDynamicThingGroup, Resource: a.thingGroupARN()},
		{Name: "DeleteDynamicThingGroup", Method: http.MethodDelete, Path: "/dynamic-thing-groups/{thingGroupName}", Handle: a.deleteDynamicThingGroup, Resource: a.thingGroupARN()},
		{Name: "SearchIndex", Method: http.MethodPost, Path: "/indices/search", Handle: a.searchIndex, Resource: a.indexARN},
	}
}

type tagInput struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

func tagList(in []tagInput) []tags.Tag {
	if in == nil {
		return nil
	}
	out := make([]tags.Tag, len(in))
	for i, t := range in {
		out[i] = tags.Tag{Key: t.Key, Value: t.Value}
	}
	return out
}

type groupPropertiesJSON struct {
	ThingGroupDescription *string           `json:"thingGroupDescription,omitempty"`
	AttributePayload      *attributePayload `json:"attributePayload,omitempty"`
}

func (p *groupPropertiesJSON) properties() registry.GroupProperties {
	if p == nil {
		return registry.GroupProperties{}
	}
	out := registry.GroupProperties{Description: p.ThingGroupDescription}
	if p.AttributePayload != nil {
		out.Attributes, out.Merge = p.AttributePayload.Attributes, p.AttributePayload.Merge
		if out.Attributes == nil {
			out.Attributes = map[string]string{}
		}
	}
	return out
}

type createThingGroupInput struct {
	ParentGroupName      string               `json:"parentGroupName"`
	ThingGroupProperties *groupPropertiesJSON `json:"thingGroupProperties"`
	Tags                 []tagInput           `json:"tags"`
}

type createThingGroupOutput struct {
	ThingGroupName string `json:"thingGroupName"`
	ThingGroupArn  string `json:"thingGroupArn"`
	ThingGroupID   string `json:"thingGroupId"`
}

func (a *API) createThingGroup(ctx context.Context, r *api.Request) (any, error) {
	var in createThingGroupInput
	if err := awsapi.DecodeJSON(r.Request, r.Body, &in); err != nil {
		return nil, err
	}
	g, err := a.Registry.CreateThingGroup(ctx, registry.GroupInput{
		Name: r.PathValue("thingGroupName"), Parent: in.ParentGroupName,
		Properties: in.ThingGroupProperties.properties(), Tags: tagList(in.Tags),
	})
	if err != nil {
		return nil, err
	}
	return createThingGroupOutput{ThingGroupName: g.Name, ThingGroupArn: a.ARNs.ThingGroup(g.Name), ThingGroupID: g.ID}, nil
}

type groupNameAndArn struct {
	GroupName string `json:"groupName"`
	GroupArn  string `json:"groupArn"`
}

type thingGroupMetadata struct {
	ParentGroupName         string            `json:"parentGroupName,omitempty"`
	RootToParentThingGroups []groupNameAndArn `json:"rootToParentThingGroups"`
	CreationDate            epoch             `json:"creationDate"`
}

type attributesOut struct {
	Attributes map[string]string `json:"attributes"`
}

type groupPropertiesOut struct {
	ThingGroupDescription string        `json:"thingGroupDescription,omitempty"`
	AttributePayload      attributesOut `json:"attributePayload"`
}

type describeThingGroupOutput struct {
	ThingGroupName       string             `json:"thingGroupName"`
	ThingGroupID         string             `json:"thingGroupId"`
	ThingGroupArn        string             `json:"thingGroupArn"`
	Version              int64              `json:"version"`
	ThingGroupProperties groupPropertiesOut `json:"thingGroupProperties"`
	ThingGroupMetadata   thingGroupMetadata `json:"thingGroupMetadata"`
	IndexName            string             `json:"indexName,omitempty"`
	QueryString          string             `json:"queryString,omitempty"`
	QueryVersion         string             `json:"queryVersion,omitempty"`
	Status               string             `json:"status,omitempty"`
}

func (a *API) groupRef(name string) groupNameAndArn {
	return groupNameAndArn{GroupName: name, GroupArn: a.ARNs.ThingGroup(name)}
}

func (a *API) describeThingGroup(ctx context.Context, r *api.Request) (any, error) {
	info, err := a.Registry.DescribeThingGroup(ctx, r.PathValue("thingGroupName"))
	if err != nil {
		return nil, err
	}
	g := info.Group
	out := describeThingGroupOutput{
		ThingGroupName: g.Name, ThingGroupID: g.ID, ThingGroupArn: a.ARNs.ThingGroup(g.Name), Version: g.Version,
		ThingGroupProperties: groupPropertiesOut{ThingGroupDescription: g.Description, AttributePayload: attributesOut{Attributes: nonNil(g.Attributes)}},
		ThingGroupMetadata: thingGroupMetadata{ParentGroupName: g.ParentName, RootToParentThingGroups: make([]groupNameAndArn, 0, len(info.Ancestors)),
			CreationDate: toEpoch(g.CreatedAt)},
	}
	for _, anc := range info.Ancestors {
		out.ThingGroupMetadata.RootToParentThingGroups = append(out.ThingGroupMetadata.RootToParentThingGroups, a.groupRef(anc.Name))
	}
	if g.Dynamic {
		out.IndexName, out.QueryString, out.QueryVersion, out.Status = g.IndexName, g.QueryString, g.QueryVersion, g.Status
	}
	return out, nil
}

type updateThingGroupInput struct {
	ThingGroupProperties *groupPropertiesJSON `json:"thingGroupProperties"`
	ExpectedVersion      *int64               `json:"expectedVersion"`
	// UpdateDynamicThingGroup only.
	IndexName    string `json:"indexName"`
	QueryString  string `json:"queryString"`
	QueryVersion string `json:"queryVersion"`
}

type versionOutput struct {
	Version int64 `json:"version"`
}

func decodeGroupUpdate(r *api.Request) (updateThingGroupInput, int64, error) {
	var in updateThingGroupInput
	if err := awsapi.DecodeJSON(r.Request, r.Body, &in); err != nil {
		return in, 0, err
	}
	if in.ThingGroupProperties == nil {
		return in, 0, awsapi.Errorf(awsapi.InvalidRequest, "thingGroupProperties is required.")
	}
	var expected int64
	if in.ExpectedVersion != nil {
		if *in.ExpectedVersion < 1 {
			return in, 0, awsapi.Errorf(awsapi.InvalidRequest, "expectedVersion must be a positive whole number, got %d.", *in.ExpectedVersion)
		}
		expected = *in.ExpectedVersion
	}
	return in, expected, nil
}

func (a *API) updateThingGroup(ctx context.Context, r *api.Request) (any, error) {
	in, expected, err := decodeGroupUpdate(r)
	if err != nil {
		return nil, err
	}
	v, err := a.Registry.UpdateThingGroup(ctx, r.PathValue("thingGroupName"), in.ThingGroupProperties.properties(), expected)
	if err != nil {
		return nil, err
	}
	return versionOutput{Version: v}, nil
}

func expectedVersionQuery(r *api.Request) (int64, error) {
	s := r.URL.Query().Get("expectedVersion")
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 {
		return 0, awsapi.Errorf(awsapi.InvalidRequest, "expectedVersion must be a positive whole number, got %q.", s)
	}
	return n, nil
}

func (a *API) deleteThingGroup(ctx context.Context, r *api.Request) (any, error) {
	expected, err := expectedVersionQuery(r)
	if err != nil {
		return nil, err
	}
	return nil, a.Registry.DeleteThingGroup(ctx, r.PathValue("thingGroupName"), expected)
}

type listGroupsOutput struct {
	ThingGroups []groupNameAndArn `json:"thingGroups"`
	NextToken   string            `json:"nextToken,omitempty"`
}

func (a *API) listThingGroups(ctx context.Context, r *api.Request) (any, error) {
	p, err := page(r, "nextToken", "maxResults")
	if err != nil {
		return nil, err
	}
	var recursive *bool
	if r.URL.Query().Get("recursive") != "" {
		b, err := queryBool(r, "recursive")
		if err != nil {
			return nil, err
		}
		recursive = &b
	}
	q := r.URL.Query()
	gs, next, err := a.Registry.ListThingGroups(ctx, q.Get("parentGroup"), q.Get("namePrefixFilter"), recursive, p)
	if err != nil {
		return nil, err
	}
	out := listGroupsOutput{ThingGroups: make([]groupNameAndArn, 0, len(gs)), NextToken: next}
	for _, g := range gs {
		out.ThingGroups = append(out.ThingGroups, a.groupRef(g.Name))
	}
	return out, nil
}

type membershipInput struct {
	ThingGroupName        string `json:"thingGroupName"`
	ThingGroupArn         string `json:"thingGroupArn"`
	ThingName             string `json:"thingName"`
	ThingArn              string `json:"thingArn"`
	OverrideDynamicGroups bool   `json:"overrideDynamicGroups"`
}

func (m membershipInput) membership() registry.Membership {
	return registry.Membership{GroupName: m.ThingGroupName, GroupARN: m.ThingGroupArn, ThingName: m.ThingName, ThingARN: m.ThingArn}
}

func (a *API) addThingToThingGroup(ctx context.Context, r *api.Request) (any, error) {
	var in membershipInput
	if err := awsapi.DecodeJSON(r.Request, r.Body, &in); err != nil {
		return nil, err
	}
	return struct{}{}, a.Registry.AddThingToThingGroup(ctx, in.membership(), in.OverrideDynamicGroups)
}

func (a *API) removeThingFromThingGroup(ctx context.Context, r *api.Request) (any, error) {
	var in membershipInput
	if err := awsapi.DecodeJSON(r.Request, r.Body, &in); err != nil {
		return nil, err
	}
	return struct{}{}, a.Registry.RemoveThingFromThingGroup(ctx, in.membership())
}

type updateThingGroupsForThingInput struct {
	ThingName             string   `json:"thingName"`
	ThingGroupsToAdd      []string `json:"thingGroupsToAdd"`
	ThingGroupsToRemove   []string `json:"thingGroupsToRemove"`
	OverrideDynamicGroups bool     `json:"overrideDynamicGroups"`
}

func (a *API) updateThingGroupsForThing(ctx context.Context, r *api.Request) (any, error) {
	var in updateThingGroupsForThingInput
	if err := awsapi.DecodeJSON(r.Request, r.Body, &in); err != nil {
		return nil, err
	}
	return struct{}{}, a.Registry.UpdateThingGroupsForThing(ctx, in.ThingName, in.ThingGroupsToAdd, in.ThingGroupsToRemove, in.OverrideDynamicGroups)
}

type listThingsInThingGroupOutput struct {
	Things    []string `json:"things"`
	NextToken string   `json:"nextToken,omitempty"`
}

func (a *API) listThingsInThingGroup(ctx context.Context, r *api.Request) (any, error) {
	p, err := page(r, "nextToken", "maxResults")
	if err != nil {
		return nil, err
	}
	recursive, err := queryBool(r, "recursive")
	if err != nil {
		return nil, err
	}
	ts, next, err := a.Registry.ListThingsInThingGroup(ctx, r.PathValue("thingGroupName"), recursive, p)
	if err != nil {
		return nil, err
	}
	return listThingsInThingGroupOutput{Things: append(make([]string, 0, len(ts)), ts...), NextToken: next}, nil
}

func (a *API) listThingGroupsForThing(ctx context.Context, r *api.Request) (any, error) {
	p, err := page(r, "nextToken", "maxResults")
	if err != nil {
		return nil, err
	}
	gs, next, err := a.Registry.ListThingGroupsForThing(ctx, r.PathValue("thingName"), p)
	if err != nil {
		return nil, err
	}
	out := listGroupsOutput{ThingGroups: make([]groupNameAndArn, 0, len(gs)), NextToken: next}
	for _, g := range gs {
		out.ThingGroups = append(out.ThingGroups, a.groupRef(g))
	}
	return out, nil
}

type createDynamicThingGroupInput struct {
	ThingGroupProperties *groupPropertiesJSON `json:"thingGroupProperties"`
	IndexName            string               `json:"indexName"`
	QueryString          string               `json:"queryString"`
	QueryVersion         string               `json:"queryVersion"`
	Tags                 []tagInput           `json:"tags"`
}

type createDynamicThingGroupOutput struct {
	ThingGroupName string `json:"thingGroupName"`
	ThingGroupArn  string `json:"thingGroupArn"`
	ThingGroupID   string `json:"thingGroupId"`
	IndexName      string `json:"indexName"`
	QueryString    string `json:"queryString"`
	QueryVersion   string `json:"queryVersion"`
}

func (a *API) createDynamicThingGroup(ctx context.Context, r *api.Request) (any, error) {
	var in createDynamicThingGroupInput
	if err := awsapi.DecodeJSON(r.Request, r.Body, &in); err != nil {
		return nil, err
	}
	g, err := a.Registry.CreateDynamicThingGroup(ctx, registry.GroupInput{
		Name: r.PathValue("thingGroupName"), Properties: in.ThingGroupProperties.properties(), Tags: tagList(in.Tags),
		QueryString: in.QueryString, QueryVersion: in.QueryVersion, IndexName: in.IndexName,
	})
	if err != nil {
		return nil, err
	}
	return createDynamicThingGroupOutput{ThingGroupName: g.Name, ThingGroupArn: a.ARNs.ThingGroup(g.Name), ThingGroupID: g.ID,
		IndexName: g.IndexName, QueryString: g.QueryString, QueryVersion: g.QueryVersion}, nil
}

func (a *API) updateDynamicThingGroup(ctx context.Context, r *api.Request) (any, error) {
	in, expected, err := decodeGroupUpdate(r)
	if err != nil {
		return nil, err
	}
	v, err := a.Registry.UpdateDynamicThingGroup(ctx, r.PathValue("thingGroupName"), in.ThingGroupProperties.properties(),
		registry.DynamicQuery{QueryString: in.QueryString, QueryVersion: in.QueryVersion, IndexName: in.IndexName}, expected)
	if err != nil {
		return nil, err
	}
	return versionOutput{Version: v}, nil
}

func (a *API) deleteDynamicThingGroup(ctx context.Context, r *api.Request) (any, error) {
	expected, err := expectedVersionQuery(r)
	if err != nil {
		return nil, err
	}
	return nil, a.Registry.DeleteDynamicThingGroup(ctx, r.PathValue("thingGroupName"), expected)
}

type searchIndexInput struct {
	IndexName    string `json:"indexName"`
	QueryString  string `json:"queryString"`
	NextToken    string `json:"nextToken"`
	MaxResults   *int   `json:"maxResults"`
	QueryVersion string `json:"queryVersion"`
}

type thingDocument struct {
	ThingName       string            `json:"thingName"`
	ThingID         string            `json:"thingId"`
	ThingTypeName   string            `json:"thingTypeName,omitempty"`
	ThingGroupNames []string          `json:"thingGroupNames"`
	Attributes      map[string]string `json:"attributes"`
}

type thingGroupDocument struct {
	ThingGroupName        string            `json:"thingGroupName"`
	ThingGroupID          string            `json:"thingGroupId"`
	ThingGroupDescription string            `json:"thingGroupDescription,omitempty"`
	Attributes            map[string]string `json:"attributes"`
	ParentGroupNames      []string          `json:"parentGroupNames"`
}

type searchIndexOutput struct {
	NextToken   string               `json:"nextToken,omitempty"`
	Things      []thingDocument      `json:"things"`
	ThingGroups []thingGroupDocument `json:"thingGroups"`
}

// searchIndex answers SearchIndex over the registry (see registry.Search
// for the query subset and its cost). Connectivity, shadow and Device
// Defender fields are not indexed.
func (a *API) searchIndex(ctx context.Context, r *api.Request) (any, error) {
	var in searchIndexInput
	if err := awsapi.DecodeJSON(r.Request, r.Body, &in); err != nil {
		return nil, err
	}
	p := store.Page{After: in.NextToken}
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > registry.MaxSearchResults {
			return nil, awsapi.Errorf(awsapi.InvalidRequest, "maxResults must be from 1 to %d, got %d.", registry.MaxSearchResults, *in.MaxResults)
		}
		p.Limit = *in.MaxResults
	}
	res, err := a.Registry.Search(ctx, in.IndexName, in.QueryString, in.QueryVersion, p)
	if err != nil {
		return nil, err
	}
	out := searchIndexOutput{NextToken: res.Next, Things: make([]thingDocument, 0, len(res.Things)), ThingGroups: make([]thingGroupDocument, 0, len(res.Groups))}
	for _, h := range res.Things {
		out.Things = append(out.Things, thingDocument{ThingName: h.Thing.Name, ThingID: h.Thing.ID, ThingTypeName: h.Thing.TypeName,
			ThingGroupNames: append(make([]string, 0, len(h.Groups)), h.Groups...), Attributes: nonNil(h.Thing.Attributes)})
	}
	for _, h := range res.Groups {
		out.ThingGroups = append(out.ThingGroups, thingGroupDocument{ThingGroupName: h.Group.Name, ThingGroupID: h.Group.ID,
			ThingGroupDescription: h.Group.Description, Attributes: nonNil(h.Group.Attributes), ParentGroupNames: append(make([]string, 0, len(h.Parents)), h.Parents...)})
	}
	return out, nil
}
