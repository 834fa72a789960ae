package control

import (
	"context"
	"strconv"

	"github.com/moat-iot/moat/internal/api"
	"github.com/moat-iot/moat/internal/awsapi"
)

type policyDocumentInput struct {
	PolicyDocument string `json:"policyDocument"`
}

type createPolicyInput struct {
	PolicyDocument string    `json:"policyDocument"`
	Tags           []tagJSON `json:"tags"`
}

type createPolicyOutput struct {
	PolicyName      string `json:"policyName"`
	PolicyArn       string `json:"policyArn"`
	PolicyDocument  string `json:"policyDocument"`
	PolicyVersionID string `json:"policyVersionId"`
}

func (a *API) createPolicy(ctx context.Context, r *api.Request) (any, error) {
	var in createPolicyInput
	if err := awsapi.DecodeJSON(r.Request, r.Body, &in); err != nil {
		return nil, err
	}
	v, err := a.Policies.Create(ctx, r.PathValue("policyName"), in.PolicyDocument, fromTagJSON(in.Tags))
	if err != nil {
		return nil, err
	}
	return createPolicyOutput{PolicyName: v.Policy.Name, PolicyArn: a.ARNs.Policy(v.Policy.Name), PolicyDocument: v.Version.Document, PolicyVersionID: strconv.Itoa(v.Version.VersionID)}, nil
}

type getPolicyOutput struct {
	PolicyName       string `json:"policyName"`
	PolicyArn        string `json:"policyArn"`
	PolicyDocument   string `json:"policyDocument"`
	DefaultVersionID string `json:"defaultVersionId"`
	CreationDate     epoch  `json:"creationDate"`
	LastModifiedDate epoch  `json:"lastModifiedDate"`
	GenerationID     string `json:"generationId"`
}

func (a *API) getPolicy(ctx context.Context, r *api.Request) (any, error) {
	v, err := a.Policies.Get(ctx, r.PathValue("policyName"))
	if err != nil {
		return nil, err
	}
	return getPolicyOutput{
		PolicyName: v.Policy.Name, PolicyArn: a.ARNs.Policy(v.Policy.Name), PolicyDocument: v.Version.Document,
		DefaultVersionID: strconv.Itoa(v.Policy.DefaultVersionID), CreationDate: toEpoch(v.Policy.CreatedAt),
		LastModifiedDate: toEpoch(v.Policy.UpdatedAt), GenerationID: v.Policy.GenerationID,
	}, nil
}

func (a *API) deletePolicy(ctx context.Context, r *api.Request) (any, error) {
	return nil, a.Policies.Delete(ctx, r.PathValue("policyName"))
}

type policyItem struct {
	PolicyName string `json:"policyName"`
	PolicyArn  string `json:"policyArn"`
}

type listPoliciesOutput struct {
	Policies   []policyItem `json:"policies"`
	NextMarker string       `json:"nextMarker,omitempty"`
}

func (a *API) listPolicies(ctx context.Context, r *api.Request) (any, error) {
	p, asc, err := ascendingPage(r)
	if err != nil {
		return nil, err
	}
	ps, next, err := a.Policies.List(ctx, p, asc)
	if err != nil {
		return nil, err
	}
	out := listPoliciesOutput{Policies: make([]policyItem, 0, len(ps)), NextMarker: next}
	for _, pol := range ps {
		out.Policies = append(out.Policies, a.policyItem(pol.Name))
	}
	return out, nil
}

func (a *API) policyItem(name string) policyItem {
	return policyItem{PolicyName: name, PolicyArn: a.ARNs.Policy(name)}
}

type createPolicyVersionOutput struct {
	PolicyArn        string `json:"policyArn"`
	PolicyDocument   string `json:"policyDocument"`
	PolicyVersionID  string `json:"policyVersionId"`
	IsDefaultVersion bool   `json:"isDefaultVersion"`
}

func (a *API) createPolicyVersion(ctx context.Context, r *api.Request) (any, error) {
	setAsDefault, err := queryBool(r, "setAsDefault")
	if err != nil {
		return nil, err
	}
	var in policyDocumentInput
	if err := awsapi.DecodeJSON(r.Request, r.Body, &in); err != nil {
		return nil, err
	}
	v, err := a.Policies.CreateVersion(ctx, r.PathValue("policyName"), in.PolicyDocument, setAsDefault)
	if err != nil {
		return nil, err
	}
	return createPolicyVersionOutput{PolicyArn: a.ARNs.Policy(v.Policy.Name), PolicyDocument: v.Version.Document, PolicyVersionID: strconv.Itoa(v.Version.VersionID), IsDefaultVersion: v.IsDefault}, nil
}

type getPolicyVersionOutput struct {
	PolicyArn        string `json:"policyArn"`
	PolicyName       string `json:"policyName"`
	PolicyDocument   string `json:"policyDocument"`
	PolicyVersionID  string `json:"policyVersionId"`
	IsDefaultVersion bool   `json:"isDefaultVersion"`
	CreationDate     epoch  `json:"creationDate"`
	LastModifiedDate epoch  `json:"lastModifiedDate"`
	GenerationID     string `json:"generationId"`
}

func (a *API) getPolicyVersion(ctx context.Context, r *api.Request) (any, error) {
	v, err := a.Policies.GetVersion(ctx, r.PathValue("policyName"), r.PathValue("policyVersionId"))
	if err != nil {
		return nil, err
	}
	return getPolicyVersionOutput{
		PolicyArn: a.ARNs.Policy(v.Policy.Name), PolicyName: v.Policy.Name, PolicyDocument: v.Version.Document,
		PolicyVersionID: strconv.Itoa(v.Version.VersionID), IsDefaultVersion: v.IsDefault,
		CreationDate: toEpoch(v.Version.CreatedAt), LastModifiedDate: toEpoch(v.Version.CreatedAt), GenerationID: v.Policy.GenerationID,
	}, nil
}

type policyVersionItem struct {
	VersionID        string `json:"versionId"`
	IsDefaultVersion bool   `json:"isDefaultVersion"`
	CreateDate       epoch  `json:"createDate"`
}

type listPolicyVersionsOutput struct {
	PolicyVersions []policyVersionItem `json:"policyVersions"`
}

func (a *API) listPolicyVersions(ctx context.Context, r *api.Request) (any, error) {
	p, vs, err := a.Policies.ListVersions(ctx, r.PathValue("policyName"))
	if err != nil {
		return nil, err
	}
	out := listPolicyVersionsOutput{PolicyVersions: make([]policyVersionItem, 0, len(vs))}
	for _, v := range vs {
		out.PolicyVersions = append(out.PolicyVersions, policyVersionItem{VersionID: strconv.Itoa(v.VersionID), IsDefaultVersion: v.VersionID == p.DefaultVersionID, CreateDate: toEpoch(v.CreatedAt)})
	}
	return out, nil
}

func (a *API) setDefaultPolicyVersion(ctx context.Context, r *api.Request) (any, error) {
	return nil, a.Policies.SetDefaultVersion(ctx, r.PathValue("policyName"), r.PathValue("policyVersionId"))
}

func (a *API) deletePolicyVersion(ctx context.Context, r *api.Request) (any, error) {
	return nil, a.Policies.DeleteVersion(ctx, r.PathValue("policyName"), r.PathValue("policyVersionId"))
}

type targetInput struct {
	Target string `json:"target"`
}

func (a *API) attachPolicy(ctx context.Context, r *api.Request) (any, error) {
	var in targetInput
	if err := awsapi.DecodeJSON(r.Request, r.Body, &in); err != nil {
		return nil, err
	}
	return nil, a.Policies.Attach(ctx, r.PathValue("policyName"), in.Target)
}

func (a *API) detachPolicy(ctx context.Context, r *api.Request) (any, error) {
	var in targetInput
	if err := awsapi.DecodeJSON(r.Request, r.Body, &in); err != nil {
		return nil, err
	}
	return nil, a.Policies.Detach(ctx, r.PathValue("policyName"), in.Target)
}

type listAttachedPoliciesOutput struct {
	Policies   []policyItem `json:"policies"`
	NextMarker string       `json:"nextMarker,omitempty"`
}

func (a *API) listAttachedPolicies(ctx context.Context, r *api.Request) (any, error) {
	p, err := page(r, "marker", "pageSize")
	if err != nil {
		return nil, err
	}
	recursive, err := queryBool(r, "recursive")
	if err != nil {
		return nil, err
	}
	list := a.Policies.AttachedPolicies
	if recursive { // a thing group's ancestors' policies too
		list = a.Policies.AttachedPoliciesRecursive
	}
	names, next, err := list(ctx, r.PathValue("target"), p)
	if err != nil {
		return nil, err
	}
	out := listAttachedPoliciesOutput{Policies: make([]policyItem, 0, len(names)), NextMarker: next}
	for _, n := range names {
		out.Policies = append(out.Policies, a.policyItem(n))
	}
	return out, nil
}

type listTargetsForPolicyOutput struct {
	Targets    []string `json:"targets"`
	NextMarker string   `json:"nextMarker,omitempty"`
}

func (a *API) listTargetsForPolicy(ctx context.Context, r *api.Request) (any, error) {
	p, err := page(r, "marker", "pageSize")
	if err != nil {
		return nil, err
	}
	ts, next, err := a.Policies.Targets(ctx, r.PathValue("policyName"), p)
	if err != nil {
		return nil, err
	}
	return listTargetsForPolicyOutput{Targets: append(make([]string, 0, len(ts)), ts...), NextMarker: next}, nil
}
