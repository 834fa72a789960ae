package fleetquery

import (
	"strconv"
	"strings"
)

// Index is what a query searches: its fields.
type Index int

// The indexes of AWS fleet indexing that moat serves.
const (
	Things      Index = iota // AWS_Things
	ThingGroups              // AWS_ThingGroups
)

// Index names as the API spells them.
const (
	ThingsIndexName      = "AWS_Things"
	ThingGroupsIndexName = "AWS_ThingGroups"
)

func (i Index) String() string {
	if i == ThingGroups {
		return ThingGroupsIndexName
	}
	return ThingsIndexName
}

// IndexNamed returns the index of an API index name.
func IndexNamed(name string) (Index, bool) {
	switch name {
	case ThingsIndexName:
		return Things, true
	case ThingGroupsIndexName:
		return ThingGroups, true
	}
	return 0, false
}

var fields = map[Index][]string{
	Things:      {"thingName", "thingId", "thingTypeName", "thingGroupNames"},
	ThingGroups: {"thingGroupName", "thingGroupId", "thingGroupDescription", "parentGroupNames"},
}

func (i Index) knows(field string) bool {
	if name, ok := strings.CutPrefix(field, "attributes."); ok {
		return name != ""
	}
	for _, f := range fields[i] {
		if f == field {
			return true
		}
	}
	return false
}

// Op is a term's operator.
type Op int

// Operators. OpGE must follow OpGT and OpLE follow OpLT (the lexer relies
// on it).
const (
	OpEq Op = iota
	OpGT
	OpGE
	OpLT
	OpLE
	OpRange
)

func (o Op) String() string {
	return [...]string{":", ">", ">=", "<", "<=", ":[]"}[o]
}

// Term is one field test.
type Term struct {
	Field  string
	Op     Op
	Value  string // OpEq and comparisons
	Quoted bool   // the value was quoted (no wildcards)
	Low    string // OpRange; "*" is open
	High   string
	Pos    int // byte offset in the query

	wild    bool
	num     float64 // comparisons
	numeric bool    // OpRange over numbers
	lo, hi  float64
}

// Node is a query tree node: exactly one of Term, Not, And, Or is set.
type Node struct {
	Term *Term
	Not  *Node
	And  []*Node
	Or   []*Node
}

// Query is a parsed query for one index.
type Query struct {
	Index  Index
	Root   *Node
	source string
}

// String is the query's source text.
func (q *Query) String() string { return q.source }

// Uses reports whether the query tests field (e.g. "thingGroupNames"), so
// that a caller can skip fetching what it does not need.
func (q *Query) Uses(field string) bool {
	var walk func(n *Node) bool
	walk = func(n *Node) bool {
		switch {
		case n.Term != nil:
			return n.Term.Field == field
		case n.Not != nil:
			return walk(n.Not)
		}
		for _, c := range append(n.And, n.Or...) {
			if walk(c) {
				return true
			}
		}
		return false
	}
	return walk(q.Root)
}

// Parse parses a query for an index. Any failure is an *Error.
func Parse(s string, idx Index) (*Query, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errAt(0, "the query is empty")
	}
	if len(s) > MaxLength {
		return nil, errAt(MaxLength, "the query is longer than %d bytes", MaxLength)
	}
	p := &parser{lex: lexer{s: s}, idx: idx}
	if err := p.advance(); err != nil {
		return nil, err
	}
	root, err := p.or(0)
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokEOF {
		return nil, p.unexpected("AND, OR or the end of the query")
	}
	return &Query{Index: idx, Root: root, source: s}, nil
}

type parser struct {
	lex   lexer
	idx   Index
	tok   token
	terms int
}

func (p *parser) advance() error {
	t, err := p.lex.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) unexpected(want string) error {
	if p.tok.kind == tokTerm {
		return errAt(p.tok.pos, "expected %s, got another term (join terms with AND or OR)", want)
	}
	return errAt(p.tok.pos, "expected %s, got %s", want, p.tok.kind)
}

// or := and (OR and)*
func (p *parser) or(depth int) (*Node, error) {
	first, err := p.and(depth)
	if err != nil {
		return nil, err
	}
	nodes := []*Node{first}
	for p.tok.kind == tokOr {
		if err := p.advance(); err != nil {
			return nil, err
		}
		n, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
	}
	if len(nodes) == 1 {
		return first, nil
	}
	return &Node{Or: nodes}, nil
}

// and := unary (AND unary)*
func (p *parser) and(depth int) (*Node, error) {
	first, err := p.unary(depth)
	if err != nil {
		return nil, err
	}
	nodes := []*Node{first}
	for p.tok.kind == tokAnd {
		if err := p.advance(); err != nil {
			return nil, err
		}
		n, err := p.unary(depth)
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
	}
	if len(nodes) == 1 {
		return first, nil
	}
	return &Node{And: nodes}, nil
}

// unary := NOT unary | ( or ) | term
func (p *parser) unary(depth int) (*Node, error) {
	if depth >= MaxDepth {
		return nil, errAt(p.tok.pos, "the query nests deeper than %d levels", MaxDepth)
	}
	switch p.tok.kind {
	case tokNot:
		if err := p.advance(); err != nil {
			return nil, err
		}
		n, err := p.unary(depth + 1)
		if err != nil {
			return nil, err
		}
		return &Node{Not: n}, nil
	case tokLParen:
		if err := p.advance(); err != nil {
			return nil, err
		}
		n, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tokRParen {
			return nil, p.unexpected(")")
		}
		return n, p.advance()
	case tokTerm:
		t := p.tok.term
		if !p.idx.knows(t.Field) {
			return nil, errAt(t.Pos, "%s is not a field of %s (fields: %s, attributes.NAME)", t.Field, p.idx, strings.Join(fields[p.idx], ", "))
		}
		p.terms++
		if p.terms > MaxTerms {
			return nil, errAt(t.Pos, "the query has more than %d terms", MaxTerms)
		}
		return &Node{Term: t}, p.advance()
	}
	return nil, p.unexpected("a term, NOT or (")
}

// number parses a decimal number as fleet indexing compares them.
func number(s string) (float64, bool) {
	if s == "" || strings.ContainsAny(s, "xXpP_") { // no hex, no Go separators
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != f { // NaN
		return 0, false
	}
	return f, true
}
