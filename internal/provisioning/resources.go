package provisioning

import (
	"encoding/json"
	"regexp"
	"strings"
)

// properties lists the properties each resource type accepts.
var properties = map[string]map[string]bool{
	TypeThing: {"ThingName": true, "AttributePayload": true, "ThingTypeName": true,
		"ThingGroups": true, "BillingGroup": true},
	TypeCertificate: {"CertificateId": true, "CertificatePem": true, "CACertificatePem": true,
		"CertificateSigningRequest": true, "Status": true},
	TypePolicy: {"PolicyName": true, "PolicyDocument": true},
}

// overridable maps the OverrideSettings keys of each type to the property
// they govern. AWS's prose names them ATTRIBUTE_PAYLOAD, ... while its
// examples use the property names; both are accepted.
var overridable = map[string]map[string]string{
	TypeThing: {
		"AttributePayload": "AttributePayload", "ATTRIBUTE_PAYLOAD": "AttributePayload",
		"ThingTypeName": "ThingTypeName", "THING_TYPE_NAME": "ThingTypeName",
		"ThingGroups": "ThingGroups", "THING_GROUPS": "ThingGroups",
	},
	TypeCertificate: {"Status": "Status", "STATUS": "Status"},
}

var actions = map[string]Action{"DO_NOTHING": DoNothing, "REPLACE": Replace, "FAIL": Fail, "MERGE": Merge}

// Name patterns from the iot API model (botocore service-2.json).
var (
	reThingName  = regexp.MustCompile(`^[a-zA-Z0-9:_-]{1,128}$`) // ThingName, ThingTypeName, ThingGroupName, BillingGroupName
	rePolicyName = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)
	reAttrName   = regexp.MustCompile(`^[a-zA-Z0-9_.,@/:#-]{1,128}$`)
	reAttrValue  = regexp.MustCompile(`^[a-zA-Z0-9_.,@/:#=\[\]-]{0,800}$`)
	reCertID     = regexp.MustCompile(`^(0x[a-fA-F0-9]{62}|[a-fA-F0-9]{64})$`)
)

func (t *Template) parseResources(n *node) error {
	const path = "Resources"
	if n.kind != kObject {
		return newErr(ErrInvalid, path, "must be an object, got %s", n.kind)
	}
	// Record every logical name first so that Ref can say "is a resource".
	for i, name := range n.keys {
		t.resources = append(t.resources, resource{name: name, path: join(path, name), props: &n.vals[i]})
	}
	counts := map[string]string{}
	for i := range t.resources {
		r := &t.resources[i]
		if err := t.parseResource(r); err != nil {
			return err
		}
		if r.typ != TypePolicy {
			if first, dup := counts[r.typ]; dup {
				return newErr(ErrInvalid, r.path, "a template declares at most one %s; %q is one already", r.typ, first)
			}
			counts[r.typ] = r.name
		}
	}
	return nil
}

// parseResource checks one resource declaration; on entry r.props holds the
// whole declaration, on return the Properties object.
func (t *Template) parseResource(r *resource) error {
	decl := r.props
	if decl.kind != kObject {
		return newErr(ErrInvalid, r.path, "resource must be an object, got %s", decl.kind)
	}
	for _, k := range decl.keys {
		switch k {
		case "Type", "Properties", "OverrideSettings", "Condition":
		default:
			return newErr(ErrInvalid, join(r.path, k), "unknown resource attribute; expected Type, Properties, OverrideSettings or Condition")
		}
	}
	typ, ok := decl.member("Type")
	if !ok || typ.kind != kString {
		return newErr(ErrInvalid, join(r.path, "Type"), "is required and must be a string")
	}
	if _, ok := properties[typ.text]; !ok {
		return newErr(ErrInvalid, join(r.path, "Type"), "unsupported resource type %q; supported: %s, %s, %s", typ.text, TypeThing, TypeCertificate, TypePolicy)
	}
	r.typ = typ.text
	if c, ok := decl.member("Condition"); ok {
		if err := t.checkCondName(c, join(r.path, "Condition")); err != nil {
			return err
		}
		r.condition = c.text
	}
	props, ok := decl.member("Properties")
	pp := join(r.path, "Properties")
	if !ok || props.kind != kObject || isIntrinsic(props) {
		return newErr(ErrInvalid, pp, "is required and must be an object")
	}
	r.props = props
	for i, k := range props.keys {
		if !properties[r.typ][k] {
			return newErr(ErrInvalid, join(pp, k), "unknown property of %s", r.typ)
		}
		if err := t.check(&props.vals[i], join(pp, k), ctxValue); err != nil {
			return err
		}
	}
	if o, ok := decl.member("OverrideSettings"); ok {
		if err := parseOverrides(r, o); err != nil {
			return err
		}
		r.overrides = o
	}
	switch r.typ {
	case TypeThing:
		return checkThing(r)
	case TypeCertificate:
		return checkCertificate(r)
	}
	return checkPolicy(r)
}

func parseOverrides(r *resource, o *node) error {
	op := join(r.path, "OverrideSettings")
	keys, ok := overridable[r.typ]
	if !ok {
		return newErr(ErrInvalid, op, "OverrideSettings are not available for %s", r.typ)
	}
	if o.kind != kObject {
		return newErr(ErrInvalid, op, "must be an object, got %s", o.kind)
	}
	seen := map[string]bool{}
	for i, k := range o.keys {
		prop, ok := keys[k]
		if !ok {
			return newErr(ErrInvalid, join(op, k), "no OverrideSettings for this property of %s", r.typ)
		}
		if seen[prop] {
			return newErr(ErrInvalid, join(op, k), "override for %s given twice", prop)
		}
		seen[prop] = true
		v := &o.vals[i]
		a, ok := actions[v.text]
		if v.kind != kString || !ok {
			return newErr(ErrInvalid, join(op, k), "must be DO_NOTHING, REPLACE, FAIL or MERGE")
		}
		if a == Merge && prop != "AttributePayload" && prop != "ThingGroups" {
			return newErr(ErrInvalid, join(op, k), "MERGE is valid only for AttributePayload and ThingGroups")
		}
	}
	return nil
}

// override returns the action a resource's OverrideSettings give prop.
func (r *resource) override(prop string) Action {
	if r.overrides == nil {
		return DoNothing
	}
	for i, k := range r.overrides.keys {
		if overridable[r.typ][k] == prop {
			return actions[r.overrides.vals[i].text]
		}
	}
	return DoNothing
}

func checkThing(r *resource) error {
	pp := join(r.path, "Properties")
	if _, ok := r.props.member("ThingName"); !ok {
		return newErr(ErrInvalid, pp, "ThingName is required")
	}
	if a, ok := r.props.member("AttributePayload"); ok && (a.kind != kObject || isIntrinsic(a)) {
		return newErr(ErrInvalid, join(pp, "AttributePayload"), "must be an object of attribute names to values")
	}
	if g, ok := r.props.member("ThingGroups"); ok && g.kind != kArray && !isIntrinsic(g) {
		return newErr(ErrInvalid, join(pp, "ThingGroups"), "must be a list of thing group names")
	}
	return nil
}

func checkCertificate(r *resource) error {
	pp := join(r.path, "Properties")
	n := 0
	for _, k := range []string{"CertificateId", "CertificatePem", "CertificateSigningRequest"} {
		if _, ok := r.props.member(k); ok {
			n++
		}
	}
	if n != 1 {
		return newErr(ErrInvalid, pp, "exactly one of CertificateId, CertificatePem and CertificateSigningRequest is required")
	}
	if _, ok := r.props.member("CACertificatePem"); ok {
		if _, ok := r.props.member("CertificatePem"); !ok {
			return newErr(ErrInvalid, join(pp, "CACertificatePem"), "is valid only with CertificatePem")
		}
	}
	if s, ok := r.props.member("Status"); ok && s.kind == kString {
		if _, err := certStatus(s.text, join(pp, "Status")); err != nil {
			return newErr(ErrInvalid, err.Path, "%s", err.Msg)
		}
	}
	return nil
}

// certStatus normalizes a certificate Status. AWS's fleet provisioning
// example writes "Active", so the comparison ignores case.
func certStatus(s, path string) (string, *Error) {
	u := strings.ToUpper(s)
	if u != "ACTIVE" && u != "INACTIVE" {
		return "", newErr(ErrEvaluation, path, "must be ACTIVE or INACTIVE, got %q", s)
	}
	return u, nil
}

func checkPolicy(r *resource) error {
	pp := join(r.path, "Properties")
	_, hasName := r.props.member("PolicyName")
	doc, hasDoc := r.props.member("PolicyDocument")
	if hasName == hasDoc {
		return newErr(ErrInvalid, pp, "exactly one of PolicyName and PolicyDocument is required")
	}
	if hasDoc && doc.kind == kString {
		if _, err := policyDocument(doc, join(pp, "PolicyDocument")); err != nil {
			return newErr(ErrInvalid, err.Path, "%s", err.Msg)
		}
	}
	return nil
}

// policyDocument returns the policy document text of a resolved
// PolicyDocument value: a JSON object given as an escaped string (JITP
// examples) or inline (fleet provisioning example).
func policyDocument(v *node, path string) (string, *Error) {
	switch v.kind {
	case kString:
		if !json.Valid([]byte(v.text)) || !strings.HasPrefix(strings.TrimSpace(v.text), "{") {
			return "", newErr(ErrEvaluation, path, "must be a JSON object, inline or as an escaped string")
		}
		return v.text, nil
	case kObject:
		var b strings.Builder
		encodeJSON(&b, v)
		return b.String(), nil
	}
	return "", newErr(ErrEvaluation, path, "must be a JSON object, inline or as an escaped string; got %s", v.kind)
}
