package packettest

import "fmt"

// Byte builders for fixtures. They only concatenate and count, so the
// fixtures stay independent of the encoder under test.

// Cat concatenates parts: a byte or int (one byte each, 0-255), a []byte,
// or a string (its raw bytes, no length prefix).
func Cat(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch v := p.(type) {
		case byte:
			b = append(b, v)
		case int:
			if v < 0 || v > 255 {
				panic(fmt.Sprintf("packettest: byte value %d out of range", v))
			}
			b = append(b, byte(v))
		case []byte:
			b = append(b, v...)
		case string:
			b = append(b, v...)
		default:
			panic(fmt.Sprintf("packettest: cannot concatenate %T", p))
		}
	}
	return b
}

// Str returns s as an MQTT UTF-8 string or binary field: 2-byte length, bytes.
func Str(s string) []byte { return Cat(U16(uint16(len(s))), s) }

// U16 returns v big-endian.
func U16(v uint16) []byte { return []byte{byte(v >> 8), byte(v)} }

// U32 returns v big-endian.
func U32(v uint32) []byte { return []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)} }

// Varint returns v as a variable byte integer.
func Varint(v uint32) []byte {
	var b []byte
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// Pkt returns a packet: first byte b0, the remaining length of body, body.
func Pkt(b0 byte, body ...any) []byte {
	bb := Cat(body...)
	return Cat(b0, Varint(uint32(len(bb))), bb)
}

// Props returns a properties section: its length, then the properties.
func Props(parts ...any) []byte {
	bb := Cat(parts...)
	return Cat(Varint(uint32(len(bb))), bb)
}
