package fleetquery

import (
	"fmt"
	"strings"
)

// Limits on untrusted queries.
const (
	// MaxLength is the longest query accepted, in bytes.
	MaxLength = 4096
	// MaxDepth is how deeply parentheses and NOTs may nest.
	MaxDepth = 32
	// MaxTerms is how many field terms one query may have.
	MaxTerms = 100
)

// Error is a query that does not parse: Pos is the byte offset of the
// problem in the query.
type Error struct {
	Pos int
	Msg string
}

func (e *Error) Error() string { return fmt.Sprintf("at position %d: %s", e.Pos, e.Msg) }

func errAt(pos int, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// tokKind is a token's kind.
type tokKind int

const (
	tokEOF    tokKind = iota
	tokLParen         // (
	tokRParen         // )
	tokAnd            // AND
	tokOr             // OR
	tokNot            // NOT
	tokTerm           // field:value, field>n, field:[a TO b]
)

func (k tokKind) String() string {
	switch k {
	case tokEOF:
		return "end of query"
	case tokLParen:
		return "("
	case tokRParen:
		return ")"
	case tokAnd:
		return "AND"
	case tokOr:
		return "OR"
	case tokNot:
		return "NOT"
	}
	return "term"
}

type token struct {
	kind tokKind
	pos  int
	term *Term // for tokTerm
}

// lexer turns a query into tokens. A term is lexed whole (field, operator
// and value), because what may follow a field depends on the operator.
type lexer struct {
	s   string
	pos int
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isFieldByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '.' || c == '-' || c == '@' || c == '/' || c == '#' || c == ','
}

// isValueEnd reports whether c ends a bare value.
func isValueEnd(c byte) bool { return isSpace(c) || c == '(' || c == ')' || c == '"' }

func (l *lexer) next() (token, error) {
	for l.pos < len(l.s) && isSpace(l.s[l.pos]) {
		l.pos++
	}
	start := l.pos
	if l.pos >= len(l.s) {
		return token{kind: tokEOF, pos: start}, nil
	}
	switch l.s[l.pos] {
	case '(':
		l.pos++
		return token{kind: tokLParen, pos: start}, nil
	case ')':
		l.pos++
		return token{kind: tokRParen, pos: start}, nil
	}
	for l.pos < len(l.s) && isFieldByte(l.s[l.pos]) {
		l.pos++
	}
	word := l.s[start:l.pos]
	if word == "" {
		return token{}, errAt(start, "unexpected %q", l.s[start])
	}
	if l.pos >= len(l.s) || isSpace(l.s[l.pos]) || l.s[l.pos] == '(' || l.s[l.pos] == ')' {
		switch word {
		case "AND":
			return token{kind: tokAnd, pos: start}, nil
		case "OR":
			return token{kind: tokOr, pos: start}, nil
		case "NOT":
			return token{kind: tokNot, pos: start}, nil
		}
		return token{}, errAt(start, "%q is not a term: write field:value", word)
	}
	t := &Term{Field: word, Pos: start}
	if err := l.operator(t); err != nil {
		return token{}, err
	}
	return token{kind: tokTerm, pos: start, term: t}, nil
}

// operator lexes what follows a field: the operator and the value.
func (l *lexer) operator(t *Term) error {
	c := l.s[l.pos]
	switch {
	case c == ':':
		l.pos++
		if l.pos < len(l.s) && l.s[l.pos] == '[' {
			return l.rangeValue(t)
		}
		t.Op = OpEq
		return l.value(t, true)
	case c == '>' || c == '<':
		t.Op = OpGT
		if c == '<' {
			t.Op = OpLT
		}
		l.pos++
		if l.pos < len(l.s) && l.s[l.pos] == '=' {
			t.Op++ // OpGE follows OpGT, OpLE follows OpLT
			l.pos++
		}
		vpos := l.pos
		if err := l.value(t, false); err != nil {
			return err
		}
		n, ok := number(t.Value)
		if !ok {
			return errAt(vpos, "%s needs a number, got %q", t.Op, t.Value)
		}
		t.num = n
		return nil
	}
	return errAt(l.pos, "unexpected %q after field %s: expected ':', '>', '>=', '<' or '<='", c, t.Field)
}

// value lexes a bare or quoted value; wild allows wildcards in a bare
// one.
func (l *lexer) value(t *Term, wild bool) error {
	start := l.pos
	if l.pos < len(l.s) && l.s[l.pos] == '"' {
		v, err := l.quoted()
		if err != nil {
			return err
		}
		t.Value, t.Quoted = v, true
		return nil
	}
	for l.pos < len(l.s) && !isValueEnd(l.s[l.pos]) {
		l.pos++
	}
	t.Value = l.s[start:l.pos]
	if t.Value == "" {
		return errAt(start, "missing value after %s", t.Field)
	}
	if i := strings.IndexAny(t.Value, "~^\\"); i >= 0 {
		return errAt(start+i, "%q is not supported in a value; quote the value", t.Value[i])
	}
	if wild && strings.ContainsAny(t.Value, "*?") {
		t.wild = true
	}
	return nil
}

func (l *lexer) quoted() (string, error) {
	start := l.pos
	l.pos++ // the opening quote
	var b strings.Builder
	for l.pos < len(l.s) {
		c := l.s[l.pos]
		switch c {
		case '"':
			l.pos++
			return b.String(), nil
		case '\\':
			if l.pos+1 >= len(l.s) {
				return "", errAt(l.pos, "unfinished escape")
			}
			l.pos++
			b.WriteByte(l.s[l.pos])
		default:
			b.WriteByte(c)
		}
		l.pos++
	}
	return "", errAt(start, "unterminated quoted value")
}

// rangeValue lexes [a TO b].
func (l *lexer) rangeValue(t *Term) error {
	start := l.pos
	end := strings.IndexByte(l.s[l.pos:], ']')
	if end < 0 {
		return errAt(start, "unterminated range: expected ]")
	}
	body := l.s[l.pos+1 : l.pos+end]
	l.pos += end + 1
	parts := strings.Fields(body)
	if len(parts) != 3 || parts[1] != "TO" {
		return errAt(start, "a range is [low TO high], got %q", l.s[start:l.pos])
	}
	t.Op, t.Low, t.High = OpRange, parts[0], parts[2]
	lo, lok := number(t.Low)
	hi, hok := number(t.High)
	t.numeric = (lok || t.Low == "*") && (hok || t.High == "*") && !(t.Low == "*" && t.High == "*")
	t.lo, t.hi = lo, hi
	if l.pos < len(l.s) && !isValueEnd(l.s[l.pos]) {
		return errAt(l.pos, "unexpected %q after range", l.s[l.pos])
	}
	return nil
}
