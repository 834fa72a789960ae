// Package api is the HTTP operation router shared by moat's AWS-compatible
// surfaces (the iot control plane, the iot-data plane, later the identity
// API). A surface declares its operations (name, method, path pattern,
// handler); the router gives each request, in this order: a request id, a
// size-limited body, authentication, authorization of the operation's
// action, the handler, and the AWS REST-JSON response or error shape, with
// a log line and metrics per operation.
package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/store"
)

// Request is what a handler gets.
type Request struct {
	*http.Request
	// Body is the whole request body, already read within the size limit.
	Body      []byte
	Principal auth.Principal
	ID        string // request id, also in the X-Amzn-RequestId header
	// authorize is the group's Authorize for this caller (Authorize).
	authorize func(ctx context.Context, action, resource string) error
}

// Authorize decides a further action the operation needs besides its own
// (iam:PassRole on a role the request names), as the operation's own
// action was: the same principal, the same policies, the same refusal.
// A Request the router did not make allows nothing.
func (r *Request) Authorize(ctx context.Context, action, resource string) error {
	if r.authorize == nil {
		return awsapi.Errorf(awsapi.AccessDenied, "%s on %s cannot be authorized here.", action, resource)
	}
	return r.authorize(ctx, action, resource)
}

// Handler serves one operation. It returns the response value (encoded as
// JSON; nil for an empty body; an awsapi.Raw as is) or an error
// (an *awsapi.Error for what the caller must see).
type Handler func(ctx context.Context, r *Request) (any, error)

// Operation is one API operation.
type Operation struct {
	Name   string // e.g. "CreateThing"; the IAM action is Prefix+Name
	Method string // GET, POST, ...
	// Path is a net/http ServeMux pattern without the method, e.g.
	// "/things/{thingName}". A trailing-slash form is routed too.
	Path   string
	Handle Handler
	// Resource returns the ARN of the resource the operation acts on, as
	// AWS's service authorization reference names it for the action (the
	// thing's ARN for iot:DescribeThing), from the request's path, query
	// or body; nil means the action takes no resource ("*"). Set it to
	// NoResource to say so explicitly. When it cannot read the resource
	// from a malformed request it returns "*": it must read the request as
	// the handler does, so that the handler then refuses it.
	Resource func(r *Request) string
	// Resources, if set, is used instead of Resource by an action that
	// names several resources (iot:AddThingToThingGroup: the thing and
	// the group): each must be allowed. An empty list means "*".
	Resources func(r *Request) []string
}

// NoResource is the Resource of an operation whose action takes no
// resource in AWS's service authorization reference (iot:ListThings): it
// is decided on "*".
func NoResource(*Request) string { return "*" }

// resources lists the resources the operation's action is authorized on.
func (op *Operation) resources(r *Request) []string {
	switch {
	case op.Resources != nil:
		if rs := op.Resources(r); len(rs) > 0 {
			return rs
		}
	case op.Resource != nil:
		return []string{op.Resource(r)}
	}
	return []string{"*"}
}

// Authenticate identifies the caller of a request whose body was read.
type Authenticate func(ctx context.Context, r *http.Request, body []byte) (auth.Principal, error)

// Authorize decides whether p may perform action on resource (an ARN, or
// "*") for the request.
type Authorize func(ctx context.Context, p auth.Principal, action, resource string, r *Request) error

// Group is a set of operations that share authentication and an IAM action
// prefix ("iot:").
type Group struct {
	Prefix       string
	Authenticate Authenticate
	Authorize    Authorize
	Operations   []Operation
	// MapError, if set, turns errors into the group's own codes before they
	// are written (the data plane's codes differ from the control plane's).
	MapError func(error) error
}

// Options configure a Router.
type Options struct {
	MaxBody int64 // bytes; the largest request body accepted
	Logger  *slog.Logger
	// Registerer receives the router's metrics; nil means none.
	Registerer prometheus.Registerer
}

// Router routes requests to operations.
type Router struct {
	mux  *http.ServeMux
	opts Options
	reqs *prometheus.CounterVec
	lat  *prometheus.HistogramVec
}

// NewRouter builds a router over the groups. It panics on conflicting
// patterns, which is a programming error.
func NewRouter(opts Options, groups ...Group) *Router {
	rt := &Router{mux: http.NewServeMux(), opts: opts}
	rt.reqs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "moat_api_requests_total", Help: "API requests by operation and result code.",
	}, []string{"operation", "code"})
	rt.lat = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "moat_api_request_duration_seconds", Help: "API request latency by operation.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
	}, []string{"operation"})
	if opts.Registerer != nil {
		opts.Registerer.MustRegister(rt.reqs, rt.lat)
	}
	// Group operations by path so that a known path with an unknown method
	// gets an AWS-shaped 405 rather than ServeMux's plain text.
	type route struct {
		g   *Group
		ops map[string]Operation
	}
	byPath := map[string]*route{}
	var order []string
	for gi := range groups {
		g := &groups[gi]
		for _, op := range g.Operations {
			r := byPath[op.Path]
			if r == nil {
				r = &route{g: g, ops: map[string]Operation{}}
				byPath[op.Path] = r
				order = append(order, op.Path)
			}
			r.ops[op.Method] = op
		}
	}
	for _, path := range order {
		r := byPath[path]
		h := func(w http.ResponseWriter, req *http.Request) {
			op, ok := r.ops[req.Method]
			if !ok {
				rt.fail(w, req, "", awsapi.Errorf(awsapi.MethodNotAllowed, "Method %s is not allowed on %s.", req.Method, req.URL.Path))
				return
			}
			rt.serve(w, req, r.g, op)
		}
		rt.mux.HandleFunc(path, h)
		if !strings.HasSuffix(path, "/") && !strings.HasSuffix(path, "}") {
			rt.mux.HandleFunc(path+"/{$}", h)
		}
	}
	rt.mux.HandleFunc("/", func(w http.ResponseWriter, req *http.Request) {
		rt.fail(w, req, "", awsapi.Errorf(awsapi.UnknownOperation, "No operation matches %s %s.", req.Method, req.URL.Path))
	})
	return rt
}

func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) { rt.mux.ServeHTTP(w, r) }

// Handle adds a plain handler (for /health, /metrics, ...) on the same mux.
func (rt *Router) Handle(pattern string, h http.Handler) { rt.mux.Handle(pattern, h) }

func (rt *Router) fail(w http.ResponseWriter, r *http.Request, op string, err error) {
	id := uuid.NewString()
	w.Header().Set(awsapi.RequestIDHeader, id)
	rt.finish(w, r, op, id, time.Now(), err)
}

func (rt *Router) serve(w http.ResponseWriter, hr *http.Request, g *Group, op Operation) {
	start := time.Now()
	id := uuid.NewString()
	w.Header().Set(awsapi.RequestIDHeader, id)
	ctx := hr.Context()
	body, err := awsapi.ReadBody(hr, rt.opts.MaxBody)
	if err != nil {
		if g.MapError != nil {
			err = g.MapError(err)
		}
		rt.finish(w, hr, op.Name, id, start, err)
		return
	}
	p, err := g.Authenticate(ctx, hr, body)
	if err != nil {
		rt.finish(w, hr, op.Name, id, start, err)
		return
	}
	req := &Request{Request: hr, Body: body, Principal: p, ID: id}
	req.authorize = func(ctx context.Context, action, resource string) error {
		return g.Authorize(ctx, p, action, resource, req)
	}
	for _, resource := range op.resources(req) {
		if err := g.Authorize(ctx, p, g.Prefix+op.Name, resource, req); err != nil {
			rt.finishAs(w, hr, op.Name, id, start, p, err)
			return
		}
	}
	resp, err := op.Handle(ctx, req)
	if err != nil {
		rt.finishAs(w, hr, op.Name, id, start, p, err)
		return
	}
	awsapi.WriteJSON(w, resp)
	rt.observe(op.Name, "200", start)
	rt.log().Debug("api", "op", op.Name, "principal", p.String(), "request_id", id, "duration", time.Since(start))
}

func (rt *Router) finish(w http.ResponseWriter, r *http.Request, op, id string, start time.Time, err error) {
	rt.finishAs(w, r, op, id, start, auth.Principal{}, err)
}

func (rt *Router) finishAs(w http.ResponseWriter, r *http.Request, op, id string, start time.Time, p auth.Principal, err error) {
	if errors.Is(err, store.ErrInvalidCursor) {
		err = &awsapi.Error{Code: awsapi.InvalidRequest, Message: "The pagination token (nextToken or marker) is not valid.", Cause: err}
	}
	e := awsapi.From(err)
	awsapi.WriteError(w, e)
	name := op
	if name == "" {
		name = "unknown"
	}
	rt.observe(name, string(e.Code), start)
	lvl := slog.LevelInfo
	if e.HTTPStatus() >= 500 {
		lvl = slog.LevelError
	}
	attrs := []any{"op", name, "method", r.Method, "path", r.URL.Path, "code", string(e.Code), "status", e.HTTPStatus(), "request_id", id, "remote", r.RemoteAddr}
	if p.Kind != 0 {
		attrs = append(attrs, "principal", p.String())
	}
	if e.Cause != nil {
		attrs = append(attrs, "cause", e.Cause.Error())
	}
	rt.log().Log(r.Context(), lvl, "api request failed", attrs...)
}

func (rt *Router) observe(op, code string, start time.Time) {
	rt.reqs.WithLabelValues(op, code).Inc()
	rt.lat.WithLabelValues(op).Observe(time.Since(start).Seconds())
}

func (rt *Router) log() *slog.Logger {
	if rt.opts.Logger != nil {
		return rt.opts.Logger
	}
	return slog.Default()
}
