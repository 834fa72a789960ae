package iotsql

import (
	"math"
	"math/big"
	"strings"
	"testing"
)

func mustDec(t *testing.T, s string) dec {
	t.Helper()
	d, ok := parseDec(s)
	if !ok {
		t.Fatalf("parseDec(%q) failed", s)
	}
	return d
}

func decText(d dec) string { return string(d.appendText(nil)) }

// TestDec_ParseAndText checks parsing and BigDecimal.toString formatting.
func TestDec_ParseAndText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"0", "0"},
		{"-0", "0"},
		{"1.50", "1.50"},
		{"-1.5", "-1.5"},
		{"1e2", "1E+2"},
		{"1.5E+3", "1.5E+3"},
		{"12e-1", "1.2"},
		{"0.000001", "0.000001"},
		{"0.0000001", "1E-7"},
		{"123.456e-10", "1.23456E-8"},
		{"-0.00", "0.00"},
		{"9223372036854775807", "9223372036854775807"},
		{"12345678901234567890123456789012345678", "1.234567890123456789012345678901235E+37"},
		{"1.0000000000000000000000000000000000049", "1.000000000000000000000000000000000"},
		{"0.5", "0.5"},
	} {
		if got := decText(mustDec(t, tc.in)); got != tc.want {
			t.Errorf("parseDec(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
	for _, bad := range []string{"", "-", ".", ".5x", "1e", "1e+", "abc", "1.2.3", "--1"} {
		if _, ok := parseDec(bad); ok {
			t.Errorf("parseDec(%q) succeeded", bad)
		}
	}
}

// TestDec_Arithmetic checks the operations against math/big.Rat.
func TestDec_Arithmetic(t *testing.T) {
	nums := []string{"0", "1", "-1", "2.5", "-0.001", "3", "7", "1e-5", "123456789.123456789",
		"9223372036854775807", "-9223372036854775808", "0.1", "0.2", "1e18", "99999999999999999999999"}
	rat := func(d dec) *big.Rat {
		r := new(big.Rat).SetInt(d.bigCoef())
		p := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs32(d.exp))), nil))
		if d.exp >= 0 {
			return r.Mul(r, p)
		}
		return r.Quo(r, p)
	}
	for _, as := range nums {
		for _, bs := range nums {
			a, b := mustDec(t, as), mustDec(t, bs)
			ra, rb := rat(a), rat(b)
			if got, want := rat(a.add(b)), new(big.Rat).Add(ra, rb); got.Cmp(want) != 0 {
				t.Errorf("%s + %s = %s, want %s", as, bs, decText(a.add(b)), want.FloatString(10))
			}
			if got, want := rat(a.sub(b)), new(big.Rat).Sub(ra, rb); got.Cmp(want) != 0 {
				t.Errorf("%s - %s = %s", as, bs, decText(a.sub(b)))
			}
			if got, want := rat(a.mul(b)), new(big.Rat).Mul(ra, rb); got.Cmp(want) != 0 && a.ndigits()+b.ndigits() <= 34 {
				t.Errorf("%s * %s = %s", as, bs, decText(a.mul(b)))
			}
			if c := a.cmp(b); c != ra.Cmp(rb) {
				t.Errorf("cmp(%s, %s) = %d", as, bs, c)
			}
			if b.sign() == 0 {
				if _, ok := a.quo(b); ok {
					t.Errorf("%s / 0 succeeded", as)
				}
				continue
			}
			q, _ := a.quo(b)
			exact := new(big.Rat).Quo(ra, rb)
			// 34 significant digits: relative error below 1e-33.
			diff := new(big.Rat).Sub(rat(q), exact)
			if diff.Sign() != 0 {
				rel := new(big.Rat).Quo(diff.Abs(diff), new(big.Rat).Abs(exact))
				if f, _ := rel.Float64(); f > 1e-33 {
					t.Errorf("%s / %s = %s (relative error %g)", as, bs, decText(q), f)
				}
			}
			r, _ := a.rem(b)
			// a = trunc(a/b)*b + r, |r| < |b|, sign(r) = sign(a) or 0.
			tq := new(big.Int).Quo(new(big.Int).Mul(ra.Num(), rb.Denom()), new(big.Int).Mul(ra.Denom(), rb.Num()))
			want := new(big.Rat).Sub(ra, new(big.Rat).Mul(new(big.Rat).SetInt(tq), rb))
			if rat(r).Cmp(want) != 0 {
				t.Errorf("%s %% %s = %s, want %s", as, bs, decText(r), want.FloatString(10))
			}
		}
	}
}

func abs32(x int32) int32 {
	if x < 0 {
		return -x
	}
	return x
}

// TestDec_Quo checks division results as BigDecimal shows them.
func TestDec_Quo(t *testing.T) {
	for _, tc := range []struct{ a, b, want string }{
		{"1", "3", "0.3333333333333333333333333333333333"},
		{"2", "3", "0.6666666666666666666666666666666667"},
		{"10.0", "4", "2.5"},
		{"1.0", "4", "0.25"},
		{"100", "4", "25"},
		{"1", "8", "0.125"},
		{"-1", "3", "-0.3333333333333333333333333333333333"},
		{"0", "5", "0"},
		{"5.5E+3", "1", "5.5E+3"},
		{"1", "0.0001", "1E+4"},
	} {
		got, ok := mustDec(t, tc.a).quo(mustDec(t, tc.b))
		if !ok || decText(got) != tc.want {
			t.Errorf("%s / %s = %s, want %s", tc.a, tc.b, decText(got), tc.want)
		}
	}
}

// TestDec_Integral checks the rounding modes.
func TestDec_Integral(t *testing.T) {
	for _, tc := range []struct {
		in                      string
		down, floor, ceil, half int64
	}{
		{"1.2", 1, 1, 2, 1},
		{"1.5", 1, 1, 2, 2},
		{"-1.5", -1, -2, -1, -2},
		{"-1.2", -1, -2, -1, -1},
		{"2.5", 2, 2, 3, 3},
		{"7", 7, 7, 7, 7},
		{"0.0000000000000000000001", 0, 0, 1, 0},
		{"-0.0000000000000000000001", 0, -1, 0, 0},
	} {
		d := mustDec(t, tc.in)
		for mode, want := range []int64{tc.down, tc.floor, tc.ceil, tc.half} {
			got, ok := d.integral(mode).int64()
			if !ok || got != want {
				t.Errorf("integral(%s, mode %d) = %d, want %d", tc.in, mode, got, want)
			}
		}
	}
	if got := mustDec(t, "-1e30").toInt64Sat(); got != math.MinInt64 {
		t.Errorf("toInt64Sat(-1e30) = %d", got)
	}
	if got := mustDec(t, "1e30").toInt64Sat(); got != math.MaxInt64 {
		t.Errorf("toInt64Sat(1e30) = %d", got)
	}
}

// TestAppendDouble checks Java's Double.toString formatting.
func TestAppendDouble(t *testing.T) {
	for _, tc := range []struct {
		f    float64
		want string
	}{
		{3, "3.0"}, {0, "0.0"}, {-2.5, "-2.5"}, {1.5707963267948966, "1.5707963267948966"},
		{1e7, "1.0E7"}, {1.5e-4, "1.5E-4"}, {0.001, "0.001"}, {9999999, "9999999.0"},
		{-1e21, "-1.0E21"}, {1.23e-10, "1.23E-10"},
	} {
		if got := string(appendDouble(nil, tc.f)); got != tc.want {
			t.Errorf("appendDouble(%v) = %s, want %s", tc.f, got, tc.want)
		}
	}
}

// TestParseDec_LongNumbers checks that digits beyond 40 only round, and
// that a huge number parses in linear time.
func TestParseDec_LongNumbers(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"1.00000000000000000000000000000000050000000000001", "1.000000000000000000000000000000001"},
		{"1.00000000000000000000000000000000050000000000000", "1.000000000000000000000000000000000"},
		{"1.00000000000000000000000000000000150000000000000", "1.000000000000000000000000000000002"},
		{"123456789012345678901234567890123456789012345678901234567890", "1.234567890123456789012345678901235E+59"},
		{"0.000000000000000000000000000000000000000000000001234", "1.234E-48"},
	} {
		if got := decText(mustDec(t, tc.in)); got != tc.want {
			t.Errorf("parseDec(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
	huge := "1" + strings.Repeat("7", 200000) + ".5e-3"
	d := mustDec(t, huge)
	if d.adjusted() != 200000-3 {
		t.Fatalf("adjusted exponent %d", d.adjusted())
	}
}
