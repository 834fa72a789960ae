package access

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/policy"
)

// Simulate builds the permissions principal p would have on an MQTT
// connection as clientID, as Bind does but without a connection (no
// source IP, no decision log): the same policies, the same thing
// resolution (registry.ConnectionThing) and the same variables. add names
// policies treated as if attached (their default versions), skip names
// policies treated as if not. It serves TestAuthorization and
// `moat policy explain`; an unknown name in add is the policies service's
// ResourceNotFound error.
//
// The principal's certificate status is not checked: the simulation
// answers what the policies say, whether or not the device could
// authenticate now.
func (g *Gate) Simulate(ctx context.Context, p auth.Principal, clientID string, add, skip []string) (*Permissions, error) {
	perms, err := g.Bind(ctx, p, clientID, nil)
	if err != nil {
		return nil, err
	}
	perms.sink, perms.logAllows = nil, false
	if s := p.Session; s != nil && s.Source == auth.SourceCognito {
		// A Cognito identity: its IoT policies (the layer TestAuthorization
		// speaks of); its role's IAM policies are not simulated.
		for _, l := range perms.layers {
			if l.kind == layerIoT {
				perms.layers = []layer{l}
				break
			}
		}
	}
	if len(perms.layers) != 1 {
		return nil, fmt.Errorf("simulate: %s has %d policy layers; only device certificates and Cognito identities are simulated", p, len(perms.layers))
	}
	current := perms.layers[0].policies
	compiled := make([]*policy.Compiled, 0, len(current)+len(add))
	for _, c := range current {
		if !slices.Contains(skip, c.Name) {
			compiled = append(compiled, c)
		}
	}
	for _, name := range add {
		if slices.Contains(skip, name) || slices.ContainsFunc(compiled, func(c *policy.Compiled) bool { return c.Name == name }) {
			continue
		}
		v, err := g.Policies.Get(ctx, name)
		if err != nil {
			return nil, err
		}
		doc, err := policy.Parse([]byte(v.Version.Document))
		if err != nil {
			return nil, err
		}
		c, err := policy.Compile(name, strconv.Itoa(v.Version.VersionID), doc)
		if err != nil {
			return nil, err
		}
		compiled = append(compiled, c)
	}
	perms.layers = []layer{{kind: perms.layers[0].kind, policies: compiled}}
	if p.Certificate != nil && perms.vars.Cert == nil && policy.UsesCertificate(compiled) {
		perms.vars.Cert = policy.CertFromX509(p.Certificate, p.CertificateID)
	}
	return perms, nil
}

// PolicyRef names one policy version of a Permissions.
type PolicyRef struct{ Name, Version string }

// Policies lists the policy versions the permissions evaluate, layer by
// layer, in order.
func (p *Permissions) Policies() []PolicyRef {
	var out []PolicyRef
	for _, l := range p.layers {
		for _, c := range l.policies {
			out = append(out, PolicyRef{c.Name, c.VersionID})
		}
	}
	return out
}

// flat lists every layer's policies, in the order of Policies.
func (p *Permissions) flat() []*policy.Compiled {
	if len(p.layers) == 1 {
		return p.layers[0].policies
	}
	var out []*policy.Compiled
	for _, l := range p.layers {
		out = append(out, l.policies...)
	}
	return out
}

// DecideARN evaluates action (e.g. "iot:Publish") on a full resource ARN,
// as TestAuthorization gives it, without the cache. For a topic or
// topicfilter ARN of this server's region and account, iot:Topic is its
// topic. explain fills the decision's explanation.
func (p *Permissions) DecideARN(action, resourceARN string, explain bool) policy.Decision {
	return p.evaluate(p.request(action, resourceARN, explain))
}

// DecideEach evaluates the request against each policy alone, in the order
// of Policies, for TestAuthorization's lists of the policies that allowed,
// denied or did not match.
func (p *Permissions) DecideEach(action, resourceARN string) []policy.Result {
	req := p.request(action, resourceARN, false)
	all := p.flat()
	out := make([]policy.Result, len(all))
	for i := range all {
		out[i] = policy.Evaluate(all[i:i+1:i+1], req).Result
	}
	return out
}

func (p *Permissions) request(action, resourceARN string, explain bool) *policy.Request {
	vars := *p.vars
	if t, ok := p.arns.Own(resourceARN, "topic"); ok {
		vars.Topic = t
	} else if f, ok := p.arns.Own(resourceARN, "topicfilter"); ok {
		vars.Topic = f
	}
	return &policy.Request{Action: action, Resource: resourceARN, Vars: &vars, Explain: explain}
}

// Bound lists the connection-wide policy variables as bound, for
// explanations: the client id, the thing (or that there is none), and the
// certificate id. An empty value means the variable is unresolved.
func (p *Permissions) Bound() []policy.ResolvedVar {
	out := []policy.ResolvedVar{
		{Name: "iot:ClientId", Value: p.vars.ClientID},
		{Name: "iot:Connection.Thing.IsAttached", Value: strconv.FormatBool(p.vars.Thing != nil)},
	}
	if t := p.vars.Thing; t != nil {
		out = append(out, policy.ResolvedVar{Name: "iot:Connection.Thing.ThingName", Value: t.Name})
		if t.TypeName != "" {
			out = append(out, policy.ResolvedVar{Name: "iot:Connection.Thing.ThingTypeName", Value: t.TypeName})
		}
		names := make([]string, 0, len(t.Attributes))
		for k := range t.Attributes {
			names = append(names, k)
		}
		slices.Sort(names)
		for _, k := range names {
			out = append(out, policy.ResolvedVar{Name: "iot:Connection.Thing.Attributes[" + k + "]", Value: t.Attributes[k]})
		}
	}
	if p.principal.CertificateID != "" {
		out = append(out, policy.ResolvedVar{Name: "iot:CertificateId", Value: p.principal.CertificateID})
	}
	return out
}
