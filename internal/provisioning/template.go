package provisioning

import (
	"strings"
	"unicode/utf8"
)

// Limits on what Parse reads.
const (
	// MaxBodySize is the longest template body Parse accepts, in
	// characters: the TemplateBody limit of the iot API model.
	MaxBodySize = 10240
	// MaxNesting is the deepest JSON nesting Parse reads. AWS's example
	// templates nest at most 8 levels; the limit bounds the stack an
	// untrusted body can use in Parse and Execute.
	MaxNesting = 32
)

// Resource types a template may declare.
const (
	TypeThing       = "AWS::IoT::Thing"
	TypeCertificate = "AWS::IoT::Certificate"
	TypePolicy      = "AWS::IoT::Policy"
)

// Template is a parsed, validated provisioning template. It is immutable
// and safe for concurrent use; Execute may be called any number of times.
type Template struct {
	params     []paramDecl
	paramIndex map[string]int
	mappings   map[string]*node
	conditions map[string]*node
	resources  []resource
	// deviceConfig is the DeviceConfiguration section, or nil.
	deviceConfig *node
}

// paramDecl is one entry of the Parameters section.
type paramDecl struct {
	name       string
	def        string
	hasDefault bool
}

// resource is one entry of the Resources section.
type resource struct {
	name      string
	typ       string
	props     *node // an object
	overrides *node // an object, or nil
	condition string
	path      string
}

// sections lists the top-level keys Parse accepts; the ones that are
// documentation only map to false.
var sections = map[string]bool{
	"Parameters": true, "Mappings": true, "Conditions": true, "Resources": true,
	"DeviceConfiguration":      true,
	"AWSTemplateFormatVersion": false, "Description": false, "Metadata": false,
}

// Parse parses and validates a template body (JSON), as CreateProvisioningTemplate,
// RegisterCACertificate's registrationConfig.templateBody and RegisterThing
// receive it. Errors are *Error values that wrap ErrSyntax or ErrInvalid;
// their text says where the fault is and is safe to return to an API caller
// (as InvalidRequestException).
//
// Parse checks everything that does not depend on parameter values: the
// sections and their shapes, resource types and properties, literal
// property values (Status, OverrideSettings, names), the shape of every
// intrinsic function, and that every Ref, Fn::Sub variable, Fn::FindInMap
// map name, Condition and Fn::If names something the template declares.
func Parse(body string) (*Template, error) {
	if n := utf8.RuneCountInString(body); n > MaxBodySize {
		return nil, newErr(ErrSyntax, "", "template body is %d characters long; the limit is %d", n, MaxBodySize)
	}
	root, err := decodeTree(body)
	if err != nil {
		return nil, err
	}
	if root.kind != kObject {
		return nil, newErr(ErrSyntax, "", "template body must be a JSON object, got %s", root.kind)
	}
	for _, k := range root.keys {
		if _, ok := sections[k]; !ok {
			return nil, newErr(ErrInvalid, k, "unknown template section; expected Parameters, Mappings, Conditions, Resources or DeviceConfiguration")
		}
	}
	t := &Template{paramIndex: map[string]int{}, mappings: map[string]*node{}, conditions: map[string]*node{}}
	if n, ok := root.member("Parameters"); ok {
		if err := t.parseParameters(n); err != nil {
			return nil, err
		}
	}
	if n, ok := root.member("Mappings"); ok {
		if err := t.parseMappings(n); err != nil {
			return nil, err
		}
	}
	if n, ok := root.member("Conditions"); ok {
		if err := t.parseConditions(n); err != nil {
			return nil, err
		}
	}
	n, ok := root.member("Resources")
	if !ok {
		return nil, newErr(ErrInvalid, "", "template has no Resources section")
	}
	if err := t.parseResources(n); err != nil {
		return nil, err
	}
	if n, ok := root.member("DeviceConfiguration"); ok {
		if err := t.parseDeviceConfiguration(n); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func (t *Template) parseParameters(n *node) error {
	const path = "Parameters"
	if n.kind != kObject {
		return newErr(ErrInvalid, path, "must be an object, got %s", n.kind)
	}
	for i, name := range n.keys {
		p := join(path, name)
		decl := &n.vals[i]
		if name == "" {
			return newErr(ErrInvalid, path, "parameter name must not be empty")
		}
		if decl.kind != kObject {
			return newErr(ErrInvalid, p, "parameter declaration must be an object, got %s", decl.kind)
		}
		pd := paramDecl{name: name}
		typ, ok := decl.member("Type")
		if !ok {
			return newErr(ErrInvalid, p, "Type is required")
		}
		if typ.kind != kString || typ.text != "String" {
			return newErr(ErrInvalid, join(p, "Type"), `must be "String"`)
		}
		for j, k := range decl.keys {
			switch k {
			case "Type", "Description":
			case "Default":
				d := &decl.vals[j]
				if d.kind != kString {
					return newErr(ErrInvalid, join(p, k), "must be a string, got %s", d.kind)
				}
				pd.def, pd.hasDefault = d.text, true
			default:
				return newErr(ErrInvalid, join(p, k), "unknown parameter attribute; expected Type, Default or Description")
			}
		}
		t.paramIndex[name] = len(t.params)
		t.params = append(t.params, pd)
	}
	return nil
}

// parseMappings checks the two-level Mappings section: map name → top-level
// key → second-level key → a string or a list of strings. No intrinsic
// functions are allowed there.
func (t *Template) parseMappings(n *node) error {
	const path = "Mappings"
	if n.kind != kObject {
		return newErr(ErrInvalid, path, "must be an object, got %s", n.kind)
	}
	for i, name := range n.keys {
		m := &n.vals[i]
		mp := join(path, name)
		if m.kind != kObject {
			return newErr(ErrInvalid, mp, "mapping must be an object, got %s", m.kind)
		}
		for j, top := range m.keys {
			second := &m.vals[j]
			sp := join(mp, top)
			if second.kind != kObject {
				return newErr(ErrInvalid, sp, "must be an object of second-level keys, got %s", second.kind)
			}
			for k, key := range second.keys {
				v := &second.vals[k]
				vp := join(sp, key)
				switch v.kind {
				case kString:
				case kArray:
					for e := range v.elems {
						if v.elems[e].kind != kString {
							return newErr(ErrInvalid, index(vp, e), "mapping list values must be strings, got %s", v.elems[e].kind)
						}
					}
				default:
					return newErr(ErrInvalid, vp, "mapping values must be strings or lists of strings, got %s", v.kind)
				}
			}
		}
		t.mappings[name] = m
	}
	return nil
}

func (t *Template) parseDeviceConfiguration(n *node) error {
	const path = "DeviceConfiguration"
	if n.kind != kObject || isIntrinsic(n) {
		return newErr(ErrInvalid, path, "must be an object of names to values")
	}
	for i, k := range n.keys {
		if err := t.check(&n.vals[i], join(path, k), ctxValue); err != nil {
			return err
		}
	}
	t.deviceConfig = n
	return nil
}

// isCertificateParameter reports whether name is one of the
// AWS::IoT::Certificate::* parameters AWS defines. A template may Ref them
// without declaring them (AWS's fleet provisioning example does so with
// AWS::IoT::Certificate::Id); Execute then needs their values.
func isCertificateParameter(name string) bool {
	field, ok := strings.CutPrefix(name, certParamPrefix)
	if !ok {
		return false
	}
	for _, f := range certFields {
		if f == field {
			return true
		}
	}
	return field == "Id"
}
