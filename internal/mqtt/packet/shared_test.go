package packet_test

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"

	"github.com/moat-iot/moat/internal/mqtt/packet"
)

func sharedSource() *packet.Publish {
	return &packet.Publish{QoS: 1, Retain: true, Dup: true, PacketID: 99, Topic: "sensors/room-1/temp",
		Payload:    bytes.Repeat([]byte("x"), 200), // remaining length crosses 128 with and without a packet id
		Properties: packet.Properties{ContentType: "text/plain", MessageExpiry: 60, UserProperties: []packet.UserProperty{{Key: "a", Value: "b"}}}}
}

func TestSharedPublish_Deliveries(t *testing.T) {
	deliveries := []packet.Delivery{
		{QoS: 0},                              // downgraded to QoS 0: no packet id
		{QoS: 0, Retain: true, Dup: true},     // RETAIN kept, DUP dropped for QoS 0
		{QoS: 1, PacketID: 1},                 // QoS 1 with an id
		{QoS: 1, PacketID: 0xFFFF, Dup: true}, // redelivery
		{QoS: 2, PacketID: 513, Retain: true}, // QoS 2 retained
	}
	for _, v := range []packet.Version{packet.V311, packet.V5} {
		for _, origQoS := range []byte{0, 1} {
			src := sharedSource()
			src.QoS = origQoS
			// Both construction paths: encode once, or wrap an existing encoding.
			made, err := packet.NewSharedPublish(src, v)
			if err != nil {
				t.Fatal(err)
			}
			enc, err := packet.Encode(src, v)
			if err != nil {
				t.Fatal(err)
			}
			wrapped, err := packet.ParseSharedPublish(enc)
			if err != nil {
				t.Fatal(err)
			}
			for i, d := range deliveries {
				for name, sp := range map[string]packet.SharedPublish{"new": made, "parsed": wrapped} {
					t.Run(fmt.Sprintf("%s/from-qos%d/%s/%d", v, origQoS, name, i), func(t *testing.T) {
						// A delivery is byte-for-byte the packet encoded directly
						// with the delivery's flags and packet id.
						want := *src
						want.QoS, want.PacketID, want.Retain, want.Dup = d.QoS, d.PacketID, d.Retain, d.Dup && d.QoS > 0
						wantB, err := packet.Encode(&want, v)
						if err != nil {
							t.Fatal(err)
						}
						got, err := sp.Append([]byte("prefix"), d)
						if err != nil || !bytes.Equal(got[6:], wantB) || string(got[:6]) != "prefix" {
							t.Fatalf("Append = % x, %v\nwant % x", got, err, wantB)
						}
						var buf bytes.Buffer
						n, err := sp.WriteTo(&buf, d)
						if err != nil || n != len(wantB) || !bytes.Equal(buf.Bytes(), wantB) {
							t.Fatalf("WriteTo = %d, %v, % x\nwant % x", n, err, buf.Bytes(), wantB)
						}
						if sz := sp.Size(d.QoS); sz != len(wantB) {
							t.Fatalf("Size = %d, want %d", sz, len(wantB))
						}
						p, _, err := packet.Decode(got[6:], v)
						if err != nil {
							t.Fatal(err)
						}
						if v == packet.V311 {
							want.Properties = packet.Properties{}
						}
						if !reflect.DeepEqual(p, &want) {
							t.Fatalf("decoded %#v\nwant %#v", p, &want)
						}
					})
				}
			}
		}
	}
}

func TestSharedPublish_Refusals(t *testing.T) {
	sp, err := packet.NewSharedPublish(sharedSource(), packet.V5)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		d    packet.Delivery
	}{
		{"qos3", packet.Delivery{QoS: 3, PacketID: 1}}, // QoS 3 does not exist
		{"no-id", packet.Delivery{QoS: 1}},             // QoS 1 needs a packet id
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Bad deliveries are refused by both write paths.
			if _, err := sp.Append(nil, tt.d); err == nil {
				t.Fatal("Append accepted")
			}
			if _, err := sp.WriteTo(&bytes.Buffer{}, tt.d); err == nil {
				t.Fatal("WriteTo accepted")
			}
		})
	}
	for _, b := range [][]byte{nil, {0x30}, {0x32, 0x03, 0x00, 0x01, 'a'}, {0x40, 0x02, 0, 1}, {0x30, 0x02, 0x00, 0x05}} {
		// Not exactly one framed PUBLISH: refused.
		if _, err := packet.ParseSharedPublish(b); err == nil {
			t.Fatalf("ParseSharedPublish(% x) accepted", b)
		}
	}
}

func TestSharedPublish_ConcurrentUse(t *testing.T) {
	// One SharedPublish serves many goroutines at once (run with -race).
	sp, err := packet.NewSharedPublish(sharedSource(), packet.V311)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan []byte)
	for i := range 8 {
		go func() {
			b, _ := sp.Append(nil, packet.Delivery{QoS: 1, PacketID: uint16(i + 1)})
			done <- b
		}()
	}
	for range 8 {
		if b := <-done; len(b) != sp.Size(1) {
			t.Fatalf("delivery of %d bytes, want %d", len(b), sp.Size(1))
		}
	}
}
