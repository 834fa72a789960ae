package policy

import (
	"fmt"
	"slices"
	"strings"
)

// Mode is the kind of policy document Parse reads. The grammar is IAM's
// for all three; they differ in whom a statement is about.
type Mode uint8

// Document modes.
const (
	// ModeIoT is an AWS IoT policy, attached to certificates, thing
	// groups and Cognito identities: statements have a Resource and no
	// Principal.
	ModeIoT Mode = iota
	// ModeIdentity is an IAM identity policy (a user's or role's inline
	// or managed policy): statements have a Resource and no Principal.
	ModeIdentity
	// ModeTrust is a role's trust policy (AssumeRolePolicyDocument), a
	// resource-based policy: every statement names a Principal or
	// NotPrincipal and has no Resource.
	ModeTrust
)

// String returns "IoT", "identity" or "trust".
func (m Mode) String() string {
	switch m {
	case ModeIoT:
		return "IoT"
	case ModeIdentity:
		return "identity"
	case ModeTrust:
		return "trust"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// article names a document of the mode in a sentence.
func (m Mode) article() string {
	switch m {
	case ModeIdentity:
		return "an identity policy"
	case ModeTrust:
		return "a trust policy"
	}
	return "an IoT policy"
}

// Principal types of a Principal element (IAM "AWS JSON policy elements:
// Principal").
const (
	PrincipalAWS           = "AWS"
	PrincipalService       = "Service"
	PrincipalFederated     = "Federated"
	PrincipalCanonicalUser = "CanonicalUser"
)

var principalTypes = []string{PrincipalAWS, PrincipalService, PrincipalFederated, PrincipalCanonicalUser}

// Principal is a trust policy statement's Principal or NotPrincipal
// element.
type Principal struct {
	// Any is set for "Principal": "*", which names every caller.
	Any bool
	// IDs maps a principal type (PrincipalAWS, PrincipalService, ...) to
	// the principals of that type the element names, in document order.
	// An AWS value is "*", a 12-digit account id, or an IAM ARN
	// (arn:aws:iam::ACCOUNT:root, :user/..., :role/..., or an
	// arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION).
	IDs map[string][]string
}

// Caller identifies who makes a request, for statements that name a
// Principal (trust policies). Statements without one ignore it.
type Caller struct {
	// Type is PrincipalAWS, PrincipalService or PrincipalFederated.
	Type string
	// ID is the caller as a trust policy names it: for PrincipalAWS the
	// ARN of the IAM user, role or assumed-role session (or the account's
	// arn:aws:iam::ACCOUNT:root); for PrincipalService a service
	// principal such as "credentials.iot.amazonaws.com"; for
	// PrincipalFederated the identity provider, such as
	// "cognito-identity.amazonaws.com".
	ID string
}

// principal validates a trust statement's Principal or NotPrincipal.
func (p *stmtParser) principal(n *jnode, st *Statement) error {
	v, field, err := p.pick(n, "Principal", "NotPrincipal")
	if err != nil {
		return err
	}
	st.NotPrincipal = field == "NotPrincipal"
	pr := &Principal{}
	switch v.kind {
	case jString:
		if v.text != "*" {
			return p.err(field, `must be "*" or an object such as {"AWS": "arn:aws:iam::ACCOUNT:root"}, got %q`, v.text)
		}
		pr.Any = true
	case jObject:
		if v.dup != "" {
			return p.err(field+"."+v.dup, "duplicate principal type")
		}
		if len(v.keys) == 0 {
			return p.err(field, "must name at least one principal")
		}
		pr.IDs = make(map[string][]string, len(v.keys))
		for i, typ := range v.keys {
			f := field + "." + typ
			if !slices.Contains(principalTypes, typ) {
				return p.err(f, "unknown principal type; use one of %v", principalTypes)
			}
			ids, err := p.stringList(f, &v.vals[i])
			if err != nil {
				return err
			}
			for j, id := range ids {
				if msg := checkPrincipal(typ, id); msg != "" {
					return p.err(indexed(f, j, len(ids)), "%s, got %q", msg, id)
				}
			}
			pr.IDs[typ] = ids
		}
	default:
		return p.err(field, "must be \"*\" or an object of principal types, got %s", v.kind)
	}
	st.Principal = pr
	return nil
}

// checkPrincipal validates one principal of a type. IAM allows no
// wildcards inside a principal: "*" alone, or an exact value.
func checkPrincipal(typ, id string) string {
	switch {
	case id == "":
		return "must not be empty"
	case strings.ContainsFunc(id, isControl):
		return "must not contain control characters"
	case id == "*":
		if typ != PrincipalAWS {
			return `"*" is allowed only as "Principal": "*" or {"AWS": "*"}`
		}
		return ""
	case strings.ContainsAny(id, "*?"):
		return "a principal cannot use wildcards; name it exactly"
	}
	if typ != PrincipalAWS {
		return ""
	}
	if isAccountID(id) {
		return ""
	}
	a := strings.SplitN(id, ":", 6)
	switch {
	case len(a) != 6 || a[0] != "arn" || a[1] == "" || !isAccountID(a[4]) || a[5] == "":
		return "must be an account id or an IAM ARN such as arn:aws:iam::ACCOUNT:root"
	case a[2] == "iam" && a[3] == "":
		if a[5] == "root" || strings.HasPrefix(a[5], "user/") || strings.HasPrefix(a[5], "role/") {
			return ""
		}
	case a[2] == "sts" && a[3] == "" && strings.HasPrefix(a[5], "assumed-role/"):
		return ""
	}
	return "must be an account root, user, role or assumed-role ARN"
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// matchPrincipal reports whether a trust statement (st.principal set)
// applies to the caller; it needs one. Statements without a Principal
// element apply to anyone (their policy is attached to the caller) and
// are not asked.
func (st *cstmt) matchPrincipal(c *Caller) bool {
	if c == nil {
		return false
	}
	return st.principal.names(c) != st.notPrincipal
}

// names reports whether the element names the caller. An AWS principal
// names a caller when it is "*", the caller's ARN, the caller's account
// (the id or arn:aws:iam::ACCOUNT:root), or, for an assumed-role session,
// the role it is a session of.
func (pr *Principal) names(c *Caller) bool {
	if pr.Any {
		return true
	}
	ids := pr.IDs[c.Type]
	if c.Type != PrincipalAWS {
		return slices.Contains(ids, c.ID)
	}
	account, role := callerAccount(c.ID)
	for _, id := range ids {
		switch {
		case id == "*", id == c.ID:
			return true
		case account == "":
		case id == account, id == "arn:aws:iam::"+account+":root":
			return true
		case role != "" && isRoleARN(id, account, role):
			return true
		}
	}
	return false
}

// callerAccount returns the account of a caller ARN and, for an
// assumed-role session ARN, the role name.
func callerAccount(id string) (account, role string) {
	a := strings.SplitN(id, ":", 6)
	if len(a) != 6 || a[0] != "arn" {
		if isAccountID(id) {
			return id, ""
		}
		return "", ""
	}
	if rest, ok := strings.CutPrefix(a[5], "assumed-role/"); ok && a[2] == "sts" {
		role, _, _ = strings.Cut(rest, "/")
	}
	return a[4], role
}

// isRoleARN reports whether id is the ARN of role (with any path) in
// account.
func isRoleARN(id, account, role string) bool {
	rest, ok := strings.CutPrefix(id, "arn:")
	if !ok {
		return false
	}
	_, rest, ok = strings.Cut(rest, ":") // partition
	if !ok {
		return false
	}
	rest, ok = strings.CutPrefix(rest, "iam::"+account+":role/")
	if !ok {
		return false
	}
	return rest == role || strings.HasSuffix(rest, "/"+role)
}
