package packet

import (
	"bytes"
	"testing"
)

func TestVarint_EdgeValues(t *testing.T) {
	tests := []struct {
		name string
		v    uint32
		enc  []byte
	}{
		{"zero", 0, []byte{0x00}},                                  // smallest, one byte
		{"max-1-byte", 127, []byte{0x7F}},                          // largest one-byte value
		{"min-2-bytes", 128, []byte{0x80, 0x01}},                   // first two-byte value
		{"max-2-bytes", 16383, []byte{0xFF, 0x7F}},                 // largest two-byte value
		{"min-3-bytes", 16384, []byte{0x80, 0x80, 0x01}},           // first three-byte value
		{"max-3-bytes", 2097151, []byte{0xFF, 0xFF, 0x7F}},         // largest three-byte value
		{"min-4-bytes", 2097152, []byte{0x80, 0x80, 0x80, 0x01}},   // first four-byte value
		{"max-4-bytes", 268435455, []byte{0xFF, 0xFF, 0xFF, 0x7F}}, // protocol maximum
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Encoding, length and decoding agree with §1.5.5's table.
			if got := appendVarint(nil, tt.v); !bytes.Equal(got, tt.enc) {
				t.Fatalf("appendVarint(%d) = % x, want % x", tt.v, got, tt.enc)
			}
			if n := varintLen(tt.v); n != len(tt.enc) {
				t.Fatalf("varintLen(%d) = %d, want %d", tt.v, n, len(tt.enc))
			}
			v, n, err := decodeVarint(append(tt.enc, 0xAA)) // a following byte is not consumed
			if err != nil || v != tt.v || n != len(tt.enc) {
				t.Fatalf("decodeVarint(% x) = %d, %d, %v", tt.enc, v, n, err)
			}
			if _, n, err := decodeVarint(tt.enc[:len(tt.enc)-1]); n != 0 || err != nil {
				t.Fatalf("truncated: n=%d err=%v, want need-more", n, err)
			}
		})
	}
}

func TestVarint_Refused(t *testing.T) {
	tests := []struct {
		name string
		enc  []byte
	}{
		{"five-bytes", []byte{0x80, 0x80, 0x80, 0x80, 0x01}},     // [MQTT-1.5.5-1] at most four bytes
		{"five-bytes-max", []byte{0xFF, 0xFF, 0xFF, 0xFF, 0x7F}}, // 2^35-1 does not fit
		{"four-continued", []byte{0xFF, 0xFF, 0xFF, 0xFF}},       // a fourth byte with the continuation bit
		{"non-minimal-zero", []byte{0x80, 0x00}},                 // 0 must be one byte
		{"non-minimal-127", []byte{0xFF, 0x00}},                  // 127 must be one byte
		{"non-minimal-4-bytes", []byte{0x80, 0x80, 0x80, 0x00}},  // trailing zero group
		{"non-minimal-16383", []byte{0xFF, 0xFF, 0x00}},          // 16383 must be two bytes
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Each is a malformed packet citing [MQTT-1.5.5-1].
			_, _, err := decodeVarint(tt.enc)
			if err == nil || err.Code != MalformedPacket || err.Clause != "MQTT-1.5.5-1" {
				t.Fatalf("decodeVarint(% x) error = %v, want malformed [MQTT-1.5.5-1]", tt.enc, err)
			}
		})
	}
}

func TestValidUTF8(t *testing.T) {
	tests := []struct {
		name string
		s    string
		ok   bool
	}{
		{"empty", "", true},                       // zero length is well-formed
		{"ascii", "a/b/c", true},                  // plain ASCII
		{"two-byte", "é", true},                   // U+00E9
		{"four-byte", "😀", true},                  // U+1F600, outside the BMP
		{"bom", "\uFEFFa", true},                  // [MQTT-1.5.4-3] a BOM is kept, not refused
		{"ffff", "\uFFFF", true},                  // a non-character is allowed
		{"control", "\x01\x1f\u007f\u009f", true}, // control characters are allowed
		{"max-code-point", "\U0010FFFF", true},    // U+10FFFF
		{"nul", "a\x00b", false},                  // [MQTT-1.5.4-2] U+0000
		{"nul-after-multibyte", "é\x00", false},   // U+0000 found on the slow path too
		{"surrogate-high", "\xED\xA0\x80", false}, // [MQTT-1.5.4-1] U+D800
		{"surrogate-low", "\xED\xBF\xBF", false},  // [MQTT-1.5.4-1] U+DFFF
		{"lone-continuation", "\x80", false},      // not a start byte
		{"truncated", "\xE2\x82", false},          // cut multi-byte sequence
		{"overlong-slash", "\xC0\xAF", false},     // overlong encoding of '/'
		{"overlong-nul", "\xC0\x80", false},       // modified-UTF-8 NUL is still ill-formed
		{"above-max", "\xF4\x90\x80\x80", false},  // U+110000
		{"invalid-byte", "\xFF", false},           // 0xFF never appears
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// validUTF8 applies [MQTT-1.5.4-1..3].
			if got := validUTF8([]byte(tt.s)); got != tt.ok {
				t.Fatalf("validUTF8(%q) = %v, want %v", tt.s, got, tt.ok)
			}
		})
	}
}
