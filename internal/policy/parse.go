package policy

import (
	"fmt"
	"slices"
	"unicode"
	"unicode/utf8"
)

// Policy language versions accepted in the Version element. IAM accepts
// exactly these two; a document without Version is read as 2008-10-17, in
// which policy variables are plain text (IAM "Version" element docs).
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// Size limits for a policy document.
const (
	// DefaultMaxSize is AWS IoT's quota on a policy document: 2048
	// characters, whitespace excluded (reference §5.4 and §10.2; the
	// CreatePolicy docs say "maximum length of 2048, excluding whitespace").
	DefaultMaxSize = 2048
	// APIMaxSize is the most characters the PolicyDocument API shape
	// allows (botocore iot service-2.json: PolicyDocument max 404600). It
	// bounds the raw input, whitespace included, before anything is read.
	APIMaxSize = 404600
)

// ParseOptions tunes Parse. The zero value gives AWS IoT's limits.
type ParseOptions struct {
	// MaxSize is the largest document accepted, in characters (Unicode
	// code points) not counting whitespace. 0 means DefaultMaxSize; it may
	// be raised up to APIMaxSize, for example for IAM-style documents.
	MaxSize int
	// Mode is the kind of document: ModeIoT (the zero value), ModeIdentity
	// or ModeTrust. It decides whether statements name a Principal and a
	// Resource.
	Mode Mode
}

// Document is a parsed and validated policy document.
type Document struct {
	// Version is the Version element: Version2012, Version2008, or "" when
	// absent (then read as 2008-10-17).
	Version string
	// ID is the optional Id element.
	ID string
	// Statements are in document order; a single statement object is read
	// as a one-element array. Never empty.
	Statements []Statement
}

// Variables reports whether the document's language version recognises
// policy variables (only 2012-10-17 does).
func (d *Document) Variables() bool { return d.Version == Version2012 }

// Effect is a statement's Effect element.
type Effect uint8

// Statement effects.
const (
	Allow Effect = iota + 1
	Deny
)

// String returns "Allow" or "Deny".
func (e Effect) String() string {
	switch e {
	case Allow:
		return "Allow"
	case Deny:
		return "Deny"
	}
	return fmt.Sprintf("Effect(%d)", uint8(e))
}

// Statement is one element of the Statement array.
type Statement struct {
	// Sid is the optional statement id; unique within a document when set.
	Sid string
	// Effect is Allow or Deny.
	Effect Effect
	// Actions lists the Action (or, when NotAction, the NotAction) values,
	// each "*" or "service:name" with optional '*'/'?' wildcards.
	Actions   []string
	NotAction bool
	// Resources lists the Resource (or NotResource) values: "*" or ARNs
	// with optional wildcards and, in 2012-10-17 documents, variables.
	Resources   []string
	NotResource bool
	// Conditions are the (operator, key) pairs of the Condition block in
	// document order; all must hold for the statement to apply.
	Conditions []Condition
	// Principal is the Principal (or, when NotPrincipal, the NotPrincipal)
	// element of a trust policy statement; nil in IoT and identity
	// policies, which apply to whoever they are attached to. A statement
	// with a Principal has no Resource: it governs access to the role
	// that holds the policy.
	Principal    *Principal
	NotPrincipal bool
}

// Parse parses and validates an IoT policy document with the default
// options. See ParseOptions.Parse.
func Parse(doc []byte) (*Document, error) { return ParseOptions{}.Parse(doc) }

// Parse parses and validates doc as CreatePolicy and CreatePolicyVersion
// do. Every rejection of the document is a *SyntaxError naming the
// statement and field at fault; an invalid option is a plain error.
func (o ParseOptions) Parse(doc []byte) (*Document, error) {
	max := o.MaxSize
	if o.Mode > ModeTrust {
		return nil, fmt.Errorf("policy: ParseOptions.Mode %d is not a mode", o.Mode)
	}
	if max < 0 || max > APIMaxSize {
		return nil, fmt.Errorf("policy: ParseOptions.MaxSize %d out of range [0, %d]", max, APIMaxSize)
	}
	if max == 0 {
		max = DefaultMaxSize
	}
	if err := checkSize(doc, max); err != nil {
		return nil, err
	}
	tree, err := decodeTree(doc)
	if err != nil {
		return nil, err
	}
	return buildDocument(&tree, o.Mode)
}

// checkSize applies the encoding and size rules before any JSON is read.
func checkSize(doc []byte, max int) error {
	if len(doc) > utf8.UTFMax*APIMaxSize { // surely too long; don't scan it
		return docErr("", "longer than %d characters", APIMaxSize)
	}
	if !utf8.Valid(doc) {
		return docErr("", "not valid UTF-8")
	}
	total, nonSpace := 0, 0
	for _, r := range string(doc) {
		total++
		if !unicode.IsSpace(r) {
			nonSpace++
		}
	}
	switch {
	case total > APIMaxSize:
		return docErr("", "longer than %d characters", APIMaxSize)
	case nonSpace == 0:
		return docErr("", "empty document")
	case nonSpace > max:
		return docErr("", "%d characters long excluding whitespace; the limit is %d", nonSpace, max)
	}
	return nil
}

var docKeys = []string{"Version", "Id", "Statement"}

func buildDocument(n *jnode, mode Mode) (*Document, error) {
	if n.kind != jObject {
		return nil, docErr("", "must be a JSON object, got %s", n.kind)
	}
	if n.dup != "" {
		return nil, docErr(n.dup, "duplicate element")
	}
	d := &Document{}
	for i, k := range n.keys {
		v := &n.vals[i]
		var err error
		switch k {
		case "Version":
			d.Version, err = docVersion(v)
		case "Id":
			d.ID, err = docString("Id", v)
		case "Statement":
			d.Statements, err = buildStatements(v, isVersion2012(n), mode)
		default:
			err = docErr(k, "unknown element; a policy document has only %v", docKeys)
		}
		if err != nil {
			return nil, err
		}
	}
	if _, ok := n.member("Statement"); !ok {
		return nil, docErr("Statement", "missing")
	}
	return d, checkSids(d.Statements)
}

// isVersion2012 looks ahead for Version, which may follow Statement.
func isVersion2012(n *jnode) bool {
	v, ok := n.member("Version")
	return ok && v.kind == jString && v.text == Version2012
}

func docVersion(v *jnode) (string, error) {
	s, err := docString("Version", v)
	if err != nil {
		return "", err
	}
	if s != Version2012 && s != Version2008 {
		return "", docErr("Version", "must be %q or %q, got %q", Version2012, Version2008, s)
	}
	return s, nil
}

func docString(field string, v *jnode) (string, error) {
	if v.kind != jString {
		return "", docErr(field, "must be a string, got %s", v.kind)
	}
	return v.text, nil
}

func buildStatements(v *jnode, vars bool, mode Mode) ([]Statement, error) {
	elems := []jnode{*v}
	switch v.kind {
	case jObject:
	case jArray:
		if len(v.elems) == 0 {
			return nil, docErr("Statement", "must contain at least one statement")
		}
		elems = v.elems
	default:
		return nil, docErr("Statement", "must be an object or an array of objects, got %s", v.kind)
	}
	stmts := make([]Statement, 0, len(elems))
	for i := range elems {
		sp := stmtParser{idx: i, vars: vars, mode: mode}
		st, err := sp.build(&elems[i])
		if err != nil {
			return nil, err
		}
		stmts = append(stmts, st)
	}
	return stmts, nil
}

// checkSids rejects two statements with the same Sid, as IAM does.
func checkSids(stmts []Statement) error {
	var seen []string
	for i, st := range stmts {
		if st.Sid == "" {
			continue
		}
		if slices.Contains(seen, st.Sid) {
			return &SyntaxError{Statement: i, Sid: st.Sid, Field: "Sid",
				Msg: "duplicate Sid; statement ids must be unique within a policy"}
		}
		seen = append(seen, st.Sid)
	}
	return nil
}
