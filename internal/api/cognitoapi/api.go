// Package cognitoapi serves the Cognito Identity API (the
// cognito-identity awsJson 1.1 protocol) over internal/cognito: POST /
// with X-Amz-Target: AWSCognitoIdentityService.<Operation> and a JSON
// body; answers are JSON with Content-Type application/x-amz-json-1.1,
// errors carry their code in the X-Amzn-ErrorType header and the body
// {"__type": CODE, "message": TEXT}, as the AWS SDKs read them
// (aws-sdk-go-v2 service/cognitoidentity deserializers.go).
//
// GetId, GetCredentialsForIdentity and GetOpenIdToken are unsigned, as in
// AWS (an app has no credentials before it calls them): who may use an
// identity is decided by its pool and its logins. Every other operation
// is SigV4-signed for the signing name "cognito-identity" and authorized
// as the IAM action cognito-identity:<Operation> on the identity pool's
// ARN (arn:aws:cognito-identity:REGION:ACCOUNT:identitypool/ID; "*" for
// CreateIdentityPool and ListIdentityPools) through API.Authorize.
// SetIdentityPoolRoles also needs iam:PassRole on each role, as in AWS.
//
// Request bodies are size-limited and decoded as internal/awsapi decodes
// AWS request bodies: one JSON object, members of the wrong type refused
// (SerializationException), unknown members ignored as AWS ignores them.
package cognitoapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/cognito"
)

// TargetPrefix starts the X-Amz-Target header of every operation.
const TargetPrefix = "AWSCognitoIdentityService."

// SigningName is the SigV4 service name of the signed operations.
const SigningName = "cognito-identity"

// contentType is the media type of requests and answers.
const contentType = "application/x-amz-json-1.1"

// DefaultMaxBody bounds a request body when API.MaxBody is 0: ten logins
// of the largest token AWS allows (50,000 characters) fit.
const DefaultMaxBody = 1 << 20

// Codes of this surface that internal/cognito does not make.
const (
	serializationException awsapi.Code = "SerializationException"
	unknownOperation       awsapi.Code = "UnknownOperationException"
	accessDeniedException  awsapi.Code = "AccessDeniedException"
	internalErrorException awsapi.Code = cognito.InternalError
)

// Handles reports whether r is a request of this API: a POST whose
// X-Amz-Target names an AWSCognitoIdentityService operation. The server
// routes such requests to the API (they share "POST /" with nothing
// else).
func Handles(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("X-Amz-Target"), TargetPrefix)
}

// API is the Cognito Identity API. Set its fields before serving.
type API struct {
	Service *cognito.Service
	// Auth verifies the SigV4 signature of the signed operations.
	Auth *auth.Authenticator
	// Authorize decides whether p may perform action (e.g.
	// "cognito-identity:CreateIdentityPool") on resource (an ARN or "*");
	// an error refuses the call (AccessDeniedException with the error's
	// message when it is an *awsapi.Error of code AccessDeniedException).
	// Nil allows the administrator only.
	Authorize func(ctx context.Context, p auth.Principal, action, resource string) error
	// MaxBody bounds a request body, in bytes; 0 means DefaultMaxBody.
	MaxBody int64
	// Logger receives a line per failed request; nil means slog.Default().
	Logger *slog.Logger
}

// call is one request being served.
type call struct {
	r         *http.Request
	body      []byte
	principal auth.Principal // the signer (signed operations only)
	id        string         // request id
}

// operation is one served operation.
type operation struct {
	signed bool
	handle func(a *API, ctx context.Context, c *call) (any, error)
}

// ServeHTTP serves one request.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &call{r: r, id: uuid.NewString()}
	w.Header().Set(awsapi.RequestIDHeader, c.id)
	name := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), TargetPrefix)
	op, ok := operations[name]
	if r.Method != http.MethodPost || !ok || !strings.HasPrefix(r.Header.Get("X-Amz-Target"), TargetPrefix) {
		a.fail(w, c, name, &awsapi.Error{Code: unknownOperation, Message: "No operation " + strconv.Quote(r.Header.Get("X-Amz-Target")) + " for " + r.Method + " " + r.URL.Path + "."})
		return
	}
	ctx := r.Context()
	max := a.MaxBody
	if max <= 0 {
		max = DefaultMaxBody
	}
	body, err := awsapi.ReadBody(r, max)
	if err != nil {
		a.fail(w, c, name, err)
		return
	}
	c.body = body
	if op.signed {
		if a.Auth == nil {
			a.fail(w, c, name, errors.New("cognitoapi: API.Auth is not set"))
			return
		}
		if c.principal, err = a.Auth.SigV4(ctx, r, body, SigningName); err != nil {
			a.fail(w, c, name, err)
			return
		}
	}
	out, err := op.handle(a, ctx, c)
	if err != nil {
		a.fail(w, c, name, err)
		return
	}
	writeJSON(w, out)
}

// decode reads the call's body into v (an empty body is {}).
func (c *call) decode(v any) error {
	if err := awsapi.DecodeJSON(c.r, c.body, v); err != nil {
		e := awsapi.From(err)
		return &awsapi.Error{Code: serializationException, Message: e.Message, Cause: err}
	}
	return nil
}

// decodeRequired reads the call's body into v, whose member named member
// (*field, a field of v) is required.
func (c *call) decodeRequired(v any, member string, field *string) error {
	if err := c.decode(v); err != nil {
		return err
	}
	if *field == "" {
		return required(member)
	}
	return nil
}

// authorize asks API.Authorize whether the signer may perform
// cognito-identity:<op> on resource.
func (a *API) authorize(ctx context.Context, c *call, action, resource string) error {
	if a.Authorize == nil {
		if c.principal.IsAdmin() {
			return nil
		}
		return &awsapi.Error{Code: accessDeniedException, Message: "User: " + c.principal.String() + " is not authorized to perform: " + action + " on resource: " + resource}
	}
	err := a.Authorize(ctx, c.principal, action, resource)
	if err == nil {
		return nil
	}
	var e *awsapi.Error
	if errors.As(err, &e) && (e.Code == awsapi.AccessDenied || e.Code == awsapi.Forbidden) {
		return &awsapi.Error{Code: accessDeniedException, Message: e.Message, Cause: err}
	}
	return err
}

type errorBody struct {
	Type    awsapi.Code `json:"__type"`
	Message string      `json:"message"`
}

// fail writes err in the awsJson error shape and logs it. Codes of the
// shared plumbing take their cognito-identity names: an internal failure
// is InternalErrorException (500), a request the plumbing refused is
// InvalidParameterException; every other client error is 400, as AWS
// answers on this protocol.
func (a *API) fail(w http.ResponseWriter, c *call, op string, err error) {
	e := awsapi.From(err)
	code, msg, status := e.Code, e.Message, http.StatusBadRequest
	switch code {
	case awsapi.InternalFailure, internalErrorException:
		code, msg, status = internalErrorException, "An internal error occurred. Request id "+c.id+".", http.StatusInternalServerError
	case awsapi.ServiceUnavailable:
		status = http.StatusServiceUnavailable
	case awsapi.InvalidRequest:
		code = cognito.InvalidParameter
		if e.Status == http.StatusRequestEntityTooLarge {
			status = e.Status
		}
	}
	body, _ := json.Marshal(errorBody{Type: code, Message: msg})
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("X-Amzn-Errortype", string(code))
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
	attrs := []any{"op", op, "code", string(code), "status", status, "request_id", c.id, "remote", c.r.RemoteAddr}
	if c.principal.Kind != 0 {
		attrs = append(attrs, "principal", c.principal.String())
	}
	if e.Cause != nil {
		attrs = append(attrs, "cause", e.Cause.Error())
	}
	lvl := slog.LevelInfo
	if status >= 500 {
		lvl = slog.LevelError
	}
	a.log().Log(c.r.Context(), lvl, "cognito-identity request failed", attrs...)
}

func (a *API) log() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.Default()
}

// writeJSON writes a 200 answer; nil is the empty object.
func writeJSON(w http.ResponseWriter, v any) {
	if v == nil {
		v = struct{}{}
	}
	body, err := json.Marshal(v)
	if err != nil {
		body = []byte(`{"__type":"InternalErrorException","message":"An internal error occurred."}`)
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write(body)
		return
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}
