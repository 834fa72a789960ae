package policy

import (
	"bytes"
	"encoding/base64"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// eval applies one (operator, key) condition with IAM semantics. vals are
// the statement's resolved variables.
func (c *ccond) eval(vars *Vars, vals []string) bool {
	v, present := vars.lookup(&c.key)
	if c.info.fam == famNull {
		return c.evalNull(present && v.len() > 0)
	}
	if !present {
		return c.absent()
	}
	n := v.len()
	switch c.op.Set {
	case ForAnyValue:
		for i := 0; i < n; i++ {
			if c.anyMatch(v.at(i), vals) != c.info.negate {
				return true
			}
		}
		return false
	case ForAllValues:
		for i := 0; i < n; i++ {
			if c.anyMatch(v.at(i), vals) == c.info.negate {
				return false
			}
		}
		return true
	}
	for i := 0; i < n; i++ {
		if c.anyMatch(v.at(i), vals) {
			return !c.info.negate
		}
	}
	return c.info.negate
}

// absent is the result when the key has no value (IAM "Condition
// element": missing keys fail a condition, except that IfExists and
// ForAllValues succeed, and a negated operator succeeds).
func (c *ccond) absent() bool {
	switch {
	case c.op.IfExists, c.op.Set == ForAllValues:
		return true
	case c.op.Set == ForAnyValue:
		return false
	}
	return c.info.negate
}

// evalNull: "Null": "true" holds when the key is absent, "false" when
// present; several values are alternatives.
func (c *ccond) evalNull(present bool) bool {
	for i := range c.vals {
		if c.vals[i].bval != present {
			return true
		}
	}
	return false
}

// anyMatch reports whether request value x matches any policy value,
// ignoring negation.
func (c *ccond) anyMatch(x string, vals []string) bool {
	for i := range c.vals {
		if c.matchValue(&c.vals[i], x, vals) {
			return true
		}
	}
	return false
}

func (c *ccond) matchValue(cv *cval, x string, vals []string) bool {
	switch c.info.fam {
	case famString, famStringLike:
		return cv.pat.match(x, vals, false)
	case famStringIgnoreCase:
		return strings.EqualFold(x, cv.pat.expand(vals))
	case famArn:
		return matchArn(cv, x, vals)
	}
	if c.dynamic {
		var tmp cval
		if tmp.setTyped(c.info.fam, cv.pat.expand(vals)) != nil {
			return false
		}
		cv = &tmp
	}
	return matchTyped(c.info, cv, x)
}

// matchTyped compares x with a typed policy value: x OP policy.
func matchTyped(info opInfo, cv *cval, x string) bool {
	switch info.fam {
	case famNumeric:
		f, ok := parseNumber(x)
		return ok && compare(f, cv.num, info.cmp)
	case famDate:
		t, ok := parseDate(x)
		return ok && compareTime(t, cv.t, info.cmp)
	case famBool:
		b, ok := parseBool(x)
		return ok && b == cv.bval
	case famIP:
		a, err := netip.ParseAddr(x)
		return err == nil && a.Zone() == "" && cv.pfx.Contains(a.Unmap())
	case famBinary:
		b, err := base64.StdEncoding.DecodeString(x)
		return err == nil && bytes.Equal(b, cv.bin)
	}
	return false
}

func compare(a, b float64, op cmpOp) bool {
	switch op {
	case cmpLt:
		return a < b
	case cmpLe:
		return a <= b
	case cmpGt:
		return a > b
	case cmpGe:
		return a >= b
	}
	return a == b
}

func compareTime(a, b time.Time, op cmpOp) bool {
	switch op {
	case cmpLt:
		return a.Before(b)
	case cmpLe:
		return !a.After(b)
	case cmpGt:
		return a.After(b)
	case cmpGe:
		return !a.Before(b)
	}
	return a.Equal(b)
}

// matchArn compares ARNs part by part, as IAM's ArnEquals/ArnLike do:
// each of the six colon-separated parts is a case-sensitive glob, and
// '*' does not cross a ':' before the resource part.
func matchArn(cv *cval, x string, vals []string) bool {
	if cv.arnN < arnParts {
		return cv.arn[0].match(x, vals, false)
	}
	var parts [arnParts]string
	rest := x
	for i := 0; i < arnParts-1; i++ {
		var ok bool
		parts[i], rest, ok = strings.Cut(rest, ":")
		if !ok {
			return false
		}
	}
	parts[arnParts-1] = rest
	for i := range parts {
		if !cv.arn[i].match(parts[i], vals, false) {
			return false
		}
	}
	return true
}

// dateLayouts are the ISO 8601 forms accepted for Date operators.
var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02",
	"20060102T150405Z",
}

// parseDate reads an ISO 8601 date or time (UTC unless a zone is given)
// or a decimal count of seconds since the Unix epoch.
func parseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	if sec, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(sec, 0).UTC(), true
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f > -1e12 && f < 1e12 {
		return time.Unix(0, int64(f*1e9)).UTC(), true
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
