package control

import (
	"context"
	"net/http"
	"slices"

	"github.com/moat-iot/moat/internal/api"
	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/names"
	"github.com/moat-iot/moat/internal/paging"
	"github.com/moat-iot/moat/internal/store"
)

// principalPolicyOperations are the deprecated principal-policy forms that
// older CLI commands still call (attach-principal-policy, ...). They are
// thin aliases over the policy attachments of AttachPolicy and friends: a
// principal here is a target there.
func (a *API) principalPolicyOperations() []api.Operation {
	return []api.Operation{
		{Name: "AttachPrincipalPolicy", Method: http.MethodPut, Path: "/principal-policies/{policyName}", Handle: a.attachPrincipalPolicy, Resource: a.principalHeaderARN},
		{Name: "DetachPrincipalPolicy", Method: http.MethodDelete, Path: "/principal-policies/{policyName}", Handle: a.detachPrincipalPolicy, Resource: a.principalHeaderARN},
		{Name: "ListPrincipalPolicies", Method: http.MethodGet, Path: "/principal-policies", Handle: a.listPrincipalPolicies, Resource: api.NoResource},
		{Name: "ListPolicyPrincipals", Method: http.MethodGet, Path: "/policy-principals", Handle: a.listPolicyPrincipals, Resource: api.NoResource},
	}
}

const (
	principalHeader = "X-Amzn-Iot-Principal" // x-amzn-iot-principal
	policyHeader    = "X-Amzn-Iot-Policy"    // x-amzn-iot-policy
)

func principalOf(r *api.Request) (string, error) {
	p := r.Header.Get(principalHeader)
	if p == "" {
		return "", names.Required("principal (x-amzn-iot-principal header)")
	}
	return p, nil
}

func (a *API) attachPrincipalPolicy(ctx context.Context, r *api.Request) (any, error) {
	p, err := principalOf(r)
	if err != nil {
		return nil, err
	}
	return nil, a.Policies.Attach(ctx, r.PathValue("policyName"), p)
}

func (a *API) detachPrincipalPolicy(ctx context.Context, r *api.Request) (any, error) {
	p, err := principalOf(r)
	if err != nil {
		return nil, err
	}
	return nil, a.Policies.Detach(ctx, r.PathValue("policyName"), p)
}

type listPrincipalPoliciesOutput struct {
	Policies   []policyItem `json:"policies"`
	NextMarker string       `json:"nextMarker,omitempty"`
}

// listPrincipalPolicies lists the policies attached to a principal. A
// principal has at most policies.MaxPoliciesPerTarget of them, so the whole
// list is read, ordered as asked (ascending by name unless isAscendingOrder
// is false) and paged in memory by package paging (the marker is the
// base64 of the last name returned). A certificate principal that does not exist is
// ResourceNotFoundException.
func (a *API) listPrincipalPolicies(ctx context.Context, r *api.Request) (any, error) {
	principal, err := principalOf(r)
	if err != nil {
		return nil, err
	}
	q, asc, err := ascendingPage(r)
	if err != nil {
		return nil, err
	}
	size := q.Limit
	if size == 0 {
		size = 100
	}
	var after string
	if q.After != "" {
		var ok bool
		if after, ok = paging.After(q.After); !ok {
			return nil, awsapi.Errorf(awsapi.InvalidRequest, "The pagination token (marker) is not valid.")
		}
	}
	if id, ok := a.ARNs.Own(principal, "cert"); ok {
		if _, err := a.Certs.Describe(ctx, id); err != nil {
			return nil, err
		}
	}
	var all []string
	p := store.Page{Limit: 250}
	for {
		ns, next, err := a.Policies.AttachedPolicies(ctx, principal, p)
		if err != nil {
			return nil, err
		}
		all = append(all, ns...)
		if next == "" {
			break
		}
		p.After = next
	}
	slices.Sort(all)
	ns, next := paging.Names(all, after, asc, size)
	out := listPrincipalPoliciesOutput{Policies: make([]policyItem, 0, len(ns)), NextMarker: next}
	for _, n := range ns {
		out.Policies = append(out.Policies, a.policyItem(n))
	}
	return out, nil
}

type listPolicyPrincipalsOutput struct {
	Principals []string `json:"principals"`
	NextMarker string   `json:"nextMarker,omitempty"`
}

// listPolicyPrincipals lists the principals (certificates, later Cognito
// identities) a policy is attached to, in the store's target order; thing
// groups, which AttachPolicy also targets, are not principals and are left
// out, so a page may hold fewer than pageSize entries while nextMarker is
// set. isAscendingOrder is checked but the order is always ascending (the
// SDKs send it only as true).
func (a *API) listPolicyPrincipals(ctx context.Context, r *api.Request) (any, error) {
	name := r.Header.Get(policyHeader)
	if name == "" {
		return nil, names.Required("policyName (x-amzn-iot-policy header)")
	}
	p, _, err := markerPage(r)
	if err != nil {
		return nil, err
	}
	ts, next, err := a.Policies.Targets(ctx, name, p)
	if err != nil {
		return nil, err
	}
	out := listPolicyPrincipalsOutput{Principals: make([]string, 0, len(ts)), NextMarker: next}
	for _, t := range ts {
		if _, group := a.ARNs.Own(t, "thinggroup"); group {
			continue
		}
		out.Principals = append(out.Principals, t)
	}
	return out, nil
}
