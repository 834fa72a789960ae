package packet_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"testing"
	"testing/iotest"

	"github.com/moat-iot/moat/internal/mqtt/packet"
	pt "github.com/moat-iot/moat/internal/mqtt/packet/packettest"
)

// headerOnly returns a fixed header and then fails the test if anything
// reads further: the body must never be requested.
type headerOnly struct {
	t         *testing.T
	hdr       []byte
	done      bool
	allowBody bool // the packet is within the limit: a body read is expected
	bodyRead  bool
}

func (h *headerOnly) Read(p []byte) (int, error) {
	if h.done {
		h.bodyRead = true
		if !h.allowBody {
			h.t.Errorf("the reader asked for the body of a refused packet")
		}
		return 0, errors.New("body read")
	}
	h.done = true
	return copy(p, h.hdr), nil
}

func TestReader_MaxPacketSize(t *testing.T) {
	tests := []struct {
		name   string
		max    int
		hdr    []byte
		refuse bool
	}{
		{"protocol-maximum", 0, []byte{0x30, 0xFF, 0xFF, 0xFF, 0x7F}, true},       // 256 MiB PUBLISH against the 1 MiB default
		{"at-limit", 100, []byte{0x30, 0x62}, false},                              // 2 + 98 = 100 bytes is allowed
		{"one-over", 100, []byte{0x30, 0x63}, true},                               // 2 + 99 = 101 bytes is not
		{"four-byte-length", 2097156, []byte{0x30, 0x80, 0x80, 0x80, 0x01}, true}, // 1 + 4 + 2097152 counts the header
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A packet larger than the limit is refused with 0x95 from its
			// header alone, without reading or allocating the body; one
			// within it goes on to read the body.
			src := &headerOnly{t: t, hdr: tt.hdr, allowBody: !tt.refuse}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := packet.NewReader(src, tt.max).ReadPacket(packet.V5)
			runtime.ReadMemStats(&after)
			if !tt.refuse {
				if packet.CodeOf(err) == packet.PacketTooLarge || !src.bodyRead {
					t.Fatalf("refused a packet within the limit: %v", err)
				}
				return
			}
			if !errors.Is(err, packet.ErrPacketTooLarge) {
				t.Fatalf("got %v, want packet too large", err)
			}
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<10 {
				t.Fatalf("allocated %d bytes while refusing", grew)
			}
		})
	}
}

func TestReader_CallerBufio(t *testing.T) {
	// A *bufio.Reader passed in is used as is (the caller picks its size),
	// and bytes after the packet stay in it.
	br := bufio.NewReaderSize(bytes.NewReader([]byte{0xC0, 0x00, 0xD0}), 16)
	r := packet.NewReader(br, 0)
	if p, err := r.ReadPacket(packet.V311); err != nil || p.Type() != packet.TypePingreq {
		t.Fatalf("got %v, %v", p, err)
	}
	if br.Buffered() != 1 {
		t.Fatalf("buffered %d, want 1", br.Buffered())
	}
}

func TestReader_Errors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		v    packet.Version
		want error
	}{
		{"empty", nil, packet.V311, io.EOF},                                                 // clean end between packets
		{"cut-length", []byte{0x30, 0x80}, packet.V311, io.ErrUnexpectedEOF},                // ends inside the remaining length
		{"cut-body", []byte{0x30, 0x05, 0x00}, packet.V311, io.ErrUnexpectedEOF},            // ends inside the body
		{"bad-version", []byte{0xC0, 0x00}, packet.Version(6), packet.ErrVersion},           // caller passed a level it cannot decode
		{"v31-is-not-a-session-version", []byte{0xC0, 0x00}, packet.V31, packet.ErrVersion}, // 3.1 is refused at CONNECT
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Transport-level failures are io errors, not reason codes.
			_, err := packet.NewReader(bytes.NewReader(tt.in), 0).ReadPacket(tt.v)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestDecode_Partial(t *testing.T) {
	// Every strict prefix of a valid packet asks for more bytes.
	raw := pt.Pkt(0x32, pt.Str("a/b"), pt.U16(1), "payload")
	for i := range len(raw) {
		if _, n, err := packet.Decode(raw[:i], packet.V311); err != io.ErrUnexpectedEOF || n != 0 {
			t.Fatalf("prefix %d: n=%d err=%v", i, n, err)
		}
	}
}

func TestDecode_ConnectErrorCarriesLevel(t *testing.T) {
	tests := []struct {
		name  string
		raw   []byte
		level packet.Version
		code  packet.ReasonCode
	}{
		{"v5-malformed", pt.Pkt(0x10, pt.Str("MQTT"), 5, 0x03, pt.U16(0), pt.Props(), pt.Str("c")), packet.V5, packet.MalformedPacket},     // v5 CONNACK 0x81 possible
		{"v4-unsupported", pt.Pkt(0x10, pt.Str("MQIsdp"), 3, 0x02, pt.U16(0), pt.Str("c")), packet.V31, packet.UnsupportedProtocolVersion}, // 3.1.1-style CONNACK 0x01
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The error says which level the CONNECT declared, so the broker
			// knows which CONNACK form to answer with.
			_, _, err := packet.Decode(tt.raw, 0)
			var e *packet.Error
			if !errors.As(err, &e) || e.Version != tt.level || e.Code != tt.code || e.Type != packet.TypeConnect {
				t.Fatalf("got %#v", err)
			}
		})
	}
}

// countingReader counts the Read calls made on it.
type countingReader struct {
	r     *bytes.Reader
	reads int
}

func (c *countingReader) Read(p []byte) (int, error) { c.reads++; return c.r.Read(p) }

func TestPooledReader(t *testing.T) {
	// A pooled Reader reads the same packets as a plain one, whether they
	// arrive a byte at a time or all at once (several per buffer), and ends
	// with io.EOF between packets.
	big := make([]byte, 3*packet.DefaultReadBufferSize) // larger than the pooled buffer
	stream := pt.Cat(
		pt.Pkt(0xC0),                                    // PINGREQ
		pt.Pkt(0x30, pt.Str("a/b"), "hello"),            // PUBLISH QoS 0
		pt.Pkt(0x32, pt.Str("a/c"), pt.U16(7), big),     // PUBLISH QoS 1, body larger than the buffer
		pt.Pkt(0x40, pt.U16(7)),                         // PUBACK
		pt.Pkt(0x82, pt.U16(1), pt.Str("x/#"), byte(1)), // SUBSCRIBE
		pt.Pkt(0xE0),                                    // DISCONNECT
	)
	var want []string
	plain := packet.NewReader(bytes.NewReader(stream), 0)
	for {
		p, err := plain.ReadPacket(packet.V311)
		if err != nil {
			if err != io.EOF {
				t.Fatal(err)
			}
			break
		}
		want = append(want, fmt.Sprintf("%+v", p))
	}
	for _, src := range []struct {
		name string
		r    io.Reader
	}{
		{"all-at-once", bytes.NewReader(stream)},
		{"byte-by-byte", iotest.OneByteReader(bytes.NewReader(stream))},
		{"half-reads", iotest.HalfReader(bytes.NewReader(stream))},
	} {
		t.Run(src.name, func(t *testing.T) {
			r := packet.NewPooledReader(src.r, 0)
			for i, w := range want {
				p, err := r.ReadPacket(packet.V311)
				if err != nil {
					t.Fatalf("packet %d: %v", i, err)
				}
				if got := fmt.Sprintf("%+v", p); got != w {
					t.Fatalf("packet %d: got %s, want %s", i, got, w)
				}
			}
			if _, err := r.ReadPacket(packet.V311); err != io.EOF {
				t.Fatalf("after the last packet: %v, want io.EOF", err)
			}
		})
	}
}

func TestPooledReader_Errors(t *testing.T) {
	// Errors are those of NewReader, and the Reader gives its buffer back
	// (a later read does not panic and reports the stream's state).
	for _, tt := range []struct {
		name string
		in   []byte
		want error
	}{
		{"cut-length", []byte{0x30, 0x80}, io.ErrUnexpectedEOF},
		{"cut-body", []byte{0x30, 0x05, 0x00}, io.ErrUnexpectedEOF},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := packet.NewPooledReader(bytes.NewReader(tt.in), 0)
			if _, err := r.ReadPacket(packet.V311); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if _, err := r.ReadPacket(packet.V311); err != io.EOF {
				t.Fatalf("read after the error: %v, want io.EOF", err)
			}
		})
	}
	r := packet.NewPooledReader(bytes.NewReader([]byte{0x30, 0x05}), 4)
	if _, err := r.ReadPacket(packet.V311); packet.CodeOf(err) != packet.PacketTooLarge {
		t.Fatalf("oversize: %v", err)
	}
}

func TestPooledReader_FirstByteOnly(t *testing.T) {
	// While waiting for a packet the Reader asks its source for one byte,
	// so no buffer is needed until a packet has begun.
	src := &countingReader{r: bytes.NewReader(pt.Cat(pt.Pkt(0xC0), pt.Pkt(0xC0)))}
	r := packet.NewPooledReader(src, 0)
	for range 2 {
		if p, err := r.ReadPacket(packet.V311); err != nil || p.Type() != packet.TypePingreq {
			t.Fatalf("got %v, %v", p, err)
		}
	}
	// First byte (1 byte), then the buffer takes the rest of the stream
	// (the second PINGREQ too): two reads for two packets.
	if src.reads != 2 {
		t.Fatalf("%d reads, want 2", src.reads)
	}
}

func TestReader_Buffered(t *testing.T) {
	// Buffered counts the bytes read from the source and not yet returned
	// in a packet: the second and third PINGREQ after the first packet, none
	// after the last; a pooled Reader that holds nothing reports zero.
	stream := pt.Cat(pt.Pkt(0xC0), pt.Pkt(0xC0), pt.Pkt(0xC0))
	for _, tt := range []struct {
		name string
		r    *packet.Reader
	}{
		{"plain", packet.NewReader(bytes.NewReader(stream), 0)},
		{"pooled", packet.NewPooledReader(bytes.NewReader(stream), 0)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if n := tt.r.Buffered(); n != 0 {
				t.Fatalf("before the first read: Buffered = %d, want 0", n)
			}
			for i, want := range []int{4, 2, 0} {
				if _, err := tt.r.ReadPacket(packet.V311); err != nil {
					t.Fatalf("packet %d: %v", i, err)
				}
				if n := tt.r.Buffered(); n != want {
					t.Fatalf("after packet %d: Buffered = %d, want %d", i, n, want)
				}
			}
		})
	}
}
