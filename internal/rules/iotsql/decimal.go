package iotsql

import (
	"math"
	"math/big"
	"math/bits"
	"strconv"
)

// dec is an AWS IoT SQL Decimal: coef × 10^exp, like Java's BigDecimal
// (unscaled value and -scale). AWS computes in 34 significant digits
// (IEEE 754 decimal128, rounding half-even); so does dec. The coefficient
// lives in c while it fits an int64 (no allocation: every number a device
// sends fits) and in b, a *big.Int, beyond that.
//
// The magnitude is limited as AWS documents it (1E-999 to 9.999…E999):
// a result outside that range is Undefined, and so is a number in a payload
// outside it. The limit also bounds the cost of aligning exponents.
type dec struct {
	c   int64
	b   *big.Int // non-nil: the coefficient, c unused
	exp int32
}

const (
	decDigits = 34  // significant digits of a Decimal
	decMaxAdj = 999 // largest adjusted exponent (9.999…E999)
	decMinAdj = -999
)

// pow10 holds 10^0 … 10^18, the powers that fit an int64.
var pow10 = [...]int64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

var bigTen = big.NewInt(10)

// decInt returns i as a Decimal with no fraction digits.
func decInt(i int64) dec { return dec{c: i} }

// bigCoef returns the coefficient as a new *big.Int.
func (d dec) bigCoef() *big.Int {
	if d.b != nil {
		return new(big.Int).Set(d.b)
	}
	return big.NewInt(d.c)
}

// sign returns -1, 0 or 1.
func (d dec) sign() int {
	if d.b != nil {
		return d.b.Sign()
	}
	switch {
	case d.c < 0:
		return -1
	case d.c > 0:
		return 1
	}
	return 0
}

// ndigits returns the number of decimal digits of the coefficient (1 for 0).
func (d dec) ndigits() int {
	if d.b != nil {
		return bigDigits(d.b)
	}
	return int64Digits(d.c)
}

func int64Digits(c int64) int {
	u := absU(c)
	n := 1
	for u >= 10 {
		u /= 10
		n++
	}
	return n
}

func absU(c int64) uint64 {
	if c < 0 {
		return uint64(-c) // math.MinInt64 wraps to its own magnitude
	}
	return uint64(c)
}

// bigDigits counts the decimal digits of b (rare path: it allocates).
func bigDigits(b *big.Int) int {
	if b.Sign() == 0 {
		return 1
	}
	n := len(b.Text(10))
	if b.Sign() < 0 {
		n--
	}
	return n
}

// adjusted returns the exponent of the leading digit (BigDecimal's
// "adjusted exponent"): 123.45 → 2, 0.001 → -3.
func (d dec) adjusted() int { return d.ndigits() - 1 + int(d.exp) }

// inRange reports whether d is within AWS's Decimal magnitude.
func (d dec) inRange() bool {
	if d.sign() == 0 || (d.b == nil && d.exp > decMinAdj && d.exp < decMaxAdj-19) {
		return true
	}
	a := d.adjusted()
	return a >= decMinAdj && a <= decMaxAdj
}

// norm moves a big coefficient back into c when it fits.
func (d dec) norm() dec {
	if d.b != nil && d.b.IsInt64() {
		return dec{c: d.b.Int64(), exp: d.exp}
	}
	return d
}

// round34 rounds d to 34 significant digits, half-even (decimal128).
func (d dec) round34() dec {
	if d.b == nil {
		return d // at most 19 digits
	}
	n := bigDigits(d.b)
	if n <= decDigits {
		return d.norm()
	}
	drop := n - decDigits
	div := new(big.Int).Exp(bigTen, big.NewInt(int64(drop)), nil)
	q, r := new(big.Int).QuoRem(d.b, div, new(big.Int))
	roundHalfEven(q, r, div)
	out := dec{b: q, exp: d.exp + int32(drop)}
	if bigDigits(q) > decDigits { // 999… rounded up to 1000…
		q.Quo(q, bigTen)
		out.exp++
	}
	return out.norm()
}

// roundHalfEven adjusts the truncated quotient q by the remainder r of a
// division by div, rounding half to even. q and r carry the dividend's sign.
func roundHalfEven(q, r, div *big.Int) {
	if r.Sign() == 0 {
		return
	}
	twice := new(big.Int).Abs(r)
	twice.Lsh(twice, 1)
	c := twice.Cmp(div)
	if c > 0 || (c == 0 && q.Bit(0) == 1) {
		if r.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
}

// scaleTo returns d's coefficient multiplied so that its exponent is exp
// (exp <= d.exp), as int64 when it fits.
func (d dec) scaleTo(exp int32) (int64, bool) {
	if d.b != nil {
		return 0, false
	}
	diff := int(d.exp) - int(exp)
	if diff == 0 {
		return d.c, true
	}
	if diff >= len(pow10) {
		return 0, d.c == 0
	}
	hi, lo := bits.Mul64(absU(d.c), uint64(pow10[diff]))
	if hi != 0 || lo > math.MaxInt64 {
		return 0, false
	}
	if d.c < 0 {
		return -int64(lo), true
	}
	return int64(lo), true
}

// bigScaled returns d's coefficient as a *big.Int scaled to exponent exp.
func (d dec) bigScaled(exp int32) *big.Int {
	b := d.bigCoef()
	if diff := int64(d.exp) - int64(exp); diff > 0 {
		b.Mul(b, new(big.Int).Exp(bigTen, big.NewInt(diff), nil))
	}
	return b
}

// cmp compares a and b: -1, 0 or 1.
func (a dec) cmp(b dec) int {
	sa, sb := a.sign(), b.sign()
	if sa != sb {
		if sa < sb {
			return -1
		}
		return 1
	}
	if sa == 0 {
		return 0
	}
	if a.b == nil && b.b == nil && a.exp == b.exp {
		switch {
		case a.c < b.c:
			return -1
		case a.c > b.c:
			return 1
		}
		return 0
	}
	// Same sign, different scale: the leading digit decides first.
	if aa, ba := a.adjusted(), b.adjusted(); aa != ba {
		if (aa > ba) == (sa > 0) {
			return 1
		}
		return -1
	}
	e := min(a.exp, b.exp)
	if x, ok := a.scaleTo(e); ok {
		if y, ok := b.scaleTo(e); ok {
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		}
	}
	return a.bigScaled(e).Cmp(b.bigScaled(e))
}

// add returns a+b rounded to 34 digits.
func (a dec) add(b dec) dec {
	e := min(a.exp, b.exp)
	if x, ok := a.scaleTo(e); ok {
		if y, ok := b.scaleTo(e); ok {
			// Signed overflow: operands of one sign, result of the other.
			r := x + y
			if (x >= 0) != (y >= 0) || (r >= 0) == (x >= 0) {
				return dec{c: r, exp: e}
			}
		}
	}
	s := a.bigScaled(e)
	s.Add(s, b.bigScaled(e))
	return dec{b: s, exp: e}.round34()
}

// neg returns -a.
func (a dec) neg() dec {
	if a.b == nil && a.c != math.MinInt64 {
		return dec{c: -a.c, exp: a.exp}
	}
	return dec{b: new(big.Int).Neg(a.bigCoef()), exp: a.exp}.norm()
}

// sub returns a-b rounded to 34 digits.
func (a dec) sub(b dec) dec { return a.add(b.neg()) }

// mul returns a×b rounded to 34 digits.
func (a dec) mul(b dec) dec {
	e := a.exp + b.exp
	if a.b == nil && b.b == nil {
		hi, lo := bits.Mul64(absU(a.c), absU(b.c))
		if hi == 0 && lo <= math.MaxInt64 {
			r := int64(lo)
			if (a.c < 0) != (b.c < 0) {
				r = -r
			}
			return dec{c: r, exp: e}
		}
	}
	p := a.bigCoef()
	p.Mul(p, b.bigCoef())
	return dec{b: p, exp: e}.round34()
}

// quo returns a/b to 34 significant digits, with trailing zeros removed
// down to the preferred exponent a.exp-b.exp, like BigDecimal.divide with
// MathContext.DECIMAL128. ok is false when b is zero.
func (a dec) quo(b dec) (dec, bool) {
	if b.sign() == 0 {
		return dec{}, false
	}
	pref := a.exp - b.exp
	if a.sign() == 0 {
		return dec{exp: pref}, true
	}
	// Scale the dividend so that the quotient has at least 35 digits.
	k := max(0, decDigits+1+b.ndigits()-a.ndigits())
	n := a.bigCoef()
	n.Mul(n, new(big.Int).Exp(bigTen, big.NewInt(int64(k)), nil))
	q, r := new(big.Int).QuoRem(n, b.bigCoef(), new(big.Int))
	exp := pref - int32(k)
	exact := r.Sign() == 0
	out := dec{b: q, exp: exp}
	if !exact {
		// A sticky digit (1 in the direction of the true quotient) keeps
		// half-even rounding honest: q has at least 35 digits, so it is
		// never the digit that decides.
		q.Mul(q, bigTen)
		q.Add(q, big.NewInt(int64(a.sign()*b.sign())))
		out.exp--
	}
	out = out.round34()
	if exact {
		out = out.trimZeros(pref)
	}
	return out, true
}

// trimZeros strips trailing zeros while the exponent is below floor.
func (d dec) trimZeros(floor int32) dec {
	if d.b != nil {
		b := new(big.Int).Set(d.b)
		r := new(big.Int)
		for d.exp < floor && b.Sign() != 0 {
			q, rr := new(big.Int).QuoRem(b, bigTen, r)
			if rr.Sign() != 0 {
				break
			}
			b = q
			d.exp++
		}
		return dec{b: b, exp: d.exp}.norm()
	}
	for d.exp < floor && d.c != 0 && d.c%10 == 0 {
		d.c /= 10
		d.exp++
	}
	return d
}

// rem returns the remainder of a/b with the sign of a, like
// BigDecimal.remainder. ok is false when b is zero.
func (a dec) rem(b dec) (dec, bool) {
	if b.sign() == 0 {
		return dec{}, false
	}
	e := min(a.exp, b.exp)
	if x, ok := a.scaleTo(e); ok {
		if y, ok := b.scaleTo(e); ok && !(x == math.MinInt64 && y == -1) {
			return dec{c: x % y, exp: e}, true
		}
	}
	r := new(big.Int).Rem(a.bigScaled(e), b.bigScaled(e))
	return dec{b: r, exp: e}.norm(), true
}

// isWhole reports whether d has no fractional part.
func (d dec) isWhole() bool {
	if d.exp >= 0 {
		return true
	}
	if d.b == nil {
		if -int(d.exp) >= len(pow10) {
			return d.c == 0
		}
		return d.c%pow10[-d.exp] == 0
	}
	div := new(big.Int).Exp(bigTen, big.NewInt(-int64(d.exp)), nil)
	return new(big.Int).Rem(d.b, div).Sign() == 0
}

// int64 returns d as an int64 if it is whole and fits.
func (d dec) int64() (int64, bool) {
	if !d.isWhole() {
		return 0, false
	}
	if d.exp < 0 {
		if d.b == nil {
			if -int(d.exp) >= len(pow10) {
				return 0, true // isWhole: c == 0
			}
			return d.c / pow10[-d.exp], true
		}
		q := new(big.Int).Quo(d.b, new(big.Int).Exp(bigTen, big.NewInt(-int64(d.exp)), nil))
		if q.IsInt64() {
			return q.Int64(), true
		}
		return 0, false
	}
	return d.scaleTo(0)
}

// Rounding modes for toInt.
const (
	roundDown   = iota // toward zero (BigDecimal DOWN): casts, arguments
	roundFloor         // toward -∞
	roundCeil          // toward +∞
	roundHalfUp        // to nearest, ties away from zero (round())
)

// integral returns d rounded to a whole number in the given mode, as a
// Decimal with exponent >= 0 or a normalised whole coefficient.
func (d dec) integral(mode int) dec {
	if d.exp >= 0 {
		return d
	}
	if d.b == nil && -int(d.exp) < len(pow10) {
		p := pow10[-d.exp]
		q, r := d.c/p, d.c%p
		switch mode {
		case roundFloor:
			if r < 0 {
				q--
			}
		case roundCeil:
			if r > 0 {
				q++
			}
		case roundHalfUp:
			if r >= p-r && r > 0 {
				q++
			} else if -r >= p+r && r < 0 {
				q--
			}
		}
		return dec{c: q}
	}
	div := new(big.Int).Exp(bigTen, big.NewInt(-int64(d.exp)), nil)
	q, r := new(big.Int).QuoRem(d.bigCoef(), div, new(big.Int))
	switch mode {
	case roundFloor:
		if r.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		}
	case roundCeil:
		if r.Sign() > 0 {
			q.Add(q, big.NewInt(1))
		}
	case roundHalfUp:
		twice := new(big.Int).Abs(r)
		twice.Lsh(twice, 1)
		if twice.Cmp(div) >= 0 {
			q.Add(q, big.NewInt(int64(r.Sign())))
		}
	}
	return dec{b: q}.norm()
}

// toInt64Sat returns the whole part of d (rounded toward zero), saturated
// to the int64 range.
func (d dec) toInt64Sat() int64 {
	w := d.integral(roundDown)
	if i, ok := w.int64(); ok {
		return i
	}
	if w.sign() < 0 {
		return math.MinInt64
	}
	return math.MaxInt64
}

// float64 returns d as the nearest double.
func (d dec) float64() float64 {
	var buf [48]byte
	f, err := strconv.ParseFloat(string(d.appendText(buf[:0])), 64)
	if err != nil {
		return math.NaN()
	}
	return f
}

// maxParseDigits is how many significant digits parseDec keeps: more than
// the 34 of a Decimal plus a rounding digit. The others only set a sticky
// digit, so that a number with a hundred thousand digits costs what it
// reads, not the square of it.
const maxParseDigits = 40

// parseDec parses a number in JSON or SQL syntax:
// [-]digits[.digits][(e|E)[+|-]digits], rounded to 34 significant digits.
// It does not allocate for up to 18 significant digits.
func parseDec(s string) (dec, bool) {
	i, neg := 0, false
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	var (
		digits   [maxParseDigits + 1]byte // significant digits kept
		nd       int                      // how many
		exp      int
		sticky   bool // a non-zero digit was dropped
		sawDigit bool
	)
	for pass := 0; pass < 2; pass++ { // integer part, then fraction
		if pass == 1 {
			if i >= len(s) || s[i] != '.' {
				break
			}
			i++
		}
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			sawDigit = true
			switch {
			case nd == 0 && s[i] == '0': // leading zero
				if pass == 1 {
					exp--
				}
			case nd < maxParseDigits:
				digits[nd] = s[i]
				nd++
				if pass == 1 {
					exp--
				}
			default: // dropped: an integer digit still scales the number
				sticky = sticky || s[i] != '0'
				if pass == 0 {
					exp++
				}
			}
		}
	}
	if !sawDigit {
		return dec{}, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		eneg := false
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			eneg = s[i] == '-'
			i++
		}
		if i == len(s) {
			return dec{}, false
		}
		e := 0
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			if e < 1e8 {
				e = e*10 + int(s[i]-'0')
			}
		}
		if eneg {
			e = -e
		}
		exp += e
	}
	if i != len(s) || exp > math.MaxInt32/2 || exp < math.MinInt32/2 {
		return dec{}, false
	}
	if sticky {
		digits[nd] = '1'
		nd++
		exp--
	}
	if nd <= 18 {
		var c int64
		for _, x := range digits[:nd] {
			c = c*10 + int64(x-'0')
		}
		if neg {
			c = -c
		}
		return dec{c: c, exp: int32(exp)}, true
	}
	b, _ := new(big.Int).SetString(string(digits[:nd]), 10)
	if neg {
		b.Neg(b)
	}
	return dec{b: b, exp: int32(exp)}.round34(), true
}

// appendText appends d in BigDecimal.toString form: plain notation unless
// the exponent is positive or the number is tiny, then scientific ("1E+3",
// "1.5E-7"), which JSON and strconv.ParseFloat both read.
func (d dec) appendText(dst []byte) []byte {
	var digits []byte
	var tmp [20]byte
	neg := false
	if d.b != nil {
		s := d.b.Text(10)
		if s[0] == '-' {
			neg, s = true, s[1:]
		}
		digits = []byte(s)
	} else {
		neg = d.c < 0
		digits = strconv.AppendUint(tmp[:0], absU(d.c), 10)
	}
	if neg {
		dst = append(dst, '-')
	}
	adj := len(digits) - 1 + int(d.exp)
	if d.exp <= 0 && adj >= -6 {
		if d.exp == 0 {
			return append(dst, digits...)
		}
		point := len(digits) + int(d.exp)
		if point > 0 {
			dst = append(dst, digits[:point]...)
			dst = append(dst, '.')
			return append(dst, digits[point:]...)
		}
		dst = append(dst, '0', '.')
		for ; point < 0; point++ {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	}
	dst = append(dst, digits[0])
	if len(digits) > 1 {
		dst = append(dst, '.')
		dst = append(dst, digits[1:]...)
	}
	dst = append(dst, 'E')
	if adj >= 0 {
		dst = append(dst, '+')
	}
	return strconv.AppendInt(dst, int64(adj), 10)
}

// decFromFloat converts a double to a Decimal through its shortest decimal
// representation, like BigDecimal.valueOf(double). ok is false for NaN and
// infinities.
func decFromFloat(f float64) (dec, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return dec{}, false
	}
	var buf [32]byte
	b := strconv.AppendFloat(buf[:0], f, 'e', -1, 64)
	return parseDec(string(b))
}

// appendDouble appends f as Java's Double.toString does: "3.0",
// "0.001", "1.0E7", "1.0E-4".
func appendDouble(dst []byte, f float64) []byte {
	if f == 0 {
		if math.Signbit(f) {
			return append(dst, "-0.0"...)
		}
		return append(dst, "0.0"...)
	}
	abs := math.Abs(f)
	if abs >= 1e-3 && abs < 1e7 {
		n := len(dst)
		dst = strconv.AppendFloat(dst, f, 'f', -1, 64)
		for _, c := range dst[n:] {
			if c == '.' {
				return dst
			}
		}
		return append(dst, '.', '0')
	}
	var buf [32]byte
	s := strconv.AppendFloat(buf[:0], f, 'e', -1, 64) // -d.ddde±xx
	mant, exp := s, []byte(nil)
	for i, c := range s {
		if c == 'e' {
			mant, exp = s[:i], s[i+1:]
			break
		}
	}
	dst = append(dst, mant...)
	if !containsByte(mant, '.') {
		dst = append(dst, '.', '0')
	}
	dst = append(dst, 'E')
	if len(exp) > 0 && exp[0] == '+' {
		exp = exp[1:]
	}
	if len(exp) > 0 && exp[0] == '-' {
		dst = append(dst, '-')
		exp = exp[1:]
	}
	for len(exp) > 1 && exp[0] == '0' {
		exp = exp[1:]
	}
	return append(dst, exp...)
}

func containsByte(b []byte, c byte) bool {
	for _, x := range b {
		if x == c {
			return true
		}
	}
	return false
}
