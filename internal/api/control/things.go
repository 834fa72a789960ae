package control

import (
	"context"
	"strconv"

	"github.com/moat-iot/moat/internal/api"
	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/registry"
	"github.com/moat-iot/moat/internal/store"
)

type attributePayload struct {
	Attributes map[string]string `json:"attributes"`
	Merge      bool              `json:"merge"`
}

type createThingInput struct {
	ThingTypeName    string            `json:"thingTypeName"`
	AttributePayload *attributePayload `json:"attributePayload"`
	BillingGroupName string            `json:"billingGroupName"`
}

type createThingOutput struct {
	ThingName string `json:"thingName"`
	ThingArn  string `json:"thingArn"`
	ThingID   string `json:"thingId"`
}

func (a *API) createThing(ctx context.Context, r *api.Request) (any, error) {
	var in createThingInput
	if err := awsapi.DecodeJSON(r.Request, r.Body, &in); err != nil {
		return nil, err
	}
	if in.BillingGroupName != "" {
		return nil, awsapi.Errorf(awsapi.ResourceNotFound, "Billing group %s does not exist.", in.BillingGroupName)
	}
	ti := registry.ThingInput{Name: r.PathValue("thingName"), TypeName: in.ThingTypeName}
	if in.AttributePayload != nil {
		ti.Attributes = in.AttributePayload.Attributes
	}
	t, err := a.Registry.CreateThing(ctx, ti)
	if err != nil {
		return nil, err
	}
	return createThingOutput{ThingName: t.Name, ThingArn: a.ARNs.Thing(t.Name), ThingID: t.ID}, nil
}

type describeThingOutput struct {
	DefaultClientID string            `json:"defaultClientId"`
	ThingName       string            `json:"thingName"`
	ThingID         string            `json:"thingId"`
	ThingArn        string            `json:"thingArn"`
	ThingTypeName   string            `json:"thingTypeName,omitempty"`
	Attributes      map[string]string `json:"attributes"`
	Version         int64             `json:"version"`
}

func (a *API) describeThing(ctx context.Context, r *api.Request) (any, error) {
	t, err := a.Registry.DescribeThing(ctx, r.PathValue("thingName"))
	if err != nil {
		return nil, err
	}
	return describeThingOutput{
		DefaultClientID: t.Name, ThingName: t.Name, ThingID: t.ID, ThingArn: a.ARNs.Thing(t.Name),
		ThingTypeName: t.TypeName, Attributes: nonNil(t.Attributes), Version: t.Version,
	}, nil
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func (a *API) deleteThing(ctx context.Context, r *api.Request) (any, error) {
	var expected int64
	if s := r.URL.Query().Get("expectedVersion"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			return nil, awsapi.Errorf(awsapi.InvalidRequest, "expectedVersion must be a positive whole number, got %q.", s)
		}
		expected = n
	}
	return nil, a.Registry.DeleteThing(ctx, r.PathValue("thingName"), expected)
}

type thingAttribute struct {
	ThingName     string            `json:"thingName"`
	ThingTypeName string            `json:"thingTypeName,omitempty"`
	ThingArn      string            `json:"thingArn"`
	Attributes    map[string]string `json:"attributes"`
	Version       int64             `json:"version"`
}

type listThingsOutput struct {
	Things    []thingAttribute `json:"things"`
	NextToken string           `json:"nextToken,omitempty"`
}

func (a *API) listThings(ctx context.Context, r *api.Request) (any, error) {
	p, err := page(r, "nextToken", "maxResults")
	if err != nil {
		return nil, err
	}
	prefix, err := queryBool(r, "usePrefixAttributeValue")
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	f := store.ThingFilter{AttributeName: q.Get("attributeName"), AttributeValue: q.Get("attributeValue"), AttributePrefix: prefix, TypeName: q.Get("thingTypeName")}
	things, next, err := a.Registry.ListThings(ctx, f, p)
	if err != nil {
		return nil, err
	}
	out := listThingsOutput{Things: make([]thingAttribute, 0, len(things)), NextToken: next}
	for _, t := range things {
		out.Things = append(out.Things, thingAttribute{ThingName: t.Name, ThingTypeName: t.TypeName, ThingArn: a.ARNs.Thing(t.Name), Attributes: nonNil(t.Attributes), Version: t.Version})
	}
	return out, nil
}

func (a *API) attachThingPrincipal(ctx context.Context, r *api.Request) (any, error) {
	return nil, a.Registry.AttachThingPrincipal(ctx, r.PathValue("thingName"), r.Header.Get("X-Amzn-Principal"), r.URL.Query().Get("thingPrincipalType"))
}

func (a *API) detachThingPrincipal(ctx context.Context, r *api.Request) (any, error) {
	return nil, a.Registry.DetachThingPrincipal(ctx, r.PathValue("thingName"), r.Header.Get("X-Amzn-Principal"))
}

type listThingPrincipalsOutput struct {
	Principals []string `json:"principals"`
	NextToken  string   `json:"nextToken,omitempty"`
}

func (a *API) listThingPrincipals(ctx context.Context, r *api.Request) (any, error) {
	p, err := page(r, "nextToken", "maxResults")
	if err != nil {
		return nil, err
	}
	ps, next, err := a.Registry.ThingPrincipals(ctx, r.PathValue("thingName"), p)
	if err != nil {
		return nil, err
	}
	out := listThingPrincipalsOutput{Principals: make([]string, 0, len(ps)), NextToken: next}
	for _, tp := range ps {
		out.Principals = append(out.Principals, tp.Principal)
	}
	return out, nil
}

type listPrincipalThingsOutput struct {
	Things    []string `json:"things"`
	NextToken string   `json:"nextToken,omitempty"`
}

func (a *API) listPrincipalThings(ctx context.Context, r *api.Request) (any, error) {
	p, err := page(r, "nextToken", "maxResults")
	if err != nil {
		return nil, err
	}
	ts, next, err := a.Registry.PrincipalThings(ctx, r.Header.Get("X-Amzn-Principal"), p)
	if err != nil {
		return nil, err
	}
	out := listPrincipalThingsOutput{Things: make([]string, 0, len(ts)), NextToken: next}
	for _, tp := range ts {
		out.Things = append(out.Things, tp.ThingName)
	}
	return out, nil
}
