// Package access decides what a connected device may do. On CONNECT it
// authenticates the device (internal/auth), resolves its thing
// (internal/registry) and the policies attached to it (internal/policies),
// binds the policy variables once for the connection, and checks
// iot:Connect. Afterwards it answers each publish, subscribe and receive
// from a per-connection decision cache, evaluating the compiled policies
// (internal/policy) only on a miss.
//
// The decisions themselves are internal/policy's: this package only
// gathers what they depend on.
package access

import (
	"context"
	"crypto/x509"
	"errors"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/moat-iot/moat/internal/arn"
	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/broker"
	"github.com/moat-iot/moat/internal/mqtt/packet"
	"github.com/moat-iot/moat/internal/pki"
	"github.com/moat-iot/moat/internal/policies"
	"github.com/moat-iot/moat/internal/policy"
	"github.com/moat-iot/moat/internal/registry"
	"github.com/moat-iot/moat/internal/store"
)

// Gate implements broker.Gate over moat's services.
type Gate struct {
	Auth     *auth.Authenticator
	Registry *registry.Service
	Policies *policies.Service
	ARNs     arn.Builder
	Log      *slog.Logger
	// Decisions, if set, receives the connections' decisions (see
	// DecisionSink); nil logs none.
	Decisions DecisionSink
}

var _ broker.Gate = (*Gate)(nil)

// Admit authenticates the client certificate and checks iot:Connect.
func (g *Gate) Admit(ctx context.Context, info broker.ConnInfo) (broker.Permissions, *broker.Refusal) {
	p, err := g.Auth.Certificate(ctx, info.PeerCertificates)
	if err != nil {
		who := ""
		if len(info.PeerCertificates) > 0 {
			who = "cert/" + pki.CertificateID(info.PeerCertificates[0].Raw)
		}
		switch {
		case errors.Is(err, auth.ErrNoCertificate), errors.Is(err, auth.ErrUnknownCertificate),
			errors.Is(err, auth.ErrCertificateNotActive), errors.Is(err, auth.ErrCertificateExpired):
			return nil, &broker.Refusal{Code: packet.NotAuthorized, Reason: err.Error(), Principal: who}
		}
		g.log().Error("mqtt authentication failed", "client_id", info.ClientID, "err", err)
		return nil, &broker.Refusal{Code: packet.ServerUnavailable, Reason: "authentication is unavailable"}
	}
	perms, err := g.Bind(ctx, p, info.ClientID, info.RemoteAddr)
	if err != nil {
		g.log().Error("mqtt authorization failed", "client_id", info.ClientID, "principal", p.String(), "err", err)
		return nil, &broker.Refusal{Code: packet.ServerUnavailable, Reason: "authorization is unavailable"}
	}
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
		perms.vars.Set("iot:ConnectAttributes", attrs...)
	}
	perms.vars.DomainName = info.ServerName
	if !perms.Allow(broker.ActConnect, info.ClientID) {
		return nil, &broker.Refusal{Code: packet.NotAuthorized, Reason: "not authorized: iot:Connect on client/" + info.ClientID, Principal: p.String()}
	}
	return perms, nil
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

func (g *Gate) bind(ctx context.Context, p auth.Principal, clientID string, remote net.Addr, withThing bool) (*Permissions, error) {
	// The policies of the certificate, and of the thing's groups and their
	// ancestors (as AWS IoT applies thing group policies: only where the
	// connection acts as a thing, so not over HTTPS).
	targets := []string{p.CertificateARN}
	var thing *store.Thing
	if withThing {
		var err error
		if thing, err = g.Registry.ConnectionThing(ctx, p.CertificateARN, clientID); err != nil {
			return nil, err
		}
		if thing != nil {
			groups, err := g.Registry.GroupPolicyTargets(ctx, thing.Name)
			if err != nil {
				return nil, err
			}
			targets = append(targets, groups...)
		}
	}
	compiled, err := g.Policies.Effective(ctx, targets...)
	if err != nil {
		return nil, err
	}
	vars := &policy.Vars{ClientID: clientID}
	if p.Certificate != nil && policy.UsesCertificate(compiled) {
		// Built only when a policy reads it: it is the largest part of a
		// connection's permissions.
		vars.Cert = policy.CertFromX509(p.Certificate, p.CertificateID)
	}
	if remote != nil {
		if host, _, err := net.SplitHostPort(remote.String()); err == nil {
			vars.SourceIP = host
		}
	}
	if thing != nil {
		vars.Thing = &policy.Thing{Name: thing.Name, TypeName: thing.TypeName, Attributes: thing.Attributes}
	}
	perms := newPermissions(g.ARNs, p, compiled, vars)
	perms.gate, perms.clientID, perms.remote = g, clientID, remote
	perms.targets = targets
	if g.Decisions != nil {
		perms.sink, perms.logAllows = g.Decisions, g.Decisions.Allows()
	}
	return perms, nil
}

func (g *Gate) log() *slog.Logger {
	if g.Log != nil {
		return g.Log
	}
	return slog.Default()
}

// maxCached bounds each action's decision cache; a full cache is emptied
// (decisions are cheap to recompute, memory per connection is not).
const maxCached = 256

// Permissions are one connection's rights: compiled policies, bound
// variables, and a decision cache per action.
type Permissions struct {
	arns      arn.Builder
	principal auth.Principal
	policies  []*policy.Compiled
	vars      *policy.Vars
	// For Refresh: how these permissions were made.
	gate     *Gate
	clientID string
	remote   net.Addr
	// targets are the policy targets bound: the certificate ARN, then the
	// ARNs of the thing's groups and their ancestors.
	targets []string
	// sink receives each decision Allow makes; nil: none (see decisions.go).
	sink      DecisionSink
	logAllows bool

	mu    sync.RWMutex
	cache [6]map[string]bool // by broker.Action; guarded by mu
}

func newPermissions(arns arn.Builder, p auth.Principal, compiled []*policy.Compiled, vars *policy.Vars) *Permissions {
	return &Permissions{arns: arns, principal: p, policies: compiled, vars: vars}
}

// Principal names the identity for logs.
func (p *Permissions) Principal() string { return p.principal.String() }

var _ broker.Expirer = (*Permissions)(nil)

// ValidUntil is the certificate's notAfter: the broker closes the
// connection then. Zero without a certificate.
func (p *Permissions) ValidUntil() time.Time {
	if c := p.principal.Certificate; c != nil {
		return c.NotAfter
	}
	return time.Time{}
}

// Allow answers from the cache, evaluating the policies on a miss.
func (p *Permissions) Allow(a broker.Action, resource string) bool {
	p.mu.RLock()
	d, ok := p.cache[a][resource]
	p.mu.RUnlock()
	if ok {
		if p.sink != nil {
			p.record(a, resource, d)
		}
		return d
	}
	d = p.Decide(a, resource, false).Allowed
	// iot:Connect is asked once per CONNECT (and Refresh asks it of new
	// Permissions): caching it would only keep a map per idle connection.
	// The other caches are made on their first decision.
	if a != broker.ActConnect {
		p.mu.Lock()
		if p.cache[a] == nil || len(p.cache[a]) >= maxCached {
			p.cache[a] = make(map[string]bool)
		}
		p.cache[a][resource] = d
		p.mu.Unlock()
	}
	if p.sink != nil {
		p.record(a, resource, d)
	}
	return d
}

// Decide evaluates the policies for one request, without the cache;
// explain fills the decision's explanation.
func (p *Permissions) Decide(a broker.Action, resource string, explain bool) policy.Decision {
	var res string
	vars := *p.vars
	switch a {
	case broker.ActConnect:
		res = p.arns.Client(resource)
	case broker.ActSubscribe:
		res = p.arns.TopicFilter(resource)
		vars.Topic = resource
	default:
		res = p.arns.Topic(resource)
		vars.Topic = resource
	}
	return policy.Evaluate(p.policies, &policy.Request{Action: a.String(), Resource: res, Vars: &vars, Explain: explain})
}

var _ broker.Refresher = (*Permissions)(nil)

// Refresh recomputes the permissions from the store as a new CONNECT
// would: the certificate must still be registered and ACTIVE (else
// DISCONNECT 0x8C, its authentication no longer holds), and iot:Connect
// must still be allowed (else 0x87).
func (p *Permissions) Refresh(ctx context.Context) (broker.Permissions, *broker.Refusal) {
	g := p.gate
	if g == nil || p.principal.Certificate == nil {
		return p, nil
	}
	pr, err := g.Auth.Certificate(ctx, []*x509.Certificate{p.principal.Certificate})
	if err != nil {
		return nil, &broker.Refusal{Code: packet.BadAuthenticationMethod, Reason: err.Error(), Principal: p.principal.String()}
	}
	np, err := g.Bind(ctx, pr, p.clientID, p.remote)
	if err == nil {
		for k, vs := range p.vars.Extra { // what the CONNECT said still holds
			np.vars.Set(k, vs...)
		}
		np.vars.DomainName = p.vars.DomainName
	}
	if err != nil {
		g.log().Error("mqtt recheck failed; keeping the connection's permissions", "client_id", p.clientID, "err", err)
		return p, nil
	}
	if !np.Allow(broker.ActConnect, p.clientID) {
		return nil, &broker.Refusal{Code: packet.NotAuthorized, Reason: "not authorized: iot:Connect on client/" + p.clientID + " no longer allowed", Principal: p.principal.String()}
	}
	return np, nil
}

// CertificateID is the id of the connection's certificate.
func (p *Permissions) CertificateID() string { return p.principal.CertificateID }

// CertificateARN is the ARN of the connection's certificate.
func (p *Permissions) CertificateARN() string { return p.principal.CertificateARN }

// UsesPolicy reports whether the policy named is one of the connection's.
func (p *Permissions) UsesPolicy(name string) bool {
	for _, c := range p.policies {
		if c.Name == name {
			return true
		}
	}
	return false
}

// HasTarget reports whether policies attached to target (a certificate or
// thing group ARN) apply to the connection.
func (p *Permissions) HasTarget(target string) bool {
	return slices.Contains(p.targets, target)
}

// ThingName is the connection's thing, or "".
func (p *Permissions) ThingName() string {
	if p.vars.Thing == nil {
		return ""
	}
	return p.vars.Thing.Name
}
