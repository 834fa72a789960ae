// Package iamapi serves the IAM and STS subsets on the HTTPS port in the
// awsQuery protocol, so that `aws iam ... --endpoint-url`, `aws sts
// get-caller-identity` and the SDKs' iam and sts clients work unchanged.
//
// Every request goes through the same steps, in order: a request id; the
// body, size-limited; the form (Action picks IAM or STS); SigV4
// authentication for the signing name of that service ("iam" or "sts");
// decoding of the operation's members; authorization of the operation's
// IAM action on its resource ARN through the injected Authorize (all IAM
// operations and sts:AssumeRole; GetCallerIdentity needs no permission);
// the iam.Service call; the XML answer or <ErrorResponse>. Each failure
// is logged once with its request id, and counted.
package iamapi

import (
	"context"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/awsapi/query"
	"github.com/moat-iot/moat/internal/iam"
)

// DefaultMaxBody is the body limit when Config.MaxBody is 0: room for the
// largest IAM request (a 131072-character policy document, percent-encoded
// up to three bytes a character, plus the other members).
const DefaultMaxBody = 512 << 10

// Authenticator verifies SigV4 signatures; *auth.Authenticator is one.
type Authenticator interface {
	SigV4(ctx context.Context, r *http.Request, body []byte, services ...string) (auth.Principal, error)
}

// Authorize decides whether p may perform action (e.g. "iam:CreateUser")
// on resource (an ARN, or "*"). A refusal is an error: an *awsapi.Error
// keeps its code (AccessDeniedException becomes AccessDenied), any other
// error is answered as AccessDenied.
type Authorize func(ctx context.Context, p auth.Principal, action, resource string) error

// Config configures an API.
type Config struct {
	// IAM is the service the operations call. Required.
	IAM *iam.Service
	// Auth authenticates requests. Required.
	Auth Authenticator
	// Authorize decides every IAM action and sts:AssumeRole. nil allows
	// only the administrator (auth.Principal.IsAdmin).
	Authorize Authorize
	// MaxBody is the largest request body accepted, in bytes; 0 means
	// DefaultMaxBody.
	MaxBody int64
	// Logger receives one line per failed request; nil means
	// slog.Default().
	Logger *slog.Logger
	// Registerer receives the request metrics
	// (moat_query_api_requests_total, moat_query_api_request_duration_seconds);
	// nil means none.
	Registerer prometheus.Registerer
}

// API is the http.Handler for awsQuery requests: the lead mounts it for
// POST / requests with a form body.
type API struct {
	cfg  Config
	reqs *prometheus.CounterVec
	lat  *prometheus.HistogramVec
}

// New returns the API. It panics if IAM or Auth is nil or the metrics
// cannot be registered: both are wiring mistakes.
func New(cfg Config) *API {
	if cfg.IAM == nil || cfg.Auth == nil {
		panic("iamapi: Config.IAM and Config.Auth are required")
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	a := &API{cfg: cfg}
	a.reqs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "moat_query_api_requests_total", Help: "IAM and STS (awsQuery) requests by service, operation and result code.",
	}, []string{"service", "operation", "code"})
	a.lat = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "moat_query_api_request_duration_seconds", Help: "IAM and STS (awsQuery) request latency by operation.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
	}, []string{"service", "operation"})
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(a.reqs, a.lat)
	}
	return a
}

// IsQueryRequest reports whether r looks like an awsQuery call: a POST
// with a form body. The lead's mux uses it to send POST / here.
func IsQueryRequest(r *http.Request) bool {
	if r.Method != http.MethodPost {
		return false
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/x-www-form-urlencoded"
}

// request is one call in progress.
type request struct {
	*http.Request
	id        string
	start     time.Time
	service   string // "iam" or "sts"; "" until known
	ns        string
	action    string
	principal auth.Principal
}

// ServeHTTP serves one awsQuery request.
func (a *API) ServeHTTP(w http.ResponseWriter, hr *http.Request) {
	r := &request{Request: hr, id: uuid.NewString(), start: time.Now(), ns: query.IAMNamespace}
	result, err := a.serve(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	query.Write(w, r.ns, r.action, r.id, result)
	a.observe(r, "200")
	a.log().Debug("query api", "service", r.service, "op", r.action, "principal", r.principal.String(), "request_id", r.id, "duration", time.Since(r.start))
}

func (a *API) serve(r *request) (any, error) {
	ctx := r.Context()
	if r.Method != http.MethodPost {
		return nil, &awsapi.Error{Code: "MethodNotAllowed", Status: http.StatusMethodNotAllowed,
			Message: "The IAM and STS APIs take POST requests with a form body."}
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, query.Errorf(query.MalformedQueryString, "The request body must be application/x-www-form-urlencoded.")
	}
	body, err := awsapi.ReadBody(r.Request, a.cfg.MaxBody)
	if err != nil {
		return nil, err
	}
	form, err := query.ParseForm(body)
	if err != nil {
		return nil, err
	}
	op, err := a.route(r, form)
	if err != nil {
		return nil, err
	}
	r.principal, err = a.cfg.Auth.SigV4(ctx, r.Request, body, r.service)
	if err != nil {
		return nil, err
	}
	c := &call{api: a, req: r, form: form, p: r.principal}
	return op.run(ctx, c)
}

// route finds the operation an Action names and sets the request's
// service and namespace.
func (a *API) route(r *request, form *query.Form) (operation, error) {
	if form.Action == "" {
		return operation{}, query.Errorf(query.MissingAction, "The request must contain the parameter Action.")
	}
	service, ns, version := "iam", query.IAMNamespace, iamVersion
	op, ok := iamOperations[form.Action]
	if !ok {
		if op, ok = stsOperations[form.Action]; ok {
			service, ns, version = "sts", query.STSNamespace, stsVersion
		}
	}
	if ok {
		r.service, r.ns = service, ns
	}
	if !ok || form.Version != "" && form.Version != version {
		v := form.Version
		if v == "" {
			v = version
		}
		return operation{}, query.Errorf(query.InvalidAction, "Could not find operation %s for version %s.", clipAction(form.Action), clipAction(v))
	}
	r.action = form.Action
	return op, nil
}

// API versions of the two services.
const (
	iamVersion = "2010-05-08"
	stsVersion = "2011-06-15"
)

func clipAction(s string) string {
	if len(s) > 64 {
		return strings.ToValidUTF8(s[:64], "") + "..."
	}
	return s
}

// fail writes err and logs it once.
func (a *API) fail(w http.ResponseWriter, r *request, err error) {
	e := query.Translate(apiError(err))
	query.WriteError(w, r.ns, r.id, e)
	a.observe(r, string(e.Code))
	lvl := slog.LevelInfo
	if e.HTTPStatus() >= 500 {
		lvl = slog.LevelError
	}
	op := r.action
	if op == "" {
		op = "unknown"
	}
	attrs := []any{"service", r.service, "op", op, "code", string(e.Code), "status", e.HTTPStatus(),
		"request_id", r.id, "remote", r.RemoteAddr}
	if r.principal.Kind != 0 {
		attrs = append(attrs, "principal", r.principal.String())
	}
	if e.Cause != nil {
		attrs = append(attrs, "cause", e.Cause.Error())
	}
	a.log().Log(r.Context(), lvl, "query api request failed", attrs...)
}

// apiError turns an iam.Error into an *awsapi.Error with its status; an
// *awsapi.Error (which may wrap an iam.Error as its internal cause, such
// as an AccessDenied caused by a vanished user) and other errors pass
// through for query.Translate.
func apiError(err error) error {
	var ae *awsapi.Error
	if errors.As(err, &ae) {
		return err
	}
	var ie *iam.Error
	if errors.As(err, &ie) {
		return &awsapi.Error{Code: awsapi.Code(ie.Code), Status: ie.Code.Status(), Message: ie.Message}
	}
	return err
}

func (a *API) observe(r *request, code string) {
	op := r.action
	if op == "" {
		op = "unknown"
	}
	a.reqs.WithLabelValues(r.service, op, code).Inc()
	a.lat.WithLabelValues(r.service, op).Observe(time.Since(r.start).Seconds())
}

func (a *API) log() *slog.Logger {
	if a.cfg.Logger != nil {
		return a.cfg.Logger
	}
	return slog.Default()
}
