package packet

import (
	"bytes"
	"unicode/utf8"
)

// validUTF8 reports whether s may appear in an MQTT UTF-8 Encoded String:
// well-formed UTF-8 with no surrogate code points (utf8.Valid already refuses
// the encoded halves U+D800..U+DFFF) and no U+0000.
//
// [MQTT-1.5.4-1] (3.1.1: [MQTT-1.5.3-1]) ill-formed UTF-8 and surrogates are malformed.
// [MQTT-1.5.4-2] (3.1.1: [MQTT-1.5.3-2]) U+0000 is malformed.
// [MQTT-1.5.4-3] (3.1.1: [MQTT-1.5.3-3]) a BOM (U+FEFF) is kept, not stripped.
// Non-characters such as U+FFFF and control characters U+0001..U+001F are
// allowed: the specification lets a receiver refuse them but does not ask
// it to, and AWS IoT accepts them.
func validUTF8(b []byte) bool {
	for i, c := range b {
		if c == 0 {
			return false
		}
		if c >= utf8.RuneSelf {
			return validUTF8Slow(b[i:])
		}
	}
	return true
}

func validUTF8Slow(b []byte) bool {
	return bytes.IndexByte(b, 0) < 0 && utf8.Valid(b)
}

// hasWildcard reports whether a topic name contains '+' or '#'.
func hasWildcard(s []byte) bool {
	for _, c := range s {
		if c == '+' || c == '#' {
			return true
		}
	}
	return false
}
