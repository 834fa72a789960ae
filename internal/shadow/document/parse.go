package document

import (
	"errors"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// errSyntax is any violation of RFC 8259 (or nesting beyond maxNesting);
// callers turn it into ErrInvalidJSON.
var errSyntax = errors.New("document: invalid JSON")

// maxNesting bounds the nesting of containers anywhere in a payload (outside
// the state too), so that a payload of 100 000 "[" cannot exhaust the stack.
// It is far above MaxDepth: a state this deep is rejected by its own limit.
const maxNesting = 512

// parser is a recursive-descent JSON parser over a UTF-8 validated input.
// Decoded strings and number texts are copied into one arena, never left
// pointing into the input (which the caller may reuse, and which may hold
// large parts nobody needs).
type parser struct {
	data    []byte
	pos     int
	arena   strings.Builder
	stack   []member // members of the containers being parsed
	scratch []byte   // decoded form of strings with escapes
}

// parserPool recycles parsers with their member stacks and string buffers,
// which every parse needs and none keeps (the arena is never reused: the
// strings of a parse live in it).
var parserPool = sync.Pool{New: func() any { return new(parser) }}

// maxPooled bounds the members of a pooled parser's stack, so that one huge
// payload does not pin its buffers forever.
const maxPooled = 1024

// newParser returns a parser of data, to release when done.
func newParser(data []byte) *parser {
	p := parserPool.Get().(*parser)
	p.data, p.pos = data, 0
	return p
}

// release returns p to the pool; p must not be used afterwards (the
// strings it made stay valid).
func (p *parser) release() {
	p.data = nil
	p.arena = strings.Builder{}
	if cap(p.stack) > maxPooled || cap(p.scratch) > 16*maxPooled {
		return
	}
	parserPool.Put(p)
}

// ws skips insignificant whitespace.
func (p *parser) ws() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// peek returns the next byte, or 0 at the end of the input.
func (p *parser) peek() byte {
	if p.pos < len(p.data) {
		return p.data[p.pos]
	}
	return 0
}

// expect consumes c after optional whitespace.
func (p *parser) expect(c byte) error {
	p.ws()
	if p.peek() != c {
		return errSyntax
	}
	p.pos++
	return nil
}

// intern copies b into the arena and returns it as a string that shares the
// arena's memory.
func (p *parser) intern(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	start := p.arena.Len()
	p.arena.Write(b)
	return p.arena.String()[start:]
}

// value parses the value at p.pos. nest is the number of containers around it.
func (p *parser) value(nest int) (value, error) {
	p.ws()
	switch c := p.peek(); {
	case c == '{':
		return p.container(nest, kindObject)
	case c == '[':
		return p.container(nest, kindArray)
	case c == '"':
		b, err := p.str()
		if err != nil {
			return value{}, err
		}
		return value{kind: kindString, str: p.intern(b)}, nil
	case c == '-' || c >= '0' && c <= '9':
		b, err := p.number()
		if err != nil {
			return value{}, err
		}
		return value{kind: kindNumber, str: p.intern(b)}, nil
	case c == 't':
		return value{kind: kindTrue}, p.literal("true")
	case c == 'f':
		return value{kind: kindFalse}, p.literal("false")
	case c == 'n':
		return value{kind: kindNull}, p.literal("null")
	}
	return value{}, errSyntax
}

// container parses an object or an array starting at p.pos.
func (p *parser) container(nest int, k kind) (value, error) {
	if nest >= maxNesting {
		return value{}, errSyntax
	}
	closing := byte(']')
	if k == kindObject {
		closing = '}'
	}
	p.pos++
	p.ws()
	if p.peek() == closing {
		p.pos++
		return value{kind: k}, nil
	}
	base := len(p.stack)
	for {
		var m member
		if k == kindObject {
			p.ws()
			if p.peek() != '"' {
				return value{}, errSyntax
			}
			b, err := p.str()
			if err != nil {
				return value{}, err
			}
			m.key = p.intern(b)
			if err := p.expect(':'); err != nil {
				return value{}, err
			}
		}
		v, err := p.value(nest + 1)
		if err != nil {
			return value{}, err
		}
		m.val = v
		p.stack = append(p.stack, m)
		p.ws()
		switch p.peek() {
		case ',':
			p.pos++
			continue
		case closing:
			p.pos++
		default:
			return value{}, errSyntax
		}
		break
	}
	var kids []member
	if k == kindObject {
		kids = dedupe(p.stack[base:])
	} else {
		kids = append([]member(nil), p.stack[base:]...)
	}
	clear(p.stack[base:]) // drop references for the garbage collector
	p.stack = p.stack[:base]
	return value{kind: k, kids: kids}, nil
}

// dedupe copies the members of an object, keeping for a repeated key the
// position of its first occurrence and the value of its last (as Jackson,
// which AWS uses, does).
func dedupe(ms []member) []member {
	out := make([]member, 0, len(ms))
	var seen map[string]int
	if len(ms) > indexThreshold {
		seen = make(map[string]int, len(ms))
	}
	for _, m := range ms {
		i := -1
		if seen != nil {
			if j, ok := seen[m.key]; ok {
				i = j
			} else {
				seen[m.key] = len(out)
			}
		} else {
			for j := range out {
				if out[j].key == m.key {
					i = j
					break
				}
			}
		}
		if i >= 0 {
			out[i].val = m.val
		} else {
			out = append(out, m)
		}
	}
	return out
}

// skip validates the value at p.pos without building it.
func (p *parser) skip(nest int) error {
	p.ws()
	switch c := p.peek(); {
	case c == '{' || c == '[':
		if nest >= maxNesting {
			return errSyntax
		}
		closing := byte(']')
		if c == '{' {
			closing = '}'
		}
		p.pos++
		p.ws()
		if p.peek() == closing {
			p.pos++
			return nil
		}
		for {
			if c == '{' {
				p.ws()
				if p.peek() != '"' {
					return errSyntax
				}
				if _, err := p.str(); err != nil {
					return err
				}
				if err := p.expect(':'); err != nil {
					return err
				}
			}
			if err := p.skip(nest + 1); err != nil {
				return err
			}
			p.ws()
			switch p.peek() {
			case ',':
				p.pos++
				continue
			case closing:
				p.pos++
				return nil
			}
			return errSyntax
		}
	case c == '"':
		_, err := p.str()
		return err
	case c == '-' || c >= '0' && c <= '9':
		_, err := p.number()
		return err
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		return p.literal("null")
	}
	return errSyntax
}

// structural marks the bytes skipFast must look at.
var structural = [256]bool{'"': true, '\\': true, '{': true, '[': true, '}': true, ']': true,
	',': true, ' ': true, '\t': true, '\n': true, '\r': true}

// skipFast moves past the value at p.pos without validating it: it only
// matches brackets and quotes, to find where the value ends. The caller
// parses the value properly afterwards (and checks that it ends there).
func (p *parser) skipFast() error {
	p.ws()
	nest, inString := 0, false
	for ; p.pos < len(p.data); p.pos++ {
		c := p.data[p.pos]
		if !structural[c] {
			continue
		}
		if inString {
			switch c {
			case '\\':
				p.pos++
			case '"':
				inString = false
				if nest == 0 {
					p.pos++
					return nil
				}
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			nest++
		case '}', ']':
			if nest == 0 {
				return nil // the end of a scalar
			}
			if nest--; nest == 0 {
				p.pos++
				return nil
			}
		case ',', ' ', '\t', '\n', '\r':
			if nest == 0 {
				return nil // the end of a scalar
			}
		}
	}
	if nest != 0 || inString {
		return errSyntax
	}
	return nil
}

// parseInt parses a JSON integer (-?[0-9]+, as number validated it) without
// allocating; ok is false on overflow or for anything else.
func parseInt(b []byte) (n int64, ok bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var u uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true
	}
	if u > 1<<63-1 {
		return 0, false
	}
	return int64(u), true
}

// literal consumes lit.
func (p *parser) literal(lit string) error {
	if len(p.data)-p.pos < len(lit) || string(p.data[p.pos:p.pos+len(lit)]) != lit {
		return errSyntax
	}
	p.pos += len(lit)
	return nil
}

// number consumes a number and returns its text.
// Grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *parser) number() ([]byte, error) {
	start := p.pos
	if p.peek() == '-' {
		p.pos++
	}
	switch c := p.peek(); {
	case c == '0':
		p.pos++
	case c >= '1' && c <= '9':
		p.digits()
	default:
		return nil, errSyntax
	}
	if p.peek() == '.' {
		p.pos++
		if p.digits() == 0 {
			return nil, errSyntax
		}
	}
	if c := p.peek(); c == 'e' || c == 'E' {
		p.pos++
		if c := p.peek(); c == '+' || c == '-' {
			p.pos++
		}
		if p.digits() == 0 {
			return nil, errSyntax
		}
	}
	return p.data[start:p.pos], nil
}

// digits consumes [0-9]* and returns how many.
func (p *parser) digits() int {
	start := p.pos
	for p.pos < len(p.data) && p.data[p.pos] >= '0' && p.data[p.pos] <= '9' {
		p.pos++
	}
	return p.pos - start
}

// str consumes a string and returns its decoded bytes, which are valid only
// until the next call. A \u escape of a lone surrogate decodes to U+FFFD, as
// in encoding/json: the result is always valid UTF-8.
func (p *parser) str() ([]byte, error) {
	p.pos++ // opening quote
	start := p.pos
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		switch {
		case c == '"':
			p.pos++
			return p.data[start : p.pos-1], nil
		case c == '\\':
			return p.escaped(start)
		case c < 0x20:
			return nil, errSyntax
		}
		p.pos++
	}
	return nil, errSyntax
}

// escaped finishes a string that has escapes; start is its first byte.
func (p *parser) escaped(start int) ([]byte, error) {
	b := append(p.scratch[:0], p.data[start:p.pos]...)
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		switch {
		case c == '"':
			p.pos++
			p.scratch = b
			return b, nil
		case c < 0x20:
			return nil, errSyntax
		case c != '\\':
			b = append(b, c)
			p.pos++
			continue
		}
		if p.pos+1 >= len(p.data) {
			return nil, errSyntax
		}
		e := p.data[p.pos+1]
		p.pos += 2
		switch e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return nil, errSyntax
			}
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if p.pos+1 < len(p.data) && p.data[p.pos] == '\\' && p.data[p.pos+1] == 'u' {
					save := p.pos
					p.pos += 2
					if r2, ok = p.hex4(); !ok {
						return nil, errSyntax
					}
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						r = d
					} else {
						p.pos = save // not a pair: decode the second escape on its own
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			}
			b = utf8.AppendRune(b, r)
		default:
			return nil, errSyntax
		}
	}
	return nil, errSyntax
}

// hex4 consumes four hex digits.
func (p *parser) hex4() (rune, bool) {
	if len(p.data)-p.pos < 4 {
		return 0, false
	}
	var r rune
	for _, c := range p.data[p.pos : p.pos+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	p.pos += 4
	return r, true
}
