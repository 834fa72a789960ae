package packet_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"runtime"
	"testing"

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
