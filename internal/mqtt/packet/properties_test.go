package packet_test

import (
	"fmt"
	"testing"

	"github.com/moat-iot/moat/internal/mqtt/packet"
	pt "github.com/moat-iot/moat/internal/mqtt/packet/packettest"
)

// propSample is one encoded property with a valid value, by identifier.
var propSample = map[packet.PropertyID][]byte{
	packet.PropPayloadFormat:        pt.Cat(0x01, 1),
	packet.PropMessageExpiry:        pt.Cat(0x02, pt.U32(1)),
	packet.PropContentType:          pt.Cat(0x03, pt.Str("x")),
	packet.PropResponseTopic:        pt.Cat(0x08, pt.Str("x")),
	packet.PropCorrelationData:      pt.Cat(0x09, pt.Str("x")),
	packet.PropSubscriptionID:       pt.Cat(0x0B, 1),
	packet.PropSessionExpiry:        pt.Cat(0x11, pt.U32(1)),
	packet.PropAssignedClientID:     pt.Cat(0x12, pt.Str("x")),
	packet.PropServerKeepAlive:      pt.Cat(0x13, pt.U16(1)),
	packet.PropAuthMethod:           pt.Cat(0x15, pt.Str("x")),
	packet.PropAuthData:             pt.Cat(0x16, pt.Str("x")),
	packet.PropRequestProblemInfo:   pt.Cat(0x17, 1),
	packet.PropWillDelay:            pt.Cat(0x18, pt.U32(1)),
	packet.PropRequestResponseInfo:  pt.Cat(0x19, 1),
	packet.PropResponseInfo:         pt.Cat(0x1A, pt.Str("x")),
	packet.PropServerReference:      pt.Cat(0x1C, pt.Str("x")),
	packet.PropReasonString:         pt.Cat(0x1F, pt.Str("x")),
	packet.PropReceiveMaximum:       pt.Cat(0x21, pt.U16(1)),
	packet.PropTopicAliasMaximum:    pt.Cat(0x22, pt.U16(1)),
	packet.PropTopicAlias:           pt.Cat(0x23, pt.U16(1)),
	packet.PropMaximumQoS:           pt.Cat(0x24, 1),
	packet.PropRetainAvailable:      pt.Cat(0x25, 1),
	packet.PropUserProperty:         pt.Cat(0x26, pt.Str("k"), pt.Str("v")),
	packet.PropMaximumPacketSize:    pt.Cat(0x27, pt.U32(1)),
	packet.PropWildcardSubAvailable: pt.Cat(0x28, 1),
	packet.PropSubIDAvailable:       pt.Cat(0x29, 1),
	packet.PropSharedSubAvailable:   pt.Cat(0x2A, 1),
}

// allowed lists, per context, the properties MQTT 5 allows (§2.2.2.2 table).
var allowed = map[string][]packet.PropertyID{
	"CONNECT": {0x11, 0x15, 0x16, 0x17, 0x19, 0x21, 0x22, 0x26, 0x27},
	"will":    {0x01, 0x02, 0x03, 0x08, 0x09, 0x18, 0x26},
	"CONNACK": {0x11, 0x12, 0x13, 0x15, 0x16, 0x1A, 0x1C, 0x1F, 0x21, 0x22, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2A},
	"PUBLISH": {0x01, 0x02, 0x03, 0x08, 0x09, 0x0B, 0x23, 0x26},
	"PUBACK":  {0x1F, 0x26}, "PUBREC": {0x1F, 0x26}, "PUBREL": {0x1F, 0x26}, "PUBCOMP": {0x1F, 0x26},
	"SUBSCRIBE": {0x0B, 0x26}, "SUBACK": {0x1F, 0x26}, "UNSUBSCRIBE": {0x26}, "UNSUBACK": {0x1F, 0x26},
	"DISCONNECT": {0x11, 0x1C, 0x1F, 0x26}, "AUTH": {0x15, 0x16, 0x1F, 0x26},
}

// withProps builds a valid MQTT 5 packet of the named context around props.
var withProps = map[string]func(props []byte) []byte{
	"CONNECT": func(p []byte) []byte { return pt.Pkt(0x10, pt.Str("MQTT"), 5, 0x02, pt.U16(0), p, pt.Str("c")) },
	"will": func(p []byte) []byte {
		return pt.Pkt(0x10, pt.Str("MQTT"), 5, 0x06, pt.U16(0), pt.Props(), pt.Str("c"), p, pt.Str("w"), pt.Str("x"))
	},
	"CONNACK":     func(p []byte) []byte { return pt.Pkt(0x20, 0, 0, p) },
	"PUBLISH":     func(p []byte) []byte { return pt.Pkt(0x30, pt.Str("t"), p, "x") },
	"PUBACK":      func(p []byte) []byte { return pt.Pkt(0x40, pt.U16(1), 0, p) },
	"PUBREC":      func(p []byte) []byte { return pt.Pkt(0x50, pt.U16(1), 0, p) },
	"PUBREL":      func(p []byte) []byte { return pt.Pkt(0x62, pt.U16(1), 0, p) },
	"PUBCOMP":     func(p []byte) []byte { return pt.Pkt(0x70, pt.U16(1), 0, p) },
	"SUBSCRIBE":   func(p []byte) []byte { return pt.Pkt(0x82, pt.U16(1), p, pt.Str("a"), 0) },
	"SUBACK":      func(p []byte) []byte { return pt.Pkt(0x90, pt.U16(1), p, 0) },
	"UNSUBSCRIBE": func(p []byte) []byte { return pt.Pkt(0xA2, pt.U16(1), p, pt.Str("a")) },
	"UNSUBACK":    func(p []byte) []byte { return pt.Pkt(0xB0, pt.U16(1), p, 0) },
	"DISCONNECT":  func(p []byte) []byte { return pt.Pkt(0xE0, 0, p) },
	"AUTH":        func(p []byte) []byte { return pt.Pkt(0xF0, 0, p) },
}

// sample returns the property bytes for id, with an authentication method in
// front of authentication data (data alone is a protocol error).
func sample(id packet.PropertyID) []byte {
	if id == packet.PropAuthData {
		return pt.Cat(propSample[packet.PropAuthMethod], propSample[id])
	}
	return propSample[id]
}

func TestProperties_AllowedOnlyWhereSpecified(t *testing.T) {
	for ctx, build := range withProps {
		ok := map[packet.PropertyID]bool{}
		for _, id := range allowed[ctx] {
			ok[id] = true
		}
		for id := range propSample {
			t.Run(fmt.Sprintf("%s/%s", ctx, id), func(t *testing.T) {
				// The property decodes where the table allows it and is a
				// malformed packet anywhere else.
				raw := build(pt.Props(sample(id)))
				p, _, err := packet.Decode(raw, packet.V5)
				if ok[id] && err != nil {
					t.Fatalf("%s in %s: %v", id, ctx, err)
				}
				if !ok[id] && packet.CodeOf(err) != packet.MalformedPacket {
					t.Fatalf("%s in %s: got %v (%#v), want malformed packet", id, ctx, err, p)
				}
				if !ok[id] {
					return
				}
				// And it survives encode/decode.
				b, err := packet.Encode(p, packet.V5)
				if err != nil {
					t.Fatalf("encode: %v", err)
				}
				if string(b) != string(raw) {
					t.Fatalf("re-encoded\n% x\nwant\n% x", b, raw)
				}
			})
		}
	}
}

func TestProperties_Duplicates(t *testing.T) {
	for ctx, build := range withProps {
		for _, id := range allowed[ctx] {
			t.Run(fmt.Sprintf("%s/%s", ctx, id), func(t *testing.T) {
				// A property given twice is a protocol error, except user
				// properties and PUBLISH subscription identifiers.
				raw := build(pt.Props(sample(id), propSample[id]))
				_, _, err := packet.Decode(raw, packet.V5)
				repeatable := id == packet.PropUserProperty || (id == packet.PropSubscriptionID && ctx == "PUBLISH")
				if repeatable && err != nil {
					t.Fatalf("repeated %s in %s: %v", id, ctx, err)
				}
				if !repeatable && packet.CodeOf(err) != packet.ProtocolError {
					t.Fatalf("repeated %s in %s: got %v, want protocol error", id, ctx, err)
				}
			})
		}
	}
}

func TestProperties_EncodeSkipsDisallowed(t *testing.T) {
	// A Properties value with everything set encodes only what each packet
	// allows, so the result always decodes.
	all := packet.Properties{PayloadFormat: 1, MessageExpiry: 1, ContentType: "c", ResponseTopic: "r",
		CorrelationData: []byte{1}, SubscriptionIDs: []uint32{1}, TopicAlias: 1, WillDelay: 1,
		SessionExpiry: 1, HasSessionExpiry: true, AssignedClientID: "a", ServerKeepAlive: 1, HasServerKeepAlive: true,
		AuthMethod: "m", AuthData: []byte{2}, RequestProblemInfo: 1, HasRequestProblemInfo: true, RequestResponseInfo: 1,
		ResponseInfo: "i", ServerReference: "s", ReceiveMaximum: 1, TopicAliasMaximum: 1, MaximumPacketSize: 1,
		MaximumQoS: 1, HasMaximumQoS: true, RetainAvailable: 1, HasRetainAvailable: true,
		WildcardSubAvailable: 1, HasWildcardSubAvailable: true, SubIDAvailable: 1, HasSubIDAvailable: true,
		SharedSubAvailable: 1, HasSharedSubAvailable: true, ReasonString: "why",
		UserProperties: []packet.UserProperty{{Key: "k", Value: "v"}}}
	pkts := []packet.Packet{
		&packet.Connect{ClientID: "c", Properties: all, Will: &packet.Will{Topic: "w", Properties: all}},
		&packet.Connack{Properties: all}, &packet.Publish{Topic: "t", Properties: all},
		&packet.Puback{PacketID: 1, Properties: all}, &packet.Pubrec{PacketID: 1, Properties: all},
		&packet.Pubrel{PacketID: 1, Properties: all}, &packet.Pubcomp{PacketID: 1, Properties: all},
		&packet.Subscribe{PacketID: 1, Properties: all, Subscriptions: []packet.Subscription{{Filter: "f"}}},
		&packet.Suback{PacketID: 1, Properties: all, ReasonCodes: []packet.ReasonCode{0}},
		&packet.Unsubscribe{PacketID: 1, Properties: all, Filters: []string{"f"}},
		&packet.Unsuback{PacketID: 1, Properties: all, ReasonCodes: []packet.ReasonCode{0}},
		&packet.Disconnect{Properties: all}, &packet.Auth{Properties: all},
	}
	for _, p := range pkts {
		t.Run(p.Type().String(), func(t *testing.T) {
			// Encoding with every property set yields a decodable packet.
			b, err := packet.Encode(p, packet.V5)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			if _, _, err := packet.Decode(b, packet.V5); err != nil {
				t.Fatalf("decode: %v\n% x", err, b)
			}
		})
	}
}
