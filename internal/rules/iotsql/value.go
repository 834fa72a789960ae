package iotsql

import (
	"math"
	"math/big"
	"unsafe"
)

// kind is a value's type: one of AWS IoT SQL's data types, plus Binary for
// a payload that is not JSON.
type kind uint8

const (
	kUndefined kind = iota // not a value; dropped from results
	kNull
	kBool
	kInt
	kDecimal
	kString
	kArray
	kObject
	kBinary // the raw bytes of a non-JSON payload (the * of SELECT *)
)

var kindNames = [...]string{"Undefined", "Null", "Boolean", "Int", "Decimal", "String", "Array", "Object", "Binary"}

// String returns the type's name as AWS's documentation writes it.
func (k kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(?)"
}

// value is one AWS IoT SQL value: a small tagged struct passed by value,
// so that evaluating a WHERE clause allocates nothing.
//
// Representation by kind:
//   - kBool: n is 0 or 1.
//   - kInt: n (AWS's Int has 34 digits; moat's has 64 bits, and Int
//     arithmetic that overflows continues in Decimal).
//   - kDecimal: coefficient n (or x.big) and exponent exp; or, with dbl,
//     a double held as math.Float64bits in n (the results AWS documents as
//     "Decimal (with double precision)").
//   - kString, kBinary: s. Strings from the payload point into it.
//   - kArray, kObject: either s, the validated JSON text (a payload value,
//     read lazily), or x.arr / x.keys+x.vals (built by the query).
type value struct {
	k   kind
	dbl bool
	exp int32
	n   int64
	s   string
	x   *ext
}

// ext holds the rarely used parts of a value.
type ext struct {
	big  *big.Int // Decimal coefficient beyond int64
	arr  []value  // built Array
	keys []string // built Object, in insertion order
	vals []value
}

var (
	undef  = value{}
	nullV  = value{k: kNull}
	trueV  = value{k: kBool, n: 1}
	falseV = value{k: kBool}
)

func boolV(b bool) value {
	if b {
		return trueV
	}
	return falseV
}

func intV(i int64) value          { return value{k: kInt, n: i} }
func strV(s string) value         { return value{k: kString, s: s} }
func arrV(vs []value) value       { return value{k: kArray, x: &ext{arr: vs}} }
func rawV(k kind, s string) value { return value{k: k, s: s} }

// dblV returns a double-precision Decimal, Undefined for NaN and ±Inf
// ("imaginary results are returned as Undefined").
func dblV(f float64) value {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return undef
	}
	return value{k: kDecimal, dbl: true, n: int64(math.Float64bits(f))}
}

// decV returns d as a Decimal value, Undefined outside AWS's range.
func decV(d dec) value {
	if !d.inRange() {
		return undef
	}
	v := value{k: kDecimal, n: d.c, exp: d.exp}
	if d.b != nil {
		v.x = &ext{big: d.b}
	}
	return v
}

// isTrue reports whether v is the Boolean true.
func (v value) isTrue() bool { return v.k == kBool && v.n != 0 }

// isNum reports whether v is an Int or a Decimal.
func (v value) isNum() bool { return v.k == kInt || v.k == kDecimal }

// float returns a double's value.
func (v value) float() float64 { return math.Float64frombits(uint64(v.n)) }

// dec returns a number (kInt or kDecimal) as a dec; a double converts
// through its shortest decimal form, like BigDecimal.valueOf(double).
func (v value) dec() dec {
	switch {
	case v.k == kInt:
		return decInt(v.n)
	case v.dbl:
		d, _ := decFromFloat(v.float())
		return d
	case v.x != nil && v.x.big != nil:
		return dec{b: v.x.big, exp: v.exp}
	}
	return dec{c: v.n, exp: v.exp}
}

// toFloat returns a number as a double.
func (v value) toFloat() float64 {
	switch {
	case v.k == kInt:
		return float64(v.n)
	case v.dbl:
		return v.float()
	}
	return v.dec().float64()
}

// built reports whether an Array or Object was built by the query rather
// than read from JSON text (for other kinds x may hold a big coefficient).
func (v value) built() bool { return v.x != nil }

// b2s returns a string that shares b's memory. The caller guarantees that b
// is not modified while the string is in use: payloads are not modified
// during Eval, and the scratch buffer only grows within one evaluation.
func b2s(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
