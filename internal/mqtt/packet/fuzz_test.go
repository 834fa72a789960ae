package packet_test

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/moat-iot/moat/internal/mqtt/packet"
	"github.com/moat-iot/moat/internal/mqtt/packet/packettest"
)

var writeSeeds = flag.Bool("write-seeds", false, "rewrite testdata/fuzz seed corpora from packettest fixtures")

// fuzzVersion maps any byte onto a decoder version: before CONNECT, 3.1.1, 5.
func fuzzVersion(b byte) packet.Version {
	return [3]packet.Version{0, packet.V311, packet.V5}[b%3]
}

// seedVersion is the inverse of fuzzVersion for seeds.
func seedVersion(v packet.Version) byte {
	switch v {
	case packet.V311:
		return 1
	case packet.V5:
		return 2
	}
	return 0
}

func addSeeds(f *testing.F) {
	for _, fx := range packettest.All() {
		f.Add(fx.Raw, seedVersion(fx.Version))
	}
}

// FuzzDecode checks that no input panics the decoder and that whatever
// decodes is stable: decode, encode, decode gives the same packet, and
// encoding that again gives the same bytes.
func FuzzDecode(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte, vb byte) {
		v := fuzzVersion(vb)
		p1, n, err := packet.Decode(data, v)
		if err != nil {
			return
		}
		ev := v
		if c, ok := p1.(*packet.Connect); ok {
			ev = c.ProtocolLevel
		}
		b2, err := packet.Encode(p1, ev)
		if err != nil {
			t.Fatalf("decoded % x (%#v) but cannot encode it: %v", data[:n], p1, err)
		}
		p2, n2, err := packet.Decode(b2, v)
		if err != nil || n2 != len(b2) {
			t.Fatalf("re-decode of % x (from % x): n=%d %v", b2, data[:n], n2, err)
		}
		if !reflect.DeepEqual(p1, p2) {
			t.Fatalf("round trip changed the packet:\n%#v\n%#v", p1, p2)
		}
		b3, err := packet.Encode(p2, ev)
		if err != nil || !bytes.Equal(b2, b3) {
			t.Fatalf("encoding unstable:\n% x\n% x (%v)", b2, b3, err)
		}
	})
}

// FuzzDecodeSplit feeds the input through a Reader 1-3 bytes per Read (as a
// network connection may deliver it) and checks it sees exactly the packets
// and the error that decoding the whole buffer at once sees.
func FuzzDecodeSplit(f *testing.F) {
	for _, fx := range packettest.All() {
		f.Add(append(fx.Raw, fx.Raw...), seedVersion(fx.Version), uint8(7))
	}
	f.Fuzz(func(t *testing.T, data []byte, vb byte, split uint8) {
		v := fuzzVersion(vb)
		sizes := []int{int(split&3)%3 + 1, int(split>>2&3)%3 + 1, int(split>>4&3)%3 + 1}
		// A limit no complete packet in data can exceed, so no huge bodies
		// are allocated for truncated input.
		r := packet.NewReader(&chunkReader{b: data, sizes: sizes}, len(data)+5)
		off := 0
		for {
			want, n, werr := packet.Decode(data[off:], v)
			got, gerr := r.ReadPacket(v)
			if werr != nil {
				switch {
				case werr == io.ErrUnexpectedEOF && off == len(data):
					if gerr != io.EOF {
						t.Fatalf("at end: reader %v, want io.EOF", gerr)
					}
				case werr == io.ErrUnexpectedEOF:
					if gerr != io.ErrUnexpectedEOF && packet.CodeOf(gerr) != packet.PacketTooLarge {
						t.Fatalf("truncated at %d: reader %v", off, gerr)
					}
				case packet.CodeOf(werr) != packet.CodeOf(gerr) || gerr == nil:
					t.Fatalf("at %d: Decode %v, reader %v", off, werr, gerr)
				}
				return
			}
			if gerr != nil {
				t.Fatalf("at %d: reader %v, Decode ok %#v", off, gerr, want)
			}
			if !reflect.DeepEqual(want, got) {
				t.Fatalf("at %d: Decode %#v, reader %#v", off, want, got)
			}
			off += n
		}
	})
}

// TestWriteFuzzSeeds writes the fixtures as seed corpus files when run with
// -write-seeds, so `go test -fuzz` starts from every fixture.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*writeSeeds {
		t.Skip("run with -write-seeds to regenerate testdata/fuzz")
	}
	for _, target := range []string{"FuzzDecode", "FuzzDecodeSplit"} {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, fx := range packettest.All() {
			raw := fx.Raw
			extra := ""
			if target == "FuzzDecodeSplit" {
				raw = append(append([]byte{}, raw...), raw...)
				extra = "byte('\\a')\n"
			}
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\nbyte(%q)\n%s", strconv.Quote(string(raw)), rune(seedVersion(fx.Version)), extra)
			name := "fixture-" + strings.ReplaceAll(fx.Name, "/", "-")
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
