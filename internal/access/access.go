// Package access decides what a caller may do, for every kind of
// principal internal/auth authenticates, through internal/policy. Nothing
// is allowed by default and an explicit Deny wins.
//
// The MQTT side is the Gate (broker.Gate). On CONNECT it authenticates
// the client, or takes the principal its transport authenticated before
// MQTT began (the WebSocket upgrade), gathers the policies that apply,
// binds the policy variables once for the connection, and checks
// iot:Connect. Afterwards it answers each publish, subscribe and receive
// from a per-connection decision cache, evaluating the compiled policies
// only on a miss. The policies are in layers, and a request must be
// allowed by every layer (reference §11):
//
//   - a device certificate: the IoT policies attached to it and, where
//     the connection acts as a thing, to the thing's groups;
//   - a user (SigV4 access key) or a role session (temporary
//     credentials): the IAM identity policies (IdentityPolicies);
//   - an authenticated Cognito identity: its role's IAM policies AND the
//     IoT policies attached to its identity id, with
//     ${cognito-identity.amazonaws.com:sub} bound to the identity id; an
//     unauthenticated identity is decided by its role alone;
//   - a custom authorizer's grant: the policy documents the function
//     returned, as IoT policies;
//   - the administrator (the data dir's credentials): the account root,
//     allowed everything.
//
// The HTTPS side is APIAuthorizer (control plane, IAM and Cognito APIs)
// and Gate.BindHTTP (the iot-data plane, one request at a time).
//
// The decisions themselves are internal/policy's: this package only
// gathers what they depend on.
package access

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/moat-iot/moat/internal/arn"
	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/authorizer"
	"github.com/moat-iot/moat/internal/broker"
	"github.com/moat-iot/moat/internal/mqtt/packet"
	"github.com/moat-iot/moat/internal/pki"
	"github.com/moat-iot/moat/internal/policies"
	"github.com/moat-iot/moat/internal/policy"
	"github.com/moat-iot/moat/internal/registry"
	"github.com/moat-iot/moat/internal/store"
)

// Gate implements broker.Gate over moat's services. Set its fields before
// serving; it is safe for concurrent use.
type Gate struct {
	Auth     *auth.Authenticator
	Registry *registry.Service
	Policies *policies.Service
	ARNs     arn.Builder
	Log      *slog.Logger
	// Decisions, if set, receives the connections' decisions (see
	// DecisionSink); nil logs none.
	Decisions DecisionSink
	// IAM gives the identity policies of users and role sessions
	// (*iam.Service); nil: they have none, so everything but the
	// administrator's is denied to them.
	IAM IdentityPolicies
	// NoSuchEntity is the error IAM wraps when the user or role no longer
	// exists (iam.ErrNoSuchEntity): such a principal is refused (CONNACK
	// or DISCONNECT 0x87) rather than failing as a server error. nil: no
	// error is taken for it.
	NoSuchEntity error
	// CustomAuth authenticates MQTT CONNECT credentials with a custom
	// authorizer (*authorizer.Service) on TransportALPNCustomAuth, and on
	// a WebSocket that brought no credentials on its upgrade; nil refuses
	// them.
	CustomAuth CustomAuthorizer

	grants grantCache
	now    func() time.Time // for tests; nil: time.Now
}

var _ broker.Gate = (*Gate)(nil)

func (g *Gate) resolver() *resolver {
	return &resolver{iam: g.IAM, iot: g.Policies, arns: g.ARNs, noSuchEntity: g.NoSuchEntity, grants: &g.grants}
}

func (g *Gate) clock() time.Time {
	if g.now != nil {
		return g.now()
	}
	return time.Now()
}

// Admit authenticates the client and checks iot:Connect. Who the client
// is comes from, in this order: the principal its transport authenticated
// (info.Authenticated: an auth.Principal or a Preauthenticated); a custom
// authorizer given the CONNECT's username, password and client id
// (TransportALPNCustomAuth, or a WebSocket with neither credentials on
// its upgrade nor a client certificate); else its client certificate.
func (g *Gate) Admit(ctx context.Context, info broker.ConnInfo) (broker.Permissions, *broker.Refusal) {
	p, reauth, ref := g.authenticate(ctx, info)
	if ref != nil {
		return nil, ref
	}
	perms, err := g.Bind(ctx, p, info.ClientID, info.RemoteAddr)
	if errors.Is(err, ErrGone) {
		return nil, &broker.Refusal{Code: packet.NotAuthorized, Reason: "not authorized: " + goneReason(p), Principal: p.String()}
	}
	if err != nil {
		g.log().Error("mqtt authorization failed", "client_id", info.ClientID, "principal", p.String(), "err", err)
		return nil, &broker.Refusal{Code: packet.ServerUnavailable, Reason: "authorization is unavailable"}
	}
	if until := perms.validUntil; !until.IsZero() && !g.clock().Before(until) {
		return nil, &broker.Refusal{Code: packet.NotAuthorized, Reason: "the credentials expired at " + until.UTC().Format(time.RFC3339), Principal: p.String()}
	}
	if p.Kind == auth.KindUser || p.Kind == auth.KindRole {
		// SigV4 (presigned WebSocket) connections last at most a day, as
		// on AWS; the client connects again with a freshly signed URL.
		if limit := g.clock().Add(MaxSigV4ConnectionLifetime); perms.validUntil.IsZero() || limit.Before(perms.validUntil) {
			perms.validUntil = limit
		}
	}
	perms.reauth = reauth
	// iot:ConnectAttributes (reference §5.1): what the CONNECT asks for, so
	// that a policy can allow or refuse persistent sessions and wills.
	var attrs []string
	if info.Persistent {
		attrs = append(attrs, "PersistentConnect")
	}
	if info.HasWill {
		attrs = append(attrs, "LastWill")
	}
	if len(attrs) > 0 {
		perms.vars.Set(connectAttributes, attrs...)
	}
	perms.vars.DomainName = info.ServerName
	if !perms.Allow(broker.ActConnect, info.ClientID) {
		return nil, &broker.Refusal{Code: packet.NotAuthorized, Reason: "not authorized: iot:Connect on client/" + info.ClientID, Principal: p.String()}
	}
	return perms, nil
}

// connectAttributes is the iot:ConnectAttributes condition key.
const connectAttributes = "iot:ConnectAttributes"

// authenticate identifies the client of a CONNECT; reauth, if not nil,
// authenticates the same credentials again (custom authorizers, on
// Refresh).
func (g *Gate) authenticate(ctx context.Context, info broker.ConnInfo) (p auth.Principal, reauth func(context.Context) (auth.Principal, error), ref *broker.Refusal) {
	switch a := info.Authenticated.(type) {
	case nil:
	case auth.Principal:
		return a, nil, nil
	case *auth.Principal:
		if a != nil {
			return *a, nil, nil
		}
	case Preauthenticated:
		return a.Principal, a.Reauthenticate, nil
	case *Preauthenticated:
		if a != nil {
			return a.Principal, a.Reauthenticate, nil
		}
	default:
		g.log().Error("mqtt: the transport's principal is of an unknown type", "type", fmt.Sprintf("%T", a), "client_id", info.ClientID)
		return auth.Principal{}, nil, &broker.Refusal{Code: packet.ServerUnavailable, Reason: "authentication is unavailable"}
	}
	if info.Transport == broker.TransportALPNCustomAuth ||
		info.Transport == broker.TransportWebSocket && len(info.PeerCertificates) == 0 && g.CustomAuth != nil {
		return g.customAuthenticate(ctx, info)
	}
	p, err := g.Auth.Certificate(ctx, info.PeerCertificates)
	if err != nil {
		who := ""
		if len(info.PeerCertificates) > 0 {
			who = "cert/" + pki.CertificateID(info.PeerCertificates[0].Raw)
		}
		switch {
		case errors.Is(err, auth.ErrNoCertificate), errors.Is(err, auth.ErrUnknownCertificate),
			errors.Is(err, auth.ErrCertificateNotActive), errors.Is(err, auth.ErrCertificateExpired):
			return auth.Principal{}, nil, &broker.Refusal{Code: packet.NotAuthorized, Reason: err.Error(), Principal: who}
		}
		g.log().Error("mqtt authentication failed", "client_id", info.ClientID, "err", err)
		return auth.Principal{}, nil, &broker.Refusal{Code: packet.ServerUnavailable, Reason: "authentication is unavailable"}
	}
	return p, nil, nil
}

// Bind builds the permissions of a principal acting as clientID on an MQTT
// connection (MQTT over TLS or WebSocket).
func (g *Gate) Bind(ctx context.Context, p auth.Principal, clientID string, remote net.Addr) (*Permissions, error) {
	return g.bind(ctx, p, clientID, remote, true)
}

// BindHTTP builds the permissions of a principal for one HTTPS request:
// no client id, and, as in AWS IoT, no thing: the
// iot:Connection.Thing.* variables exist only for MQTT connections
// (reference §5.3), so statements using them do not apply over HTTPS.
func (g *Gate) BindHTTP(ctx context.Context, p auth.Principal, remote net.Addr) (*Permissions, error) {
	return g.bind(ctx, p, "", remote, false)
}

// bind gathers the principal's policy layers and variables. A user or
// role that no longer exists is an error wrapping ErrGone.
func (g *Gate) bind(ctx context.Context, p auth.Principal, clientID string, remote net.Addr, withThing bool) (*Permissions, error) {
	vars := &policy.Vars{ClientID: clientID, SourceIP: sourceIP(remote)}
	perms := &Permissions{arns: g.ARNs, principal: p, vars: vars, gate: g, clientID: clientID, remote: remote, logName: p.CertificateID}
	switch {
	case p.IsAdmin():
		perms.admin = true
	case p.Kind == auth.KindCertificate:
		if err := g.bindCertificate(ctx, perms, withThing); err != nil {
			return nil, err
		}
	default:
		r := g.resolver()
		ls, err := r.layers(ctx, p, true)
		if err != nil {
			return nil, err
		}
		perms.layers = ls
		r.setVars(vars, p)
		if s := p.Session; s != nil && s.Source == auth.SourceCognito {
			// Policies attached to the identity id apply: a change to them
			// re-checks the connection (HasTarget).
			perms.targets = []string{s.IdentityID}
			if withThing && s.Authenticated && g.Registry != nil {
				thing, err := g.Registry.ConnectionThing(ctx, s.IdentityID, clientID)
				if err != nil {
					return nil, err
				}
				if thing != nil {
					vars.Thing = &policy.Thing{Name: thing.Name, TypeName: thing.TypeName, Attributes: thing.Attributes}
				}
			}
		}
	}
	if p.Kind != auth.KindCertificate {
		perms.logName = g.resolver().principalARN(p)
	}
	perms.validUntil = validUntil(p, g.clock())
	if g.Decisions != nil {
		perms.sink, perms.logAllows = g.Decisions, g.Decisions.Allows()
	}
	return perms, nil
}

// bindCertificate binds a device certificate: the policies of the
// certificate, and of the thing's groups and their ancestors (as AWS IoT
// applies thing group policies: only where the connection acts as a
// thing, so not over HTTPS).
func (g *Gate) bindCertificate(ctx context.Context, perms *Permissions, withThing bool) error {
	p := perms.principal
	targets := []string{p.CertificateARN}
	var thing *store.Thing
	if withThing {
		var err error
		if thing, err = g.Registry.ConnectionThing(ctx, p.CertificateARN, perms.clientID); err != nil {
			return err
		}
		if thing != nil {
			groups, err := g.Registry.GroupPolicyTargets(ctx, thing.Name)
			if err != nil {
				return err
			}
			targets = append(targets, groups...)
		}
	}
	compiled, err := g.Policies.Effective(ctx, targets...)
	if err != nil {
		return err
	}
	if p.Certificate != nil && policy.UsesCertificate(compiled) {
		// Built only when a policy reads it: it is the largest part of a
		// connection's permissions.
		perms.vars.Cert = policy.CertFromX509(p.Certificate, p.CertificateID)
	}
	if thing != nil {
		perms.vars.Thing = &policy.Thing{Name: thing.Name, TypeName: thing.TypeName, Attributes: thing.Attributes}
	}
	perms.layers = []layer{{kind: layerIoT, policies: compiled}}
	perms.targets = targets
	return nil
}

// MaxSigV4ConnectionLifetime is the longest an MQTT connection
// authenticated by SigV4 (a presigned WebSocket URL) stays open: AWS IoT
// closes them after 24 hours.
const MaxSigV4ConnectionLifetime = 24 * time.Hour

// validUntil is when the principal's credential stops being valid: a
// certificate's notAfter, a role session's expiration, a custom
// authorizer grant's disconnectAfterInSeconds from when it was issued
// (now if unknown). Zero: never.
func validUntil(p auth.Principal, now time.Time) time.Time {
	switch p.Kind {
	case auth.KindCertificate:
		if c := p.Certificate; c != nil {
			return c.NotAfter
		}
	case auth.KindRole:
		if p.Session != nil {
			return p.Session.Expiration
		}
	case auth.KindAuthorizer:
		if g := p.Grant; g != nil && g.DisconnectAfter > 0 {
			issued := g.IssuedAt
			if issued.IsZero() {
				issued = now
			}
			return issued.Add(g.DisconnectAfter)
		}
	}
	return time.Time{}
}

// goneReason says that p's user or role no longer exists.
func goneReason(p auth.Principal) string {
	if p.Kind == auth.KindUser {
		return "the user " + p.UserName + " no longer exists"
	}
	if p.Session != nil {
		return "the role " + p.Session.RoleName + " no longer exists"
	}
	return "the principal no longer exists"
}

func (g *Gate) log() *slog.Logger {
	if g.Log != nil {
		return g.Log
	}
	return slog.Default()
}

// CustomAuthorizer authenticates credentials with a custom authorizer;
// *authorizer.Service implements it. A refusal is an error wrapping
// authorizer.ErrDenied; any other error is a server failure.
type CustomAuthorizer interface {
	Authenticate(ctx context.Context, req authorizer.Request) (auth.Principal, error)
}

// Preauthenticated is what a transport that authenticated its client
// before MQTT began (the WebSocket upgrade) may put in
// broker.ConnInfo.Authenticated instead of a bare auth.Principal, so that
// the principal can be authenticated again on Refresh: a custom
// authorizer's grant is renewed after its refreshAfterInSeconds by
// invoking the authorizer again with the upgrade request.
type Preauthenticated struct {
	Principal auth.Principal
	// Reauthenticate authenticates the same credentials again (for a
	// custom authorizer: Authenticate with the request authorizer.FromHTTP
	// made of the upgrade). nil: it cannot be, and a custom authorizer's
	// connection is closed when its grant is due for a refresh.
	Reauthenticate func(ctx context.Context) (auth.Principal, error)
}

// customAuthenticate authenticates a CONNECT's username, password and
// client id with a custom authorizer (reference §7.2). A refusal of the
// credentials themselves (no or a bad token signature, isAuthenticated
// false) is CONNACK 0x86 Bad User Name or Password; any other refusal
// (no such or an INACTIVE authorizer, a failing function) is 0x87 Not
// authorized; a failure of moat's own is 0x88.
func (g *Gate) customAuthenticate(ctx context.Context, info broker.ConnInfo) (auth.Principal, func(context.Context) (auth.Principal, error), *broker.Refusal) {
	if g.CustomAuth == nil {
		return auth.Principal{}, nil, &broker.Refusal{Code: packet.NotAuthorized, Reason: "custom authentication is not available", Principal: "custom authorizer"}
	}
	req := authorizer.FromMQTT(info.Username, info.Password, info.ClientID, info.ServerName)
	reauth := func(ctx context.Context) (auth.Principal, error) { return g.CustomAuth.Authenticate(ctx, req) }
	p, err := reauth(ctx)
	if err == nil && (p.Kind != auth.KindAuthorizer || p.Grant == nil) {
		err = fmt.Errorf("custom authorizer returned a %s principal without a grant", p.Kind)
	}
	if err != nil {
		who := "custom authorizer " + req.AuthorizerName
		if !errors.Is(err, authorizer.ErrDenied) {
			g.log().Error("mqtt custom authentication failed", "client_id", info.ClientID, "err", err)
			return auth.Principal{}, nil, &broker.Refusal{Code: packet.ServerUnavailable, Reason: "authentication is unavailable", Principal: who}
		}
		code := packet.NotAuthorized
		if errors.Is(err, authorizer.ErrMissingToken) || errors.Is(err, authorizer.ErrMissingSignature) ||
			errors.Is(err, authorizer.ErrBadSignature) || errors.Is(err, authorizer.ErrNotAuthenticated) {
			code = packet.BadUserNameOrPassword
		}
		return auth.Principal{}, nil, &broker.Refusal{Code: code, Reason: err.Error(), Principal: who}
	}
	return p, reauth, nil
}
