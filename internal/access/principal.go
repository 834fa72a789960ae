package access

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/moat-iot/moat/internal/arn"
	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/policies"
	"github.com/moat-iot/moat/internal/policy"
)

// IdentityPolicies gives the IAM identity policies of a user or a role
// session: a user's inline and attached managed policies, a KindRole
// session's role's inline and attached policies. *iam.Service implements
// it. When the user or role no longer exists the error wraps the error
// named by the NoSuchEntity field of Gate and APIAuthorizer
// (iam.ErrNoSuchEntity).
type IdentityPolicies interface {
	IdentityPolicies(ctx context.Context, p auth.Principal) ([]*policy.Compiled, error)
}

// userARNer is implemented by an IdentityPolicies that knows users' ARNs
// (with their IAM path); without it a user's ARN is
// arn:aws:iam::ACCOUNT:user/NAME.
type userARNer interface {
	UserARN(name string) string
}

// layerKind says which kind of policy a layer holds, for messages.
type layerKind uint8

const (
	layerIoT layerKind = iota // IoT policies (certificate, Cognito identity, authorizer grant)
	layerIAM                  // IAM identity policies (user, role)
)

func (k layerKind) String() string {
	if k == layerIAM {
		return "identity-based policy"
	}
	return "IoT policy"
}

// layer is one set of policies a request must be allowed by. A principal
// has one layer, except an authenticated Cognito identity on the data
// plane, which has two (reference §11): its role's IAM policies and the
// IoT policies attached to its identity id. A request is allowed only if
// every layer allows it; explicit Deny in any layer wins.
type layer struct {
	kind     layerKind
	policies []*policy.Compiled
}

// resolver gathers the policies and condition keys of the principals that
// are not device certificates. Gate and APIAuthorizer share it.
type resolver struct {
	iam          IdentityPolicies
	iot          *policies.Service
	arns         arn.Builder
	noSuchEntity error
	grants       *grantCache
}

// ErrGone is wrapped by the errors of Gate.Bind and Gate.BindHTTP for a
// principal whose IAM user or role no longer exists (see NoSuchEntity):
// a refusal, not a server failure.
var ErrGone = errors.New("the principal's user or role no longer exists")

// dataAction reports whether action is one of the data plane's (MQTT and
// iot-data), on which an authenticated Cognito identity's IoT policies
// apply as a second layer (reference §11).
func dataAction(action string) bool {
	switch action {
	case "iot:Connect", "iot:Publish", "iot:RetainPublish", "iot:Subscribe", "iot:Receive",
		"iot:GetThingShadow", "iot:UpdateThingShadow", "iot:DeleteThingShadow", "iot:ListNamedShadowsForThing",
		"iot:GetRetainedMessage", "iot:ListRetainedMessages":
		return true
	}
	return false
}

// layers returns the policy layers of a user, role session or custom
// authorizer grant. data adds, for an authenticated Cognito identity, the
// IoT policies attached to its identity id. A user or role that no longer
// exists is an error wrapping ErrGone.
func (r *resolver) layers(ctx context.Context, p auth.Principal, data bool) ([]layer, error) {
	switch p.Kind {
	case auth.KindUser, auth.KindRole:
		if p.Kind == auth.KindRole && p.Session == nil {
			return nil, nil // no role to read: nothing is allowed
		}
		var idp []*policy.Compiled
		if r.iam != nil {
			var err error
			if idp, err = r.iam.IdentityPolicies(ctx, p); err != nil {
				if r.noSuchEntity != nil && errors.Is(err, r.noSuchEntity) {
					return nil, fmt.Errorf("%s: %w: %w", p, ErrGone, err)
				}
				return nil, fmt.Errorf("identity policies of %s: %w", p, err)
			}
		}
		ls := []layer{{kind: layerIAM, policies: idp}}
		if s := p.Session; data && s != nil && s.Source == auth.SourceCognito && s.Authenticated {
			// Without an IoT policy attached, an authenticated identity is
			// denied everything on the data plane, as in AWS.
			iot, err := r.iot.Effective(ctx, s.IdentityID)
			if err != nil {
				return nil, fmt.Errorf("IoT policies of identity %s: %w", s.IdentityID, err)
			}
			ls = append(ls, layer{kind: layerIoT, policies: iot})
		}
		return ls, nil
	case auth.KindAuthorizer:
		if p.Grant == nil {
			return nil, nil
		}
		c, err := r.grants.compile(p.Grant)
		if err != nil {
			return nil, err
		}
		return []layer{{kind: layerIoT, policies: c}}, nil
	}
	return nil, nil
}

// principalARN names the caller as AWS's AccessDenied messages do: the
// user's ARN, the assumed-role ARN of a role session, the certificate ARN,
// the authorizer's ARN and principal id.
func (r *resolver) principalARN(p auth.Principal) string {
	switch p.Kind {
	case auth.KindUser:
		if u, ok := r.iam.(userARNer); ok {
			return u.UserARN(p.UserName)
		}
		return "arn:aws:iam::" + r.arns.Account + ":user/" + p.UserName
	case auth.KindRole:
		if p.Session != nil {
			return p.Session.ARN(r.arns.Account)
		}
	case auth.KindCertificate:
		return p.CertificateARN
	case auth.KindAuthorizer:
		if p.Grant != nil {
			return r.arns.IoT("authorizer", p.Grant.AuthorizerName) + " (principal " + p.Grant.PrincipalID + ")"
		}
	}
	return p.String()
}

// roleARN is a session's role ARN.
func (r *resolver) roleARN(s *auth.Session) string {
	if s.RoleARN != "" {
		return s.RoleARN
	}
	return "arn:aws:iam::" + r.arns.Account + ":role/" + s.RoleName
}

// setVars fills the condition keys AWS sets for the principal (IAM's
// global keys and the Cognito and credentials-provider keys). Device
// certificates get none here: their variables are the iot:Certificate.*
// ones, bound by the Gate.
func (r *resolver) setVars(v *policy.Vars, p auth.Principal) {
	switch p.Kind {
	case auth.KindUser:
		v.Set("aws:username", p.UserName)
		v.Set("aws:PrincipalArn", r.principalARN(p))
		v.Set("aws:PrincipalType", "User")
	case auth.KindRole:
		s := p.Session
		if s == nil {
			return
		}
		v.Set("aws:PrincipalArn", r.roleARN(s))
		v.Set("aws:PrincipalType", "AssumedRole")
		v.Set("aws:TokenIssueTime", s.IssuedAt.UTC().Format(time.RFC3339))
		for k, val := range s.Tags {
			v.Set("aws:PrincipalTag/"+k, val)
		}
		if s.Source == auth.SourceCognito {
			amr := "unauthenticated"
			if s.Authenticated {
				amr = "authenticated"
			}
			v.Set("cognito-identity.amazonaws.com:sub", s.IdentityID)
			v.Set("cognito-identity.amazonaws.com:aud", s.IdentityPoolID)
			v.Set("cognito-identity.amazonaws.com:amr", amr)
		}
		if s.ThingName != "" {
			v.Set("credentials-iot:ThingName", s.ThingName)
		}
	default:
		return
	}
	v.Set("aws:PrincipalAccount", r.arns.Account)
	v.Set("aws:SecureTransport", "true") // every listener is TLS
}

// sourceIP is the host part of an address, "" if there is none.
func sourceIP(remote net.Addr) string {
	if remote == nil {
		return ""
	}
	host, _, err := net.SplitHostPort(remote.String())
	if err != nil {
		return ""
	}
	return host
}

// maxGrantPolicies bounds the compiled grant policies kept; a full cache
// is emptied (recompiling is cheap next to invoking the function).
const maxGrantPolicies = 1024

// grantCache keeps the compiled policies of custom authorizer grants, by
// authorizer, position and document: a function usually returns the same
// few documents to every device, so each is compiled once.
type grantCache struct {
	mu sync.Mutex
	m  map[string]*policy.Compiled // guarded by mu
}

// compile returns the grant's policy documents compiled as IoT policies,
// named AUTHORIZER/policy-N (N from 1) with version "grant".
func (c *grantCache) compile(g *auth.Grant) ([]*policy.Compiled, error) {
	out := make([]*policy.Compiled, 0, len(g.Policies))
	for i, doc := range g.Policies {
		key := g.AuthorizerName + "\x00" + strconv.Itoa(i) + "\x00" + doc
		c.mu.Lock()
		pc := c.m[key]
		c.mu.Unlock()
		if pc == nil {
			d, err := policy.Parse([]byte(doc))
			if err != nil {
				return nil, fmt.Errorf("authorizer %s policy %d: %w", g.AuthorizerName, i+1, err)
			}
			if pc, err = policy.Compile(g.AuthorizerName+"/policy-"+strconv.Itoa(i+1), "grant", d); err != nil {
				return nil, fmt.Errorf("authorizer %s policy %d: %w", g.AuthorizerName, i+1, err)
			}
			c.mu.Lock()
			if c.m == nil || len(c.m) >= maxGrantPolicies {
				c.m = make(map[string]*policy.Compiled)
			}
			c.m[key] = pc
			c.mu.Unlock()
		}
		out = append(out, pc)
	}
	return out, nil
}
