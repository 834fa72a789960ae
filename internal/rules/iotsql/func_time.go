package iotsql

import (
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // time zones for parse_time on hosts without a zoneinfo database
)

// parse_time and time_to_epoch: date/time patterns as AWS takes them
// (Joda-Time's DateTimeFormat for parse_time, java.time's
// DateTimeFormatter for time_to_epoch; the two agree on the letters below).
//
// Supported pattern letters, a run of one letter being one field:
//
//	G     era (AD, BC)
//	y u Y year; yy is two digits (parsing: 2000-2099); C century
//	M L   month: M or MM a number, MMM "Jan", MMMM "January"
//	d     day of month        D day of year
//	E     day of week: EEE "Mon", EEEE "Monday"; e its number (Monday 1)
//	w     ISO week of year (parse_time only)
//	a     AM or PM
//	H     hour 0-23   k 1-24   h 1-12   K 0-11
//	m     minute      s second
//	S     fraction of second, as many digits as letters
//	z     time zone abbreviation ("CST", "UTC"); parsing also takes zone IDs
//	Z     offset: Z "+0100", ZZ "+01:00", ZZZ the zone ID ("Europe/Paris")
//	VV    zone ID ("Europe/Paris", "UTC+01:00", "Z") (time_to_epoch)
//	X x   offset "+01", "+0100", "+01:00" (X also reads "Z") (time_to_epoch)
//	'…'   literal text; '' is a quote. Other non-letters are literal.
//
// Any other letter makes the call Undefined, as an invalid pattern does on
// AWS. Zone names Go does not know (long names like "Pacific Standard
// Time") are not supported; zzzz prints the abbreviation.

func init() {
	register(
		&funcDef{name: "parse_time", min: 2, max: 3, v2: true, pure: true, impl: fnParseTime},
		&funcDef{name: "time_to_epoch", min: 2, max: 2, v2: true, pure: true, impl: fnTimeToEpoch},
	)
}

// patElem is one element of a pattern: a field (letter repeated count
// times) or literal text.
type patElem struct {
	letter byte
	count  int
	lit    string
}

// parsePattern splits a pattern; ok is false for an unterminated quote.
func parsePattern(p string) ([]patElem, bool) {
	var out []patElem
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(p) && p[j] == c {
				j++
			}
			out = append(out, patElem{letter: c, count: j - i})
			i = j
		case c == '\'':
			j := i + 1
			var lit strings.Builder
			for {
				if j >= len(p) {
					return nil, false
				}
				if p[j] == '\'' {
					if j+1 < len(p) && p[j+1] == '\'' {
						lit.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				lit.WriteByte(p[j])
				j++
			}
			if j == i+1 {
				out = append(out, patElem{lit: "'"}) // '' outside quotes
			} else {
				out = append(out, patElem{lit: lit.String()})
			}
			i = j + 1
		default:
			j := i
			for j < len(p) && p[j] != '\'' && !(p[j] >= 'a' && p[j] <= 'z' || p[j] >= 'A' && p[j] <= 'Z') {
				j++
			}
			out = append(out, patElem{lit: p[i:j]})
			i = j
		}
	}
	return out, true
}

// zones caches loaded time zones by ID (only zones that exist, so the
// cache is bounded by the zone database).
var zones sync.Map // string → *time.Location

// loadZone resolves a Joda/java.time zone: a region ID, UTC/GMT/UT/Z, a
// fixed offset "+01:00", or a prefix and offset "UTC+01:00".
func loadZone(id string) (*time.Location, bool) {
	switch id {
	case "UTC", "GMT", "UT", "Z", "Etc/UTC":
		return time.UTC, true
	}
	for _, p := range []string{"UTC", "GMT", "UT"} {
		if rest, ok := strings.CutPrefix(id, p); ok && (strings.HasPrefix(rest, "+") || strings.HasPrefix(rest, "-")) {
			if off, ok := parseOffset(rest, true); ok {
				return time.FixedZone(id, off), true
			}
			return nil, false
		}
	}
	if strings.HasPrefix(id, "+") || strings.HasPrefix(id, "-") {
		if off, ok := parseOffset(id, true); ok {
			return time.FixedZone(id, off), true
		}
		return nil, false
	}
	if l, ok := zones.Load(id); ok {
		return l.(*time.Location), true
	}
	if id == "" || strings.Contains(id, "..") || id == "Local" {
		return nil, false
	}
	l, err := time.LoadLocation(id)
	if err != nil {
		return nil, false
	}
	zones.Store(id, l)
	return l, true
}

// parseOffset parses +H, +HH, +HHMM, +HH:MM (and :SS) into seconds.
func parseOffset(s string, lenient bool) (int, bool) {
	if len(s) < 2 || (s[0] != '+' && s[0] != '-') {
		return 0, false
	}
	sign := 1
	if s[0] == '-' {
		sign = -1
	}
	digits := strings.ReplaceAll(s[1:], ":", "")
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, false
		}
	}
	var h, m, sec int
	switch len(digits) {
	case 1, 2:
		h, _ = strconv.Atoi(digits)
	case 4:
		h, _ = strconv.Atoi(digits[:2])
		m, _ = strconv.Atoi(digits[2:])
	case 6:
		h, _ = strconv.Atoi(digits[:2])
		m, _ = strconv.Atoi(digits[2:4])
		sec, _ = strconv.Atoi(digits[4:])
	default:
		return 0, false
	}
	if h > 18 || m > 59 || sec > 59 || (!lenient && len(digits) == 1) {
		return 0, false
	}
	return sign * (h*3600 + m*60 + sec), true
}

// fnParseTime formats milliseconds since the epoch:
// parse_time(pattern, millis[, zone]), zone defaulting to UTC.
func fnParseTime(c *evalCtx, _ *callNode, a []value) value {
	if a[0].k != kString {
		return undef
	}
	ms, ok := c.toInt(a[1])
	if !ok {
		return undef
	}
	loc := time.UTC
	if len(a) == 3 {
		if a[2].k != kString {
			return undef
		}
		if loc, ok = loadZone(a[2].s); !ok {
			return undef
		}
	}
	pat, ok := parsePattern(a[0].s)
	if !ok {
		return undef
	}
	t := time.UnixMilli(ms).In(loc)
	start := len(c.arena)
	for _, e := range pat {
		if e.letter == 0 {
			c.arena = append(c.arena, e.lit...)
			continue
		}
		if c.arena, ok = formatField(c.arena, t, e); !ok {
			c.arena = c.arena[:start]
			return undef
		}
	}
	return strV(b2s(c.arena[start:]))
}

// formatField appends one field of t.
func formatField(dst []byte, t time.Time, e patElem) ([]byte, bool) {
	num := func(n int) []byte { return appendPadded(dst, n, e.count) }
	switch e.letter {
	case 'G':
		if t.Year() <= 0 {
			return append(dst, "BC"...), true
		}
		return append(dst, "AD"...), true
	case 'y', 'Y', 'u', 'x':
		y := t.Year()
		if e.letter == 'x' {
			y, _ = t.ISOWeek()
		}
		if e.letter == 'Y' && y <= 0 {
			y = 1 - y
		}
		if e.count == 2 {
			return appendPadded(dst, (y%100+100)%100, 2), true
		}
		return num(y), true
	case 'C':
		return num(t.Year() / 100), true
	case 'M', 'L':
		switch {
		case e.count >= 4:
			return append(dst, t.Month().String()...), true
		case e.count == 3:
			return append(dst, t.Month().String()[:3]...), true
		}
		return num(int(t.Month())), true
	case 'w':
		_, w := t.ISOWeek()
		return num(w), true
	case 'D':
		return num(t.YearDay()), true
	case 'd':
		return num(t.Day()), true
	case 'e':
		return num((int(t.Weekday())+6)%7 + 1), true
	case 'E':
		if e.count >= 4 {
			return append(dst, t.Weekday().String()...), true
		}
		return append(dst, t.Weekday().String()[:3]...), true
	case 'a':
		if t.Hour() < 12 {
			return append(dst, "AM"...), true
		}
		return append(dst, "PM"...), true
	case 'H':
		return num(t.Hour()), true
	case 'k':
		if t.Hour() == 0 {
			return num(24), true
		}
		return num(t.Hour()), true
	case 'h':
		if h := t.Hour() % 12; h != 0 {
			return num(h), true
		}
		return num(12), true
	case 'K':
		return num(t.Hour() % 12), true
	case 'm':
		return num(t.Minute()), true
	case 's':
		return num(t.Second()), true
	case 'S':
		ms := appendPadded(nil, t.Nanosecond()/1e6, 3)
		for i := 0; i < e.count; i++ {
			if i < len(ms) {
				dst = append(dst, ms[i])
			} else {
				dst = append(dst, '0')
			}
		}
		return dst, true
	case 'z':
		name, _ := t.Zone()
		return append(dst, name...), true
	case 'Z':
		if e.count >= 3 {
			return append(dst, t.Location().String()...), true
		}
		_, off := t.Zone()
		return appendOffset(dst, off, e.count == 2), true
	}
	return dst, false
}

// appendPadded appends n with at least width digits.
func appendPadded(dst []byte, n, width int) []byte {
	if n < 0 {
		dst = append(dst, '-')
		n = -n
	}
	var buf [20]byte
	s := strconv.AppendInt(buf[:0], int64(n), 10)
	for i := len(s); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}

// appendOffset appends an offset in seconds as +HHMM or +HH:MM.
func appendOffset(dst []byte, off int, colon bool) []byte {
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	dst = append(dst, sign)
	dst = appendPadded(dst, off/3600, 2)
	if colon {
		dst = append(dst, ':')
	}
	return appendPadded(dst, off/60%60, 2)
}
