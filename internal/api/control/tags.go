package control

import (
	"context"
	"net/http"

	"github.com/moat-iot/moat/internal/api"
	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/tags"
)

// tagOperations are TagResource, UntagResource and ListTagsForResource.
func (a *API) tagOperations() []api.Operation {
	return []api.Operation{
		{Name: "TagResource", Method: http.MethodPost, Path: "/tags", Handle: a.tagResource, Resource: a.taggedARN},
		{Name: "ListTagsForResource", Method: http.MethodGet, Path: "/tags", Handle: a.listTagsForResource, Resource: a.listedTagsARN},
		{Name: "UntagResource", Method: http.MethodPost, Path: "/untag", Handle: a.untagResource, Resource: a.taggedARN},
	}
}

// tagJSON is the Tag shape; its members are capitalised in the model.
type tagJSON struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// fromTagJSON keeps nil as nil (a request without tags).
func fromTagJSON(ts []tagJSON) []tags.Tag {
	if ts == nil {
		return nil
	}
	out := make([]tags.Tag, len(ts))
	for i, t := range ts {
		out[i] = tags.Tag{Key: t.Key, Value: t.Value}
	}
	return out
}

type tagResourceInput struct {
	ResourceArn string    `json:"resourceArn"`
	Tags        []tagJSON `json:"tags"`
}

func (a *API) tagResource(ctx context.Context, r *api.Request) (any, error) {
	var in tagResourceInput
	if err := awsapi.DecodeJSON(r.Request, r.Body, &in); err != nil {
		return nil, err
	}
	return nil, a.Registry.Tags.Tag(ctx, in.ResourceArn, fromTagJSON(in.Tags))
}

type untagResourceInput struct {
	ResourceArn string   `json:"resourceArn"`
	TagKeys     []string `json:"tagKeys"`
}

func (a *API) untagResource(ctx context.Context, r *api.Request) (any, error) {
	var in untagResourceInput
	if err := awsapi.DecodeJSON(r.Request, r.Body, &in); err != nil {
		return nil, err
	}
	return nil, a.Registry.Tags.Untag(ctx, in.ResourceArn, in.TagKeys)
}

type listTagsForResourceOutput struct {
	Tags      []tagJSON `json:"tags"`
	NextToken string    `json:"nextToken,omitempty"`
}

func (a *API) listTagsForResource(ctx context.Context, r *api.Request) (any, error) {
	q := r.URL.Query()
	ts, err := a.Registry.Tags.List(ctx, q.Get("resourceArn"), q.Get("nextToken"))
	if err != nil {
		return nil, err
	}
	out := listTagsForResourceOutput{Tags: make([]tagJSON, 0, len(ts))}
	for _, t := range ts {
		out.Tags = append(out.Tags, tagJSON{Key: t.Key, Value: t.Value})
	}
	return out, nil
}
