package packet

import (
	"bufio"
	"errors"
	"io"
)

// SharedPublish is an encoded PUBLISH that many subscribers receive. It is
// immutable, so one value may be used by any number of goroutines at once.
//
// The bytes of a PUBLISH that differ between subscribers of the same
// protocol version are the fixed header flags (DUP, QoS, RETAIN), the
// packet identifier (present only for QoS 1 and 2) and, through them, the
// remaining length. A SharedPublish keeps one encoding and produces each
// delivery by writing a new fixed header, the shared topic name, the
// delivery's packet identifier and the shared rest (properties and
// payload): no per-subscriber encoding and no copy of the payload beyond
// the one into the connection's write buffer. See the package
// documentation for which deliveries need a SharedPublish of their own.
type SharedPublish struct {
	b        []byte // the packet as encoded or wrapped
	topicOff int    // offset of the topic name length
	topicEnd int    // offset just past the topic name
	restOff  int    // offset of the properties (MQTT 5) or the payload
}

// Delivery is what varies between the deliveries of one SharedPublish.
type Delivery struct {
	QoS      byte   // QoS of this delivery: min(message QoS, granted QoS)
	PacketID uint16 // non-zero when QoS > 0; ignored for QoS 0
	Dup      bool   // a redelivery ([MQTT-3.3.1-1]); ignored for QoS 0 ([MQTT-3.3.1-2])
	Retain   bool   // RETAIN flag as the subscription's options decide
}

// ErrNotPublish is returned by ParseSharedPublish for bytes that are not one
// well-formed PUBLISH.
var ErrNotPublish = errors.New("mqtt: not an encoded PUBLISH packet")

// NewSharedPublish encodes p for version v once. p's QoS, DUP, RETAIN and
// packet identifier are ignored: each delivery supplies its own. It
// allocates the encoding (one allocation).
func NewSharedPublish(p *Publish, v Version) (SharedPublish, error) {
	q := *p
	q.QoS, q.Dup, q.Retain, q.PacketID = 0, false, false, 0
	b, err := q.Append(nil, v)
	if err != nil {
		return SharedPublish{}, err
	}
	s, err := ParseSharedPublish(b)
	return s, err
}

// ParseSharedPublish wraps an already encoded PUBLISH of any QoS, such as a
// retained message kept in encoded form. b must hold exactly one packet and
// must not be modified afterwards. It checks the framing only.
func ParseSharedPublish(b []byte) (SharedPublish, error) {
	if len(b) < 2 || Type(b[0]>>4) != TypePublish {
		return SharedPublish{}, ErrNotPublish
	}
	rl, n, e := decodeVarint(b[1:])
	if e != nil || n == 0 || 1+n+int(rl) != len(b) || rl < 2 {
		return SharedPublish{}, ErrNotPublish
	}
	topicOff := 1 + n
	topicEnd := topicOff + 2 + (int(b[topicOff])<<8 | int(b[topicOff+1]))
	rest := topicEnd
	if b[0]&pubQoS != 0 {
		rest += 2
	}
	if rest > len(b) {
		return SharedPublish{}, ErrNotPublish
	}
	return SharedPublish{b: b, topicOff: topicOff, topicEnd: topicEnd, restOff: rest}, nil
}

// Bytes returns the encoding as made or wrapped. It must not be modified.
func (s SharedPublish) Bytes() []byte { return s.b }

// remaining returns the remaining length of a delivery with the given QoS.
func (s SharedPublish) remaining(qos byte) int {
	rl := len(s.b) - s.restOff + s.topicEnd - s.topicOff // topic + rest
	if qos > 0 {
		rl += 2
	}
	return rl
}

// Size returns the size in bytes of a delivery with the given QoS, to
// compare with the subscriber's Maximum Packet Size ([MQTT-3.1.2-25]: a
// packet larger than the client's limit is not sent).
func (s SharedPublish) Size(qos byte) int {
	rl := s.remaining(qos)
	return 1 + varintLen(uint32(rl)) + rl
}

func (s SharedPublish) check(d Delivery) (byte, int, error) {
	flags, err := publishFlags(d.QoS, d.Dup && d.QoS > 0, d.Retain)
	if err != nil {
		return 0, 0, err
	}
	if d.QoS > 0 && d.PacketID == 0 {
		return 0, 0, ErrValueOutOfRange
	}
	rl := s.remaining(d.QoS)
	if rl > MaxRemainingLength {
		return 0, 0, &Error{Code: PacketTooLarge, Type: TypePublish}
	}
	return byte(TypePublish)<<4 | flags, rl, nil
}

// Append appends the packet as delivered with d to dst. It allocates only
// if dst must grow.
func (s SharedPublish) Append(dst []byte, d Delivery) ([]byte, error) {
	b0, rl, err := s.check(d)
	if err != nil {
		return dst, err
	}
	dst = append(dst, b0)
	dst = appendVarint(dst, uint32(rl))
	dst = append(dst, s.b[s.topicOff:s.topicEnd]...)
	if d.QoS > 0 {
		dst = appendUint16(dst, d.PacketID)
	}
	return append(dst, s.b[s.restOff:]...), nil
}

// Writer is what WriteTo writes to: *bufio.Writer and *bytes.Buffer are
// Writers. Single bytes go through WriteByte so nothing escapes to the heap.
type Writer interface {
	io.Writer
	io.ByteWriter
}

// WriteTo writes the packet as delivered with d to w without allocating:
// the header bytes one by one, the shared topic and rest as slices of the
// shared encoding. It returns the bytes written.
func (s SharedPublish) WriteTo(w Writer, d Delivery) (int, error) {
	b0, rl, err := s.check(d)
	if err != nil {
		return 0, err
	}
	if bw, ok := w.(*bufio.Writer); ok && bw.Available() >= 1+4+rl {
		// Fast path: assemble the delivery directly in bufio's free space.
		b, _ := s.Append(bw.AvailableBuffer(), d)
		return bw.Write(b)
	}
	n := 0
	put := func(c byte) {
		if err == nil {
			if err = w.WriteByte(c); err == nil {
				n++
			}
		}
	}
	put(b0)
	for v := uint32(rl); ; v >>= 7 {
		if v < 0x80 {
			put(byte(v))
			break
		}
		put(byte(v) | 0x80)
	}
	if err != nil {
		return n, err
	}
	m, err := w.Write(s.b[s.topicOff:s.topicEnd])
	n += m
	if err != nil {
		return n, err
	}
	if d.QoS > 0 {
		put(byte(d.PacketID >> 8))
		put(byte(d.PacketID))
		if err != nil {
			return n, err
		}
	}
	m, err = w.Write(s.b[s.restOff:])
	return n + m, err
}
