package iotsql

import (
	"strings"
)

// The standard conversions of AWS's "Data types" page, applied when a
// function or operator gets a value of another type. Each returns ok false
// where AWS's table says Undefined.

// toStr converts v to a String: numbers in their text form, Booleans as
// "true"/"false", arrays and objects as JSON. Null, Undefined and Binary
// have no string form. Strings made here live in the arena.
func (c *evalCtx) toStr(v value) (string, bool) {
	switch v.k {
	case kString:
		return v.s, true
	case kBool:
		if v.n != 0 {
			return "true", true
		}
		return "false", true
	case kInt, kDecimal, kArray, kObject:
		if (v.k == kArray || v.k == kObject) && !v.built() && !c.v2 {
			return c.compactText(v.s), true
		}
		start := len(c.arena)
		c.arena = c.appendValue(c.arena, v)
		return b2s(c.arena[start:]), true
	}
	return "", false
}

// compactText returns JSON text without white space (the text itself when
// it has none).
func (c *evalCtx) compactText(s string) string {
	if !strings.ContainsAny(s, " \t\r\n") {
		return s
	}
	start := len(c.arena)
	c.arena = appendCompact(c.arena, s, false)
	return b2s(c.arena[start:])
}

// numericString reports whether s is a number as AWS converts strings:
// ^-?\d+(\.\d+)?((?i)E-?\d+)?$.
func numericString(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := func() bool {
		d := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i > d
	}
	if !digits() {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && s[i] == '-' {
			i++
		}
		if !digits() {
			return false
		}
	}
	return i == len(s)
}

// toNum converts v to a number (Int or Decimal): numbers as they are,
// numeric strings as Decimals. ok is false for anything else.
func (c *evalCtx) toNum(v value) (value, bool) {
	switch v.k {
	case kInt, kDecimal:
		return v, true
	case kString:
		if !numericString(v.s) {
			return undef, false
		}
		d, ok := parseDec(v.s)
		if !ok || !d.inRange() {
			return undef, false
		}
		return decV(d), true
	}
	return undef, false
}

// toDec converts v to a dec (see toNum).
func (c *evalCtx) toDec(v value) (dec, bool) {
	n, ok := c.toNum(v)
	if !ok {
		return dec{}, false
	}
	return n.dec(), true
}

// toFloat converts v to a double (see toNum).
func (c *evalCtx) toFloat(v value) (float64, bool) {
	n, ok := c.toNum(v)
	if !ok {
		return 0, false
	}
	return n.toFloat(), true
}

// toInt converts v to an int64 for an argument that wants an Int: a
// Decimal or numeric string is truncated toward zero ("rounded down") and
// saturated to the int64 range.
func (c *evalCtx) toInt(v value) (int64, bool) {
	if v.k == kInt {
		return v.n, true
	}
	d, ok := c.toDec(v)
	if !ok {
		return 0, false
	}
	return d.toInt64Sat(), true
}

// toBool converts v to a Boolean: Booleans, and the strings "true" and
// "false" in any case.
func toBool(v value) (bool, bool) {
	switch v.k {
	case kBool:
		return v.n != 0, true
	case kString:
		switch {
		case strings.EqualFold(v.s, "true"):
			return true, true
		case strings.EqualFold(v.s, "false"):
			return false, true
		}
	}
	return false, false
}

// castTo implements cast(v AS type), which adds number↔Boolean conversions
// to the standard ones (AWS's "Casting rules" tables).
func (c *evalCtx) castTo(v value, to kind, dbl bool) value {
	switch to {
	case kString:
		if s, ok := c.toStr(v); ok {
			return strV(s)
		}
	case kBool:
		switch v.k {
		case kInt, kDecimal:
			return boolV(v.dec().sign() != 0)
		}
		if b, ok := toBool(v); ok {
			return boolV(b)
		}
	case kInt:
		if v.k == kBool {
			return intV(v.n)
		}
		if v.k == kInt {
			return v
		}
		if d, ok := c.toDec(v); ok {
			w := d.integral(roundDown)
			if i, ok := w.int64(); ok {
				return intV(i)
			}
			return decV(w)
		}
	case kDecimal:
		if v.k == kBool {
			if dbl {
				return c.dblResult(float64(v.n))
			}
			return c.decResult(dec{c: v.n * 10, exp: -1}) // true = 1.0
		}
		n, ok := c.toNum(v)
		if !ok {
			return undef
		}
		if dbl {
			return c.dblResult(n.toFloat())
		}
		if n.k == kInt {
			return c.decResult(decInt(n.n))
		}
		return c.decResult(n.dec())
	}
	return undef
}
