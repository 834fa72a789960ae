package provisioning

import (
	"crypto/sha256"
	"encoding/hex"
)

// Execute resolves the template with params into a Plan. For JITP, params
// is CertificateParameters of the device certificate; for fleet
// provisioning, the parameters the device sent to RegisterThing plus
// AWS::IoT::Certificate::Id. Parameters the template does not declare are
// ignored unless it Refs them as AWS::IoT::Certificate::*.
//
// Every declared parameter must have a value, given or Default, whether or
// not it is used (AWS: "the certificate must contain values for all of the
// parameters in the template body"); otherwise the error wraps
// ErrMissingParameter. A value that cannot be computed (Fn::Select out of
// range, Fn::FindInMap on an absent key, a name that is not a valid thing
// or policy name) wraps ErrEvaluation. Execute does not modify t.
func (t *Template) Execute(params map[string]string) (*Plan, error) {
	x := &exec{t: t, params: map[string]string{}, conds: map[string]bool{}}
	for _, p := range t.params {
		v, ok := params[p.name]
		if !ok {
			if !p.hasDefault {
				return nil, newErr(ErrMissingParameter, join("Parameters", p.name), "no value given and no Default")
			}
			v = p.def
		}
		x.params[p.name] = v
	}
	for k, v := range params {
		if isCertificateParameter(k) {
			if _, declared := x.params[k]; !declared {
				x.params[k] = v
			}
		}
	}
	plan := &Plan{}
	for i := range t.resources {
		r := &t.resources[i]
		if r.condition != "" {
			ok, err := x.condition(r.condition)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
		}
		props, err := x.properties(r)
		if err != nil {
			return nil, err
		}
		switch r.typ {
		case TypeThing:
			plan.Thing, err = thingPlan(r, props)
		case TypeCertificate:
			plan.Certificate, err = certificatePlan(r, props)
		case TypePolicy:
			var p PolicyPlan
			p, err = policyPlan(r, props)
			plan.Policies = append(plan.Policies, p)
		}
		if err != nil {
			return nil, err
		}
	}
	if t.deviceConfig != nil {
		cfg, err := x.deviceConfiguration()
		if err != nil {
			return nil, err
		}
		plan.DeviceConfiguration = cfg
	}
	return plan, nil
}

// resolved holds a resource's evaluated properties; a property that
// resolved to AWS::NoValue is absent.
type resolved struct {
	path string
	vals map[string]node
}

func (x *exec) properties(r *resource) (resolved, error) {
	out := resolved{path: join(r.path, "Properties"), vals: map[string]node{}}
	for i, k := range r.props.keys {
		v, ok, err := x.eval(&r.props.vals[i], join(out.path, k))
		if err != nil {
			return resolved{}, err
		}
		if ok {
			out.vals[k] = v
		}
	}
	return out, nil
}

// str returns a string property, "" when absent.
func (p resolved) str(key string) (string, bool, error) {
	v, ok := p.vals[key]
	if !ok {
		return "", false, nil
	}
	s, err := scalar(&v, join(p.path, key))
	return s, true, err
}

// name returns a string property that must match re when present.
func (p resolved) name(key string, required bool, re interface{ MatchString(string) bool }) (string, error) {
	s, ok, err := p.str(key)
	if err != nil {
		return "", err
	}
	if !ok {
		if required {
			return "", newErr(ErrEvaluation, join(p.path, key), "is required")
		}
		return "", nil
	}
	if !re.MatchString(s) {
		return "", newErr(ErrEvaluation, join(p.path, key), "%q is not a valid name", s)
	}
	return s, nil
}

func thingPlan(r *resource, p resolved) (*ThingPlan, error) {
	tp := &ThingPlan{
		LogicalName:         r.name,
		AttributesOverride:  r.override("AttributePayload"),
		ThingTypeOverride:   r.override("ThingTypeName"),
		ThingGroupsOverride: r.override("ThingGroups"),
	}
	var err error
	if tp.ThingName, err = p.name("ThingName", true, reThingName); err != nil {
		return nil, err
	}
	if tp.ThingTypeName, err = p.name("ThingTypeName", false, reThingName); err != nil {
		return nil, err
	}
	if tp.BillingGroup, err = p.name("BillingGroup", false, reThingName); err != nil {
		return nil, err
	}
	if g, ok := p.vals["ThingGroups"]; ok {
		gp := join(p.path, "ThingGroups")
		if g.kind != kArray {
			return nil, newErr(ErrEvaluation, gp, "must resolve to a list, got %s", g.kind)
		}
		tp.ThingGroups = []string{}
		for i := range g.elems {
			s, err := scalar(&g.elems[i], index(gp, i))
			if err != nil {
				return nil, err
			}
			if !reThingName.MatchString(s) {
				return nil, newErr(ErrEvaluation, index(gp, i), "%q is not a valid thing group name", s)
			}
			tp.ThingGroups = append(tp.ThingGroups, s)
		}
	}
	if a, ok := p.vals["AttributePayload"]; ok {
		ap := join(p.path, "AttributePayload")
		tp.Attributes = map[string]string{}
		for i, k := range a.keys {
			s, err := scalar(&a.vals[i], join(ap, k))
			if err != nil {
				return nil, err
			}
			if !reAttrName.MatchString(k) {
				return nil, newErr(ErrEvaluation, join(ap, k), "%q is not a valid attribute name", k)
			}
			if !reAttrValue.MatchString(s) {
				return nil, newErr(ErrEvaluation, join(ap, k), "%q is not a valid attribute value", s)
			}
			tp.Attributes[k] = s
		}
	}
	return tp, nil
}

func certificatePlan(r *resource, p resolved) (*CertificatePlan, error) {
	cp := &CertificatePlan{LogicalName: r.name, Status: "ACTIVE", StatusOverride: r.override("Status")}
	var err error
	if id, ok, err := p.str("CertificateId"); err != nil {
		return nil, err
	} else if ok {
		if !reCertID.MatchString(id) {
			return nil, newErr(ErrEvaluation, join(p.path, "CertificateId"), "%q is not a certificate ID (64 hexadecimal digits)", id)
		}
		cp.CertificateID = id
	}
	for _, f := range []struct {
		key string
		dst *string
	}{{"CertificatePem", &cp.CertificatePEM}, {"CACertificatePem", &cp.CACertificatePEM}, {"CertificateSigningRequest", &cp.CSR}} {
		if *f.dst, _, err = p.str(f.key); err != nil {
			return nil, err
		}
	}
	if cp.CertificateID == "" && cp.CertificatePEM == "" && cp.CSR == "" {
		return nil, newErr(ErrEvaluation, p.path, "the certificate resolved to no CertificateId, CertificatePem or CertificateSigningRequest")
	}
	if s, ok, err := p.str("Status"); err != nil {
		return nil, err
	} else if ok {
		st, serr := certStatus(s, join(p.path, "Status"))
		if serr != nil {
			return nil, serr
		}
		cp.Status = st
	}
	return cp, nil
}

func policyPlan(r *resource, p resolved) (PolicyPlan, error) {
	pp := PolicyPlan{LogicalName: r.name}
	if d, ok := p.vals["PolicyDocument"]; ok {
		doc, err := policyDocument(&d, join(p.path, "PolicyDocument"))
		if err != nil {
			return PolicyPlan{}, err
		}
		sum := sha256.Sum256([]byte(doc))
		pp.Name, pp.Document = hex.EncodeToString(sum[:]), doc
		return pp, nil
	}
	name, err := p.name("PolicyName", true, rePolicyName)
	if err != nil {
		return PolicyPlan{}, err
	}
	pp.Name = name
	return pp, nil
}

func (x *exec) deviceConfiguration() (map[string]string, error) {
	const path = "DeviceConfiguration"
	out := map[string]string{}
	n := x.t.deviceConfig
	for i, k := range n.keys {
		v, ok, err := x.eval(&n.vals[i], join(path, k))
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		s, err := scalar(&v, join(path, k))
		if err != nil {
			return nil, err
		}
		out[k] = s
	}
	return out, nil
}
