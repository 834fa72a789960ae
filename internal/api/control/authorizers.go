package control

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/moat-iot/moat/internal/api"
	"github.com/moat-iot/moat/internal/authorizer"
	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/tags"
)

// AuthorizerService is what the custom authorizer operations need
// (*authorizer.Service). Its errors are *awsapi.Error values for what the
// caller must see (InvalidRequestException, ResourceNotFoundException,
// ResourceAlreadyExistsException, LimitExceededException,
// DeleteConflictException); TestInvoke's are authorizer.ErrDenied
// refusals, which testInvokeErr maps.
type AuthorizerService interface {
	Create(ctx context.Context, name string, c authorizer.Config) (authorizer.Authorizer, error)
	Get(ctx context.Context, name string) (authorizer.Authorizer, error)
	Update(ctx context.Context, name string, u authorizer.Update) (authorizer.Authorizer, error)
	Delete(ctx context.Context, name string) error
	List(ctx context.Context, q authorizer.ListQuery) ([]authorizer.Authorizer, string, error)
	SetDefault(ctx context.Context, name string) (authorizer.Authorizer, error)
	Default(ctx context.Context) (authorizer.Authorizer, error)
	ClearDefault(ctx context.Context) error
	TestInvoke(ctx context.Context, name string, req authorizer.Request) (authorizer.Response, error)
}

var _ AuthorizerService = (*authorizer.Service)(nil)

// invalidResponse is TestInvokeAuthorizer's error for a function that
// failed or answered a document that is not a valid response (botocore:
// InvalidResponseException, 400).
const invalidResponse awsapi.Code = "InvalidResponseException"

// authorizerOperations are the custom authorizer operations; none when
// a.Authorizers is nil. Each names its resource as the service
// authorization reference does: the authorizer's ARN, none
// (api.NoResource) for ListAuthorizers, DescribeDefaultAuthorizer and
// ClearDefaultAuthorizer.
func (a *API) authorizerOperations() []api.Operation {
	if a.Authorizers == nil {
		return nil
	}
	byPath := func(r *api.Request) string { return a.authorizerARN(r.PathValue("authorizerName")) }
	return []api.Operation{
		{Name: "CreateAuthorizer", Method: http.MethodPost, Path: "/authorizer/{authorizerName}", Handle: a.createAuthorizer, Resource: byPath},
		{Name: "DescribeAuthorizer", Method: http.MethodGet, Path: "/authorizer/{authorizerName}", Handle: a.describeAuthorizer, Resource: byPath},
		{Name: "UpdateAuthorizer", Method: http.MethodPut, Path: "/authorizer/{authorizerName}", Handle: a.updateAuthorizer, Resource: byPath},
		{Name: "DeleteAuthorizer", Method: http.MethodDelete, Path: "/authorizer/{authorizerName}", Handle: a.deleteAuthorizer, Resource: byPath},
		{Name: "TestInvokeAuthorizer", Method: http.MethodPost, Path: "/authorizer/{authorizerName}/test", Handle: a.testInvokeAuthorizer, Resource: byPath},
		{Name: "ListAuthorizers", Method: http.MethodGet, Path: "/authorizers", Handle: a.listAuthorizers, Resource: api.NoResource},
		{Name: "SetDefaultAuthorizer", Method: http.MethodPost, Path: "/default-authorizer", Handle: a.setDefaultAuthorizer,
			Resource: a.defaultAuthorizerResource},
		{Name: "DescribeDefaultAuthorizer", Method: http.MethodGet, Path: "/default-authorizer", Handle: a.describeDefaultAuthorizer, Resource: api.NoResource},
		{Name: "ClearDefaultAuthorizer", Method: http.MethodDelete, Path: "/default-authorizer", Handle: a.clearDefaultAuthorizer, Resource: api.NoResource},
	}
}

func (a *API) authorizerARN(name string) string { return a.ARNs.IoT("authorizer", name) }

// authorizerDescription is the AuthorizerDescription shape.
type authorizerDescription struct {
	AuthorizerName         string            `json:"authorizerName"`
	AuthorizerArn          string            `json:"authorizerArn"`
	AuthorizerFunctionArn  string            `json:"authorizerFunctionArn"`
	TokenKeyName           string            `json:"tokenKeyName,omitempty"`
	TokenSigningPublicKeys map[string]string `json:"tokenSigningPublicKeys,omitempty"`
	Status                 string            `json:"status"`
	CreationDate           epoch             `json:"creationDate"`
	LastModifiedDate       epoch             `json:"lastModifiedDate"`
	SigningDisabled        bool              `json:"signingDisabled"`
	EnableCachingForHTTP   bool              `json:"enableCachingForHttp"`
}

func describe(z authorizer.Authorizer) authorizerDescription {
	return authorizerDescription{
		AuthorizerName: z.Name, AuthorizerArn: z.ARN, AuthorizerFunctionArn: z.FunctionARN,
		TokenKeyName: z.TokenKeyName, TokenSigningPublicKeys: z.SigningKeys, Status: string(z.Status),
		CreationDate: toEpoch(z.CreatedAt), LastModifiedDate: toEpoch(z.UpdatedAt),
		SigningDisabled: z.SigningDisabled, EnableCachingForHTTP: z.EnableCachingForHTTP,
	}
}

type describeAuthorizerOutput struct {
	AuthorizerDescription authorizerDescription `json:"authorizerDescription"`
}

// authorizerNameARN is the output of Create, Update and
// SetDefaultAuthorizer.
type authorizerNameARN struct {
	AuthorizerName string `json:"authorizerName"`
	AuthorizerArn  string `json:"authorizerArn"`
}

type createAuthorizerInput struct {
	AuthorizerFunctionArn  string            `json:"authorizerFunctionArn"`
	TokenKeyName           string            `json:"tokenKeyName"`
	TokenSigningPublicKeys map[string]string `json:"tokenSigningPublicKeys"`
	Status                 string            `json:"status"`
	Tags                   []tagJSON         `json:"tags"`
	SigningDisabled        bool              `json:"signingDisabled"`
	EnableCachingForHTTP   bool              `json:"enableCachingForHttp"`
}

// nameARN is the answer of Create, Update and SetDefaultAuthorizer, or
// the error.
func nameARN(z authorizer.Authorizer, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return authorizerNameARN{AuthorizerName: z.Name, AuthorizerArn: z.ARN}, nil
}

// description is the answer of Describe and DescribeDefaultAuthorizer,
// or the error.
func description(z authorizer.Authorizer, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return describeAuthorizerOutput{AuthorizerDescription: describe(z)}, nil
}

// optionalStatus reads a status member or parameter; "" when absent.
func optionalStatus(s string) (authorizer.Status, error) {
	if s == "" {
		return "", nil
	}
	return authorizer.ParseStatus("status", s)
}

func (a *API) createAuthorizer(ctx context.Context, r *api.Request) (any, error) {
	var in createAuthorizerInput
	if err := awsapi.DecodeJSON(r.Request, r.Body, &in); err != nil {
		return nil, err
	}
	c := authorizer.Config{
		FunctionARN: in.AuthorizerFunctionArn, TokenKeyName: in.TokenKeyName, SigningKeys: in.TokenSigningPublicKeys,
		SigningDisabled: in.SigningDisabled, EnableCachingForHTTP: in.EnableCachingForHTTP,
	}
	var err error
	if c.Status, err = optionalStatus(in.Status); err != nil {
		return nil, err
	}
	if c.Tags, err = tags.Check("tags", fromTagJSON(in.Tags)); err != nil {
		return nil, err
	}
	return nameARN(a.Authorizers.Create(ctx, r.PathValue("authorizerName"), c))
}

func (a *API) describeAuthorizer(ctx context.Context, r *api.Request) (any, error) {
	return description(a.Authorizers.Get(ctx, r.PathValue("authorizerName")))
}

type updateAuthorizerInput struct {
	AuthorizerFunctionArn  *string           `json:"authorizerFunctionArn"`
	TokenKeyName           *string           `json:"tokenKeyName"`
	TokenSigningPublicKeys map[string]string `json:"tokenSigningPublicKeys"`
	Status                 string            `json:"status"`
	EnableCachingForHTTP   *bool             `json:"enableCachingForHttp"`
}

func (a *API) updateAuthorizer(ctx context.Context, r *api.Request) (any, error) {
	var in updateAuthorizerInput
	if err := awsapi.DecodeJSON(r.Request, r.Body, &in); err != nil {
		return nil, err
	}
	u := authorizer.Update{
		FunctionARN: in.AuthorizerFunctionArn, TokenKeyName: in.TokenKeyName,
		SigningKeys: in.TokenSigningPublicKeys, EnableCachingForHTTP: in.EnableCachingForHTTP,
	}
	var err error
	if u.Status, err = optionalStatus(in.Status); err != nil {
		return nil, err
	}
	return nameARN(a.Authorizers.Update(ctx, r.PathValue("authorizerName"), u))
}

func (a *API) deleteAuthorizer(ctx context.Context, r *api.Request) (any, error) {
	return nil, a.Authorizers.Delete(ctx, r.PathValue("authorizerName"))
}

type authorizerSummary struct {
	AuthorizerName string `json:"authorizerName"`
	AuthorizerArn  string `json:"authorizerArn"`
}

type listAuthorizersOutput struct {
	Authorizers []authorizerSummary `json:"authorizers"`
	NextMarker  string              `json:"nextMarker,omitempty"`
}

func (a *API) listAuthorizers(ctx context.Context, r *api.Request) (any, error) {
	p, asc, err := ascendingPage(r)
	if err != nil {
		return nil, err
	}
	q := authorizer.ListQuery{Ascending: asc, Marker: p.After, PageSize: p.Limit}
	if q.Status, err = optionalStatus(r.URL.Query().Get("status")); err != nil {
		return nil, err
	}
	zs, next, err := a.Authorizers.List(ctx, q)
	if err != nil {
		return nil, err
	}
	out := listAuthorizersOutput{Authorizers: make([]authorizerSummary, 0, len(zs)), NextMarker: next}
	for _, z := range zs {
		out.Authorizers = append(out.Authorizers, authorizerSummary{AuthorizerName: z.Name, AuthorizerArn: z.ARN})
	}
	return out, nil
}

type setDefaultAuthorizerInput struct {
	AuthorizerName string `json:"authorizerName"`
}

// defaultAuthorizerResource is SetDefaultAuthorizer's resource: the ARN
// of the authorizer its body names; "*" when the body does not say (the
// handler then refuses it).
func (a *API) defaultAuthorizerResource(r *api.Request) string {
	var in setDefaultAuthorizerInput
	if json.Unmarshal(r.Body, &in) != nil || in.AuthorizerName == "" {
		return "*"
	}
	return a.authorizerARN(in.AuthorizerName)
}

func (a *API) setDefaultAuthorizer(ctx context.Context, r *api.Request) (any, error) {
	var in setDefaultAuthorizerInput
	if err := awsapi.DecodeJSON(r.Request, r.Body, &in); err != nil {
		return nil, err
	}
	if in.AuthorizerName == "" {
		return nil, awsapi.Errorf(awsapi.InvalidRequest, "authorizerName is required.")
	}
	return nameARN(a.Authorizers.SetDefault(ctx, in.AuthorizerName))
}

func (a *API) describeDefaultAuthorizer(ctx context.Context, _ *api.Request) (any, error) {
	return description(a.Authorizers.Default(ctx))
}

func (a *API) clearDefaultAuthorizer(ctx context.Context, _ *api.Request) (any, error) {
	return nil, a.Authorizers.ClearDefault(ctx)
}

// testInvokeAuthorizerInput is TestInvokeAuthorizerRequest.
type testInvokeAuthorizerInput struct {
	Token          *string `json:"token"`
	TokenSignature *string `json:"tokenSignature"`
	HTTPContext    *struct {
		Headers     map[string]string `json:"headers"`
		QueryString *string           `json:"queryString"`
	} `json:"httpContext"`
	MQTTContext *struct {
		Username *string `json:"username"`
		Password []byte  `json:"password"` // a blob: base64 in JSON
		ClientID *string `json:"clientId"`
	} `json:"mqttContext"`
	TLSContext *struct {
		ServerName *string `json:"serverName"`
	} `json:"tlsContext"`
}

type testInvokeAuthorizerOutput struct {
	IsAuthenticated          bool     `json:"isAuthenticated"`
	PrincipalID              string   `json:"principalId,omitempty"`
	PolicyDocuments          []string `json:"policyDocuments"`
	RefreshAfterInSeconds    int      `json:"refreshAfterInSeconds,omitempty"`
	DisconnectAfterInSeconds int      `json:"disconnectAfterInSeconds,omitempty"`
}

// optional checks the length of an optional string member: absent, or
// min to max characters.
func optional(member string, v *string, min, max int) (string, error) {
	if v == nil {
		return "", nil
	}
	if n := utf8.RuneCountInString(*v); n < min || n > max {
		return "", awsapi.Errorf(awsapi.InvalidRequest, "%s must be %d to %d characters long, got %d.", member, min, max, n)
	}
	return *v, nil
}

// testInvokeRequest turns TestInvokeAuthorizer's input into the request a
// connection would make, checked against the model's lengths. The
// protocols are those whose context is given.
func testInvokeRequest(in *testInvokeAuthorizerInput) (authorizer.Request, error) {
	req := authorizer.Request{Protocols: []string{}}
	var err error
	if req.Token, err = optional("token", in.Token, 1, 6144); err != nil {
		return req, err
	}
	if req.TokenSignature, err = optional("tokenSignature", in.TokenSignature, 1, 2560); err != nil {
		return req, err
	}
	if c := in.TLSContext; c != nil {
		req.Protocols = append(req.Protocols, authorizer.ProtocolTLS)
		if req.ServerName, err = optional("tlsContext.serverName", c.ServerName, 1, 253); err != nil {
			return req, err
		}
	}
	if c := in.HTTPContext; c != nil {
		req.Protocols = append(req.Protocols, authorizer.ProtocolHTTP)
		req.Headers = make(map[string]string, len(c.Headers))
		for k, v := range c.Headers {
			if k == "" || len(k) > 8192 || v == "" || len(v) > 8192 {
				return req, awsapi.Errorf(awsapi.InvalidRequest, "httpContext.headers names and values must be 1 to 8192 characters long.")
			}
			req.Headers[strings.ToLower(k)] = v
		}
		if req.QueryString, err = optional("httpContext.queryString", c.QueryString, 1, 4096); err != nil {
			return req, err
		}
	}
	if c := in.MQTTContext; c != nil {
		req.Protocols = append(req.Protocols, authorizer.ProtocolMQTT)
		if req.Username, err = optional("mqttContext.username", c.Username, 1, 65535); err != nil {
			return req, err
		}
		if req.ClientID, err = optional("mqttContext.clientId", c.ClientID, 1, 65535); err != nil {
			return req, err
		}
		if c.Password != nil && (len(c.Password) < 1 || len(c.Password) > 65535) {
			return req, awsapi.Errorf(awsapi.InvalidRequest, "mqttContext.password must be 1 to 65535 bytes long, got %d.", len(c.Password))
		}
		req.Password = c.Password
	}
	return req, nil
}

func (a *API) testInvokeAuthorizer(ctx context.Context, r *api.Request) (any, error) {
	name := r.PathValue("authorizerName")
	if err := authorizer.CheckName("authorizerName", name); err != nil {
		return nil, err
	}
	var in testInvokeAuthorizerInput
	if err := awsapi.DecodeJSON(r.Request, r.Body, &in); err != nil {
		return nil, err
	}
	req, err := testInvokeRequest(&in)
	if err != nil {
		return nil, err
	}
	resp, err := a.Authorizers.TestInvoke(ctx, name, req)
	if err != nil {
		return nil, testInvokeErr(err)
	}
	out := testInvokeAuthorizerOutput{
		IsAuthenticated: resp.IsAuthenticated, PrincipalID: resp.PrincipalID, PolicyDocuments: resp.PolicyDocuments,
		RefreshAfterInSeconds: resp.RefreshAfterInSeconds, DisconnectAfterInSeconds: resp.DisconnectAfterInSeconds,
	}
	if out.PolicyDocuments == nil {
		out.PolicyDocuments = []string{}
	}
	return out, nil
}

// testInvokeErr maps a refusal of the authentication path to
// TestInvokeAuthorizer's errors: an authorizer that does not exist is
// ResourceNotFoundException; a function that failed or answered badly
// InvalidResponseException; too many calls in flight ThrottlingException;
// a missing or bad token signature, or a function moat cannot call,
// InvalidRequestException. The message says what the refusal was, with
// the start of the function's answer when that was the trouble.
func testInvokeErr(err error) error {
	if !errors.Is(err, authorizer.ErrDenied) {
		return err
	}
	msg := strings.TrimPrefix(err.Error(), authorizer.ErrDenied.Error()+": ")
	msg = strings.ToUpper(msg[:1]) + msg[1:] + "."
	if ans := authorizer.FunctionAnswer(err); ans != "" {
		msg += " The function answered: " + ans
	}
	code := awsapi.InvalidRequest
	switch {
	case errors.Is(err, authorizer.ErrUnknownAuthorizer):
		code = awsapi.ResourceNotFound
	case errors.Is(err, authorizer.ErrFunctionFailed), errors.Is(err, authorizer.ErrInvalidResponse):
		code = invalidResponse
	case errors.Is(err, authorizer.ErrBusy):
		code = awsapi.Throttling
	}
	return &awsapi.Error{Code: code, Message: msg, Cause: err}
}
