package data

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/moat-iot/moat/internal/api"
	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/shadow"
	"github.com/moat-iot/moat/internal/shadow/document"
	"github.com/moat-iot/moat/internal/store"
)

// Shadows is the Device Shadow service as the data plane calls it;
// *shadow.Service implements it.
type Shadows interface {
	Get(ctx context.Context, k shadow.Key) ([]byte, error)
	Update(ctx context.Context, k shadow.Key, payload []byte) ([]byte, error)
	Delete(ctx context.Context, k shadow.Key) ([]byte, error)
	NamedShadows(ctx context.Context, thing string, p store.Page) ([]string, string, error)
}

var _ Shadows = (*shadow.Service)(nil)

// shadowOperations are the shadow calls of iot-data, served when the API
// has a shadow service.
func (a *API) shadowOperations() []api.Operation {
	if a.Shadows == nil {
		return nil
	}
	return []api.Operation{
		{Name: "GetThingShadow", Method: http.MethodGet, Path: "/things/{thingName}/shadow", Handle: a.getShadow},
		{Name: "UpdateThingShadow", Method: http.MethodPost, Path: "/things/{thingName}/shadow", Handle: a.updateShadow},
		{Name: "DeleteThingShadow", Method: http.MethodDelete, Path: "/things/{thingName}/shadow", Handle: a.deleteShadow},
		{Name: "ListNamedShadowsForThing", Method: http.MethodGet, Path: "/api/things/shadow/ListNamedShadowsForThing/{thingName}", Handle: a.listNamedShadows},
	}
}

// getShadow serves GetThingShadow: GET /things/{thingName}/shadow?name=.
// The body is the shadow document, as on get/accepted.
func (a *API) getShadow(ctx context.Context, r *api.Request) (any, error) {
	k, err := a.shadowRequest(ctx, r, "iot:GetThingShadow")
	if err != nil {
		return nil, err
	}
	doc, err := a.Shadows.Get(ctx, k)
	return rawShadow(doc, err)
}

// updateShadow serves UpdateThingShadow: POST /things/{thingName}/shadow
// ?name= with the request state document as the body. The answer is the
// update/accepted document; the accepted, delta and documents messages go
// out on MQTT as for a device's update.
func (a *API) updateShadow(ctx context.Context, r *api.Request) (any, error) {
	k, err := a.shadowRequest(ctx, r, "iot:UpdateThingShadow")
	if err != nil {
		return nil, err
	}
	doc, err := a.Shadows.Update(ctx, k, r.Body)
	return rawShadow(doc, err)
}

// deleteShadow serves DeleteThingShadow: DELETE /things/{thingName}/shadow
// ?name=. The answer is the delete/accepted document.
func (a *API) deleteShadow(ctx context.Context, r *api.Request) (any, error) {
	k, err := a.shadowRequest(ctx, r, "iot:DeleteThingShadow")
	if err != nil {
		return nil, err
	}
	doc, err := a.Shadows.Delete(ctx, k)
	return rawShadow(doc, err)
}

type listNamedShadowsOutput struct {
	Results   []string `json:"results"`
	NextToken *string  `json:"nextToken"`
	Timestamp int64    `json:"timestamp"`
}

// listNamedShadows serves ListNamedShadowsForThing: GET
// /api/things/shadow/ListNamedShadowsForThing/{thingName}?nextToken=
// &pageSize= (1..100). Names in order; the classic shadow is not listed.
func (a *API) listNamedShadows(ctx context.Context, r *api.Request) (any, error) {
	thing := r.PathValue("thingName")
	if err := (shadow.Key{Thing: thing}).Check(); err != nil {
		return nil, err
	}
	q, err := singleQuery(r.URL.Query(), "nextToken", "pageSize")
	if err != nil {
		return nil, err
	}
	p := store.Page{After: q["nextToken"], Limit: 100}
	if s, ok := q["pageSize"]; ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			return nil, awsapi.Errorf(awsapi.InvalidRequest, "pageSize must be an integer from 1 to 100, got %q.", s)
		}
		p.Limit = n
	}
	if err := a.allowThing(ctx, r, "iot:ListNamedShadowsForThing", a.ARNs.Thing(thing)); err != nil {
		return nil, err
	}
	names, next, err := a.Shadows.NamedShadows(ctx, thing, p)
	if errors.Is(err, store.ErrInvalidCursor) {
		return nil, awsapi.Errorf(awsapi.InvalidRequest, "The nextToken is not valid.")
	}
	if err != nil {
		return nil, awsapi.Internal(err)
	}
	out := listNamedShadowsOutput{Results: names, Timestamp: time.Now().Unix()}
	if out.Results == nil {
		out.Results = []string{}
	}
	if next != "" {
		out.NextToken = &next
	}
	return out, nil
}

// shadowRequest reads and checks the shadow a request names and decides
// the action on it: thing/{thingName} for the classic shadow,
// thing/{thingName}/{shadowName} for a named one (AWS's action resources).
func (a *API) shadowRequest(ctx context.Context, r *api.Request, action string) (shadow.Key, error) {
	q, err := singleQuery(r.URL.Query(), "name")
	if err != nil {
		return shadow.Key{}, err
	}
	k := shadow.Key{Thing: r.PathValue("thingName"), Name: q["name"]}
	if _, ok := r.URL.Query()["name"]; ok && k.Name == "" {
		return shadow.Key{}, awsapi.Errorf(awsapi.InvalidRequest, "The shadow name must not be empty.")
	}
	if err := k.Check(); err != nil {
		return shadow.Key{}, err
	}
	res := a.ARNs.Thing(k.Thing)
	if k.Name != "" {
		res += "/" + k.Name
	}
	return k, a.allowThing(ctx, r, action, res)
}

// allowThing decides a thing-resource action for the caller, by its
// policies bound without a client id or thing, as for HTTPS publish.
func (a *API) allowThing(ctx context.Context, r *api.Request, action, resourceARN string) error {
	perms, err := a.Gate.BindHTTP(ctx, r.Principal, remoteAddr(r.RemoteAddr))
	if err != nil {
		return bindError(err)
	}
	if !perms.AllowARN(action, resourceARN) {
		return forbidden(perms.Denied(action, resourceARN))
	}
	return nil
}

// rawShadow answers with a shadow document, or with the AWS error of the
// service's refusal.
func rawShadow(doc []byte, err error) (any, error) {
	if err != nil {
		return nil, shadowError(err)
	}
	return awsapi.Raw{ContentType: "application/json", Body: doc}, nil
}

// shadowCodes are the iot-data errors for the shadow service's codes.
var shadowCodes = map[int]awsapi.Code{
	400: awsapi.InvalidRequest,
	401: awsapi.Unauthorized,
	403: awsapi.Forbidden,
	404: awsapi.ResourceNotFound,
	409: awsapi.Conflict,
	413: awsapi.RequestEntityTooLarge,
	415: awsapi.UnsupportedEncoding,
	429: awsapi.Throttling,
	500: awsapi.InternalFailure,
	503: awsapi.ServiceUnavailable,
}

func shadowError(err error) error {
	var de *document.Error
	if errors.As(err, &de) {
		code, ok := shadowCodes[de.Code]
		if !ok || de.Code == 500 {
			return awsapi.Internal(err)
		}
		return &awsapi.Error{Code: code, Message: de.Message, Status: de.Code}
	}
	var ae *awsapi.Error
	if errors.As(err, &ae) {
		return ae
	}
	if errors.Is(err, shadow.ErrClosed) {
		return awsapi.Errorf(awsapi.ServiceUnavailable, "The shadow service is stopping.")
	}
	return awsapi.Internal(err)
}
