package packet_test

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/moat-iot/moat/internal/mqtt/packet"
)

func TestEncode_V311DropsV5Fields(t *testing.T) {
	props := packet.Properties{ReasonString: "r", UserProperties: []packet.UserProperty{{Key: "k", Value: "v"}}, TopicAlias: 2}
	tests := []struct {
		name string
		in   packet.Packet
		want packet.Packet
	}{
		{"publish", &packet.Publish{Topic: "t", QoS: 1, PacketID: 1, Properties: props, Payload: []byte("p")},
			&packet.Publish{Topic: "t", QoS: 1, PacketID: 1, Payload: []byte("p")}}, // properties are not sent
		{"puback", &packet.Puback{PacketID: 1, ReasonCode: packet.NotAuthorized, Properties: props},
			&packet.Puback{PacketID: 1}}, // no reason code in 3.1.1
		{"suback", &packet.Suback{PacketID: 1, ReasonCodes: []packet.ReasonCode{packet.GrantedQoS1, packet.NotAuthorized, packet.QuotaExceeded}},
			&packet.Suback{PacketID: 1, ReasonCodes: []packet.ReasonCode{packet.GrantedQoS1, packet.V3SubackFailure, packet.V3SubackFailure}}}, // failures become 0x80
		{"unsuback", &packet.Unsuback{PacketID: 1, ReasonCodes: []packet.ReasonCode{packet.Success}},
			&packet.Unsuback{PacketID: 1}}, // no payload in 3.1.1
		{"disconnect", &packet.Disconnect{ReasonCode: packet.ServerShuttingDown}, &packet.Disconnect{}}, // two bytes
		{"subscribe", &packet.Subscribe{PacketID: 3, Subscriptions: []packet.Subscription{{Filter: "a", QoS: 1, NoLocal: true, RetainHandling: 2}}},
			&packet.Subscribe{PacketID: 3, Subscriptions: []packet.Subscription{{Filter: "a", QoS: 1}}}}, // only QoS survives
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Encoding for 3.1.1 writes only what 3.1.1 has.
			b, err := packet.Encode(tt.in, packet.V311)
			if err != nil {
				t.Fatal(err)
			}
			p, _, err := packet.Decode(b, packet.V311)
			if err != nil {
				t.Fatalf("decode % x: %v", b, err)
			}
			if !reflect.DeepEqual(p, tt.want) {
				t.Fatalf("got %#v\nwant %#v", p, tt.want)
			}
		})
	}
}

func TestEncode_Refusals(t *testing.T) {
	long := strings.Repeat("a", 65536)
	tests := []struct {
		name string
		p    packet.Packet
		v    packet.Version
		want error
	}{
		{"topic-too-long", &packet.Publish{Topic: long}, packet.V311, packet.ErrFieldTooLong},                                                                                         // 2-byte length prefix
		{"user-property-too-long", &packet.Publish{Topic: "t", Properties: packet.Properties{UserProperties: []packet.UserProperty{{Key: long}}}}, packet.V5, packet.ErrFieldTooLong}, // inside properties
		{"qos3", &packet.Publish{Topic: "t", QoS: 3, PacketID: 1}, packet.V311, packet.ErrValueOutOfRange},                                                                            // no such QoS
		{"publish-id-0", &packet.Publish{Topic: "t", QoS: 1}, packet.V311, packet.ErrValueOutOfRange},                                                                                 // QoS 1 needs an id
		{"subscribe-id-0", &packet.Subscribe{Subscriptions: []packet.Subscription{{Filter: "a"}}}, packet.V5, packet.ErrValueOutOfRange},                                              // needs an id
		{"will-qos3", &packet.Connect{Will: &packet.Will{Topic: "t", QoS: 3}}, packet.V5, packet.ErrValueOutOfRange},                                                                  // will QoS
		{"auth-v4", &packet.Auth{}, packet.V311, packet.ErrVersion},                                                                                                                   // AUTH is MQTT 5 only
		{"level-3", &packet.Pingreq{}, packet.V31, packet.ErrVersion},                                                                                                                 // 3.1 is not encoded
		{"sub-id-too-big", &packet.Publish{Topic: "t", Properties: packet.Properties{SubscriptionIDs: []uint32{1 << 28}}}, packet.V5, packet.ErrValueOutOfRange},                      // varint range
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Encoding refuses what cannot be framed, and appends nothing.
			dst := []byte("keep")
			b, err := tt.p.Append(dst, tt.v)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if !bytes.Equal(b, []byte("keep")) {
				t.Fatalf("dst changed to %q", b)
			}
		})
	}
}

func TestWrite_Pooled(t *testing.T) {
	// Write produces the same bytes as Encode.
	p := &packet.Publish{Topic: "a", Payload: []byte("b")}
	var buf bytes.Buffer
	n, err := packet.Write(&buf, p, packet.V5)
	want, _ := packet.Encode(p, packet.V5)
	if err != nil || n != len(want) || !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("Write = %d, %v, % x; want % x", n, err, buf.Bytes(), want)
	}
}
