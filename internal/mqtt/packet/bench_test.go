package packet_test

import (
	"bufio"
	"bytes"
	"io"
	"testing"

	"github.com/moat-iot/moat/internal/mqtt/packet"
)

func benchPublish(v packet.Version) *packet.Publish {
	p := &packet.Publish{QoS: 1, PacketID: 42, Topic: "dt/factory-1/line-3/sensor-17/telemetry", Payload: bytes.Repeat([]byte{'x'}, 64)}
	if v == packet.V5 {
		p.Properties.ContentType = "application/json"
		p.Properties.MessageExpiry = 300
	}
	return p
}

func versions() []packet.Version { return []packet.Version{packet.V311, packet.V5} }

func BenchmarkDecodePublish(b *testing.B) {
	for _, v := range versions() {
		b.Run("v"+v.String(), func(b *testing.B) {
			raw, _ := packet.Encode(benchPublish(v), v)
			b.Run("Decode", func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(raw)))
				for b.Loop() {
					if _, _, err := packet.Decode(raw, v); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("Reader", func(b *testing.B) {
				// A stream of back-to-back packets through one Reader.
				stream := bytes.Repeat(raw, 1024)
				src := bytes.NewReader(stream)
				r := packet.NewReader(bufio.NewReaderSize(src, 4096), 0)
				b.ReportAllocs()
				b.SetBytes(int64(len(raw)))
				for b.Loop() {
					if _, err := r.ReadPacket(v); err != nil {
						if err != io.EOF {
							b.Fatal(err)
						}
						src.Reset(stream)
					}
				}
			})
		})
	}
}

func BenchmarkEncodePublish(b *testing.B) {
	for _, v := range versions() {
		b.Run("v"+v.String(), func(b *testing.B) {
			p := benchPublish(v)
			buf := make([]byte, 0, 512)
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if buf, err = p.Append(buf[:0], v); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(len(buf)))
		})
	}
}

// BenchmarkFanout compares delivering one message to 1000 subscribers by
// encoding per subscriber against one SharedPublish.
func BenchmarkFanout(b *testing.B) {
	const subscribers = 1000
	for _, v := range versions() {
		p := benchPublish(v)
		b.Run("v"+v.String()+"/encode-each", func(b *testing.B) {
			w := bufio.NewWriterSize(io.Discard, 4096)
			buf := make([]byte, 0, 512)
			b.ReportAllocs()
			for b.Loop() {
				for i := range subscribers {
					q := *p
					q.PacketID = uint16(i + 1)
					buf, _ = q.Append(buf[:0], v)
					w.Write(buf)
				}
			}
		})
		b.Run("v"+v.String()+"/shared", func(b *testing.B) {
			w := bufio.NewWriterSize(io.Discard, 4096)
			b.ReportAllocs()
			for b.Loop() {
				sp, _ := packet.NewSharedPublish(p, v)
				for i := range subscribers {
					if _, err := sp.WriteTo(w, packet.Delivery{QoS: 1, PacketID: uint16(i + 1)}); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

func BenchmarkSharedPublishWriteTo(b *testing.B) {
	sp, _ := packet.NewSharedPublish(benchPublish(packet.V5), packet.V5)
	w := bufio.NewWriterSize(io.Discard, 4096)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := sp.WriteTo(w, packet.Delivery{QoS: 1, PacketID: 7}); err != nil {
			b.Fatal(err)
		}
	}
}
