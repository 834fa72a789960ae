package iotsql

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"hash"
	"strings"
	"unicode/utf8"
)

// String functions. Arguments of other types are converted with the
// standard string conversion; Null and Undefined give Undefined.
//
// Positions and lengths count Unicode characters (code points). AWS runs on
// Java, which counts UTF-16 code units: the two differ only for characters
// outside the Basic Multilingual Plane, such as emoji.

func init() {
	str1 := func(name string, f func(string) string) *funcDef {
		return &funcDef{name: name, min: 1, max: 1, pure: true, impl: fn1(func(c *evalCtx, v value) value {
			s, ok := c.toStr(v)
			if !ok {
				return undef
			}
			return strV(f(s))
		})}
	}
	hashFn := func(name string, h func() hash.Hash) *funcDef {
		return &funcDef{name: name, min: 1, max: 1, pure: true, impl: fn1(func(c *evalCtx, v value) value {
			s, ok := c.toStr(v)
			if !ok {
				return undef
			}
			d := h()
			d.Write([]byte(s))
			start := len(c.arena)
			c.arena = hex.AppendEncode(c.arena, d.Sum(nil))
			return strV(b2s(c.arena[start:]))
		})}
	}
	register(
		str1("lower", strings.ToLower),
		str1("upper", strings.ToUpper),
		str1("trim", func(s string) string { return strings.TrimFunc(s, isTrimSpace) }),
		str1("ltrim", func(s string) string { return strings.TrimLeftFunc(s, isTrimSpace) }),
		str1("rtrim", func(s string) string { return strings.TrimRightFunc(s, isTrimSpace) }),
		&funcDef{name: "lpad", min: 2, max: 2, pure: true, impl: fn2(func(c *evalCtx, a, b value) value { return c.pad(a, b, true) })},
		&funcDef{name: "rpad", min: 2, max: 2, pure: true, impl: fn2(func(c *evalCtx, a, b value) value { return c.pad(a, b, false) })},
		&funcDef{name: "replace", min: 3, max: 3, pure: true, impl: fnReplace},
		&funcDef{name: "substring", min: 2, max: 3, pure: true, impl: fnSubstring},
		&funcDef{name: "startswith", min: 2, max: 2, pure: true, impl: fn2(func(c *evalCtx, a, b value) value {
			return c.strPred(a, b, strings.HasPrefix)
		})},
		&funcDef{name: "endswith", min: 2, max: 2, pure: true, impl: fn2(func(c *evalCtx, a, b value) value {
			return c.strPred(a, b, strings.HasSuffix)
		})},
		&funcDef{name: "concat", min: 0, max: -1, pure: true, impl: fnConcat},
		&funcDef{name: "chr", min: 1, max: 1, pure: true, impl: fn1(fnChr)},
		&funcDef{name: "length", min: 1, max: 1, v2: true, pure: true, impl: fn1(func(c *evalCtx, v value) value {
			s, ok := c.toStr(v)
			if !ok {
				return undef
			}
			return intV(int64(utf8.RuneCountInString(s)))
		})},
		&funcDef{name: "numbytes", min: 1, max: 1, v2: true, pure: true, impl: fn1(func(c *evalCtx, v value) value {
			s, ok := c.toStr(v)
			if !ok {
				return undef
			}
			return intV(int64(len(s)))
		})},
		&funcDef{name: "indexof", min: 2, max: 2, v2: true, pure: true, impl: fn2(fnIndexOf)},
		hashFn("md2", newMD2),
		hashFn("md5", md5.New),
		hashFn("sha1", sha1.New),
		hashFn("sha224", sha256.New224),
		hashFn("sha256", sha256.New),
		hashFn("sha384", sha512.New384),
		hashFn("sha512", sha512.New),
	)
}

// isTrimSpace is Java's String.trim() notion of white space: U+0000–U+0020.
func isTrimSpace(r rune) bool { return r <= ' ' }

// pad pads a string with spaces, on the left or right, to n (0…1000)
// additional characters.
func (c *evalCtx) pad(a, b value, left bool) value {
	s, ok := c.toStr(a)
	if !ok {
		return undef
	}
	n, ok := c.toInt(b)
	if !ok {
		return undef
	}
	n = min(max(n, 0), 1000)
	start := len(c.arena)
	if !left {
		c.arena = append(c.arena, s...)
	}
	for i := int64(0); i < n; i++ {
		c.arena = append(c.arena, ' ')
	}
	if left {
		c.arena = append(c.arena, s...)
	}
	return strV(b2s(c.arena[start:]))
}

func fnReplace(c *evalCtx, _ *callNode, a []value) value {
	var s [3]string
	for i := range s {
		var ok bool
		if s[i], ok = c.toStr(a[i]); !ok {
			return undef
		}
	}
	return strV(strings.ReplaceAll(s[0], s[1], s[2]))
}

// fnSubstring: substring(s, from[, to]), 0-based, to exclusive; indices
// are clamped to the string; from >= to gives "".
func fnSubstring(c *evalCtx, _ *callNode, a []value) value {
	s, ok := c.toStr(a[0])
	if !ok {
		return undef
	}
	n := int64(utf8.RuneCountInString(s))
	from, ok := c.toInt(a[1])
	if !ok {
		return undef
	}
	to := n
	if len(a) == 3 {
		if to, ok = c.toInt(a[2]); !ok {
			return undef
		}
	}
	from, to = min(max(from, 0), n), min(max(to, 0), n)
	if from >= to {
		return strV("")
	}
	return strV(runeSlice(s, from, to))
}

// runeSlice returns the characters [from, to) of s.
func runeSlice(s string, from, to int64) string {
	start, end := len(s), len(s)
	var i int64
	for off := range s {
		if i == from {
			start = off
		}
		if i == to {
			end = off
			break
		}
		i++
	}
	return s[start:end]
}

// strPred applies a predicate to two string-converted arguments.
func (c *evalCtx) strPred(a, b value, f func(s, affix string) bool) value {
	s, ok := c.toStr(a)
	if !ok {
		return undef
	}
	t, ok := c.toStr(b)
	if !ok {
		return undef
	}
	return boolV(f(s, t))
}

// fnConcat: with an Array among the arguments, an array of all arguments
// (arrays spliced in); otherwise the concatenation of their strings.
// concat() is Undefined; concat(x) is x (an array) or x as a string.
func fnConcat(c *evalCtx, _ *callNode, a []value) value {
	if len(a) == 0 {
		return undef
	}
	anyArray := false
	for _, v := range a {
		if v.k == kUndefined {
			return undef
		}
		anyArray = anyArray || v.k == kArray
	}
	if anyArray {
		if len(a) == 1 {
			return a[0]
		}
		var out []value
		for _, v := range a {
			if v.k != kArray {
				if storable(v) {
					out = append(out, v)
				}
				continue
			}
			c.elements(v, func(e value) bool {
				out = append(out, e)
				return true
			})
		}
		return arrV(out)
	}
	// Convert first: a conversion may write to the arena.
	var buf [8]string
	strs := buf[:0]
	for _, v := range a {
		s, ok := c.toStr(v)
		if !ok {
			return undef
		}
		strs = append(strs, s)
	}
	start := len(c.arena)
	for _, s := range strs {
		c.arena = append(c.arena, s...)
	}
	return strV(b2s(c.arena[start:]))
}

// fnChr returns the ASCII character of a code (0…127), Undefined otherwise.
func fnChr(c *evalCtx, v value) value {
	i, ok := c.toInt(v)
	if !ok || i < 0 || i > 127 {
		return undef
	}
	return strV(asciiStrings[i])
}

// asciiStrings holds the 128 one-character ASCII strings.
var asciiStrings = func() (a [128]string) {
	for i := range a {
		a[i] = string(rune(i))
	}
	return a
}()

// runeText returns a one-character string.
func (c *evalCtx) runeText(r rune) string {
	if r >= 0 && r < 128 {
		return asciiStrings[r]
	}
	start := len(c.arena)
	c.arena = utf8.AppendRune(c.arena, r)
	return b2s(c.arena[start:])
}

// fnIndexOf returns the 0-based character index of the first occurrence of
// the second string in the first, or -1.
func fnIndexOf(c *evalCtx, a, b value) value {
	s, ok := c.toStr(a)
	if !ok {
		return undef
	}
	sub, ok := c.toStr(b)
	if !ok {
		return undef
	}
	i := strings.Index(s, sub)
	if i < 0 {
		return intV(-1)
	}
	return intV(int64(utf8.RuneCountInString(s[:i])))
}
