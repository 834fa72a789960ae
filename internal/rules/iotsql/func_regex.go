package iotsql

import (
	"regexp"
	"strings"
)

// Regular-expression functions. AWS evaluates Java regular expressions;
// moat uses Go's RE2 syntax, which is the same for the common constructs
// (classes, \d \w \s, quantifiers, groups, (?i) flags) and lacks
// backreferences and lookaround. A pattern that does not compile gives
// Undefined, as AWS documents for an invalid pattern. Replacement strings
// follow Java's rules: $n and ${name} insert groups, \ escapes the next
// character.

func init() {
	register(
		&funcDef{name: "regexp_matches", min: 2, max: 2, pure: true, bind: bindPattern, impl: func(c *evalCtx, n *callNode, a []value) value {
			s, re, ok := c.regexArgs(n, a)
			if !ok {
				return undef
			}
			return boolV(re.MatchString(s))
		}},
		&funcDef{name: "regexp_substr", min: 2, max: 2, pure: true, bind: bindPattern, impl: func(c *evalCtx, n *callNode, a []value) value {
			s, re, ok := c.regexArgs(n, a)
			if !ok {
				return undef
			}
			loc := re.FindStringIndex(s)
			if loc == nil {
				return undef
			}
			return strV(s[loc[0]:loc[1]])
		}},
		&funcDef{name: "regexp_replace", min: 3, max: 3, pure: true, bind: bindPattern, impl: fnRegexpReplace},
	)
}

// compiledPattern is a constant pattern compiled at bind time; re is nil
// when it does not compile (every call is then Undefined).
type compiledPattern struct{ re *regexp.Regexp }

func bindPattern(n *callNode) string {
	if v, ok := n.constArg(1); ok {
		if v.k == kString {
			re, _ := regexp.Compile(v.s)
			n.state = compiledPattern{re}
		}
	}
	return ""
}

// regexArgs converts the subject and pattern arguments.
func (c *evalCtx) regexArgs(n *callNode, a []value) (string, *regexp.Regexp, bool) {
	s, ok := c.toStr(a[0])
	if !ok {
		return "", nil, false
	}
	if p, ok := n.state.(compiledPattern); ok {
		return s, p.re, p.re != nil
	}
	pat, ok := c.toStr(a[1])
	if !ok {
		return "", nil, false
	}
	re, err := regexp.Compile(pat)
	if err != nil {
		return "", nil, false
	}
	return s, re, true
}

func fnRegexpReplace(c *evalCtx, n *callNode, a []value) value {
	s, re, ok := c.regexArgs(n, a)
	if !ok {
		return undef
	}
	repl, ok := c.toStr(a[2])
	if !ok {
		return undef
	}
	matches := re.FindAllStringSubmatchIndex(s, -1)
	if matches == nil {
		return strV(s)
	}
	start := len(c.arena)
	last := 0
	for _, m := range matches {
		c.arena = append(c.arena, s[last:m[0]]...)
		if c.arena, ok = expandJava(c.arena, repl, s, m, re); !ok {
			c.arena = c.arena[:start]
			return undef
		}
		last = m[1]
	}
	c.arena = append(c.arena, s[last:]...)
	return strV(b2s(c.arena[start:]))
}

// expandJava appends a Java replacement string for one match: $n (the
// longest group number that exists), ${name}, \x for a literal x. ok is
// false where Java throws: a reference to a missing group, a bad $, or a
// trailing backslash.
func expandJava(dst []byte, repl, src string, m []int, re *regexp.Regexp) ([]byte, bool) {
	groups := len(m)/2 - 1
	group := func(g int) []byte {
		if m[2*g] >= 0 {
			dst = append(dst, src[m[2*g]:m[2*g+1]]...)
		}
		return dst
	}
	for i := 0; i < len(repl); i++ {
		switch ch := repl[i]; ch {
		case '\\':
			i++
			if i >= len(repl) {
				return dst, false
			}
			dst = append(dst, repl[i])
		case '$':
			i++
			if i >= len(repl) {
				return dst, false
			}
			if repl[i] == '{' {
				end := strings.IndexByte(repl[i:], '}')
				if end < 0 {
					return dst, false
				}
				g := re.SubexpIndex(repl[i+1 : i+end])
				if g < 0 {
					return dst, false
				}
				dst = group(g)
				i += end
				continue
			}
			if repl[i] < '0' || repl[i] > '9' {
				return dst, false
			}
			g := int(repl[i] - '0')
			if g > groups {
				return dst, false
			}
			for i+1 < len(repl) && repl[i+1] >= '0' && repl[i+1] <= '9' {
				next := g*10 + int(repl[i+1]-'0')
				if next > groups {
					break
				}
				g = next
				i++
			}
			dst = group(g)
		default:
			dst = append(dst, ch)
		}
	}
	return dst, true
}
