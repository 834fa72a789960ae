package policy

import (
	"encoding/base64"
	"errors"
	"net/netip"
	"strings"
	"time"
)

// Compiled is one policy version ready for evaluation: every pattern is
// precompiled and every variable name resolved to a key. It is immutable
// and safe for concurrent use; compile it once per policy version.
type Compiled struct {
	// Name and VersionID identify the policy version in decisions.
	Name, VersionID string
	stmts           []cstmt
	certVars        bool // some statement reads iot:Certificate.* (variables or condition keys)
}

// UsesCertificate reports whether the policy reads the client certificate
// (${iot:Certificate.*} or an iot:Certificate.* condition key), so that a
// caller can skip building Vars.Cert when no policy needs it.
func (c *Compiled) UsesCertificate() bool { return c.certVars }

// UsesCertificate reports whether any of the policies reads the client
// certificate.
func UsesCertificate(ps []*Compiled) bool {
	for _, c := range ps {
		if c.certVars {
			return true
		}
	}
	return false
}

func readsCertificate(st *Statement) bool {
	has := func(s string) bool { return strings.Contains(strings.ToLower(s), "iot:certificate.") }
	for _, r := range st.Resources {
		if has(r) {
			return true
		}
	}
	for _, c := range st.Conditions {
		if has(c.Key) {
			return true
		}
		for _, v := range c.Values {
			if has(v) {
				return true
			}
		}
	}
	return false
}

// cstmt is a compiled statement.
type cstmt struct {
	index       int // position in the document's Statement array
	sid         string
	effect      Effect
	notAction   bool
	actions     []pattern
	notResource bool
	resources   []pattern
	conds       []ccond
	// principal is a trust statement's Principal (nil otherwise); such a
	// statement has no Resource and its resources are "*".
	principal    *Principal
	notPrincipal bool
	// vars are the distinct variables used in resources and conditions;
	// pattern tokens refer to them by index.
	vars     []keyRef
	varNames []string
}

// ccond is a compiled (operator, key) condition.
type ccond struct {
	op      Operator
	info    opInfo
	key     keyRef
	keyName string
	vals    []cval
	dynamic bool // some value holds a variable; typed values parse at eval
}

// cval is one compiled policy value. pat is always set: a glob for
// StringLike, text otherwise. Typed fields are set for static values of
// their family.
type cval struct {
	pat  pattern
	arn  [arnParts]pattern // famArn: one glob per ARN part
	arnN int               // famArn: parts in the value; < arnParts: arn[0] globs it whole
	num  float64
	t    time.Time
	pfx  netip.Prefix
	bin  []byte
	bval bool
}

const arnParts = 6

// Compile prepares a parsed document for Evaluate. name and versionID
// label the decisions it takes part in. A document that Parse accepted
// always compiles; a hand-built invalid one gets a *SyntaxError.
func Compile(name, versionID string, d *Document) (*Compiled, error) {
	if d == nil {
		return nil, errors.New("policy: Compile: nil document")
	}
	c := &Compiled{Name: name, VersionID: versionID, stmts: make([]cstmt, len(d.Statements))}
	for i := range d.Statements {
		sp := stmtParser{idx: i, sid: d.Statements[i].Sid, vars: d.Variables()}
		if err := sp.compile(&d.Statements[i], &c.stmts[i]); err != nil {
			return nil, err
		}
		c.certVars = c.certVars || readsCertificate(&d.Statements[i])
	}
	return c, nil
}

func (p *stmtParser) compile(st *Statement, cs *cstmt) error {
	*cs = cstmt{index: p.idx, sid: st.Sid, effect: st.Effect,
		notAction: st.NotAction, notResource: st.NotResource,
		principal: st.Principal, notPrincipal: st.NotPrincipal}
	if st.Effect != Allow && st.Effect != Deny {
		return p.err("Effect", "must be Allow or Deny")
	}
	switch {
	case len(st.Actions) == 0:
		return p.err("", "needs at least one action")
	case st.Principal == nil && len(st.Resources) == 0:
		return p.err("", "needs at least one resource")
	case st.Principal != nil && len(st.Resources) > 0:
		return p.err("Resource", "a statement with a Principal has no Resource")
	}
	for _, a := range st.Actions {
		if msg := checkAction(a); msg != "" {
			return p.err("Action", "%s, got %q", msg, a)
		}
		cs.actions = append(cs.actions, compilePattern([]segment{{text: a}}, true, nil))
	}
	for _, r := range st.Resources {
		segs, err := parseTemplate(r, p.vars)
		if err != nil {
			return p.err("Resource", "%v", err)
		}
		cs.resources = append(cs.resources, compilePattern(segs, true, cs.varIndex))
	}
	if st.Principal != nil {
		// A trust statement is about the role that holds it: any resource.
		cs.resources = []pattern{compilePattern([]segment{{text: "*"}}, true, nil)}
	}
	for _, c := range st.Conditions {
		cc, err := cs.compileCond(p, c)
		if err != nil {
			return err
		}
		cs.conds = append(cs.conds, cc)
	}
	return nil
}

// varIndex returns the slot of a variable, adding it on first use.
func (cs *cstmt) varIndex(name string) int {
	for i, n := range cs.varNames {
		if strings.EqualFold(n, name) {
			return i
		}
	}
	cs.varNames = append(cs.varNames, name)
	cs.vars = append(cs.vars, parseKey(name))
	return len(cs.vars) - 1
}

func (cs *cstmt) compileCond(p *stmtParser, c Condition) (ccond, error) {
	field := "Condition." + c.Operator.String() + "." + c.Key
	info, ok := operators[c.Operator.Name]
	if !ok || len(c.Values) == 0 {
		return ccond{}, p.err(field, "unknown operator or no values")
	}
	cc := ccond{op: c.Operator, info: info, key: parseKey(c.Key), keyName: c.Key}
	for _, v := range c.Values {
		segs, err := parseTemplate(v, p.vars)
		if err != nil {
			return ccond{}, p.err(field, "%v", err)
		}
		cv, err := cs.compileValue(info.fam, segs, v)
		if err != nil {
			return ccond{}, p.err(field, "%v", err)
		}
		cc.dynamic = cc.dynamic || hasVars(segs)
		cc.vals = append(cc.vals, cv)
	}
	return cc, nil
}

func (cs *cstmt) compileValue(fam family, segs []segment, raw string) (cval, error) {
	var cv cval
	cv.pat = compilePattern(segs, fam == famStringLike, cs.varIndex)
	if fam == famArn {
		parts := splitSegments(segs, ':', arnParts)
		cv.arnN = len(parts)
		if cv.arnN < arnParts {
			parts = [][]segment{segs}
		}
		for i, part := range parts {
			cv.arn[i] = compilePattern(part, true, cs.varIndex)
		}
	}
	if hasVars(segs) {
		return cv, nil
	}
	if err := checkTyped(fam, raw); err != nil {
		return cv, err
	}
	return cv, cv.setTyped(fam, cv.pat.expand(nil))
}

// setTyped parses s into the typed field of its family.
func (cv *cval) setTyped(fam family, s string) error {
	var ok bool
	switch fam {
	case famNumeric:
		cv.num, ok = parseNumber(s)
	case famDate:
		cv.t, ok = parseDate(s)
	case famBool, famNull:
		cv.bval, ok = parseBool(s)
	case famIP:
		cv.pfx, ok = parsePrefix(s)
	case famBinary:
		var err error
		cv.bin, err = base64.StdEncoding.DecodeString(s)
		ok = err == nil
	default:
		return nil
	}
	if !ok {
		return errors.New("value does not parse for its operator")
	}
	return nil
}

// splitSegments splits segs at sep in literal text (not inside variables)
// into at most n parts; the last part keeps any further separators.
func splitSegments(segs []segment, sep byte, n int) [][]segment {
	parts := make([][]segment, 1, n)
	for _, s := range segs {
		text := s.text
		for !s.isVar && !s.escaped && len(parts) < n {
			i := strings.IndexByte(text, sep)
			if i < 0 {
				break
			}
			if i > 0 {
				parts[len(parts)-1] = append(parts[len(parts)-1], segment{text: text[:i]})
			}
			parts = append(parts, nil)
			text = text[i+1:]
		}
		s.text = text
		if s.isVar || s.escaped || text != "" {
			parts[len(parts)-1] = append(parts[len(parts)-1], s)
		}
	}
	return parts
}
