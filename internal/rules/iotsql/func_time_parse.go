package iotsql

import (
	"strings"
	"time"
)

// fnTimeToEpoch parses a date/time string with a pattern (see func_time.go)
// into milliseconds since the epoch: time_to_epoch(text, pattern). Without
// a zone in the text the time is UTC. Missing month and day are 1, missing
// time of day is midnight; a year is required.
func fnTimeToEpoch(c *evalCtx, _ *callNode, a []value) value {
	if a[0].k != kString || a[1].k != kString {
		return undef
	}
	pat, ok := parsePattern(a[1].s)
	if !ok {
		return undef
	}
	t, ok := parseTimeText(a[0].s, pat)
	if !ok {
		return undef
	}
	return intV(t.UnixMilli())
}

// timeFields collects what the text said.
type timeFields struct {
	year, month, day, yday int
	hasYear, hasYday       bool
	hour, hour12, min, sec int
	has12, pm, hasAMPM     bool
	nanos                  int
	bc                     bool
	loc                    *time.Location
}

func parseTimeText(s string, pat []patElem) (time.Time, bool) {
	f := timeFields{month: 1, day: 1, loc: time.UTC}
	i := 0
	for k, e := range pat {
		if e.letter == 0 {
			if !strings.HasPrefix(s[i:], e.lit) {
				return time.Time{}, false
			}
			i += len(e.lit)
			continue
		}
		var ok bool
		if i, ok = f.parseField(s, i, e, reservedWidth(pat[k+1:])); !ok {
			return time.Time{}, false
		}
	}
	if i != len(s) || !f.hasYear {
		return time.Time{}, false
	}
	return f.resolve()
}

// reservedWidth is the number of digits the fixed-width numeric fields
// right after a variable-width one need (java.time's adjacent value
// parsing: "yyyyMMdd" reads 20240131).
func reservedWidth(rest []patElem) int {
	w := 0
	for _, e := range rest {
		if e.letter == 0 || !isNumericField(e) || variableWidth(e) {
			break
		}
		w += e.count
	}
	return w
}

func isNumericField(e patElem) bool {
	switch e.letter {
	case 'y', 'u', 'Y', 'd', 'D', 'H', 'h', 'K', 'k', 'm', 's', 'S', 'e':
		return true
	case 'M', 'L':
		return e.count <= 2
	}
	return false
}

// variableWidth reports whether a numeric field takes as many digits as
// there are: one letter, or a year of three or more.
func variableWidth(e patElem) bool {
	if e.letter == 'S' {
		return false
	}
	if e.letter == 'y' || e.letter == 'u' || e.letter == 'Y' {
		return e.count != 2
	}
	return e.count == 1
}

// parseField parses one field at s[i], returning the new index.
func (f *timeFields) parseField(s string, i int, e patElem, reserve int) (int, bool) {
	if isNumericField(e) {
		lo, hi := e.count, e.count
		if variableWidth(e) {
			lo, hi = max(e.count, 1), 10
			avail := 0
			for i+avail < len(s) && s[i+avail] >= '0' && s[i+avail] <= '9' {
				avail++
			}
			hi = min(hi, avail-reserve)
		}
		n, j, ok := digitsAt(s, i, lo, hi)
		if !ok {
			return i, false
		}
		return j, f.setNumber(e, n, j-i)
	}
	switch e.letter {
	case 'M', 'L':
		for m := time.January; m <= time.December; m++ {
			name := m.String()
			if e.count == 3 {
				name = name[:3]
			}
			if hasPrefixFold(s[i:], name) {
				f.month = int(m)
				return i + len(name), true
			}
		}
	case 'E':
		for d := time.Sunday; d <= time.Saturday; d++ {
			name := d.String()
			if e.count < 4 {
				name = name[:3]
			}
			if hasPrefixFold(s[i:], name) {
				return i + len(name), true
			}
		}
	case 'a':
		switch {
		case hasPrefixFold(s[i:], "AM"):
			f.hasAMPM = true
			return i + 2, true
		case hasPrefixFold(s[i:], "PM"):
			f.hasAMPM, f.pm = true, true
			return i + 2, true
		}
	case 'G':
		switch {
		case strings.HasPrefix(s[i:], "AD"):
			return i + 2, true
		case strings.HasPrefix(s[i:], "BC"):
			f.bc = true
			return i + 2, true
		}
	case 'V', 'z':
		j := i
		for j < len(s) && (isIdentPart(s[j]) || strings.IndexByte("/+-:", s[j]) >= 0) {
			j++
		}
		id := s[i:j]
		if e.letter == 'z' {
			if alias, ok := zoneAbbrevs[id]; ok {
				id = alias
			}
		}
		loc, ok := loadZone(id)
		if !ok {
			return i, false
		}
		f.loc = loc
		return j, true
	case 'X', 'x', 'Z', 'O':
		if (e.letter == 'X' || e.letter == 'Z') && strings.HasPrefix(s[i:], "Z") {
			f.loc = time.UTC
			return i + 1, true
		}
		j := i
		if e.letter == 'O' || (e.letter == 'Z' && e.count == 4) {
			if !strings.HasPrefix(s[i:], "GMT") {
				return i, false
			}
			j += 3
			if j == len(s) || (s[j] != '+' && s[j] != '-') {
				f.loc = time.UTC
				return j, true
			}
		}
		if j >= len(s) {
			return i, false
		}
		k := j + 1
		for k < len(s) && (s[k] >= '0' && s[k] <= '9' || s[k] == ':') {
			k++
		}
		off, ok := parseOffset(s[j:k], e.letter == 'O' || e.count == 4)
		if !ok {
			return i, false
		}
		f.loc = time.FixedZone(s[i:k], off)
		return k, true
	}
	return i, false
}

// zoneAbbrevs maps the abbreviations java.time accepts for z to zone IDs.
var zoneAbbrevs = map[string]string{
	"EST": "America/New_York", "EDT": "America/New_York",
	"CST": "America/Chicago", "CDT": "America/Chicago",
	"MST": "America/Denver", "MDT": "America/Denver",
	"PST": "America/Los_Angeles", "PDT": "America/Los_Angeles",
	"CET": "Europe/Paris", "CEST": "Europe/Paris",
	"BST": "Europe/London", "JST": "Asia/Tokyo",
}

// digitsAt reads between lo and hi decimal digits at s[i].
func digitsAt(s string, i, lo, hi int) (n, j int, ok bool) {
	j = i
	for j < len(s) && j-i < hi && s[j] >= '0' && s[j] <= '9' {
		n = n*10 + int(s[j]-'0')
		j++
	}
	return n, j, j-i >= lo && j > i
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// setNumber stores a numeric field; width is the number of digits read.
func (f *timeFields) setNumber(e patElem, n, width int) bool {
	switch e.letter {
	case 'y', 'u', 'Y':
		if e.count == 2 {
			n += 2000 // java.time's reduced two-digit year base
		}
		f.year, f.hasYear = n, true
	case 'M', 'L':
		f.month = n
	case 'd':
		f.day = n
	case 'D':
		f.yday, f.hasYday = n, true
	case 'H', 'k':
		if e.letter == 'k' && n == 24 {
			n = 0
		}
		f.hour = n
	case 'h', 'K':
		f.hour12, f.has12 = n, true
	case 'm':
		f.min = n
	case 's':
		f.sec = n
	case 'S':
		for ; width < 9; width++ {
			n *= 10
		}
		f.nanos = n
	}
	return true
}

// resolve checks the fields and builds the time.
func (f *timeFields) resolve() (time.Time, bool) {
	if f.bc {
		f.year = 1 - f.year
	}
	hour := f.hour
	if f.has12 {
		if f.hour12 > 12 {
			return time.Time{}, false
		}
		hour = f.hour12 % 12
		if f.pm {
			hour += 12
		}
	}
	if hour > 23 || f.min > 59 || f.sec > 59 || f.month < 1 || f.month > 12 {
		return time.Time{}, false
	}
	if f.hasYday {
		t := time.Date(f.year, 1, f.yday, hour, f.min, f.sec, f.nanos, f.loc)
		if f.yday < 1 || t.Year() != f.year {
			return time.Time{}, false
		}
		return t, true
	}
	t := time.Date(f.year, time.Month(f.month), f.day, hour, f.min, f.sec, f.nanos, f.loc)
	if t.Day() != f.day || int(t.Month()) != f.month {
		return time.Time{}, false // 31 April and the like
	}
	return t, true
}
