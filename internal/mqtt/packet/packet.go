package packet

import (
	"io"
	"slices"
	"strconv"
	"sync"
)

// Type is the MQTT control packet type, the high nibble of the first byte.
type Type byte

// Control packet types (§2.1.2). Type 0 is forbidden; 15 is AUTH in MQTT 5
// and reserved in 3.1.1.
const (
	TypeConnect     Type = 1
	TypeConnack     Type = 2
	TypePublish     Type = 3
	TypePuback      Type = 4
	TypePubrec      Type = 5
	TypePubrel      Type = 6
	TypePubcomp     Type = 7
	TypeSubscribe   Type = 8
	TypeSuback      Type = 9
	TypeUnsubscribe Type = 10
	TypeUnsuback    Type = 11
	TypePingreq     Type = 12
	TypePingresp    Type = 13
	TypeDisconnect  Type = 14
	TypeAuth        Type = 15
)

var typeNames = [16]string{"RESERVED", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC",
	"PUBREL", "PUBCOMP", "SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ",
	"PINGRESP", "DISCONNECT", "AUTH"}

func (t Type) String() string {
	if t < 16 {
		return typeNames[t]
	}
	return "type " + strconv.Itoa(int(t))
}

// Version is the protocol level of the CONNECT packet (§3.1.2.2).
type Version byte

const (
	// V31 is MQTT 3.1 ("MQIsdp"). It is recognised only to be refused with
	// UnsupportedProtocolVersion: AWS IoT Core supports 3.1.1 and 5 only.
	V31 Version = 3
	// V311 is MQTT 3.1.1.
	V311 Version = 4
	// V5 is MQTT 5.0.
	V5 Version = 5
)

func (v Version) String() string {
	switch v {
	case V31:
		return "3.1"
	case V311:
		return "3.1.1"
	case V5:
		return "5.0"
	}
	return "level " + strconv.Itoa(int(v))
}

// Size limits of the protocol.
const (
	// MaxRemainingLength is the largest remaining length a variable byte
	// integer can hold (§1.5.5).
	MaxRemainingLength = 268435455
	// MaxPacketSize is the largest possible packet: a 1-byte type, a 4-byte
	// remaining length and MaxRemainingLength bytes.
	MaxPacketSize = 1 + 4 + MaxRemainingLength
	// DefaultMaxPacketSize is the Reader limit when none is set: 1 MiB, well
	// above AWS IoT's 128 KB payload limit and well below what a hostile
	// client could otherwise make the broker allocate.
	DefaultMaxPacketSize = 1 << 20
)

// Packet is one decoded MQTT control packet: *Connect, *Connack, *Publish,
// *Puback, *Pubrec, *Pubrel, *Pubcomp, *Subscribe, *Suback, *Unsubscribe,
// *Unsuback, *Pingreq, *Pingresp, *Disconnect or *Auth. The set is closed.
type Packet interface {
	// Type returns the control packet type.
	Type() Type
	// Append appends the encoded packet for protocol version v to dst and
	// returns the extended slice. It allocates only if dst must grow.
	Append(dst []byte, v Version) ([]byte, error)

	// decode fills the packet from its body. flags is the low nibble of the
	// first byte, already checked against the type's reserved bits.
	decode(d *decoder, flags byte, v Version)
}

// Encode returns the encoded packet in a new slice.
func Encode(p Packet, v Version) ([]byte, error) { return p.Append(nil, v) }

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// Write encodes p for version v and writes it to w with one Write call,
// using a pooled buffer, so it does not allocate in the steady state. It
// returns the bytes written. For a PUBLISH sent to many subscribers, use
// SharedPublish instead.
func Write(w io.Writer, p Packet, v Version) (int, error) {
	bp := bufPool.Get().(*[]byte)
	b, err := p.Append((*bp)[:0], v)
	n := 0
	if err == nil {
		n, err = w.Write(b)
	}
	if cap(b) <= 64<<10 { // don't keep big buffers alive in the pool
		*bp = b
		bufPool.Put(bp)
	}
	return n, err
}

// checkVersion refuses versions this package cannot encode.
func checkVersion(v Version) error {
	if v != V311 && v != V5 {
		return ErrVersion
	}
	return nil
}

// appendHeader appends the fixed header: type and flags, then the remaining
// length. It fails if the remaining length cannot be encoded.
func appendHeader(dst []byte, t Type, flags byte, remaining int) ([]byte, error) {
	if remaining > MaxRemainingLength {
		return dst, &Error{Code: PacketTooLarge, Type: t, Reason: "remaining length above 268435455"}
	}
	dst = slices.Grow(dst, 5+remaining)
	dst = append(dst, byte(t)<<4|flags)
	return appendVarint(dst, uint32(remaining)), nil
}

func appendUint16(dst []byte, v uint16) []byte { return append(dst, byte(v>>8), byte(v)) }

func appendUint32(dst []byte, v uint32) []byte {
	return append(dst, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// appendString appends a 2-byte length and s. The caller has checked
// len(s) <= 65535 (sizes do so via strSize).
func appendString(dst []byte, s string) []byte {
	return append(appendUint16(dst, uint16(len(s))), s...)
}

func appendBinary(dst []byte, b []byte) []byte {
	return append(appendUint16(dst, uint16(len(b))), b...)
}

// sizer accumulates an encoded size and remembers the first field too long.
type sizer struct {
	n   int
	err error
}

func (s *sizer) str(n int) {
	if n > 65535 && s.err == nil {
		s.err = ErrFieldTooLong
	}
	s.n += 2 + n
}

func (s *sizer) varint(v uint32) {
	if v > MaxRemainingLength && s.err == nil {
		s.err = ErrValueOutOfRange
	}
	s.n += varintLen(v)
}
