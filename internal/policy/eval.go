package policy

import (
	"fmt"
	"strings"
)

// Request is one authorization question: may the caller do Action on
// Resource?
type Request struct {
	// Action is the action name, e.g. "iot:Publish"; matched
	// case-insensitively.
	Action string
	// Resource is the full resource ARN, e.g.
	// "arn:aws:iot:us-east-1:000000000000:topic/a/b", or "*" for actions
	// without a resource; matched case-sensitively.
	Resource string
	// Vars supplies policy variables and condition keys; nil means none
	// are known (every variable is unresolved).
	Vars *Vars
	// Caller is who makes the request, for trust policy statements (those
	// with a Principal element); nil makes them not apply. Statements
	// without a Principal ignore it.
	Caller *Caller
	// Explain fills Decision.Vars and Decision.Unresolved. It costs
	// allocations; leave it off on the hot path.
	Explain bool
}

// Result is the outcome of an evaluation, named as in the TestAuthorization
// AuthDecision enum.
type Result uint8

// Results. The zero value is ImplicitDeny, so a forgotten Decision denies.
const (
	ImplicitDeny Result = iota // no statement allowed the request
	Allowed                    // an Allow matched and no Deny did
	ExplicitDeny               // a Deny matched; it overrides every Allow
)

// String returns "IMPLICIT_DENY", "ALLOWED" or "EXPLICIT_DENY".
func (r Result) String() string {
	switch r {
	case Allowed:
		return "ALLOWED"
	case ExplicitDeny:
		return "EXPLICIT_DENY"
	}
	return "IMPLICIT_DENY"
}

// Decision is the answer to a Request and why.
type Decision struct {
	Allowed bool
	Result  Result
	// Policy, PolicyVersion, Statement and Sid identify the deciding
	// statement: the Deny that matched, or the first Allow that matched.
	// For ImplicitDeny they are empty and Statement is -1.
	Policy, PolicyVersion string
	Statement             int
	Sid                   string
	// Vars lists the variables of the deciding statement as resolved
	// (only with Request.Explain).
	Vars []ResolvedVar
	// Unresolved lists statements whose action matched but which were
	// skipped because a variable had no value (only with Request.Explain).
	Unresolved []Unresolved
}

// ResolvedVar is a variable and the value substituted for it.
type ResolvedVar struct{ Name, Value string }

// Unresolved names a statement skipped for want of a variable.
type Unresolved struct {
	Policy, PolicyVersion string
	Statement             int
	Sid                   string
	Variable              string
}

// String renders the decision on one line, for logs and golden files.
func (d Decision) String() string {
	if d.Result == ImplicitDeny {
		return d.Result.String()
	}
	s := fmt.Sprintf("%s policy=%s version=%s statement=%d", d.Result, d.Policy, d.PolicyVersion, d.Statement)
	if d.Sid != "" {
		s += fmt.Sprintf(" sid=%q", d.Sid)
	}
	for _, v := range d.Vars {
		s += fmt.Sprintf(" %s=%q", v.Name, v.Value)
	}
	return s
}

// noVars stands in for a nil Request.Vars.
var noVars Vars

// maxInlineVars is how many variable values a statement resolves without
// allocating.
const maxInlineVars = 8

// Evaluate decides req against the union of policies, AWS IoT style
// (reference §5.1): a matching Deny in any policy wins at once; otherwise
// a matching Allow allows; otherwise the request is implicitly denied.
// Statements are tried in order, policy by policy; once an Allow matched,
// only Deny statements are still examined. nil entries are skipped.
//
// Without Request.Explain, Evaluate allocates nothing unless a statement
// whose action matches uses a variable or condition that must be
// formatted or parsed at run time (times, typed values with variables).
func Evaluate(policies []*Compiled, req *Request) Decision {
	vars := req.Vars
	if vars == nil {
		vars = &noVars
	}
	d := Decision{Statement: -1}
	var buf [maxInlineVars]string
	for _, p := range policies {
		if p == nil {
			continue
		}
		for i := range p.stmts {
			st := &p.stmts[i]
			if d.Result == Allowed && st.effect == Allow || !st.matchAction(req.Action) ||
				st.principal != nil && !st.matchPrincipal(req.Caller) {
				continue
			}
			vals, missing := st.resolve(vars, buf[:0])
			if missing >= 0 {
				if req.Explain {
					d.Unresolved = append(d.Unresolved, Unresolved{p.Name, p.VersionID, st.index, st.sid, st.varNames[missing]})
				}
				continue
			}
			if !st.matchResource(req.Resource, vals) || !st.matchConditions(vars, vals) {
				continue
			}
			d.decide(p, st, vals, req.Explain)
			if st.effect == Deny {
				return d
			}
		}
	}
	return d
}

// decide records st as the deciding statement.
func (d *Decision) decide(p *Compiled, st *cstmt, vals []string, explain bool) {
	d.Result, d.Allowed = Allowed, true
	if st.effect == Deny {
		d.Result, d.Allowed = ExplicitDeny, false
	}
	d.Policy, d.PolicyVersion, d.Statement, d.Sid = p.Name, p.VersionID, st.index, st.sid
	d.Vars = nil
	if explain {
		for i, n := range st.varNames {
			d.Vars = append(d.Vars, ResolvedVar{Name: n, Value: vals[i]})
		}
	}
}

func (st *cstmt) matchAction(action string) bool {
	for i := range st.actions {
		if st.actions[i].match(action, nil, true) {
			return !st.notAction
		}
	}
	return st.notAction
}

func (st *cstmt) matchResource(res string, vals []string) bool {
	for i := range st.resources {
		if st.resources[i].match(res, vals, false) {
			return !st.notResource
		}
	}
	return st.notResource
}

// resolve looks up the statement's variables into vals. A variable with
// no value, or with several (a ".List" key), leaves the statement
// unresolved: missing is its index, else -1.
//
// Choice (reference §5.1, "Unresolvable variables"): a statement with an
// unresolved variable does not apply at all, whether Allow or Deny; it is
// never matched against a partial or empty substitution. A Deny keyed on
// a thing variable therefore does not fire for a client without a thing;
// write such guards with a Condition (e.g. Null or Bool on
// iot:Connection.Thing.IsAttached) when that matters.
func (st *cstmt) resolve(vars *Vars, vals []string) ([]string, int) {
	for i := range st.vars {
		v, ok := vars.lookup(&st.vars[i])
		s, single := v.single()
		if !ok || !single {
			return vals, i
		}
		vals = append(vals, s)
	}
	return vals, -1
}

func (st *cstmt) matchConditions(vars *Vars, vals []string) bool {
	for i := range st.conds {
		if !st.conds[i].eval(vars, vals) {
			return false
		}
	}
	return true
}

// String summarises a compiled policy for debugging.
func (c *Compiled) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "policy %s version %s: %d statements", c.Name, c.VersionID, len(c.stmts))
	return b.String()
}
