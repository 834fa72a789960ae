package iotsql

import (
	"strings"
	"unicode/utf8"
)

// tokKind is a lexical token's kind.
type tokKind uint8

const (
	tEOF     tokKind = iota
	tIdent           // a word: a field name, a function name or a keyword
	tString          // 'single quoted' (a string, or FROM's topic filter)
	tDString         // "double quoted" (a string, JSON escapes)
	tNumber
	tComma
	tDot
	tColon
	tLParen
	tRParen
	tLBrack
	tRBrack
	tLBrace
	tRBrace
	tStar
	tPlus
	tMinus
	tSlash
	tPercent
	tConcat // ||
	tEq
	tNe // <> or !=
	tLt
	tLe
	tGt
	tGe
)

var tokNames = [...]string{
	tEOF: "end of input", tIdent: "name", tString: "string", tDString: "string",
	tNumber: "number", tComma: "','", tDot: "'.'", tColon: "':'", tLParen: "'('",
	tRParen: "')'", tLBrack: "'['", tRBrack: "']'", tLBrace: "'{'", tRBrace: "'}'",
	tStar: "'*'", tPlus: "'+'", tMinus: "'-'", tSlash: "'/'", tPercent: "'%'",
	tConcat: "'||'", tEq: "'='", tNe: "'<>'", tLt: "'<'", tLe: "'<='", tGt: "'>'", tGe: "'>='",
}

// String names the kind for error messages.
func (k tokKind) String() string {
	if int(k) < len(tokNames) {
		return tokNames[k]
	}
	return "token"
}

// token is one lexical token. text is the source text; for strings, val is
// the unescaped content.
type token struct {
	kind tokKind
	pos  int // byte offset in the source
	text string
	val  string
}

// is reports whether t is the keyword kw (case-insensitive).
func (t token) is(kw string) bool { return t.kind == tIdent && strings.EqualFold(t.text, kw) }

// lexer splits SQL into tokens on demand.
type lexer struct {
	src string
	i   int
}

// next returns the next token, or an error at the offending position.
func (l *lexer) next() (token, *posError) {
	s := l.src
	for l.i < len(s) {
		c := s[l.i]
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\f' {
			break
		}
		l.i++
	}
	start := l.i
	if start >= len(s) {
		return token{kind: tEOF, pos: start}, nil
	}
	c := s[start]
	tok := func(k tokKind, n int) (token, *posError) {
		l.i = start + n
		return token{kind: k, pos: start, text: s[start:l.i]}, nil
	}
	two := func(second byte) bool { return start+1 < len(s) && s[start+1] == second }
	switch {
	case isIdentStart(c):
		e := start + 1
		for e < len(s) && isIdentPart(s[e]) {
			e++
		}
		return tok(tIdent, e-start)
	case c >= '0' && c <= '9':
		return l.number(start)
	case c == '\'':
		return l.single(start)
	case c == '"':
		return l.double(start)
	}
	switch c {
	case ',':
		return tok(tComma, 1)
	case '.':
		return tok(tDot, 1)
	case ':':
		return tok(tColon, 1)
	case '(':
		return tok(tLParen, 1)
	case ')':
		return tok(tRParen, 1)
	case '[':
		return tok(tLBrack, 1)
	case ']':
		return tok(tRBrack, 1)
	case '{':
		return tok(tLBrace, 1)
	case '}':
		return tok(tRBrace, 1)
	case '*':
		return tok(tStar, 1)
	case '+':
		return tok(tPlus, 1)
	case '-':
		return tok(tMinus, 1)
	case '/':
		return tok(tSlash, 1)
	case '%':
		return tok(tPercent, 1)
	case '=':
		return tok(tEq, 1)
	case '|':
		if two('|') {
			return tok(tConcat, 2)
		}
	case '!':
		if two('=') {
			return tok(tNe, 2)
		}
	case '<':
		if two('>') {
			return tok(tNe, 2)
		}
		if two('=') {
			return tok(tLe, 2)
		}
		return tok(tLt, 1)
	case '>':
		if two('=') {
			return tok(tGe, 2)
		}
		return tok(tGt, 1)
	}
	r, _ := utf8.DecodeRuneInString(s[start:])
	if r == utf8.RuneError {
		return token{}, &posError{start, "invalid UTF-8 in statement"}
	}
	return token{}, &posError{start, "unexpected character " + quoteText(string(r))}
}

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

func isIdentPart(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

// number lexes digits [. digits] [(e|E) [+|-] digits].
func (l *lexer) number(start int) (token, *posError) {
	s, i := l.src, start
	digits := func() int {
		d := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - d
	}
	digits()
	if i+1 < len(s) && s[i] == '.' && s[i+1] >= '0' && s[i+1] <= '9' {
		i++
		digits()
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return token{}, &posError{j, "malformed number " + quoteText(s[start:i])}
		}
	}
	if i < len(s) && isIdentPart(s[i]) {
		return token{}, &posError{i, "malformed number " + quoteText(s[start:i+1])}
	}
	l.i = i
	return token{kind: tNumber, pos: start, text: s[start:i]}, nil
}

// single lexes a 'string' in which ” stands for one quote.
func (l *lexer) single(start int) (token, *posError) {
	s := l.src
	var b strings.Builder
	plain := true
	for i := start + 1; i < len(s); i++ {
		if s[i] != '\'' {
			if !plain {
				b.WriteByte(s[i])
			}
			continue
		}
		if i+1 < len(s) && s[i+1] == '\'' {
			if plain {
				plain = false
				b.WriteString(s[start+1 : i])
			}
			b.WriteByte('\'')
			i++
			continue
		}
		l.i = i + 1
		val := s[start+1 : i]
		if !plain {
			val = b.String()
		}
		if !utf8.ValidString(val) {
			return token{}, &posError{start, "invalid UTF-8 in string"}
		}
		return token{kind: tString, pos: start, text: s[start:l.i], val: val}, nil
	}
	return token{}, &posError{start, "unterminated string"}
}

// double lexes a "string" with JSON escapes.
func (l *lexer) double(start int) (token, *posError) {
	s := l.src
	end, esc := scanString(s, start)
	if end < 0 {
		if strings.IndexByte(s[start+1:], '"') < 0 {
			return token{}, &posError{start, "unterminated string"}
		}
		return token{}, &posError{start, "invalid character or escape in string"}
	}
	l.i = end
	body := s[start+1 : end-1]
	val := body
	if esc {
		val = string(unescape(nil, body))
	}
	return token{kind: tDString, pos: start, text: s[start:end], val: val}, nil
}

// quoteText quotes source text for an error message, shortened.
func quoteText(s string) string {
	if len(s) > 40 {
		n := 40
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n] + "..."
	}
	return "'" + s + "'"
}
