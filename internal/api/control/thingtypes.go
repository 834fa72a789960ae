package control

import (
	"context"
	"net/http"

	"github.com/moat-iot/moat/internal/api"
	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/registry"
	"github.com/moat-iot/moat/internal/store"
)

// thingTypeOperations are the thing type operations and UpdateThing (which
// assigns and removes types).
func (a *API) thingTypeOperations() []api.Operation {
	return []api.Operation{
		{Name: "UpdateThing", Method: http.MethodPatch, Path: "/things/{thingName}", Handle: a.updateThing, Resource: a.thingARN()},

		{Name: "CreateThingType", Method: http.MethodPost, Path: "/thing-types/{thingTypeName}", Handle: a.createThingType, Resource: a.thingTypeARN()},
		{Name: "DescribeThingType", Method: http.MethodGet, Path: "/thing-types/{thingTypeName}", Handle: a.describeThingType, Resource: a.thingTypeARN()},
		{Name: "UpdateThingType", Method: http.MethodPatch, Path: "/thing-types/{thingTypeName}", Handle: a.updateThingType, Resource: a.thingTypeARN()},
		{Name: "DeleteThingType", Method: http.MethodDelete, Path: "/thing-types/{thingTypeName}", Handle: a.deleteThingType, Resource: a.thingTypeARN()},
		{Name: "DeprecateThingType", Method: http.MethodPost, Path: "/thing-types/{thingTypeName}/deprecate", Handle: a.deprecateThingType, Resource: a.thingTypeARN()},
		{Name: "ListThingTypes", Method: http.MethodGet, Path: "/thing-types", Handle: a.listThingTypes, Resource: api.NoResource},
	}
}

type updateThingInput struct {
	ThingTypeName    string            `json:"thingTypeName"`
	AttributePayload *attributePayload `json:"attributePayload"`
	ExpectedVersion  *int64            `json:"expectedVersion"`
	RemoveThingType  bool              `json:"removeThingType"`
}

func (a *API) updateThing(ctx context.Context, r *api.Request) (any, error) {
	var in updateThingInput
	if err := awsapi.DecodeJSON(r.Request, r.Body, &in); err != nil {
		return nil, err
	}
	u := registry.ThingUpdate{Name: r.PathValue("thingName"), TypeName: in.ThingTypeName, RemoveType: in.RemoveThingType}
	if in.ExpectedVersion != nil {
		if *in.ExpectedVersion < 1 {
			return nil, awsapi.Errorf(awsapi.InvalidRequest, "expectedVersion must be a positive whole number, got %d.", *in.ExpectedVersion)
		}
		u.ExpectedVersion = *in.ExpectedVersion
	}
	if p := in.AttributePayload; p != nil {
		u.Attributes, u.Merge = p.Attributes, p.Merge
		if u.Attributes == nil {
			u.Attributes = map[string]string{}
		}
	}
	_, err := a.Registry.UpdateThing(ctx, u)
	return nil, err
}

// mqtt5Configuration is accepted only when empty: moat does not propagate
// thing attributes into MQTT 5 user properties.
type mqtt5Configuration struct {
	PropagatingAttributes []struct{} `json:"propagatingAttributes"`
}

type thingTypeProperties struct {
	ThingTypeDescription *string             `json:"thingTypeDescription,omitempty"`
	SearchableAttributes []string            `json:"searchableAttributes"`
	Mqtt5Configuration   *mqtt5Configuration `json:"mqtt5Configuration,omitempty"`
}

func (p *thingTypeProperties) toRegistry() (registry.ThingTypeProperties, error) {
	if p == nil {
		return registry.ThingTypeProperties{}, nil
	}
	if p.Mqtt5Configuration != nil && len(p.Mqtt5Configuration.PropagatingAttributes) > 0 {
		return registry.ThingTypeProperties{}, awsapi.Errorf(awsapi.InvalidRequest, "thingTypeProperties.mqtt5Configuration.propagatingAttributes is not supported by this server.")
	}
	return registry.ThingTypeProperties{Description: p.ThingTypeDescription, SearchableAttributes: p.SearchableAttributes}, nil
}

type createThingTypeInput struct {
	ThingTypeProperties *thingTypeProperties `json:"thingTypeProperties"`
	Tags                []tagJSON            `json:"tags"`
}

type createThingTypeOutput struct {
	ThingTypeName string `json:"thingTypeName"`
	ThingTypeArn  string `json:"thingTypeArn"`
	ThingTypeID   string `json:"thingTypeId"`
}

func (a *API) createThingType(ctx context.Context, r *api.Request) (any, error) {
	var in createThingTypeInput
	if err := awsapi.DecodeJSON(r.Request, r.Body, &in); err != nil {
		return nil, err
	}
	props, err := in.ThingTypeProperties.toRegistry()
	if err != nil {
		return nil, err
	}
	t, err := a.Registry.CreateThingType(ctx, registry.ThingTypeInput{Name: r.PathValue("thingTypeName"), Properties: props, Tags: fromTagJSON(in.Tags)})
	if err != nil {
		return nil, err
	}
	return createThingTypeOutput{ThingTypeName: t.Name, ThingTypeArn: a.ARNs.ThingType(t.Name), ThingTypeID: t.ID}, nil
}

type thingTypeMetadata struct {
	Deprecated      bool  `json:"deprecated"`
	DeprecationDate epoch `json:"deprecationDate,omitempty"`
	CreationDate    epoch `json:"creationDate"`
}

type thingTypePropertiesOut struct {
	ThingTypeDescription string   `json:"thingTypeDescription,omitempty"`
	SearchableAttributes []string `json:"searchableAttributes"`
}

// thingTypeDefinition is DescribeThingType's output and ListThingTypes'
// item; ThingTypeID is only in the former.
type thingTypeDefinition struct {
	ThingTypeName       string                 `json:"thingTypeName"`
	ThingTypeID         string                 `json:"thingTypeId,omitempty"`
	ThingTypeArn        string                 `json:"thingTypeArn"`
	ThingTypeProperties thingTypePropertiesOut `json:"thingTypeProperties"`
	ThingTypeMetadata   thingTypeMetadata      `json:"thingTypeMetadata"`
}

func (a *API) thingTypeDefinition(t store.ThingType, withID bool) thingTypeDefinition {
	d := thingTypeDefinition{
		ThingTypeName: t.Name, ThingTypeArn: a.ARNs.ThingType(t.Name),
		ThingTypeProperties: thingTypePropertiesOut{ThingTypeDescription: t.Description, SearchableAttributes: append([]string{}, t.SearchableAttributes...)},
		ThingTypeMetadata:   thingTypeMetadata{Deprecated: t.Deprecated, CreationDate: toEpoch(t.CreatedAt)},
	}
	if t.Deprecated {
		d.ThingTypeMetadata.DeprecationDate = toEpoch(t.DeprecatedAt)
	}
	if withID {
		d.ThingTypeID = t.ID
	}
	return d
}

func (a *API) describeThingType(ctx context.Context, r *api.Request) (any, error) {
	t, err := a.Registry.DescribeThingType(ctx, r.PathValue("thingTypeName"))
	if err != nil {
		return nil, err
	}
	return a.thingTypeDefinition(t, true), nil
}

type updateThingTypeInput struct {
	ThingTypeProperties *thingTypeProperties `json:"thingTypeProperties"`
}

func (a *API) updateThingType(ctx context.Context, r *api.Request) (any, error) {
	var in updateThingTypeInput
	if err := awsapi.DecodeJSON(r.Request, r.Body, &in); err != nil {
		return nil, err
	}
	props, err := in.ThingTypeProperties.toRegistry()
	if err != nil {
		return nil, err
	}
	return nil, a.Registry.UpdateThingType(ctx, r.PathValue("thingTypeName"), props)
}

type deprecateThingTypeInput struct {
	UndoDeprecate bool `json:"undoDeprecate"`
}

func (a *API) deprecateThingType(ctx context.Context, r *api.Request) (any, error) {
	var in deprecateThingTypeInput
	if err := awsapi.DecodeJSON(r.Request, r.Body, &in); err != nil {
		return nil, err
	}
	return nil, a.Registry.DeprecateThingType(ctx, r.PathValue("thingTypeName"), in.UndoDeprecate)
}

func (a *API) deleteThingType(ctx context.Context, r *api.Request) (any, error) {
	return nil, a.Registry.DeleteThingType(ctx, r.PathValue("thingTypeName"))
}

type listThingTypesOutput struct {
	ThingTypes []thingTypeDefinition `json:"thingTypes"`
	NextToken  string                `json:"nextToken,omitempty"`
}

func (a *API) listThingTypes(ctx context.Context, r *api.Request) (any, error) {
	p, err := page(r, "nextToken", "maxResults")
	if err != nil {
		return nil, err
	}
	ts, next, err := a.Registry.ListThingTypes(ctx, r.URL.Query().Get("thingTypeName"), p)
	if err != nil {
		return nil, err
	}
	out := listThingTypesOutput{ThingTypes: make([]thingTypeDefinition, 0, len(ts)), NextToken: next}
	for _, t := range ts {
		out.ThingTypes = append(out.ThingTypes, a.thingTypeDefinition(t, false))
	}
	return out, nil
}
