package policy

import (
	"strings"
	"unicode/utf8"
)

// tokKind is the kind of one compiled pattern token.
type tokKind uint8

const (
	tLit  tokKind = iota // literal text
	tStar                // '*': any sequence, including '/' and the empty one
	tOne                 // '?': exactly one character (one UTF-8 rune)
	tVar                 // a policy variable, matched as literal text
)

type tok struct {
	kind tokKind
	text string // tLit: the text
	v    int    // tVar: index into the statement's resolved values
}

// fastKind selects a matcher that needs no token walk.
type fastKind uint8

const (
	fastNone   fastKind = iota // walk the tokens
	fastAny                    // "*"
	fastExact                  // literal text, no wildcards or variables
	fastPrefix                 // literal text then one trailing '*'
)

// A pattern is a compiled Action, Resource or Condition value. Matching it
// never allocates.
type pattern struct {
	toks []tok
	fast fastKind
	lit  string // fastExact, fastPrefix: the literal part
}

// compilePattern builds a pattern from segments. With glob, unescaped '*'
// and '?' are wildcards; without it (StringEquals and friends) they are
// text. varIndex maps a variable name to its slot in the statement's
// resolved values.
func compilePattern(segs []segment, glob bool, varIndex func(string) int) pattern {
	var p pattern
	for _, s := range segs {
		switch {
		case s.isVar:
			p.toks = append(p.toks, tok{kind: tVar, v: varIndex(s.text)})
		case !glob || s.escaped:
			p.addLit(s.text)
		default:
			p.addGlob(s.text)
		}
	}
	p.fast = p.classify()
	return p
}

func (p *pattern) addLit(text string) {
	if text == "" {
		return
	}
	if n := len(p.toks); n > 0 && p.toks[n-1].kind == tLit {
		p.toks[n-1].text += text
		return
	}
	p.toks = append(p.toks, tok{kind: tLit, text: text})
}

func (p *pattern) addGlob(text string) {
	for text != "" {
		i := strings.IndexAny(text, "*?")
		if i < 0 {
			p.addLit(text)
			return
		}
		p.addLit(text[:i])
		if text[i] == '?' {
			p.toks = append(p.toks, tok{kind: tOne})
		} else if n := len(p.toks); n == 0 || p.toks[n-1].kind != tStar {
			p.toks = append(p.toks, tok{kind: tStar}) // "**" is "*"
		}
		text = text[i+1:]
	}
}

func (p *pattern) classify() fastKind {
	t := p.toks
	switch {
	case len(t) == 0:
		p.lit = ""
		return fastExact
	case len(t) == 1 && t[0].kind == tStar:
		return fastAny
	case len(t) == 1 && t[0].kind == tLit:
		p.lit = t[0].text
		return fastExact
	case len(t) == 2 && t[0].kind == tLit && t[1].kind == tStar:
		p.lit = t[0].text
		return fastPrefix
	}
	return fastNone
}

// match reports whether s matches p. vals holds the resolved variable
// values of the statement; fold makes the comparison ASCII
// case-insensitive (for Action names).
func (p *pattern) match(s string, vals []string, fold bool) bool {
	switch p.fast {
	case fastAny:
		return true
	case fastExact:
		return len(s) == len(p.lit) && equalText(s, p.lit, fold)
	case fastPrefix:
		return len(s) >= len(p.lit) && equalText(s[:len(p.lit)], p.lit, fold)
	}
	return matchToks(p.toks, vals, s, fold)
}

// matchToks is the classic wildcard match with one backtrack point: on a
// mismatch, the last '*' absorbs one more rune and matching resumes after
// it. Time is O(len(s) * len(pattern)) at worst; memory is constant.
func matchToks(toks []tok, vals []string, s string, fold bool) bool {
	ti, oi, si := 0, 0, 0
	starTi, starSi := -1, 0
	for {
		if ti < len(toks) {
			t := &toks[ti]
			switch t.kind {
			case tStar:
				starTi, starSi = ti, si
				ti, oi = ti+1, 0
				continue
			case tOne:
				if si < len(s) {
					_, n := utf8.DecodeRuneInString(s[si:])
					si += n
					ti++
					continue
				}
			default:
				lit := t.text
				if t.kind == tVar {
					lit = vals[t.v]
				}
				if oi == len(lit) {
					ti, oi = ti+1, 0
					continue
				}
				if oi == 0 && !fold {
					if j := nextLit(s, si, lit, ti == starTi+1 && si == starSi); j >= 0 {
						starSi += j - si // a preceding '*' absorbs what it skipped
						si += j - si + len(lit)
						ti++
						continue
					}
					if ti == starTi+1 && si == starSi {
						return false // no later occurrence: no backtrack helps
					}
				}
				if si < len(s) && equalByte(lit[oi], s[si], fold) {
					oi, si = oi+1, si+1
					continue
				}
			}
		} else if si == len(s) {
			return true
		}
		if starTi < 0 || starSi >= len(s) {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[starSi:])
		starSi += n
		ti, oi, si = starTi+1, 0, starSi
	}
}

// nextLit finds lit in s at si (or, when search, at or after si: the
// position right after a '*'), returning its offset or -1.
func nextLit(s string, si int, lit string, search bool) int {
	if !search {
		if strings.HasPrefix(s[si:], lit) {
			return si
		}
		return -1
	}
	if j := strings.Index(s[si:], lit); j >= 0 {
		return si + j
	}
	return -1
}

func equalText(a, b string, fold bool) bool {
	if a == b {
		return true
	}
	if !fold {
		return false
	}
	for i := 0; i < len(a); i++ {
		if !equalByte(a[i], b[i], true) {
			return false
		}
	}
	return true
}

func equalByte(a, b byte, fold bool) bool {
	if a == b {
		return true
	}
	return fold && lowerASCII(a) == lowerASCII(b)
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// expand returns the text of a pattern compiled without glob, with its
// variables substituted. It allocates only when there are variables.
func (p *pattern) expand(vals []string) string {
	if p.fast == fastExact {
		return p.lit
	}
	var b strings.Builder
	for _, t := range p.toks {
		switch t.kind {
		case tVar:
			b.WriteString(vals[t.v])
		case tStar:
			b.WriteByte('*')
		case tOne:
			b.WriteByte('?')
		default:
			b.WriteString(t.text)
		}
	}
	return b.String()
}
