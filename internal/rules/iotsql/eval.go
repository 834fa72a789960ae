package iotsql

import (
	"strconv"
	"strings"
)

// evalCtx is the state of one evaluation. Query and Template keep them in
// a sync.Pool, so that an evaluation reuses the scratch memory of earlier
// ones and allocates nothing in the common cases.
type evalCtx struct {
	in      *Input
	v2      bool
	version string

	payload string // in.Payload, shared
	loaded  bool   // payload examined
	isJSON  bool
	root    value    // the payload as a value: JSON text or Binary
	members []member // the payload's top-level members, when an object

	row *value // the row of a nested SELECT; nil at the top level

	arena []byte  // strings made during the evaluation
	stack []value // function arguments
	err   error   // the first runtime error
}

// newConstCtx returns a context for folding constants at compile time: no
// input, never pooled (constants may point into its arena).
func newConstCtx(cp *compiler) *evalCtx {
	return &evalCtx{v2: cp.v2, version: cp.version, loaded: true}
}

// reset prepares a pooled context for an input.
func (c *evalCtx) reset(in *Input, v2 bool, version string) {
	c.in, c.v2, c.version = in, v2, version
	c.payload = b2s(in.Payload)
	c.loaded, c.isJSON, c.root = false, false, undef
	c.members = c.members[:0]
	c.row = nil
	c.arena = c.arena[:0]
	c.stack = c.stack[:0]
	c.err = nil
}

// release drops references to the input before the context is pooled.
func (c *evalCtx) release() {
	c.in, c.payload, c.root, c.row, c.err = nil, "", undef, nil, nil
	if cap(c.arena) > 64<<10 {
		c.arena = nil // do not keep one huge evaluation's memory
	}
	if cap(c.stack) > 1024 {
		c.stack = nil
	}
	clear(c.stack[:cap(c.stack)])
}

// fail records a runtime error; evaluation continues with Undefined.
func (c *evalCtx) fail(err error) value {
	if c.err == nil {
		c.err = err
	}
	return undef
}

// load examines the payload once: JSON (recording a top-level object's
// members) or binary.
func (c *evalCtx) load() {
	c.loaded = true
	if c.in == nil {
		return
	}
	var start, end int
	var ok bool
	c.members, start, end, ok = validate(c.payload, c.members[:0])
	if !ok {
		c.members = c.members[:0]
		c.root = value{k: kBinary, s: c.payload}
		return
	}
	c.isJSON = true
	c.root = c.fromJSON(c.payload[start:end])
}

// doc returns the current document: the row of a nested SELECT or the
// payload.
func (c *evalCtx) doc() value {
	if c.row != nil {
		return *c.row
	}
	if !c.loaded {
		c.load()
	}
	return c.root
}

// field returns a field of the current document.
func (c *evalCtx) field(name string) value {
	if c.row != nil {
		return c.member(*c.row, name)
	}
	if !c.loaded {
		c.load()
	}
	if c.root.k != kObject {
		return undef
	}
	p := c.payload
	for i := len(c.members) - 1; i >= 0; i-- { // the last duplicate wins
		m := &c.members[i]
		if m.esc {
			if keyEquals(p[m.k0:m.k1], true, name) {
				return c.fromJSON(p[m.v0:m.v1])
			}
			continue
		}
		// Lengths differ for most keys: compare them first.
		if int(m.k1-m.k0) == len(name) && p[m.k0:m.k1] == name {
			return c.fromJSON(p[m.v0:m.v1])
		}
	}
	return undef
}

// member returns obj[name], Undefined when obj is not an object or has no
// such key.
func (c *evalCtx) member(obj value, name string) value {
	if obj.k != kObject {
		return undef
	}
	if obj.built() {
		for i := len(obj.x.keys) - 1; i >= 0; i-- {
			if obj.x.keys[i] == name {
				return obj.x.vals[i]
			}
		}
		return undef
	}
	found := ""
	it := newObjIter(obj.s)
	for {
		k, v, ok := it.next()
		if !ok {
			break
		}
		if keyIs(k, name) {
			found = v
		}
	}
	if found == "" {
		return undef
	}
	return c.fromJSON(found)
}

// element returns arr[i], Undefined when out of range.
func (c *evalCtx) element(arr value, i int64) value {
	if i < 0 {
		return undef
	}
	if arr.built() {
		if i >= int64(len(arr.x.arr)) {
			return undef
		}
		return arr.x.arr[i]
	}
	it := newArrIter(arr.s)
	for {
		e, ok := it.next()
		if !ok {
			return undef
		}
		if i == 0 {
			return c.fromJSON(e)
		}
		i--
	}
}

// elements calls fn for each element of an array until it returns false.
func (c *evalCtx) elements(arr value, fn func(value) bool) {
	if arr.built() {
		for _, e := range arr.x.arr {
			if !fn(e) {
				return
			}
		}
		return
	}
	it := newArrIter(arr.s)
	for {
		e, ok := it.next()
		if !ok || !fn(c.fromJSON(e)) {
			return
		}
	}
}

// arrayLen returns the number of elements of an array.
func (c *evalCtx) arrayLen(arr value) int {
	if arr.built() {
		return len(arr.x.arr)
	}
	n := 0
	it := newArrIter(arr.s)
	for _, ok := it.next(); ok; _, ok = it.next() {
		n++
	}
	return n
}

// objectMembers calls fn for each key and value of an object (keys unescaped,
// the last duplicate winning is the caller's concern).
func (c *evalCtx) objectMembers(obj value, fn func(k string, v value)) {
	if obj.built() {
		for i, k := range obj.x.keys {
			fn(k, obj.x.vals[i])
		}
		return
	}
	it := newObjIter(obj.s)
	for {
		k, v, ok := it.next()
		if !ok {
			return
		}
		if hasEscape(k) {
			k = c.unescape(k)
		}
		fn(k, c.fromJSON(v))
	}
}

// unescape returns JSON string text unescaped, in the arena.
func (c *evalCtx) unescape(s string) string {
	start := len(c.arena)
	c.arena = unescape(c.arena, s)
	return b2s(c.arena[start:])
}

// fromJSON turns validated JSON text into a value, lazily for objects and
// arrays.
func (c *evalCtx) fromJSON(s string) value {
	if s == "" {
		return undef
	}
	switch s[0] {
	case '{':
		return rawV(kObject, s)
	case '[':
		return rawV(kArray, s)
	case '"':
		body := s[1 : len(s)-1]
		if strings.IndexByte(body, '\\') >= 0 {
			return strV(c.unescape(body))
		}
		return strV(body)
	case 't':
		return trueV
	case 'f':
		return falseV
	case 'n':
		return nullV
	}
	return c.number(s)
}

// number parses a number: an Int when it is written without fraction or
// exponent and fits 64 bits; otherwise a Decimal (an Int with SQL
// 2016-03-23 when it is whole).
func (c *evalCtx) number(s string) value {
	if i, ok := parseIntText(s); ok {
		return intV(i)
	}
	d, ok := parseDec(s)
	if !ok {
		return undef
	}
	return c.decResult(d)
}

// parseIntText parses [-]digits into an int64 without allocating.
func parseIntText(s string) (int64, bool) {
	if len(s) == 0 || len(s) > 20 {
		return 0, false
	}
	neg := s[0] == '-'
	i := 0
	if neg {
		i = 1
	}
	if i == len(s) {
		return 0, false
	}
	var u uint64
	for ; i < len(s); i++ {
		d := s[i] - '0'
		if d > 9 {
			return 0, false
		}
		if u > (1<<63)/10 {
			return 0, false
		}
		u = u*10 + uint64(d)
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

// decResult returns a computed Decimal; with SQL 2016-03-23 a whole
// number is an Int ("numeric values that are whole numbers, such as 10.0,
// are processed as an Int value").
func (c *evalCtx) decResult(d dec) value {
	if c.v2 {
		if i, ok := d.int64(); ok {
			return intV(i)
		}
	}
	return decV(d)
}

// dblResult returns a double-precision result the same way.
func (c *evalCtx) dblResult(f float64) value {
	if c.v2 && f == float64(int64(f)) && f > -9.2e18 && f < 9.2e18 {
		return intV(int64(f))
	}
	return dblV(f)
}

// appendValue appends v as JSON. Undefined (and Binary) members of built
// objects are left out; built arrays never hold them.
func (c *evalCtx) appendValue(dst []byte, v value) []byte {
	switch v.k {
	case kNull:
		return append(dst, "null"...)
	case kBool:
		if v.n != 0 {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	case kInt:
		return strconv.AppendInt(dst, v.n, 10)
	case kDecimal:
		if v.dbl {
			return appendDouble(dst, v.float())
		}
		return v.dec().appendText(dst)
	case kString:
		return appendQuoted(dst, v.s)
	case kArray:
		if !v.built() {
			return appendCompact(dst, v.s, c.v2)
		}
		dst = append(dst, '[')
		for i, e := range v.x.arr {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = c.appendValue(dst, e)
		}
		return append(dst, ']')
	case kObject:
		if !v.built() {
			return appendCompact(dst, v.s, c.v2)
		}
		dst = append(dst, '{')
		first := true
		for i, k := range v.x.keys {
			e := v.x.vals[i]
			if !storable(e) {
				continue
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = appendQuoted(dst, k)
			dst = append(dst, ':')
			dst = c.appendValue(dst, e)
		}
		return append(dst, '}')
	}
	return dst
}

// storable reports whether v can be a JSON member or element.
func storable(v value) bool { return v.k != kUndefined && v.k != kBinary }
