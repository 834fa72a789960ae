package iotsql

import (
	"math"
	"math/rand/v2"
)

// Numeric functions (AWS "Functions" page). A String argument is converted
// to a Decimal when it is numeric; any other type gives Undefined.

func init() {
	dbl1 := func(name string, f func(float64) float64) *funcDef {
		return &funcDef{name: name, min: 1, max: 1, pure: true, impl: fn1(func(c *evalCtx, v value) value {
			x, ok := c.toFloat(v)
			if !ok {
				return undef
			}
			return c.dblResult(f(x))
		})}
	}
	dbl2 := func(name string, f func(float64, float64) float64) *funcDef {
		return &funcDef{name: name, min: 2, max: 2, pure: true, impl: fn2(func(c *evalCtx, a, b value) value {
			x, ok := c.toFloat(a)
			if !ok {
				return undef
			}
			y, ok := c.toFloat(b)
			if !ok {
				return undef
			}
			return c.dblResult(f(x, y))
		})}
	}
	bit2 := func(name string, f func(a, b int64) int64) *funcDef {
		return &funcDef{name: name, min: 2, max: 2, pure: true, impl: fn2(func(c *evalCtx, a, b value) value {
			x, ok := c.toInt(a)
			if !ok {
				return undef
			}
			y, ok := c.toInt(b)
			if !ok {
				return undef
			}
			return intV(f(x, y))
		})}
	}
	modulo := fn2(func(c *evalCtx, a, b value) value { return c.arith(tPercent, a, b) })
	register(
		&funcDef{name: "abs", min: 1, max: 1, pure: true, impl: fn1(fnAbs)},
		dbl1("acos", math.Acos),
		dbl1("asin", math.Asin),
		dbl1("atan", math.Atan),
		dbl2("atan2", math.Atan2),
		dbl1("cos", math.Cos),
		dbl1("cosh", math.Cosh),
		dbl1("exp", math.Exp),
		dbl1("ln", math.Log),
		dbl1("log", math.Log10),
		dbl2("power", math.Pow),
		dbl1("sin", math.Sin),
		dbl1("sinh", math.Sinh),
		dbl1("sqrt", math.Sqrt),
		dbl1("tan", math.Tan),
		dbl1("tanh", math.Tanh),
		bit2("bitand", func(a, b int64) int64 { return a & b }),
		bit2("bitor", func(a, b int64) int64 { return a | b }),
		bit2("bitxor", func(a, b int64) int64 { return a ^ b }),
		&funcDef{name: "bitnot", min: 1, max: 1, pure: true, impl: fn1(func(c *evalCtx, v value) value {
			x, ok := c.toInt(v)
			if !ok {
				return undef
			}
			return intV(^x)
		})},
		&funcDef{name: "ceil", min: 1, max: 1, pure: true, impl: fn1(rounder(roundCeil))},
		&funcDef{name: "floor", min: 1, max: 1, pure: true, impl: fn1(rounder(roundFloor))},
		&funcDef{name: "round", min: 1, max: 1, pure: true, impl: fn1(rounder(roundHalfUp))},
		&funcDef{name: "mod", min: 2, max: 2, pure: true, impl: modulo},
		&funcDef{name: "remainder", min: 2, max: 2, pure: true, impl: modulo},
		&funcDef{name: "nanvl", min: 2, max: 2, pure: true, impl: fn2(fnNanvl)},
		&funcDef{name: "rand", min: 0, max: 0, impl: func(c *evalCtx, _ *callNode, _ []value) value {
			return dblV(rand.Float64())
		}},
		&funcDef{name: "sign", min: 1, max: 1, pure: true, impl: fn1(func(c *evalCtx, v value) value {
			d, ok := c.toDec(v)
			if !ok {
				return undef
			}
			return intV(int64(d.sign()))
		})},
		&funcDef{name: "trunc", min: 2, max: 2, pure: true, impl: fn2(fnTrunc)},
	)
}

// fnAbs: an Int stays an Int, a Decimal a Decimal, a numeric string
// becomes a Decimal.
func fnAbs(c *evalCtx, v value) value {
	switch {
	case v.k == kInt:
		if v.n >= 0 {
			return v
		}
		if v.n != math.MinInt64 {
			return intV(-v.n)
		}
	case v.k == kDecimal && v.dbl:
		return dblV(math.Abs(v.float()))
	}
	d, ok := c.toDec(v)
	if !ok {
		return undef
	}
	if d.sign() < 0 {
		d = d.neg()
	}
	if v.k == kInt {
		return decV(d) // |MinInt64|
	}
	return c.decResult(d)
}

// rounder returns ceil, floor or round: a whole number as an Int.
func rounder(mode int) func(c *evalCtx, v value) value {
	return func(c *evalCtx, v value) value {
		if v.k == kInt {
			return v
		}
		d, ok := c.toDec(v)
		if !ok {
			return undef
		}
		w := d.integral(mode)
		if i, ok := w.int64(); ok {
			return intV(i)
		}
		return decV(w)
	}
}

// fnNanvl returns a unless it is Undefined, Null or NaN; then b.
func fnNanvl(c *evalCtx, a, b value) value {
	if a.k == kUndefined || a.k == kNull || (a.k == kDecimal && a.dbl && math.IsNaN(a.float())) {
		return b
	}
	return a
}

// fnTrunc truncates a number to n decimal places (n clamped to 0…34),
// stripping trailing zeros: trunc(2.3123, 2) = 2.31, trunc(2.00, 5) = 2.
func fnTrunc(c *evalCtx, a, b value) value {
	if a.k == kInt && b.k == kInt {
		return a
	}
	d, ok := c.toDec(a)
	if !ok {
		return undef
	}
	n, ok := c.toInt(b)
	if !ok {
		return undef
	}
	n = min(max(n, 0), decDigits)
	if int64(d.exp) < -n {
		shifted := dec{c: d.c, b: d.b, exp: d.exp + int32(n)}.integral(roundDown)
		if shifted.b == nil && shifted.exp == 0 {
			d = dec{c: shifted.c, exp: -int32(n)}
		} else {
			d = dec{b: shifted.bigScaled(0), exp: -int32(n)}.norm()
		}
	}
	return c.decResult(d.trimZeros(0))
}
