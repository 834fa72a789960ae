package document

// Numbers are kept exactly as the client wrote them (a shadow never turns
// 1.50 into 1.5 or 12345678901234567890 into 1.2345678901234567e19), and are
// compared by their decimal value when the delta is computed: 1, 1.0, 10e-1
// and 1E0 are the same number, -0 equals 0, and 9007199254740993 differs from
// 9007199254740992 (no float64 rounding). AWS does not document how it
// compares numbers; comparing values means a device that reports 1.0 after
// being asked for 1 does not get a delta forever.

// decimal is a JSON number reduced to sign, significant digits and exponent:
// value = digits × 10^exp. The significant digits are split between the tail
// of the integer part (hi) and the head of the fraction part (lo), so that
// nothing is copied.
type decimal struct {
	neg    bool
	hi, lo string
	exp    int64
	big    bool // exponent out of range; compare the text instead
}

func (d *decimal) len() int { return len(d.hi) + len(d.lo) }

func (d *decimal) at(i int) byte {
	if i < len(d.hi) {
		return d.hi[i]
	}
	return d.lo[i-len(d.hi)]
}

// parseDecimal reduces s, a valid JSON number.
func parseDecimal(s string) decimal {
	var d decimal
	if s != "" && s[0] == '-' {
		d.neg = true
		s = s[1:]
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	intp, rest := s[:i], s[i:]
	frac := ""
	if rest != "" && rest[0] == '.' {
		j := 1
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		frac, rest = rest[1:j], rest[j:]
	}
	e := -int64(len(frac))
	if rest != "" { // [eE][+-]?digits
		rest = rest[1:]
		eneg := false
		if rest[0] == '+' || rest[0] == '-' {
			eneg = rest[0] == '-'
			rest = rest[1:]
		}
		var x int64
		for k := 0; k < len(rest); k++ {
			if x > 1e15 {
				d.big = true
				break
			}
			x = x*10 + int64(rest[k]-'0')
		}
		if eneg {
			x = -x
		}
		e += x
	}
	// Strip leading zeros (of the integer part, then of the fraction).
	for intp != "" && intp[0] == '0' {
		intp = intp[1:]
	}
	if intp == "" {
		for frac != "" && frac[0] == '0' {
			frac = frac[1:]
		}
	}
	// Strip trailing zeros (of the fraction, then of the integer part).
	for frac != "" && frac[len(frac)-1] == '0' {
		frac = frac[:len(frac)-1]
		e++
	}
	if frac == "" {
		for intp != "" && intp[len(intp)-1] == '0' {
			intp = intp[:len(intp)-1]
			e++
		}
	}
	d.hi, d.lo, d.exp = intp, frac, e
	return d
}

// numberEqual reports whether the JSON numbers a and b have the same value.
func numberEqual(a, b string) bool {
	if a == b {
		return true
	}
	x, y := parseDecimal(a), parseDecimal(b)
	if x.big || y.big {
		return false
	}
	if x.len() == 0 || y.len() == 0 { // zero, whatever its sign
		return x.len() == y.len()
	}
	if x.neg != y.neg || x.exp != y.exp || x.len() != y.len() {
		return false
	}
	for i := 0; i < x.len(); i++ {
		if x.at(i) != y.at(i) {
			return false
		}
	}
	return true
}
