package iotsql

import (
	"math"
)

// The operators, following the type tables of AWS's "Operators" page.

// equal implements = for defined values: numbers by value (an Int equals
// the Decimal of the same value), strings, Booleans and Nulls by value,
// arrays item by item in order, objects by keys and values in any order.
// Values of different types are not equal.
func (c *evalCtx) equal(a, b value) bool {
	if a.isNum() && b.isNum() {
		if a.k == kInt && b.k == kInt {
			return a.n == b.n
		}
		return a.dec().cmp(b.dec()) == 0
	}
	if a.k != b.k {
		return false
	}
	switch a.k {
	case kNull:
		return true
	case kBool:
		return a.n == b.n
	case kString, kBinary:
		return a.s == b.s
	case kArray:
		return c.equalArrays(a, b)
	case kObject:
		return c.equalObjects(a, b)
	}
	return false
}

func (c *evalCtx) equalArrays(a, b value) bool {
	if !a.built() && !b.built() && a.s == b.s {
		return true
	}
	n := c.arrayLen(a)
	if n != c.arrayLen(b) {
		return false
	}
	for i := 0; i < n; i++ {
		if !c.equal(c.element(a, int64(i)), c.element(b, int64(i))) {
			return false
		}
	}
	return true
}

func (c *evalCtx) equalObjects(a, b value) bool {
	if !a.built() && !b.built() && a.s == b.s {
		return true
	}
	na, nb := 0, 0
	eq := true
	c.objectMembers(a, func(k string, v value) {
		if !storable(v) {
			return
		}
		na++
		if eq {
			w := c.member(b, k)
			eq = storable(w) && c.equal(v, w)
		}
	})
	c.objectMembers(b, func(_ string, v value) {
		if storable(v) {
			nb++
		}
	})
	return eq && na == nb
}

// compare implements < <= > >=: both operands are converted to Decimal
// (numeric strings included); anything else makes the result Undefined.
func (c *evalCtx) compare(op tokKind, a, b value) value {
	var r int
	if a.k == kInt && b.k == kInt {
		switch {
		case a.n < b.n:
			r = -1
		case a.n > b.n:
			r = 1
		}
	} else {
		x, ok := c.toDec(a)
		if !ok {
			return undef
		}
		y, ok := c.toDec(b)
		if !ok {
			return undef
		}
		r = x.cmp(y)
	}
	switch op {
	case tLt:
		return boolV(r < 0)
	case tLe:
		return boolV(r <= 0)
	case tGt:
		return boolV(r > 0)
	}
	return boolV(r >= 0)
}

// arith implements + - * / %.
//
// + concatenates when either operand is a String (the other converted to a
// string) and adds numbers otherwise. - * / % take numbers and numeric
// strings. Int op Int is an Int (integer division truncates), which becomes
// a Decimal when it overflows 64 bits; any Decimal or string operand makes
// a Decimal. Division or remainder by zero is Undefined.
func (c *evalCtx) arith(op tokKind, a, b value) value {
	if a.k == kUndefined || b.k == kUndefined {
		return undef
	}
	if op == tPlus && (a.k == kString || b.k == kString) {
		x, ok := c.toStr(a)
		if !ok {
			return undef
		}
		y, ok := c.toStr(b)
		if !ok {
			return undef
		}
		return strV(c.concat(x, y))
	}
	if op == tPlus && (!a.isNum() || !b.isNum()) {
		return undef
	}
	if a.k == kInt && b.k == kInt {
		if v, ok := intArith(op, a.n, b.n); ok {
			return v
		}
		// Overflow: continue in Decimal.
	}
	x, ok := c.toDec(a)
	if !ok {
		return undef
	}
	y, ok := c.toDec(b)
	if !ok {
		return undef
	}
	var r dec
	switch op {
	case tPlus:
		r = x.add(y)
	case tMinus:
		r = x.sub(y)
	case tStar:
		r = x.mul(y)
	case tSlash:
		if r, ok = x.quo(y); !ok {
			return undef
		}
		if a.k == kInt && b.k == kInt {
			r = r.integral(roundDown)
		}
	case tPercent:
		if r, ok = x.rem(y); !ok {
			return undef
		}
	}
	if a.k == kInt && b.k == kInt {
		// Int arithmetic that overflowed int64: still a whole number.
		if i, ok := r.int64(); ok {
			return intV(i)
		}
		return decV(r)
	}
	return c.decResult(r)
}

// intArith computes Int op Int; ok is false on overflow. Division by zero
// is Undefined with ok true.
func intArith(op tokKind, a, b int64) (value, bool) {
	switch op {
	case tPlus:
		r := a + b
		if (a >= 0) == (b >= 0) && (r >= 0) != (a >= 0) {
			return undef, false
		}
		return intV(r), true
	case tMinus:
		r := a - b
		if (a >= 0) != (b >= 0) && (r >= 0) != (a >= 0) {
			return undef, false
		}
		return intV(r), true
	case tStar:
		if a == 0 || b == 0 {
			return intV(0), true
		}
		r := a * b
		if r/b != a || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
			return undef, false
		}
		return intV(r), true
	case tSlash, tPercent:
		if b == 0 {
			return undef, true
		}
		if a == math.MinInt64 && b == -1 {
			if op == tPercent {
				return intV(0), true
			}
			return undef, false
		}
		if op == tSlash {
			return intV(a / b), true
		}
		return intV(a % b), true
	}
	return undef, true
}

// concat joins two strings in the arena.
func (c *evalCtx) concat(x, y string) string {
	if x == "" {
		return y
	}
	if y == "" {
		return x
	}
	start := len(c.arena)
	c.arena = append(c.arena, x...)
	c.arena = append(c.arena, y...)
	return b2s(c.arena[start:])
}

// get implements get(collection, key) and x[key]: an array's element at a
// 0-based index converted to Int, a string's character at such an index,
// an object's member for a String key (no conversion). Anything else, or an
// index out of range, is Undefined.
func (c *evalCtx) get(coll, key value) value {
	switch coll.k {
	case kArray:
		i, ok := c.toInt(key)
		if !ok {
			return undef
		}
		return c.element(coll, i)
	case kString:
		i, ok := c.toInt(key)
		if !ok || i < 0 {
			return undef
		}
		for _, r := range coll.s {
			if i == 0 {
				return strV(c.runeText(r))
			}
			i--
		}
		return undef
	case kObject:
		if key.k != kString {
			return undef
		}
		return c.member(coll, key.s)
	}
	return undef
}
