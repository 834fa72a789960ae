package policy

import (
	"encoding/base64"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
)

// SetOp is the set qualifier of a condition operator, for keys that carry
// several values (IAM "multivalued context keys").
type SetOp uint8

// Set qualifiers.
const (
	// Single: no qualifier; a multi-valued key matches when any of its
	// values matches (negated operators: when none does).
	Single SetOp = iota
	// ForAnyValue: at least one request value satisfies the operator;
	// false when the key is absent or empty.
	ForAnyValue
	// ForAllValues: every request value satisfies the operator; true when
	// the key is absent or empty (IAM semantics, a known trap).
	ForAllValues
)

// String returns "", "ForAnyValue" or "ForAllValues".
func (s SetOp) String() string {
	return [...]string{"", "ForAnyValue", "ForAllValues"}[s]
}

// Operator is a parsed condition operator such as
// "ForAnyValue:StringLikeIfExists".
type Operator struct {
	// Name is the base operator, e.g. "StringLike", "NumericLessThan".
	Name string
	// IfExists makes the condition true when the key is absent.
	IfExists bool
	// Set is the ForAnyValue:/ForAllValues: qualifier, if any.
	Set SetOp
}

// String formats the operator as written in a policy.
func (o Operator) String() string {
	s := o.Name
	if o.IfExists {
		s += "IfExists"
	}
	if o.Set != Single {
		s = o.Set.String() + ":" + s
	}
	return s
}

// Condition is one (operator, key) pair of a Condition block.
type Condition struct {
	Operator Operator
	// Key is the condition key as written, e.g. "aws:SourceIp". Keys are
	// matched case-insensitively.
	Key string
	// Values are the policy values: JSON strings as they are, numbers as
	// their literal text, booleans as "true"/"false". Never empty.
	Values []string
}

// family groups operators that compare values the same way.
type family uint8

const (
	famString family = iota
	famStringIgnoreCase
	famStringLike
	famNumeric
	famDate
	famBool
	famBinary
	famIP
	famArn
	famNull
)

// cmpOp is the comparison of a Numeric or Date operator.
type cmpOp uint8

const (
	cmpEq cmpOp = iota
	cmpLt
	cmpLe
	cmpGt
	cmpGe
)

// opInfo describes a base operator.
type opInfo struct {
	fam    family
	cmp    cmpOp
	negate bool // the Not form: true when no policy value matches
}

// operators is the IAM condition operator set (IAM "Condition operators").
var operators = map[string]opInfo{
	"StringEquals":              {fam: famString},
	"StringNotEquals":           {fam: famString, negate: true},
	"StringEqualsIgnoreCase":    {fam: famStringIgnoreCase},
	"StringNotEqualsIgnoreCase": {fam: famStringIgnoreCase, negate: true},
	"StringLike":                {fam: famStringLike},
	"StringNotLike":             {fam: famStringLike, negate: true},
	"NumericEquals":             {fam: famNumeric},
	"NumericNotEquals":          {fam: famNumeric, negate: true},
	"NumericLessThan":           {fam: famNumeric, cmp: cmpLt},
	"NumericLessThanEquals":     {fam: famNumeric, cmp: cmpLe},
	"NumericGreaterThan":        {fam: famNumeric, cmp: cmpGt},
	"NumericGreaterThanEquals":  {fam: famNumeric, cmp: cmpGe},
	"DateEquals":                {fam: famDate},
	"DateNotEquals":             {fam: famDate, negate: true},
	"DateLessThan":              {fam: famDate, cmp: cmpLt},
	"DateLessThanEquals":        {fam: famDate, cmp: cmpLe},
	"DateGreaterThan":           {fam: famDate, cmp: cmpGt},
	"DateGreaterThanEquals":     {fam: famDate, cmp: cmpGe},
	"Bool":                      {fam: famBool},
	"BinaryEquals":              {fam: famBinary},
	"IpAddress":                 {fam: famIP},
	"NotIpAddress":              {fam: famIP, negate: true},
	"ArnEquals":                 {fam: famArn},
	"ArnNotEquals":              {fam: famArn, negate: true},
	"ArnLike":                   {fam: famArn},
	"ArnNotLike":                {fam: famArn, negate: true},
	"Null":                      {fam: famNull},
}

// ParseOperator parses a condition operator. Names are case-sensitive, as
// in IAM. "IfExists" may not be added to Null.
func ParseOperator(s string) (Operator, error) {
	var op Operator
	name := s
	if q, rest, ok := strings.Cut(s, ":"); ok {
		switch q {
		case "ForAnyValue":
			op.Set = ForAnyValue
		case "ForAllValues":
			op.Set = ForAllValues
		default:
			return op, fmt.Errorf("unknown set qualifier %q; use ForAnyValue: or ForAllValues:", q)
		}
		name = rest
	}
	if base, ok := strings.CutSuffix(name, "IfExists"); ok && base != "Null" {
		if _, known := operators[base]; known {
			name, op.IfExists = base, true
		}
	}
	if _, ok := operators[name]; !ok {
		return op, fmt.Errorf("unknown condition operator %q", s)
	}
	op.Name = name
	return op, nil
}

func (o Operator) info() opInfo { return operators[o.Name] }

// conditions validates a Condition block:
// {operator: {key: value | [values]}}.
func (p *stmtParser) conditions(n *jnode) ([]Condition, error) {
	if n.kind != jObject {
		return nil, p.err("Condition", "must be an object, got %s", n.kind)
	}
	if n.dup != "" {
		return nil, p.err("Condition."+n.dup, "duplicate condition operator")
	}
	var out []Condition
	for i, name := range n.keys {
		field := "Condition." + name
		op, err := ParseOperator(name)
		if err != nil {
			return nil, p.err(field, "%v", err)
		}
		conds, err := p.operatorBlock(field, op, &n.vals[i])
		if err != nil {
			return nil, err
		}
		out = append(out, conds...)
	}
	return out, nil
}

func (p *stmtParser) operatorBlock(field string, op Operator, n *jnode) ([]Condition, error) {
	switch {
	case n.kind != jObject:
		return nil, p.err(field, "must be an object of condition keys, got %s", n.kind)
	case n.dup != "":
		return nil, p.err(field+"."+n.dup, "duplicate condition key")
	case len(n.keys) == 0:
		return nil, p.err(field, "must name at least one condition key")
	}
	out := make([]Condition, 0, len(n.keys))
	for i, key := range n.keys {
		kf := field + "." + key
		if msg := checkConditionKey(key); msg != "" {
			return nil, p.err(kf, "%s", msg)
		}
		vals, err := p.conditionValues(kf, &n.vals[i])
		if err != nil {
			return nil, err
		}
		for j, v := range vals {
			if err := p.checkValue(op, v); err != nil {
				return nil, p.err(indexed(kf, j, len(vals)), "%v", err)
			}
		}
		out = append(out, Condition{Operator: op, Key: key, Values: vals})
	}
	return out, nil
}

// conditionValues reads a scalar or a non-empty array of scalars.
func (p *stmtParser) conditionValues(field string, n *jnode) ([]string, error) {
	switch n.kind {
	case jString, jNumber, jBool:
		return []string{n.text}, nil
	case jArray:
		if len(n.elems) == 0 {
			return nil, p.err(field, "must not be an empty array")
		}
		out := make([]string, len(n.elems))
		for i, e := range n.elems {
			if e.kind != jString && e.kind != jNumber && e.kind != jBool {
				return nil, p.err(indexed(field, i, 2), "must be a string, number or boolean, got %s", e.kind)
			}
			out[i] = e.text
		}
		return out, nil
	}
	return nil, p.err(field, "must be a string, number, boolean or an array of them, got %s", n.kind)
}

// checkConditionKey requires a "vendor:name" key, as IAM does.
func checkConditionKey(k string) string {
	vendor, name, ok := strings.Cut(k, ":")
	switch {
	case !ok || vendor == "" || name == "":
		return `condition key must be "vendor:name" (e.g. "aws:SourceIp")`
	case strings.ContainsFunc(k, isControl):
		return "condition key must not contain control characters"
	}
	return ""
}

// checkValue validates a policy value for its operator. Values holding
// policy variables are checked only for variable syntax; their type is
// known once substituted.
func (p *stmtParser) checkValue(op Operator, v string) error {
	segs, err := parseTemplate(v, p.vars)
	if err != nil {
		return err
	}
	if hasVars(segs) {
		return nil
	}
	return checkTyped(op.info().fam, v)
}

// checkTyped checks that v parses as its family requires.
func checkTyped(fam family, v string) error {
	switch fam {
	case famNumeric:
		if _, ok := parseNumber(v); !ok {
			return fmt.Errorf("%q is not a number", v)
		}
	case famDate:
		if _, ok := parseDate(v); !ok {
			return fmt.Errorf("%q is not a date (ISO 8601 or epoch seconds)", v)
		}
	case famBool, famNull:
		if _, ok := parseBool(v); !ok {
			return fmt.Errorf("%q is not \"true\" or \"false\"", v)
		}
	case famIP:
		if _, ok := parsePrefix(v); !ok {
			return fmt.Errorf("%q is not an IP address or CIDR block", v)
		}
	case famBinary:
		if _, err := base64.StdEncoding.DecodeString(v); err != nil {
			return fmt.Errorf("%q is not base64", v)
		}
	}
	return nil
}

func parseNumber(s string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
}

func parseBool(s string) (bool, bool) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, true
	case strings.EqualFold(s, "false"):
		return false, true
	}
	return false, false
}

// parsePrefix reads "192.0.2.0/24", "2001:db8::/32" or a bare address
// (a /32 or /128).
func parsePrefix(s string) (netip.Prefix, bool) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		return p.Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), true
}
