package packet

// Variable byte integers (§1.5.5): 7 bits per byte, least significant group
// first, high bit set on every byte but the last; at most 4 bytes, so the
// largest value is 268435455.

// appendVarint appends v (at most MaxRemainingLength) as a variable byte integer.
func appendVarint(dst []byte, v uint32) []byte {
	for v >= 0x80 {
		dst = append(dst, byte(v)|0x80)
		v >>= 7
	}
	return append(dst, byte(v))
}

// varintLen returns the encoded length of v.
func varintLen(v uint32) int {
	switch {
	case v < 1<<7:
		return 1
	case v < 1<<14:
		return 2
	case v < 1<<21:
		return 3
	}
	return 4
}

// varintStep folds byte c, the i-th byte (from 0) of a variable byte integer,
// into v. It reports done when c is the last byte, and fails on a fourth
// byte that announces a fifth (without waiting for it) or a non-minimal
// encoding (a last byte of 0 after the first).
func varintStep(v uint32, i int, c byte) (uint32, bool, *Error) {
	v |= uint32(c&0x7f) << (7 * i)
	if c&0x80 != 0 {
		if i >= 3 {
			// [MQTT-1.5.5-1] at most four bytes; a fifth is malformed.
			return 0, false, malformed("MQTT-1.5.5-1", "variable byte integer longer than 4 bytes")
		}
		return v, false, nil
	}
	if c == 0 && i > 0 {
		// [MQTT-1.5.5-1] the minimum number of bytes must be used.
		return 0, false, malformed("MQTT-1.5.5-1", "variable byte integer not minimally encoded")
	}
	return v, true, nil
}

// decodeVarint decodes a variable byte integer at the start of b. n is the
// number of bytes used; n == 0 with a nil error means b ends too soon.
func decodeVarint(b []byte) (v uint32, n int, err *Error) {
	for i, c := range b {
		var done bool
		if v, done, err = varintStep(v, i, c); err != nil {
			return 0, 0, err
		}
		if done {
			return v, i + 1, nil
		}
	}
	return 0, 0, nil
}
