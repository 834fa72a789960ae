package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// sizeUnits maps a unit suffix (lower-case) to its multiplier. Binary units
// (KiB) are powers of 1024, decimal ones (KB) powers of 1000.
var sizeUnits = map[string]int64{
	"":    1,
	"b":   1,
	"kib": KiB,
	"mib": MiB,
	"gib": GiB,
	"kb":  1000,
	"mb":  1000 * 1000,
	"gb":  1000 * 1000 * 1000,
}

// ParseSize parses a byte size: a non-negative integer optionally followed by
// a unit, B, KiB, MiB, GiB (powers of 1024) or KB, MB, GB (powers of 1000).
// Units are case-insensitive and may be separated from the number by spaces:
// "1048576", "512KiB", "1 MiB", "64kb". Fractions and signs are rejected.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("invalid size %q: want a number of bytes, optionally with a unit (512KiB, 1MiB)", s)
	}
	unit := strings.ToLower(strings.TrimSpace(t[i:]))
	mult, ok := sizeUnits[unit]
	if !ok {
		return 0, fmt.Errorf("invalid size %q: unknown unit %q (use B, KiB, MiB, GiB, KB, MB or GB)", s, t[i:])
	}
	n, err := strconv.ParseInt(t[:i], 10, 64)
	if err != nil || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("invalid size %q: %w", s, errSizeTooLarge)
	}
	return n * mult, nil
}

var errSizeTooLarge = errors.New("too large")

// FormatSize writes n in the largest binary unit that divides it exactly:
// 1048576 is "1MiB", 1536 is "1536", 0 is "0".
func FormatSize(n int64) string {
	switch {
	case n == 0:
		return "0"
	case n%GiB == 0:
		return strconv.FormatInt(n/GiB, 10) + "GiB"
	case n%MiB == 0:
		return strconv.FormatInt(n/MiB, 10) + "MiB"
	case n%KiB == 0:
		return strconv.FormatInt(n/KiB, 10) + "KiB"
	}
	return strconv.FormatInt(n, 10)
}
