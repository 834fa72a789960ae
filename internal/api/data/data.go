// Package data serves the AWS IoT data plane (the `iot-data` REST-JSON
// API, SDK package iotdataplane) on the HTTPS port. Paths, members and
// errors follow the botocore model iot-data/2015-05-28/service-2.json:
// Publish (publish.go) and the Device Shadow calls (shadow.go).
//
// # Who may call
//
// A request is authenticated in one of three ways, chosen by what the
// client sent (Authenticate):
//
//   - A device certificate (mutual TLS; the HTTPS listener requests but does
//     not require one). It must pass the same checks as on MQTT
//     (auth.Authenticator.Certificate: registered, ACTIVE, inside its
//     validity period), and each action is decided by the policies attached
//     to it (access.Gate.BindHTTP). Unlike MQTT, HTTPS has no connection
//     and no client id: ${iot:ClientId} is unresolved and a statement using
//     it does not match (AWS: "HTTPS doesn't support a clientId value like
//     MQTT does"), and neither do the thing variables
//     (iot:Connection.Thing.*), which AWS makes "only available when a
//     device connects over MQTT or MQTT over the WebSocket protocol".
//     aws:SourceIp is the request's peer address; certificate variables are
//     resolved as on MQTT.
//   - A SigV4 signature with the signing name iotdata (the SDKs and the CLI)
//     or iotdevicegateway (AWS's docs for HTTPS publish), when no
//     certificate was presented: a user's access key or temporary
//     credentials, whose actions are decided by their IAM identity
//     policies on the topic or thing ARN (and, for an authenticated
//     Cognito identity, also by the IoT policies attached to its identity
//     id). The administrator may do everything.
//   - Custom authentication (x-amz-customauthorizer-name, the token and
//     x-amz-customauthorizer-signature as headers or query parameters),
//     when neither of the above was presented and API.CustomAuth is set:
//     the custom authorizer's returned policies decide, as IoT policies.
//
// A certificate takes precedence: a request that presents one is judged by
// it, even if it is also signed. A device certificate never reaches the
// control plane, which authenticates by SigV4 with the signing name iot
// only.
//
// # Errors
//
// AWS's data endpoint answers every refusal of the caller, at
// authentication or authorization, with ForbiddenException 403 (the front
// door's "Missing Authentication Token" and signature errors included,
// awsapi.DataPlane), and bad input with InvalidRequestException 400. See
// publish.go for each case.
package data

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/moat-iot/moat/internal/access"
	"github.com/moat-iot/moat/internal/api"
	"github.com/moat-iot/moat/internal/arn"
	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/authorizer"
	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/broker"
	"github.com/moat-iot/moat/internal/mqtt/packet"
)

// SigningNames are the SigV4 service names accepted on the data plane:
// iotdata (the botocore model's signingName) and iotdevicegateway (AWS's
// documentation of HTTPS publish and MQTT over WebSocket).
var SigningNames = []string{"iotdata", "iotdevicegateway"}

// Binder binds a principal's permissions (any kind: certificate, user,
// role session, custom authorizer grant) for one HTTPS request;
// access.Gate implements it.
type Binder interface {
	BindHTTP(ctx context.Context, p auth.Principal, remote net.Addr) (*access.Permissions, error)
}

// CustomAuth runs custom authentication for an HTTP request that carries
// no other credentials; *authorizer.Service implements it. applies is
// false when the request names no authorizer and none is the default.
type CustomAuth interface {
	AuthenticateHTTP(ctx context.Context, r *http.Request) (p auth.Principal, applies bool, err error)
}

// Publisher routes a message from moat itself to subscribers, with the
// same fan-out and per-subscriber iot:Receive checks as an MQTT publish;
// broker.Broker implements it.
type Publisher interface {
	Publish(p *packet.Publish) packet.ReasonCode
}

var (
	_ Binder    = (*access.Gate)(nil)
	_ Publisher = (*broker.Broker)(nil)
)

// API is the data plane.
type API struct {
	Auth   *auth.Authenticator
	Gate   Binder
	Broker Publisher
	// Limits are the broker's: Topic bounds topic names, MaxPacketSize
	// bounds the MQTT PUBLISH an HTTPS publish becomes.
	Limits broker.Limits
	// Shadows serves the shadow calls; nil serves none.
	Shadows Shadows
	// ARNs names the things whose shadows are asked for.
	ARNs arn.Builder
	// CustomAuth, if set, authenticates requests that carry neither a
	// certificate nor a SigV4 signature with a custom authorizer.
	CustomAuth CustomAuth
}

// Operations lists the operations this package serves. The topic label is
// greedy ({topic...}): the SDKs send it escaped with %2F for '/', curl users
// send raw slashes, and both name the same topic (see TopicPaths).
func (a *API) Operations() []api.Operation {
	return append([]api.Operation{
		{Name: "Publish", Method: http.MethodPost, Path: "/topics/{topic...}", Handle: a.publish},
	}, a.shadowOperations()...)
}

// Authenticate identifies the caller: by its TLS client certificate when it
// presented one; else by a custom authorizer when the request carries no
// SigV4 signature and custom authentication applies to it; else by SigV4
// for one of SigningNames. Every refusal is ForbiddenException 403, as
// AWS's data endpoint answers; the message says why (the certificate's
// state, the custom authorizer's refusal, or the SigV4 failure), never
// more.
func (a *API) Authenticate(ctx context.Context, r *http.Request, body []byte) (auth.Principal, error) {
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		p, err := a.Auth.Certificate(ctx, r.TLS.PeerCertificates)
		switch {
		case err == nil:
			return p, nil
		case errors.Is(err, auth.ErrUnknownCertificate), errors.Is(err, auth.ErrCertificateNotActive),
			errors.Is(err, auth.ErrCertificateExpired):
			// Unlike MQTT there is no connection to refuse: each request
			// is checked, and refused as AWS refuses an unusable principal.
			return auth.Principal{}, &awsapi.Error{Code: awsapi.Forbidden, Message: "The client certificate cannot be used: " + err.Error() + ".", Cause: err}
		}
		return auth.Principal{}, awsapi.Internal(err)
	}
	if a.CustomAuth != nil && !signed(r) {
		p, applies, err := a.CustomAuth.AuthenticateHTTP(ctx, r)
		switch {
		case err != nil && errors.Is(err, authorizer.ErrDenied):
			return auth.Principal{}, &awsapi.Error{Code: awsapi.Forbidden, Message: "Custom authentication failed: " + err.Error() + ".", Cause: err}
		case err != nil:
			return auth.Principal{}, awsapi.Internal(err)
		case applies:
			return p, nil
		}
	}
	p, err := a.Auth.SigV4(ctx, r, body, SigningNames...)
	return p, awsapi.DataPlane(err)
}

// signed reports whether r carries a SigV4 signature, in the
// Authorization header or presigned in the query. Another Authorization
// header (a custom authorizer's token may be sent in one) is not.
func signed(r *http.Request) bool {
	if strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-") {
		return true
	}
	q := r.URL.Query()
	return q.Has("X-Amz-Signature") || q.Has("X-Amz-Credential")
}

// Authorize admits every authenticated principal to the data plane's
// operations: what each may do is decided per resource once the request is
// parsed (the topic, with iot:RetainPublish for a retained message; the
// thing or named shadow), by allow and allowThing, through
// access.Gate.BindHTTP for every kind of principal. Nothing is allowed
// there by default.
func (a *API) Authorize(_ context.Context, p auth.Principal, action, _ string, _ *api.Request) error {
	if p.Kind == 0 {
		return awsapi.Errorf(awsapi.Forbidden, "The caller is not authenticated for %s.", action)
	}
	return nil
}

// allow decides actions on a topic for the caller: policies bound for
// this request, with no client id.
func (a *API) allow(ctx context.Context, r *api.Request, acts []broker.Action, topicName string) error {
	perms, err := a.Gate.BindHTTP(ctx, r.Principal, remoteAddr(r.RemoteAddr))
	if err != nil {
		return bindError(err)
	}
	for _, act := range acts {
		if !perms.Allow(act, topicName) {
			// The action and topic are the caller's own; the policies are
			// not named (as on MQTT).
			return forbidden(perms.Denied(act.String(), a.ARNs.Topic(topicName)))
		}
	}
	return nil
}

// forbidden is iot-data's answer to a denied action.
func forbidden(de *access.DeniedError) error {
	return &awsapi.Error{Code: awsapi.Forbidden, Message: de.Error(), Cause: de}
}

// bindError is the answer when the caller's policies cannot be gathered:
// ForbiddenException when its user or role no longer exists (access
// reports that as a refusal), else an internal failure.
func bindError(err error) error {
	if errors.Is(err, access.ErrGone) {
		return &awsapi.Error{Code: awsapi.Forbidden, Message: "The caller's IAM user or role no longer exists.", Cause: err}
	}
	return awsapi.Internal(err)
}

// remoteAddr parses an http.Request's RemoteAddr ("ip:port") for
// aws:SourceIp; nil when it is not one.
func remoteAddr(s string) net.Addr {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return nil
	}
	return net.TCPAddrFromAddrPort(ap)
}

// TopicPaths wraps the HTTPS handler so that a topic sent with raw slashes
// reaches Publish as sent. net/http's ServeMux cleans the escaped path and
// redirects when cleaning changes it, which would turn POST
// /topics/a//b (a valid topic with an empty level) into a redirect to
// /topics/a/b, a different topic. For paths under /topics/ TopicPaths sets
// URL.RawPath to the topic escaped as one segment (%2F for '/'), exactly
// what the SDKs send, so that ServeMux matches without cleaning and
// PathValue("topic") returns the topic unescaped. RequestURI, which SigV4
// verification reads, is left as sent.
func TopicPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, "/topics/")
		if !ok || rest == "" {
			next.ServeHTTP(w, r)
			return
		}
		r2 := new(http.Request)
		*r2 = *r
		u := *r.URL
		u.RawPath = "/topics/" + url.PathEscape(rest)
		r2.URL = &u
		next.ServeHTTP(w, r2)
	})
}
