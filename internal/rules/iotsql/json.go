package iotsql

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// This file reads and writes JSON without decoding it into maps: a payload
// is validated once per evaluation (recording the members of a top-level
// object) and its values are read lazily from the text. Every function here
// after validate assumes validated input and stays in bounds regardless.

// maxJSONDepth is the deepest nesting accepted in a payload, as Jackson's
// default (StreamReadConstraints): a deeper document is not JSON to the
// rules engine.
const maxJSONDepth = 1000

// member is one member of the payload's top-level object: byte offsets of
// the key's text (without quotes) and of the value's text.
type member struct {
	k0, k1, v0, v1 int32
	esc            bool // the key has escapes
}

// validator checks one JSON document. Its methods take and return byte
// offsets (-1 for invalid), which keeps the hot loop in registers.
type validator struct {
	members []member // top-level object members, when the document is an object
	record  bool     // record them
}

// validate reports whether s is exactly one JSON value (RFC 8259, UTF-8,
// surrounding white space allowed), appending the top-level object's members
// to members. The value is s[start:end].
func validate(s string, members []member) (_ []member, start, end int, ok bool) {
	v := validator{members: members, record: true}
	start = skipWS(s, 0)
	end = v.value(s, start, 0)
	if end < 0 {
		return v.members, 0, 0, false
	}
	return v.members, start, end, skipWS(s, end) == len(s)
}

// isJSON reports whether s is one JSON document.
func isJSON(s string) bool {
	var v validator
	i := v.value(s, skipWS(s, 0), 0)
	return i >= 0 && skipWS(s, i) == len(s)
}

// value checks the value at s[i] and returns the offset after it.
func (v *validator) value(s string, i, depth int) int {
	if i >= len(s) {
		return -1
	}
	switch c := s[i]; {
	case c == '"':
		i, _ = scanString(s, i)
		return i
	case c == '-' || (c >= '0' && c <= '9'):
		return scanNumber(s, i)
	case c == '{':
		return v.object(s, i, depth+1)
	case c == '[':
		return v.array(s, i, depth+1)
	case c == 't':
		return lit(s, i, "true")
	case c == 'f':
		return lit(s, i, "false")
	case c == 'n':
		return lit(s, i, "null")
	}
	return -1
}

func lit(s string, i int, w string) int {
	if len(s)-i >= len(w) && s[i:i+len(w)] == w {
		return i + len(w)
	}
	return -1
}

func (v *validator) object(s string, i, depth int) int {
	if depth > maxJSONDepth {
		return -1
	}
	i = skipWS(s, i+1)
	if i < len(s) && s[i] == '}' {
		return i + 1
	}
	for {
		if i >= len(s) || s[i] != '"' {
			return -1
		}
		k0 := i + 1
		e, esc := scanString(s, i)
		if e < 0 {
			return -1
		}
		i = skipWS(s, e)
		if i >= len(s) || s[i] != ':' {
			return -1
		}
		v0 := skipWS(s, i+1)
		// Strings and numbers, the common members, without a call.
		if v0 < len(s) && s[v0] == '"' {
			i, _ = scanString(s, v0)
		} else if v0 < len(s) && (s[v0] >= '0' && s[v0] <= '9' || s[v0] == '-') {
			i = scanNumber(s, v0)
		} else {
			i = v.value(s, v0, depth)
		}
		if i < 0 {
			return -1
		}
		if depth == 1 && v.record {
			v.members = append(v.members, member{int32(k0), int32(e - 1), int32(v0), int32(i), esc})
		}
		i = skipWS(s, i)
		if i >= len(s) {
			return -1
		}
		switch s[i] {
		case ',':
			i = skipWS(s, i+1)
		case '}':
			return i + 1
		default:
			return -1
		}
	}
}

func (v *validator) array(s string, i, depth int) int {
	if depth > maxJSONDepth {
		return -1
	}
	i = skipWS(s, i+1)
	if i < len(s) && s[i] == ']' {
		return i + 1
	}
	for {
		if i = v.value(s, i, depth); i < 0 {
			return -1
		}
		i = skipWS(s, i)
		if i >= len(s) {
			return -1
		}
		switch s[i] {
		case ',':
			i = skipWS(s, i+1)
		case ']':
			return i + 1
		default:
			return -1
		}
	}
}

// plainByte marks the bytes a JSON string may contain without a closer
// look: printable ASCII other than '"' and '\\'.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// scanString checks the string whose quote is at s[i] and returns the
// offset after its closing quote (-1 if invalid); esc reports backslashes.
func scanString(s string, i int) (int, bool) {
	esc := false
	i++
	for {
		for i < len(s) && plainByte[s[i]] {
			i++
		}
		if i >= len(s) {
			return -1, esc
		}
		switch c := s[i]; {
		case c == '"':
			return i + 1, esc
		case c == '\\':
			esc = true
			if i+1 >= len(s) {
				return -1, esc
			}
			switch s[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(s) || !isHex4(s[i+2:i+6]) {
					return -1, esc
				}
				i += 6
			default:
				return -1, esc
			}
		case c < 0x20:
			return -1, esc
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				return -1, esc
			}
			i += size
		}
	}
}

func isHex4(s string) bool {
	for i := 0; i < 4; i++ {
		if hexVal(s[i]) < 0 {
			return false
		}
	}
	return true
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// scanNumber checks the number at s[i] and returns the offset after it.
func scanNumber(s string, i int) int {
	if s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return -1
	}
	if i < len(s) && s[i] == '.' {
		i++
		d := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			return -1
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		d := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			return -1
		}
	}
	return i
}

// skipWS returns the index of the first non-space byte at or after i.
func skipWS(s string, i int) int {
	for i < len(s) && s[i] <= ' ' && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the index just after the validated value at s[i].
func skipValue(s string, i int) int {
	if i >= len(s) {
		return len(s)
	}
	switch s[i] {
	case '"':
		return skipString(s, i)
	case '{', '[':
		depth := 0
		for i < len(s) {
			switch s[i] {
			case '"':
				i = skipString(s, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return len(s)
	}
	for i < len(s) {
		switch s[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

// skipString returns the index just after the string starting at s[i].
func skipString(s string, i int) int {
	for i++; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(s)
}

// objIter walks the members of a validated JSON object text.
type objIter struct {
	s string
	i int
}

func newObjIter(s string) objIter { return objIter{s: s, i: skipWS(s, 0) + 1} }

// next returns the next member's key text (without quotes, still escaped:
// see hasEscape) and value text.
func (it *objIter) next() (key, val string, ok bool) {
	s := it.s
	i := skipWS(s, it.i)
	if i < len(s) && s[i] == ',' {
		i = skipWS(s, i+1)
	}
	if i >= len(s) || s[i] != '"' {
		return "", "", false
	}
	ke := skipString(s, i)
	if ke-1 <= i {
		return "", "", false
	}
	key = s[i+1 : ke-1]
	i = skipWS(s, ke)
	if i < len(s) && s[i] == ':' {
		i++
	}
	i = skipWS(s, i)
	e := skipValue(s, i)
	it.i = e
	return key, s[i:e], true
}

// hasEscape reports whether JSON string text has escapes.
func hasEscape(s string) bool { return strings.IndexByte(s, '\\') >= 0 }

// keyIs compares a key's JSON text with a name. An escaped key is always
// longer than its value, so equal text with no escape is the common match.
func keyIs(raw, name string) bool {
	if len(raw) == len(name) {
		return raw == name && !hasEscape(raw)
	}
	return len(raw) > len(name) && hasEscape(raw) && keyEquals(raw, true, name)
}

// arrIter walks the elements of a validated JSON array text.
type arrIter struct {
	s string
	i int
}

func newArrIter(s string) arrIter { return arrIter{s: s, i: skipWS(s, 0) + 1} }

// next returns the next element's text.
func (it *arrIter) next() (string, bool) {
	s := it.s
	i := skipWS(s, it.i)
	if i < len(s) && s[i] == ',' {
		i = skipWS(s, i+1)
	}
	if i >= len(s) || s[i] == ']' {
		return "", false
	}
	e := skipValue(s, i)
	it.i = e
	return s[i:e], true
}

// keyEquals compares a key's JSON text (without quotes) with a name.
func keyEquals(raw string, esc bool, name string) bool {
	if !esc {
		return raw == name
	}
	j := 0
	var buf [utf8.UTFMax]byte
	for i := 0; i < len(raw); {
		r, n := decodeJSONRune(raw, i)
		i += n
		w := utf8.EncodeRune(buf[:], r)
		if j+w > len(name) || name[j:j+w] != string(buf[:w]) {
			return false
		}
		j += w
	}
	return j == len(name)
}

// decodeJSONRune decodes one character of validated JSON string text at
// s[i], escapes included, returning it and the bytes consumed.
func decodeJSONRune(s string, i int) (rune, int) {
	c := s[i]
	if c != '\\' {
		if c < utf8.RuneSelf {
			return rune(c), 1
		}
		return utf8.DecodeRuneInString(s[i:])
	}
	if i+1 >= len(s) {
		return utf8.RuneError, 1
	}
	switch s[i+1] {
	case 'b':
		return '\b', 2
	case 'f':
		return '\f', 2
	case 'n':
		return '\n', 2
	case 'r':
		return '\r', 2
	case 't':
		return '\t', 2
	case 'u':
		if i+6 > len(s) {
			return utf8.RuneError, len(s) - i
		}
		r := rune(hex4(s[i+2 : i+6]))
		if utf16.IsSurrogate(r) {
			if i+12 <= len(s) && s[i+6] == '\\' && s[i+7] == 'u' {
				if r2 := utf16.DecodeRune(r, rune(hex4(s[i+8:i+12]))); r2 != utf8.RuneError {
					return r2, 12
				}
			}
			return utf8.RuneError, 6
		}
		return r, 6
	}
	return rune(s[i+1]), 2
}

func hex4(s string) int {
	n := 0
	for i := 0; i < 4; i++ {
		n = n<<4 | max(hexVal(s[i]), 0)
	}
	return n
}

// unescape appends the characters of validated JSON string text to dst.
func unescape(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		if s[i] != '\\' {
			j := i
			for j < len(s) && s[j] != '\\' {
				j++
			}
			dst = append(dst, s[i:j]...)
			i = j
			continue
		}
		r, n := decodeJSONRune(s, i)
		dst = utf8.AppendRune(dst, r)
		i += n
	}
	return dst
}

// appendQuoted appends s as a JSON string. Invalid UTF-8 becomes U+FFFD.
func appendQuoted(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || n != 1 {
				i += n
				continue
			}
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendCompact appends validated JSON text without white space. With v2
// (SQL 2016-03-23), a number that is whole but written as a decimal
// ("10.0", "1e2") becomes an Int ("10", "100"), as AWS processes it.
func appendCompact(dst []byte, s string, v2 bool) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '"':
			e := skipString(s, i)
			dst = append(dst, s[i:e]...)
			i = e
		case c == '-' || (c >= '0' && c <= '9'):
			e := i
			isDec := false
			for e < len(s) && (s[e] == '-' || s[e] == '+' || s[e] == '.' || s[e] == 'e' || s[e] == 'E' || (s[e] >= '0' && s[e] <= '9')) {
				if s[e] == '.' || s[e] == 'e' || s[e] == 'E' {
					isDec = true
				}
				e++
			}
			dst = appendNumberText(dst, s[i:e], isDec && v2)
			i = e
		default:
			dst = append(dst, c)
			i++
		}
	}
	return dst
}

// appendNumberText appends a JSON number, as an Int when whole is asked for
// and the number is a whole int64.
func appendNumberText(dst []byte, num string, whole bool) []byte {
	if whole {
		if d, ok := parseDec(num); ok {
			if i, ok := d.int64(); ok {
				return strconv.AppendInt(dst, i, 10)
			}
		}
	}
	return append(dst, num...)
}
