package packet

import (
	"bufio"
	"io"
	"sync"
)

// Reader reads packets from a byte stream, one at a time. It is not safe for
// concurrent use; a connection has one reader goroutine.
//
// Memory: a Reader made by NewReader holds its bufio.Reader and a few
// words; one made by NewPooledReader holds a buffer only while a packet is
// being read or buffered packets wait. Each packet body is read into a new
// buffer of exactly the remaining length, allocated only after the size
// check, and handed to the decoded packet (see Publish for ownership).
// Between packets a Reader holds no packet memory.
type Reader struct {
	br  *bufio.Reader
	src io.Reader // NewPooledReader's stream; nil for NewReader
	max int
	one [1]byte // the first byte of a packet, read from src
}

// DefaultReadBufferSize is the bufio buffer NewReader uses when r is not
// already a *bufio.Reader: enough for a burst of small packets (acks,
// pings, small publishes) per read system call, small enough for hundreds
// of thousands of connections. Bodies larger than the buffer are read
// straight into their own allocation.
const DefaultReadBufferSize = 512

// readBufs are the buffers pooled Readers borrow.
var readBufs = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, DefaultReadBufferSize) }}

// NewReader returns a Reader that refuses packets larger than maxPacketSize
// bytes in total (fixed header included, as MQTT 5 counts Maximum Packet
// Size). maxPacketSize <= 0 selects DefaultMaxPacketSize; values above
// MaxPacketSize are capped. If r is a *bufio.Reader it is used as is, so the
// caller chooses its buffer size; otherwise r is wrapped in a bufio.Reader
// of DefaultReadBufferSize bytes.
func NewReader(r io.Reader, maxPacketSize int) *Reader {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, DefaultReadBufferSize)
	}
	rd := &Reader{br: br}
	rd.SetMaxPacketSize(maxPacketSize)
	return rd
}

// NewPooledReader is NewReader for connections that are idle most of the
// time: it keeps no buffer while it waits. It reads the first byte of each
// packet from r directly (a one-byte Read, so r should buffer on its own,
// as a *tls.Conn does), then borrows a DefaultReadBufferSize buffer from a
// pool shared by all pooled Readers for the rest of the packet and for the
// packets read along with it, and gives it back once it is empty, or on an
// error. A blocking wait for the next packet therefore holds no buffer.
func NewPooledReader(r io.Reader, maxPacketSize int) *Reader {
	rd := &Reader{src: r}
	rd.SetMaxPacketSize(maxPacketSize)
	return rd
}

// SetMaxPacketSize changes the limit for the following packets, with the
// same rules as NewReader.
func (r *Reader) SetMaxPacketSize(n int) {
	switch {
	case n <= 0:
		n = DefaultMaxPacketSize
	case n > MaxPacketSize:
		n = MaxPacketSize
	}
	r.max = n
}

// Buffered returns how many bytes of the stream the Reader has read and
// not yet returned in a packet. A pooled Reader holds a buffer exactly
// when Buffered is not zero. A caller that wants to wait for the stream's
// next bytes by other means (a readiness poll, say) may do so only when
// Buffered is zero: otherwise the next packet may already be here.
func (r *Reader) Buffered() int {
	if r.br == nil {
		return 0
	}
	return r.br.Buffered()
}

// ReadPacket reads and decodes one packet for protocol version v: 0 before
// the CONNECT (only a CONNECT is accepted then: [MQTT-3.1.0-1]), V311 or V5
// after it, as given by Connect.ProtocolLevel.
//
// Errors: io.EOF if the stream ends cleanly between packets;
// io.ErrUnexpectedEOF or the transport error if it ends or fails inside one;
// an *Error (see CodeOf) if the packet is invalid. A packet too large is
// refused with PacketTooLarge before its body is read or allocated. After any
// error the stream position is undefined: the caller closes the connection
// (after sending CONNACK or DISCONNECT with the error's code where the
// protocol allows). ErrVersion if v is not 0, V311 or V5.
func (r *Reader) ReadPacket(v Version) (Packet, error) {
	if v != 0 && v != V311 && v != V5 {
		return nil, ErrVersion
	}
	if r.src == nil {
		b0, err := r.br.ReadByte()
		if err != nil {
			return nil, err
		}
		return r.readPacket(v, b0)
	}
	var b0 byte
	if r.br != nil {
		b0, _ = r.br.ReadByte() // cannot fail: the buffer is not empty
	} else {
		if _, err := io.ReadFull(r.src, r.one[:]); err != nil {
			return nil, err
		}
		b0 = r.one[0]
		r.br = readBufs.Get().(*bufio.Reader)
		r.br.Reset(r.src)
	}
	p, err := r.readPacket(v, b0)
	if err != nil || r.br.Buffered() == 0 {
		r.br.Reset(nil)
		readBufs.Put(r.br)
		r.br = nil
	}
	return p, err
}

// readPacket reads the rest of a packet whose first byte is b0.
func (r *Reader) readPacket(v Version, b0 byte) (Packet, error) {
	t, flags := Type(b0>>4), b0&0x0f
	if e := checkHeader(t, flags, v); e != nil {
		return nil, annotate(e, t, v)
	}
	var rl uint32
	n := 0
	for done := false; !done; n++ {
		c, err := r.br.ReadByte()
		if err != nil {
			return nil, noEOF(err)
		}
		var e *Error
		if rl, done, e = varintStep(rl, n, c); e != nil {
			return nil, annotate(e, t, v)
		}
	}
	if total := 1 + n + int(rl); total > r.max {
		// [MQTT-3.2.2-15] a client must not exceed the server's Maximum
		// Packet Size; §3.2.2.3.6: the server answers DISCONNECT 0x95.
		return nil, annotate(newErr(PacketTooLarge, "MQTT-3.2.2-15", "packet of %d bytes exceeds the limit of %d", total, r.max), t, v)
	}
	body := make([]byte, rl)
	if _, err := io.ReadFull(r.br, body); err != nil {
		return nil, noEOF(err)
	}
	return decodeBody(t, flags, v, body)
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Decode decodes the packet at the start of b for protocol version v (0 for
// a CONNECT, as ReadPacket). It returns the packet and the number of bytes
// it used; if b holds only part of a packet it returns io.ErrUnexpectedEOF.
// The packet aliases b: b must not be modified while the packet is in use.
// Decode applies no size limit beyond the protocol's.
func Decode(b []byte, v Version) (Packet, int, error) {
	if v != 0 && v != V311 && v != V5 {
		return nil, 0, ErrVersion
	}
	if len(b) == 0 {
		return nil, 0, io.ErrUnexpectedEOF
	}
	t, flags := Type(b[0]>>4), b[0]&0x0f
	if e := checkHeader(t, flags, v); e != nil {
		return nil, 0, annotate(e, t, v)
	}
	rl, n, e := decodeVarint(b[1:])
	if e != nil {
		return nil, 0, annotate(e, t, v)
	}
	if n == 0 || len(b)-1-n < int(rl) {
		return nil, 0, io.ErrUnexpectedEOF
	}
	end := 1 + n + int(rl)
	p, err := decodeBody(t, flags, v, b[1+n:end:end])
	if err != nil {
		return nil, 0, err
	}
	return p, end, nil
}

// checkHeader validates the first byte of a packet before anything else is
// read.
func checkHeader(t Type, flags byte, v Version) *Error {
	switch {
	case t == 0:
		// §2.1.2: type 0 is reserved and forbidden.
		return malformed("", "packet type 0")
	case t == TypeAuth && v == V311:
		// 3.1.1 §2.2.1: type 15 is reserved and forbidden.
		return malformed("", "packet type 15 in MQTT 3.1.1")
	case v == 0 && t != TypeConnect:
		// [MQTT-3.1.0-1] the first packet from a client is CONNECT.
		return protocolErr("MQTT-3.1.0-1", "%s before CONNECT", t)
	}
	switch t {
	case TypePublish:
		qos := flags & pubQoS >> 1
		if qos == 3 {
			// [MQTT-3.3.1-4] QoS 3 is malformed.
			return malformed("MQTT-3.3.1-4", "PUBLISH QoS 3")
		}
		if qos == 0 && flags&pubDup != 0 {
			// [MQTT-3.3.1-2] DUP is 0 for QoS 0.
			return malformed("MQTT-3.3.1-2", "DUP set on a QoS 0 PUBLISH")
		}
	case TypePubrel, TypeSubscribe, TypeUnsubscribe:
		if flags != 0x02 {
			// [MQTT-3.6.1-1] [MQTT-3.8.1-1] [MQTT-3.10.1-1] flags are 0010.
			clause := "MQTT-3.6.1-1"
			if t == TypeSubscribe {
				clause = "MQTT-3.8.1-1"
			} else if t == TypeUnsubscribe {
				clause = "MQTT-3.10.1-1"
			}
			return malformed(clause, "%s fixed header flags %04b, want 0010", t, flags)
		}
	default:
		if flags != 0 {
			// [MQTT-2.1.3-1] (3.1.1: [MQTT-2.2.2-1] [MQTT-2.2.2-2]) reserved flags as listed.
			return malformed("MQTT-2.1.3-1", "%s fixed header flags %04b, want 0000", t, flags)
		}
	}
	return nil
}

// decodeBody decodes the body of a packet whose header checkHeader accepted.
// Calls are concrete, not through the interface, so the decoder stays on
// the stack.
func decodeBody(t Type, flags byte, v Version, body []byte) (Packet, error) {
	d := decoder{b: body}
	var p Packet
	switch t {
	case TypeConnect:
		c := new(Connect)
		c.decode(&d, flags, v)
		if d.err != nil {
			return nil, annotate(d.err, t, c.ProtocolLevel)
		}
		p = c
	case TypeConnack:
		x := new(Connack)
		x.decode(&d, flags, v)
		p = x
	case TypePublish:
		x := new(Publish)
		x.decode(&d, flags, v)
		p = x
	case TypePuback:
		x := new(Puback)
		x.decode(&d, flags, v)
		p = x
	case TypePubrec:
		x := new(Pubrec)
		x.decode(&d, flags, v)
		p = x
	case TypePubrel:
		x := new(Pubrel)
		x.decode(&d, flags, v)
		p = x
	case TypePubcomp:
		x := new(Pubcomp)
		x.decode(&d, flags, v)
		p = x
	case TypeSubscribe:
		x := new(Subscribe)
		x.decode(&d, flags, v)
		p = x
	case TypeSuback:
		x := new(Suback)
		x.decode(&d, flags, v)
		p = x
	case TypeUnsubscribe:
		x := new(Unsubscribe)
		x.decode(&d, flags, v)
		p = x
	case TypeUnsuback:
		x := new(Unsuback)
		x.decode(&d, flags, v)
		p = x
	case TypePingreq:
		x := new(Pingreq)
		x.decode(&d, flags, v)
		p = x
	case TypePingresp:
		x := new(Pingresp)
		x.decode(&d, flags, v)
		p = x
	case TypeDisconnect:
		x := new(Disconnect)
		x.decode(&d, flags, v)
		p = x
	case TypeAuth:
		x := new(Auth)
		x.decode(&d, flags, v)
		p = x
	}
	d.end(t)
	if d.err != nil {
		return nil, annotate(d.err, t, v)
	}
	return p, nil
}

// annotate records which packet and version an error belongs to.
func annotate(e *Error, t Type, v Version) error {
	e.Type, e.Version = t, v
	return e
}
