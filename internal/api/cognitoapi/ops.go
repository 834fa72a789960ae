package cognitoapi

import (
	"context"
	"encoding/json"
	"time"

	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/cognito"
)

// operations are the served operations by name (the X-Amz-Target
// suffix).
var operations = map[string]operation{
	"CreateIdentityPool":                 {signed: true, handle: (*API).createIdentityPool},
	"DescribeIdentityPool":               {signed: true, handle: (*API).describeIdentityPool},
	"UpdateIdentityPool":                 {signed: true, handle: (*API).updateIdentityPool},
	"ListIdentityPools":                  {signed: true, handle: (*API).listIdentityPools},
	"DeleteIdentityPool":                 {signed: true, handle: (*API).deleteIdentityPool},
	"SetIdentityPoolRoles":               {signed: true, handle: (*API).setIdentityPoolRoles},
	"GetIdentityPoolRoles":               {signed: true, handle: (*API).getIdentityPoolRoles},
	"DescribeIdentity":                   {signed: true, handle: (*API).describeIdentity},
	"ListIdentities":                     {signed: true, handle: (*API).listIdentities},
	"DeleteIdentities":                   {signed: true, handle: (*API).deleteIdentities},
	"GetOpenIdTokenForDeveloperIdentity": {signed: true, handle: (*API).getOpenIDTokenForDeveloperIdentity},
	"GetId":                              {handle: (*API).getID},
	"GetCredentialsForIdentity":          {handle: (*API).getCredentialsForIdentity},
	"GetOpenIdToken":                     {handle: (*API).getOpenIDToken},
}

const actionPrefix = "cognito-identity:"

// epoch is a timestamp as awsJson carries it: epoch seconds.
type epoch float64

func toEpoch(t time.Time) epoch { return epoch(float64(t.UnixMilli()) / 1000) }

func required(member string) error {
	return &awsapi.Error{Code: cognito.InvalidParameter, Message: member + " is required."}
}

func unsupported(member string) error {
	return &awsapi.Error{Code: cognito.InvalidParameter, Message: member + " is not supported by this server."}
}

// identityPool is the IdentityPool shape (the answer of Create, Describe
// and UpdateIdentityPool, and UpdateIdentityPool's request).
type identityPool struct {
	IdentityPoolID                 string            `json:"IdentityPoolId,omitempty"`
	IdentityPoolName               string            `json:"IdentityPoolName"`
	AllowUnauthenticatedIdentities *bool             `json:"AllowUnauthenticatedIdentities"`
	AllowClassicFlow               *bool             `json:"AllowClassicFlow,omitempty"`
	SupportedLoginProviders        map[string]string `json:"SupportedLoginProviders,omitempty"`
	DeveloperProviderName          string            `json:"DeveloperProviderName,omitempty"`
	OpenIDConnectProviderARNs      []string          `json:"OpenIdConnectProviderARNs,omitempty"`
	CognitoIdentityProviders       []json.RawMessage `json:"CognitoIdentityProviders,omitempty"`
	SamlProviderARNs               []string          `json:"SamlProviderARNs,omitempty"`
	IdentityPoolTags               map[string]string `json:"IdentityPoolTags,omitempty"`
}

// config checks the request members and returns the pool configuration.
func (in *identityPool) config() (cognito.PoolConfig, error) {
	if in.IdentityPoolName == "" {
		return cognito.PoolConfig{}, required("IdentityPoolName")
	}
	if in.AllowUnauthenticatedIdentities == nil {
		return cognito.PoolConfig{}, required("AllowUnauthenticatedIdentities")
	}
	if len(in.CognitoIdentityProviders) > 0 {
		return cognito.PoolConfig{}, unsupported("CognitoIdentityProviders (Amazon Cognito user pools)")
	}
	if len(in.SamlProviderARNs) > 0 {
		return cognito.PoolConfig{}, unsupported("SamlProviderARNs")
	}
	return cognito.PoolConfig{
		AllowUnauthenticated:      *in.AllowUnauthenticatedIdentities,
		AllowClassicFlow:          in.AllowClassicFlow != nil && *in.AllowClassicFlow,
		SupportedLoginProviders:   in.SupportedLoginProviders,
		DeveloperProviderName:     in.DeveloperProviderName,
		OpenIDConnectProviderARNs: in.OpenIDConnectProviderARNs,
		Tags:                      in.IdentityPoolTags,
	}, nil
}

func poolOutput(p cognito.Pool) identityPool {
	return identityPool{
		IdentityPoolID: p.ID, IdentityPoolName: p.Name,
		AllowUnauthenticatedIdentities: &p.AllowUnauthenticated, AllowClassicFlow: &p.AllowClassicFlow,
		SupportedLoginProviders: p.SupportedLoginProviders, DeveloperProviderName: p.DeveloperProviderName,
		OpenIDConnectProviderARNs: p.OpenIDConnectProviderARNs, IdentityPoolTags: p.Tags,
	}
}

func (a *API) createIdentityPool(ctx context.Context, c *call) (any, error) {
	var in identityPool
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	cfg, err := in.config()
	if err != nil {
		return nil, err
	}
	if err := a.authorize(ctx, c, actionPrefix+"CreateIdentityPool", "*"); err != nil {
		return nil, err
	}
	p, err := a.Service.CreatePool(ctx, in.IdentityPoolName, cfg)
	if err != nil {
		return nil, err
	}
	return poolOutput(p), nil
}

type poolIDInput struct {
	IdentityPoolID string `json:"IdentityPoolId"`
}

// poolCall decodes a request naming a pool and authorizes the action on
// it.
func (a *API) poolCall(ctx context.Context, c *call, op string, in any, poolID *string) error {
	if err := c.decodeRequired(in, "IdentityPoolId", poolID); err != nil {
		return err
	}
	return a.authorize(ctx, c, actionPrefix+op, a.Service.PoolARN(*poolID))
}

func (a *API) describeIdentityPool(ctx context.Context, c *call) (any, error) {
	var in poolIDInput
	if err := a.poolCall(ctx, c, "DescribeIdentityPool", &in, &in.IdentityPoolID); err != nil {
		return nil, err
	}
	p, err := a.Service.DescribePool(ctx, in.IdentityPoolID)
	if err != nil {
		return nil, err
	}
	return poolOutput(p), nil
}

func (a *API) updateIdentityPool(ctx context.Context, c *call) (any, error) {
	var in identityPool
	if err := a.poolCall(ctx, c, "UpdateIdentityPool", &in, &in.IdentityPoolID); err != nil {
		return nil, err
	}
	cfg, err := in.config()
	if err != nil {
		return nil, err
	}
	p, err := a.Service.UpdatePool(ctx, in.IdentityPoolID, in.IdentityPoolName, cfg)
	if err != nil {
		return nil, err
	}
	return poolOutput(p), nil
}

func (a *API) deleteIdentityPool(ctx context.Context, c *call) (any, error) {
	var in poolIDInput
	if err := a.poolCall(ctx, c, "DeleteIdentityPool", &in, &in.IdentityPoolID); err != nil {
		return nil, err
	}
	return nil, a.Service.DeletePool(ctx, in.IdentityPoolID)
}

type listPoolsInput struct {
	MaxResults *int   `json:"MaxResults"`
	NextToken  string `json:"NextToken"`
}

type poolItem struct {
	IdentityPoolID   string `json:"IdentityPoolId"`
	IdentityPoolName string `json:"IdentityPoolName"`
}

type listPoolsOutput struct {
	IdentityPools []poolItem `json:"IdentityPools"`
	NextToken     string     `json:"NextToken,omitempty"`
}

func (a *API) listIdentityPools(ctx context.Context, c *call) (any, error) {
	var in listPoolsInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if in.MaxResults == nil {
		return nil, required("MaxResults")
	}
	if err := a.authorize(ctx, c, actionPrefix+"ListIdentityPools", "*"); err != nil {
		return nil, err
	}
	ps, next, err := a.Service.ListPools(ctx, *in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := listPoolsOutput{IdentityPools: make([]poolItem, 0, len(ps)), NextToken: next}
	for _, p := range ps {
		out.IdentityPools = append(out.IdentityPools, poolItem{IdentityPoolID: p.ID, IdentityPoolName: p.Name})
	}
	return out, nil
}

type rolesInput struct {
	IdentityPoolID string            `json:"IdentityPoolId"`
	Roles          map[string]string `json:"Roles"`
	RoleMappings   map[string]any    `json:"RoleMappings"`
}

type rolesOutput struct {
	IdentityPoolID string            `json:"IdentityPoolId"`
	Roles          map[string]string `json:"Roles"`
}

// setIdentityPoolRoles sets the pool's roles. As in AWS, the caller must
// also be allowed iam:PassRole on each role (NotAuthorizedException
// "Access to Role ... is forbidden." otherwise).
func (a *API) setIdentityPoolRoles(ctx context.Context, c *call) (any, error) {
	var in rolesInput
	if err := a.poolCall(ctx, c, "SetIdentityPoolRoles", &in, &in.IdentityPoolID); err != nil {
		return nil, err
	}
	if in.Roles == nil {
		return nil, required("Roles")
	}
	if len(in.RoleMappings) > 0 {
		return nil, unsupported("RoleMappings")
	}
	var roles cognito.PoolRoles
	for k, v := range in.Roles {
		switch k {
		case "authenticated":
			roles.Authenticated = v
		case "unauthenticated":
			roles.Unauthenticated = v
		default:
			return nil, &awsapi.Error{Code: cognito.InvalidParameter, Message: "Roles: the key " + k + " must be authenticated or unauthenticated."}
		}
		if v == "" {
			continue
		}
		if err := a.authorize(ctx, c, "iam:PassRole", v); err != nil {
			if awsapi.Is(err, accessDeniedException) {
				return nil, &awsapi.Error{Code: cognito.NotAuthorized, Message: "Access to Role '" + v + "' is forbidden.", Cause: err}
			}
			return nil, err
		}
	}
	return nil, a.Service.SetRoles(ctx, in.IdentityPoolID, roles)
}

func (a *API) getIdentityPoolRoles(ctx context.Context, c *call) (any, error) {
	var in poolIDInput
	if err := a.poolCall(ctx, c, "GetIdentityPoolRoles", &in, &in.IdentityPoolID); err != nil {
		return nil, err
	}
	p, err := a.Service.DescribePool(ctx, in.IdentityPoolID)
	if err != nil {
		return nil, err
	}
	out := rolesOutput{IdentityPoolID: p.ID, Roles: map[string]string{}}
	if p.Roles.Authenticated != "" {
		out.Roles["authenticated"] = p.Roles.Authenticated
	}
	if p.Roles.Unauthenticated != "" {
		out.Roles["unauthenticated"] = p.Roles.Unauthenticated
	}
	return out, nil
}
