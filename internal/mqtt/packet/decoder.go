package packet

import "bytes"

// decoder reads the body of one packet. The first failure is kept in err and
// every later read returns zero values without advancing, so decode methods
// read fields in order and check d.err where a zero value would mislead.
// Byte slices it returns alias b (capacity-limited, so appending to them
// cannot overwrite the following bytes).
type decoder struct {
	b   []byte
	off int
	err *Error
}

func (d *decoder) fail(e *Error) {
	if d.err == nil {
		d.err = e
	}
}

func (d *decoder) ok() bool { return d.err == nil }

// left returns the number of unread bytes.
func (d *decoder) left() int { return len(d.b) - d.off }

func (d *decoder) short(what string) {
	d.fail(malformed("", "%s: packet ends too soon", what))
}

func (d *decoder) u8(what string) byte {
	if d.err != nil {
		return 0
	}
	if d.left() < 1 {
		d.short(what)
		return 0
	}
	c := d.b[d.off]
	d.off++
	return c
}

func (d *decoder) u16(what string) uint16 {
	if d.err != nil {
		return 0
	}
	if d.left() < 2 {
		d.short(what)
		return 0
	}
	v := uint16(d.b[d.off])<<8 | uint16(d.b[d.off+1])
	d.off += 2
	return v
}

func (d *decoder) u32(what string) uint32 {
	if d.err != nil {
		return 0
	}
	if d.left() < 4 {
		d.short(what)
		return 0
	}
	b := d.b[d.off:]
	d.off += 4
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func (d *decoder) varint(what string) uint32 {
	if d.err != nil {
		return 0
	}
	v, n, err := decodeVarint(d.b[d.off:])
	if err != nil {
		d.fail(err)
		return 0
	}
	if n == 0 {
		d.short(what)
		return 0
	}
	d.off += n
	return v
}

// binary reads Binary Data (§1.5.6): a 2-byte length and that many bytes.
// The result aliases the body; a present empty field is non-nil.
func (d *decoder) binary(what string) []byte {
	n := int(d.u16(what))
	if d.err != nil {
		return nil
	}
	if d.left() < n {
		d.short(what)
		return nil
	}
	b := d.b[d.off : d.off+n : d.off+n]
	d.off += n
	return b
}

// rawString reads a UTF-8 Encoded String (§1.5.4) and validates it, without
// converting it to a string.
func (d *decoder) rawString(what string) []byte {
	b := d.binary(what)
	if d.err == nil && !validUTF8(b) {
		if bytes.IndexByte(b, 0) >= 0 {
			// [MQTT-1.5.4-2] (3.1.1: [MQTT-1.5.3-2]) U+0000 is malformed.
			d.fail(malformed("MQTT-1.5.4-2", "%s contains U+0000", what))
		} else {
			// [MQTT-1.5.4-1] (3.1.1: [MQTT-1.5.3-1]) ill-formed UTF-8 or a surrogate.
			d.fail(malformed("MQTT-1.5.4-1", "%s is not well-formed UTF-8", what))
		}
	}
	return b
}

// str reads a UTF-8 Encoded String and returns it as a string (one copy).
func (d *decoder) str(what string) string {
	b := d.rawString(what)
	if d.err != nil || len(b) == 0 {
		return ""
	}
	return string(b)
}

// rest returns the unread bytes and consumes them.
func (d *decoder) rest() []byte {
	if d.err != nil {
		return nil
	}
	b := d.b[d.off:len(d.b):len(d.b)]
	d.off = len(d.b)
	return b
}

// end fails if bytes are left over: every field of a packet is accounted for,
// so trailing bytes mean the remaining length lies.
func (d *decoder) end(t Type) {
	if d.err == nil && d.left() != 0 {
		d.fail(malformed("", "%d unexpected bytes at the end of %s", d.left(), t))
	}
}
