package access

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/moat-iot/moat/internal/api"
	"github.com/moat-iot/moat/internal/arn"
	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/decisionlog"
	"github.com/moat-iot/moat/internal/policies"
	"github.com/moat-iot/moat/internal/policy"
)

// APIAuthorizer decides API calls: every operation of the control plane
// (iot), and of the IAM, STS and Cognito APIs, is checked as its IAM
// action on the resource AWS's service authorization reference names for
// it, before the operation runs:
//
//   - the administrator (auth.AdminUser, the data dir's credentials) is
//     the account root: allowed everything, always;
//   - a user or a role session: its IAM identity policies (IAM), with
//     aws:username, aws:PrincipalArn, aws:PrincipalType, aws:SourceIp,
//     aws:CurrentTime, aws:PrincipalTag/KEY and the Cognito keys bound; on
//     a data-plane action an authenticated Cognito identity also needs the
//     IoT policies attached to its identity id (reference §11);
//   - a custom authorizer's grant: its policy documents, as IoT policies;
//   - a device certificate is not an API principal: refused (its data
//     plane rights are the Gate's).
//
// Nothing else is allowed; an explicit Deny wins. A refusal is an
// *awsapi.Error with code AccessDeniedException whose Cause is a
// *DeniedError (each protocol renders it as its AccessDenied), and is
// recorded in the decision log with the deciding statement. Set the fields
// before use (Gate.APIAuthorizer makes one from a Gate); it is safe for
// concurrent use.
type APIAuthorizer struct {
	// IAM gives the identity policies of users and role sessions; nil:
	// they have none.
	IAM IdentityPolicies
	// Policies gives the IoT policies attached to Cognito identity ids.
	Policies *policies.Service
	// Decisions, if set, receives every decision (see DecisionSink).
	Decisions DecisionSink
	ARNs      arn.Builder
	// NoSuchEntity is the error IAM wraps when the user or role no longer
	// exists (iam.ErrNoSuchEntity); such a caller is refused rather than
	// failing as a server error.
	NoSuchEntity error
	Log          *slog.Logger

	grants grantCache
}

// APIAuthorizer returns the API authorizer over the Gate's services (IAM,
// IoT policies, ARNs, decision log), for the HTTPS surfaces.
func (g *Gate) APIAuthorizer() *APIAuthorizer {
	return &APIAuthorizer{IAM: g.IAM, Policies: g.Policies, Decisions: g.Decisions, ARNs: g.ARNs, NoSuchEntity: g.NoSuchEntity, Log: g.Log}
}

// DeniedError is a refused authorization, worded as AWS words it: "User:
// ARN is not authorized to perform: ACTION on resource: ARN because ...".
type DeniedError struct {
	// Principal is the caller's ARN (the assumed-role ARN of a role
	// session).
	Principal string
	Action    string
	Resource  string
	// Result is ImplicitDeny or ExplicitDeny.
	Result policy.Result
	// Reason completes the message: "because no identity-based policy
	// allows the iot:CreateThing action", "with an explicit deny in an
	// identity-based policy", ...
	Reason string
}

func (e *DeniedError) Error() string {
	return "User: " + e.Principal + " is not authorized to perform: " + e.Action + " on resource: " + e.Resource + " " + e.Reason
}

type sourceIPKey struct{}

// WithSourceIP returns ctx carrying the address of the caller, "ip:port"
// (an http.Request's RemoteAddr) or a bare IP, for aws:SourceIp.
// APIAuthorizer.Authorize reads it; SourceIPHandler sets it for every
// request.
func WithSourceIP(ctx context.Context, remoteAddr string) context.Context {
	ip := remoteAddr
	if ap, err := netip.ParseAddrPort(remoteAddr); err == nil {
		ip = ap.Addr().Unmap().String()
	} else if a, err := netip.ParseAddr(remoteAddr); err == nil {
		ip = a.Unmap().String()
	} else {
		return ctx
	}
	return context.WithValue(ctx, sourceIPKey{}, ip)
}

// SourceIPHandler puts each request's RemoteAddr in its context
// (WithSourceIP), so that the surfaces whose handlers call Authorize with
// the request's context (IAM, STS, Cognito) get aws:SourceIp.
func SourceIPHandler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(WithSourceIP(r.Context(), r.RemoteAddr)))
	})
}

func sourceIPFrom(ctx context.Context) string {
	s, _ := ctx.Value(sourceIPKey{}).(string)
	return s
}

// Authorize decides whether p may perform action (e.g. "iot:CreateThing")
// on resource (an ARN, or "*" for actions without a resource). It returns
// nil, an *awsapi.Error AccessDeniedException wrapping a *DeniedError, or
// an *awsapi.Error InternalFailureException when the policies cannot be
// read. aws:SourceIp comes from ctx (WithSourceIP).
func (a *APIAuthorizer) Authorize(ctx context.Context, p auth.Principal, action, resource string) error {
	if p.IsAdmin() {
		return nil
	}
	r := &resolver{iam: a.IAM, iot: a.Policies, arns: a.ARNs, noSuchEntity: a.NoSuchEntity, grants: &a.grants}
	who := r.principalARN(p)
	deny := func(result policy.Result, reason string) error {
		de := &DeniedError{Principal: who, Action: action, Resource: resource, Result: result, Reason: reason}
		return &awsapi.Error{Code: awsapi.AccessDenied, Message: de.Error(), Cause: de}
	}
	switch p.Kind {
	case auth.KindUser, auth.KindRole, auth.KindAuthorizer:
	case auth.KindCertificate:
		a.record(who, action, resource, policy.Decision{Statement: -1}, sourceIPFrom(ctx))
		return deny(policy.ImplicitDeny, "because a device certificate may not call this API")
	default:
		return deny(policy.ImplicitDeny, "because the caller is not authenticated")
	}
	if s := p.Session; p.Kind == auth.KindRole && s != nil && !time.Now().Before(s.Expiration) {
		// SigV4 verification refuses expired credentials; this is for
		// callers that authenticated them some other way.
		return deny(policy.ImplicitDeny, "because the temporary credentials expired at "+s.Expiration.UTC().Format(time.RFC3339))
	}
	ls, err := r.layers(ctx, p, dataAction(action))
	if errors.Is(err, ErrGone) {
		return deny(policy.ImplicitDeny, "because "+goneReason(p))
	}
	if err != nil {
		return awsapi.Internal(fmt.Errorf("authorize %s for %s: %w", action, p, err))
	}
	vars := &policy.Vars{SourceIP: sourceIPFrom(ctx)}
	r.setVars(vars, p)
	req := &policy.Request{Action: action, Resource: resource, Vars: vars}
	if t, ok := a.ARNs.Own(resource, "topic"); ok {
		vars.Topic = t
	} else if f, ok := a.ARNs.Own(resource, "topicfilter"); ok {
		vars.Topic = f
	}
	d, kind := evaluateLayers(ls, req)
	if !d.Allowed || (a.Decisions != nil && a.Decisions.Allows()) {
		// Evaluated again with the explanation, for the log: only denies
		// (and allows when they are logged) pay for it.
		req.Explain = true
		d, kind = evaluateLayers(ls, req)
	}
	a.record(who, action, resource, d, vars.SourceIP)
	switch {
	case d.Allowed:
		return nil
	case d.Result == policy.ExplicitDeny:
		return deny(d.Result, "with an explicit deny in an "+kind.String())
	}
	return deny(d.Result, "because no "+kind.String()+" allows the "+action+" action")
}

// AuthorizeRequest is Authorize for the API router (api.Group.Authorize):
// aws:SourceIp is the request's peer address.
func (a *APIAuthorizer) AuthorizeRequest(ctx context.Context, p auth.Principal, action, resource string, r *api.Request) error {
	if r != nil && r.Request != nil {
		ctx = WithSourceIP(ctx, r.RemoteAddr)
	}
	return a.Authorize(ctx, p, action, resource)
}

// record passes one decision to the decision sink: every decision is
// counted; denies, and allows when the sink wants them, are logged.
func (a *APIAuthorizer) record(who, action, resource string, d policy.Decision, ip string) {
	if a.Decisions == nil {
		return
	}
	a.Decisions.Count(action, d.Result)
	if d.Allowed && !a.Decisions.Allows() {
		return
	}
	e := decisionlog.Entry{Time: time.Now(), Principal: who, SourceIP: ip, Action: action, Resource: resource}
	a.Decisions.Decision(decisionlog.EntryFromDecision(e, d))
	if !d.Allowed && a.Log != nil && a.Log.Enabled(context.Background(), slog.LevelDebug) {
		a.Log.Debug("policy denied", "principal", who, "action", action, "resource", resource, "decision", d.String())
	}
}
