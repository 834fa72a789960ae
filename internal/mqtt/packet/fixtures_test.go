package packet_test

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"

	"github.com/moat-iot/moat/internal/mqtt/packet"
	"github.com/moat-iot/moat/internal/mqtt/packet/packettest"
)

// decodeOne decodes raw, which must hold exactly one packet, through both
// entry points (Decode on a slice, Reader on a stream) and checks they agree.
func decodeOne(t *testing.T, raw []byte, v packet.Version) (packet.Packet, error) {
	t.Helper()
	p1, n, err1 := packet.Decode(raw, v)
	p2, err2 := packet.NewReader(bytes.NewReader(raw), 0).ReadPacket(v)
	if (err1 == nil) != (err2 == nil) || packet.CodeOf(err1) != packet.CodeOf(err2) {
		t.Fatalf("Decode error %v, Reader error %v", err1, err2)
	}
	if err1 != nil {
		return nil, err1
	}
	if n != len(raw) {
		t.Fatalf("Decode used %d of %d bytes", n, len(raw))
	}
	if !reflect.DeepEqual(p1, p2) {
		t.Fatalf("Decode and Reader disagree:\n%#v\n%#v", p1, p2)
	}
	return p1, nil
}

func TestDecode_ValidFixtures(t *testing.T) {
	for _, f := range packettest.Valid() {
		t.Run(f.Name, func(t *testing.T) {
			// f.Desc says what each fixture checks.
			p, err := decodeOne(t, f.Raw, f.Version)
			if err != nil {
				t.Fatalf("%s: decode: %v", f.Desc, err)
			}
			if !reflect.DeepEqual(p, f.Packet) {
				t.Fatalf("%s: decoded\n%#v\nwant\n%#v", f.Desc, p, f.Packet)
			}
		})
	}
}

func TestEncode_ValidFixtures(t *testing.T) {
	for _, f := range packettest.Valid() {
		t.Run(f.Name, func(t *testing.T) {
			// Encoding the expected packet gives the fixture bytes (or, for a
			// non-canonical fixture, bytes that decode to the same packet).
			b, err := packet.Encode(f.Packet, f.Version)
			if err != nil {
				t.Fatalf("%s: encode: %v", f.Desc, err)
			}
			if !f.NonCanonical && !bytes.Equal(b, f.Raw) {
				t.Fatalf("%s: encoded\n% x\nwant\n% x", f.Desc, b, f.Raw)
			}
			p, err := decodeOne(t, b, f.Version)
			if err != nil {
				t.Fatalf("%s: decode of encoding: %v", f.Desc, err)
			}
			if !reflect.DeepEqual(p, f.Packet) {
				t.Fatalf("%s: round trip\n%#v\nwant\n%#v", f.Desc, p, f.Packet)
			}
		})
	}
}

func TestDecode_InvalidFixtures(t *testing.T) {
	for _, f := range packettest.Invalid() {
		t.Run(f.Name, func(t *testing.T) {
			// f.Desc says which rule each fixture breaks.
			p, err := decodeOne(t, f.Raw, f.Version)
			if err == nil {
				t.Fatalf("%s: decoded %#v, want error 0x%02x", f.Desc, p, byte(f.Code))
			}
			var e *packet.Error
			if !errors.As(err, &e) {
				t.Fatalf("%s: error %v is not a *packet.Error", f.Desc, err)
			}
			if e.Code != f.Code || e.Clause != f.Clause {
				t.Fatalf("%s: got code 0x%02x clause %q (%v), want 0x%02x clause %q", f.Desc, byte(e.Code), e.Clause, err, byte(f.Code), f.Clause)
			}
			if e.Type != packet.Type(f.Raw[0]>>4) {
				t.Fatalf("%s: error type %v, want %v", f.Desc, e.Type, packet.Type(f.Raw[0]>>4))
			}
		})
	}
}

func TestFixtures_NamesUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range packettest.All() {
		if seen[f.Name] || f.Desc == "" {
			t.Fatalf("fixture %q duplicated or without description", f.Name)
		}
		seen[f.Name] = true
	}
}

// TestReader_Stream reads every valid fixture of a version from one stream
// delivered 1-3 bytes per Read, as a TCP connection may.
func TestReader_Stream(t *testing.T) {
	for _, v := range []packet.Version{packet.V311, packet.V5} {
		t.Run(v.String(), func(t *testing.T) {
			// All fixtures of the version, back to back, split into tiny reads.
			var stream []byte
			var want []packet.Packet
			for _, f := range packettest.Valid() {
				if f.Version == v {
					stream = append(stream, f.Raw...)
					want = append(want, f.Packet)
				}
			}
			r := packet.NewReader(&chunkReader{b: stream, sizes: []int{1, 3, 2}}, 0)
			for i, w := range want {
				p, err := r.ReadPacket(v)
				if err != nil {
					t.Fatalf("packet %d: %v", i, err)
				}
				if !reflect.DeepEqual(p, w) {
					t.Fatalf("packet %d: got %#v want %#v", i, p, w)
				}
			}
			if _, err := r.ReadPacket(v); err != io.EOF {
				t.Fatalf("after the last packet: %v, want io.EOF", err)
			}
		})
	}
}

// chunkReader returns its bytes a few at a time, cycling through sizes.
type chunkReader struct {
	b     []byte
	sizes []int
	i     int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	n := min(c.sizes[c.i%len(c.sizes)], len(p), len(c.b))
	c.i++
	copy(p, c.b[:n])
	c.b = c.b[n:]
	return n, nil
}
