package access

import (
	"context"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/moat-iot/moat/internal/arn"
	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/broker"
	"github.com/moat-iot/moat/internal/policy"
)

// maxCached bounds each action's decision cache; a full cache is emptied
// (decisions are cheap to recompute, memory per connection is not).
const maxCached = 256

// Permissions are one connection's rights: policy layers, bound
// variables, and a decision cache per action. They are immutable once
// bound, except the cache; Refresh makes new ones.
type Permissions struct {
	arns      arn.Builder
	principal auth.Principal
	// admin: the account root (auth.AdminUser); every request is allowed.
	admin bool
	// layers must each allow a request (see layer); none: nothing is
	// allowed.
	layers []layer
	vars   *policy.Vars
	// validUntil is when the credential stops being valid (ValidUntil).
	validUntil time.Time
	// logName names the principal in the decision log: a certificate id,
	// or the caller's ARN.
	logName string
	// For Refresh: how these permissions were made.
	gate     *Gate
	clientID string
	remote   net.Addr
	// reauth authenticates the connection's credentials again (custom
	// authorizers); nil if it cannot.
	reauth func(context.Context) (auth.Principal, error)
	// targets are the IoT policy targets bound: the certificate ARN, then
	// the ARNs of the thing's groups and their ancestors; or a Cognito
	// identity id.
	targets []string
	// sink receives each decision Allow makes; nil: none (see decisions.go).
	sink      DecisionSink
	logAllows bool

	mu    sync.RWMutex
	cache [6]map[string]bool // by broker.Action; guarded by mu
}

// newPermissions makes the permissions of a device certificate with one
// layer of IoT policies (tests and benchmarks).
func newPermissions(arns arn.Builder, p auth.Principal, compiled []*policy.Compiled, vars *policy.Vars) *Permissions {
	return &Permissions{arns: arns, principal: p, layers: []layer{{kind: layerIoT, policies: compiled}}, vars: vars, logName: p.CertificateID}
}

// Principal names the identity for logs.
func (p *Permissions) Principal() string { return p.principal.String() }

var _ broker.Expirer = (*Permissions)(nil)

// ValidUntil is when the connection's credential stops being valid, and
// the broker closes the connection: the certificate's notAfter, the role
// session's expiration (temporary credentials), or the custom authorizer
// grant's disconnectAfterInSeconds after it was first issued. Zero: never
// (users' access keys, the administrator).
func (p *Permissions) ValidUntil() time.Time { return p.validUntil }

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
	return p.evaluate(&policy.Request{Action: a.String(), Resource: res, Vars: &vars, Explain: explain})
}

// evaluate decides req against every layer (see layer).
func (p *Permissions) evaluate(req *policy.Request) policy.Decision {
	if p.admin {
		return policy.Decision{Allowed: true, Result: policy.Allowed, Statement: -1}
	}
	if len(p.layers) == 1 {
		return policy.Evaluate(p.layers[0].policies, req)
	}
	d, _ := evaluateLayers(p.layers, req)
	return d
}

// evaluateLayers decides req against every layer: an explicit Deny in
// any layer is the decision; else the first layer that does not allow it
// (implicit deny); else the first layer's Allow. No layer: implicit deny.
// The kind is the deciding layer's. Unresolved variables of every layer
// evaluated are reported.
func evaluateLayers(ls []layer, req *policy.Request) (policy.Decision, layerKind) {
	if len(ls) == 0 {
		return policy.Decision{Statement: -1}, layerIAM
	}
	var out policy.Decision
	var kind layerKind
	var unresolved []policy.Unresolved
	for i, l := range ls {
		d := policy.Evaluate(l.policies, req)
		unresolved = append(unresolved, d.Unresolved...)
		switch {
		case d.Result == policy.ExplicitDeny:
			d.Unresolved = unresolved
			return d, l.kind
		case i == 0, d.Result == policy.ImplicitDeny && out.Allowed:
			out, kind = d, l.kind
		}
	}
	out.Unresolved = unresolved
	return out, kind
}

// CertificateID is the id of the connection's certificate.
func (p *Permissions) CertificateID() string { return p.principal.CertificateID }

// CertificateARN is the ARN of the connection's certificate.
func (p *Permissions) CertificateARN() string { return p.principal.CertificateARN }

// PrincipalKind is the kind of the connection's principal.
func (p *Permissions) PrincipalKind() auth.Kind { return p.principal.Kind }

// UserName is the IAM user of a connection authenticated by a user's
// access key (a presigned WebSocket URL), or "".
func (p *Permissions) UserName() string {
	if p.principal.Kind != auth.KindUser {
		return ""
	}
	return p.principal.UserName
}

// AccessKeyID is the access key a connection was authenticated by (a
// user's long-term key, or the ASIA... key of temporary credentials), or
// "".
func (p *Permissions) AccessKeyID() string { return p.principal.AccessKeyID }

// RoleName is the role of a connection authenticated by temporary
// credentials (STS, Cognito, the credentials provider), or "".
func (p *Permissions) RoleName() string {
	if p.principal.Kind != auth.KindRole || p.principal.Session == nil {
		return ""
	}
	return p.principal.Session.RoleName
}

// IdentityID is the Cognito identity of a connection authenticated by a
// Cognito identity's temporary credentials, or "".
func (p *Permissions) IdentityID() string {
	if p.principal.Kind != auth.KindRole || p.principal.Session == nil {
		return ""
	}
	return p.principal.Session.IdentityID
}

// AuthorizerName is the custom authorizer that admitted the connection,
// or "".
func (p *Permissions) AuthorizerName() string {
	if p.principal.Kind != auth.KindAuthorizer || p.principal.Grant == nil {
		return ""
	}
	return p.principal.Grant.AuthorizerName
}

// UsesPolicy reports whether the IoT policy named is one of the
// connection's.
func (p *Permissions) UsesPolicy(name string) bool {
	return p.usesPolicy(layerIoT, name)
}

// UsesIdentityPolicy reports whether an IAM identity policy of the
// connection has this name (as IdentityPolicies names its compiled
// policies).
func (p *Permissions) UsesIdentityPolicy(name string) bool {
	return p.usesPolicy(layerIAM, name)
}

func (p *Permissions) usesPolicy(kind layerKind, name string) bool {
	for _, l := range p.layers {
		if l.kind != kind {
			continue
		}
		for _, c := range l.policies {
			if c.Name == name {
				return true
			}
		}
	}
	return false
}

// HasTarget reports whether IoT policies attached to target (a
// certificate or thing group ARN, a Cognito identity id) apply to the
// connection.
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
