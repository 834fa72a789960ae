package policy

import (
	"slices"
	"strconv"
	"strings"
)

// stmtParser validates one statement; idx and sid label its errors.
type stmtParser struct {
	idx  int
	sid  string
	vars bool // the document recognises policy variables
	mode Mode
}

func (p *stmtParser) err(field, format string, args ...any) *SyntaxError {
	e := docErr(field, format, args...)
	e.Statement, e.Sid = p.idx, p.sid
	return e
}

var (
	stmtKeys  = []string{"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"}
	trustKeys = []string{"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Condition"}
)

func (p *stmtParser) build(n *jnode) (Statement, error) {
	var st Statement
	if n.kind != jObject {
		return st, p.err("", "must be a JSON object, got %s", n.kind)
	}
	if v, ok := n.member("Sid"); ok {
		if v.kind != jString {
			return st, p.err("Sid", "must be a string, got %s", v.kind)
		}
		p.sid, st.Sid = v.text, v.text
	}
	if n.dup != "" {
		return st, p.err(n.dup, "duplicate element")
	}
	if err := p.checkKeys(n); err != nil {
		return st, err
	}
	if err := p.effect(n, &st); err != nil {
		return st, err
	}
	if p.mode == ModeTrust {
		if err := p.principal(n, &st); err != nil {
			return st, err
		}
	}
	if err := p.actions(n, &st); err != nil {
		return st, err
	}
	if p.mode != ModeTrust {
		if err := p.resources(n, &st); err != nil {
			return st, err
		}
	}
	if c, ok := n.member("Condition"); ok {
		conds, err := p.conditions(c)
		if err != nil {
			return st, err
		}
		st.Conditions = conds
	}
	return st, nil
}

// checkKeys refuses elements the document's mode does not have.
func (p *stmtParser) checkKeys(n *jnode) error {
	keys := stmtKeys
	if p.mode == ModeTrust {
		keys = trustKeys
	}
	for _, k := range n.keys {
		switch {
		case (k == "Principal" || k == "NotPrincipal") && p.mode != ModeTrust:
			return p.err(k, "not allowed: %s applies to the principals it is attached to", p.mode.article())
		case (k == "Resource" || k == "NotResource") && p.mode == ModeTrust:
			return p.err(k, "not allowed: a trust policy governs the role that holds it")
		case !slices.Contains(keys, k):
			return p.err(k, "unknown element; a statement has only %v", keys)
		}
	}
	return nil
}

func (p *stmtParser) effect(n *jnode, st *Statement) error {
	v, ok := n.member("Effect")
	switch {
	case !ok:
		return p.err("Effect", "missing; must be \"Allow\" or \"Deny\"")
	case v.kind != jString:
		return p.err("Effect", "must be \"Allow\" or \"Deny\", got %s", v.kind)
	case v.text == "Allow":
		st.Effect = Allow
	case v.text == "Deny":
		st.Effect = Deny
	default:
		return p.err("Effect", "must be \"Allow\" or \"Deny\", got %q", v.text)
	}
	return nil
}

// pick returns the one of pos/neg present in n and whether it was neg.
func (p *stmtParser) pick(n *jnode, pos, neg string) (*jnode, string, error) {
	a, hasA := n.member(pos)
	b, hasB := n.member(neg)
	switch {
	case hasA && hasB:
		return nil, "", p.err(neg, "a statement cannot have both %s and %s", pos, neg)
	case hasA:
		return a, pos, nil
	case hasB:
		return b, neg, nil
	}
	return nil, "", p.err(pos, "missing; a statement needs %s or %s", pos, neg)
}

func (p *stmtParser) actions(n *jnode, st *Statement) error {
	v, field, err := p.pick(n, "Action", "NotAction")
	if err != nil {
		return err
	}
	st.NotAction = field == "NotAction"
	st.Actions, err = p.stringList(field, v)
	if err != nil {
		return err
	}
	for i, a := range st.Actions {
		if msg := checkAction(a); msg != "" {
			return p.err(indexed(field, i, len(st.Actions)), "%s, got %q", msg, a)
		}
	}
	return nil
}

func (p *stmtParser) resources(n *jnode, st *Statement) error {
	v, field, err := p.pick(n, "Resource", "NotResource")
	if err != nil {
		return err
	}
	st.NotResource = field == "NotResource"
	st.Resources, err = p.stringList(field, v)
	if err != nil {
		return err
	}
	for i, r := range st.Resources {
		f := indexed(field, i, len(st.Resources))
		if msg := checkResource(r); msg != "" {
			return p.err(f, "%s, got %q", msg, r)
		}
		if _, err := parseTemplate(r, p.vars); err != nil {
			return p.err(f, "%v", err)
		}
	}
	return nil
}

// stringList reads a string or a non-empty array of strings.
func (p *stmtParser) stringList(field string, v *jnode) ([]string, error) {
	switch v.kind {
	case jString:
		return []string{v.text}, nil
	case jArray:
		if len(v.elems) == 0 {
			return nil, p.err(field, "must not be an empty array")
		}
		out := make([]string, len(v.elems))
		for i, e := range v.elems {
			if e.kind != jString {
				return nil, p.err(indexed(field, i, 2), "must be a string, got %s", e.kind)
			}
			out[i] = e.text
		}
		return out, nil
	}
	return nil, p.err(field, "must be a string or an array of strings, got %s", v.kind)
}

// indexed names element i of a field given as an array of n values.
func indexed(field string, i, n int) string {
	if n == 1 {
		return field
	}
	return field + "[" + strconv.Itoa(i) + "]"
}

// checkAction validates one Action value: "*" or "service:name", where the
// service prefix is letters, digits and '-', and the name is letters,
// digits and '_', '-', '.'; both may use '*' and '?'. IAM answers
// "Actions/Conditions must be prefaced by a vendor" for a missing prefix.
// Names are not checked against a list: AWS accepts unknown action names.
func checkAction(a string) string {
	if a == "*" {
		return ""
	}
	svc, name, ok := strings.Cut(a, ":")
	switch {
	case !ok || svc == "":
		return `must be "*" or "service:action" (e.g. "iot:Publish")`
	case !allChars(svc, "-*?"):
		return "service prefix may hold only letters, digits, '-', '*' and '?'"
	case name == "":
		return "missing action name after ':'"
	case !allChars(name, "_-.*?"):
		return "action name may hold only letters, digits, '_', '-', '.', '*' and '?'"
	}
	return ""
}

// checkResource validates one Resource value: "*" or an ARN
// "arn:partition:service:region:account:resource" whose parts may use
// wildcards (IAM: "Resource must be in ARN format or \"*\"").
func checkResource(r string) string {
	switch {
	case r == "*":
		return ""
	case !strings.HasPrefix(r, "arn:") || strings.Count(r, ":") < 5:
		return `must be "*" or an ARN like "arn:aws:iot:REGION:ACCOUNT:topic/NAME"`
	case strings.ContainsFunc(r, isControl):
		return "must not contain control characters"
	}
	return ""
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

func allChars(s, extra string) bool {
	for _, r := range s {
		ok := 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' ||
			strings.ContainsRune(extra, r)
		if !ok {
			return false
		}
	}
	return true
}
