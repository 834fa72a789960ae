// Package packettest holds byte-level MQTT fixtures shared by the codec's
// tests and the broker's raw-wire tests: raw bytes paired with the packet
// they decode to, or with the error they must be refused with.
package packettest

import "github.com/moat-iot/moat/internal/mqtt/packet"

// Fixture is one packet on the wire.
type Fixture struct {
	Name string // unique, usable as a subtest name
	Desc string // what the case checks, one line
	// Version is the protocol version the receiver decodes with: V311 or V5
	// (0 only for a "before CONNECT" case). A CONNECT fixture carries the
	// level its bytes declare.
	Version packet.Version
	Raw     []byte
	// Packet is the expected decoded packet (nil for an invalid fixture).
	Packet packet.Packet
	// NonCanonical marks valid bytes that encoding Packet does not reproduce
	// (an explicit default, properties out of order); the packet still
	// round-trips.
	NonCanonical bool
	// Code and Clause are the expected error of an invalid fixture. Clause
	// may be "" where the specification states the rule without a number.
	Code   packet.ReasonCode
	Clause string
}

// Abbreviations used in the fixtures.
const (
	v4 = packet.V311
	v5 = packet.V5
)

// All returns Valid() and Invalid() together.
func All() []Fixture { return append(Valid(), Invalid()...) }

// Valid returns the well-formed fixtures: every packet type in both
// versions (AUTH in MQTT 5 only) and every MQTT 5 property. Each call
// returns fresh values, so callers may modify them.
func Valid() []Fixture {
	return append(valid311(), valid5()...)
}

func valid311() []Fixture {
	return []Fixture{
		{
			Name: "v4/connect/minimal", Desc: "clean session, keep alive, client id, no will or credentials",
			Version: v4,
			Raw:     Pkt(0x10, Str("MQTT"), 4, 0x02, U16(60), Str("c1")),
			Packet:  &packet.Connect{ProtocolName: "MQTT", ProtocolLevel: v4, CleanStart: true, KeepAlive: 60, ClientID: "c1"},
		},
		{
			Name: "v4/connect/full", Desc: "will QoS 1 retained, user name and password",
			Version: v4,
			Raw: Pkt(0x10, Str("MQTT"), 4, 0xEC, U16(30), Str("dev-1"),
				Str("dev/1/lwt"), Str("gone"), Str("user"), Str("pa\x00ss")),
			Packet: &packet.Connect{ProtocolName: "MQTT", ProtocolLevel: v4, KeepAlive: 30, ClientID: "dev-1",
				Will:     &packet.Will{QoS: 1, Retain: true, Topic: "dev/1/lwt", Payload: []byte("gone")},
				Username: "user", HasUsername: true, Password: []byte("pa\x00ss")},
		},
		{
			Name: "v4/connect/empty-client-id", Desc: "a zero-length client id is allowed with clean session [MQTT-3.1.3-6]",
			Version: v4,
			Raw:     Pkt(0x10, Str("MQTT"), 4, 0x02, U16(0), Str("")),
			Packet:  &packet.Connect{ProtocolName: "MQTT", ProtocolLevel: v4, CleanStart: true},
		},
		{
			Name: "v4/connect/empty-username", Desc: "a present zero-length user name keeps its flag",
			Version: v4,
			Raw:     Pkt(0x10, Str("MQTT"), 4, 0x82, U16(5), Str("c"), Str("")),
			Packet:  &packet.Connect{ProtocolName: "MQTT", ProtocolLevel: v4, CleanStart: true, KeepAlive: 5, ClientID: "c", HasUsername: true},
		},
		{
			Name: "v4/connack/session-present", Desc: "accepted with session present",
			Version: v4, Raw: []byte{0x20, 0x02, 0x01, 0x00},
			Packet: &packet.Connack{SessionPresent: true},
		},
		{
			Name: "v4/connack/not-authorized", Desc: "3.1.1 return code 5 decodes raw",
			Version: v4, Raw: []byte{0x20, 0x02, 0x00, 0x05},
			Packet: &packet.Connack{ReasonCode: packet.V3NotAuthorized},
		},
		{
			Name: "v4/publish/qos0", Desc: "QoS 0: no packet identifier",
			Version: v4, Raw: Pkt(0x30, Str("a/b"), "hello"),
			Packet: &packet.Publish{Topic: "a/b", Payload: []byte("hello")},
		},
		{
			Name: "v4/publish/qos1-dup-retain", Desc: "DUP, QoS 1, RETAIN flags and packet identifier",
			Version: v4, Raw: Pkt(0x3B, Str("a/b"), U16(7), "x"),
			Packet: &packet.Publish{Dup: true, QoS: 1, Retain: true, Topic: "a/b", PacketID: 7, Payload: []byte("x")},
		},
		{
			Name: "v4/publish/qos2-empty-payload", Desc: "QoS 2 with an empty payload (deletes a retained message)",
			Version: v4, Raw: Pkt(0x35, Str("t"), U16(0xFFFF)),
			Packet: &packet.Publish{QoS: 2, Retain: true, Topic: "t", PacketID: 0xFFFF, Payload: []byte{}},
		},
		{
			Name: "v4/publish/utf8-topic", Desc: "BOM, U+FFFF, $ and multi-byte characters are allowed in a topic [MQTT-1.5.4-3]",
			Version: v4, Raw: Pkt(0x30, Str("\uFEFF$sys/\uFFFF/é/😀"), "p"),
			Packet: &packet.Publish{Topic: "\uFEFF$sys/\uFFFF/é/😀", Payload: []byte("p")},
		},
		{Name: "v4/puback", Desc: "packet identifier only", Version: v4, Raw: []byte{0x40, 0x02, 0x00, 0x07}, Packet: &packet.Puback{PacketID: 7}},
		{Name: "v4/pubrec", Desc: "packet identifier only", Version: v4, Raw: []byte{0x50, 0x02, 0x12, 0x34}, Packet: &packet.Pubrec{PacketID: 0x1234}},
		{Name: "v4/pubrel", Desc: "flags 0010", Version: v4, Raw: []byte{0x62, 0x02, 0x00, 0x01}, Packet: &packet.Pubrel{PacketID: 1}},
		{Name: "v4/pubcomp", Desc: "packet identifier only", Version: v4, Raw: []byte{0x70, 0x02, 0xFF, 0xFF}, Packet: &packet.Pubcomp{PacketID: 0xFFFF}},
		{
			Name: "v4/subscribe", Desc: "three filters with QoS 0, 1, 2 in order",
			Version: v4, Raw: Pkt(0x82, U16(10), Str("a/+"), 0, Str("b/#"), 1, Str("$share/g/c"), 2),
			Packet: &packet.Subscribe{PacketID: 10, Subscriptions: []packet.Subscription{
				{Filter: "a/+"}, {Filter: "b/#", QoS: 1}, {Filter: "$share/g/c", QoS: 2}}},
		},
		{
			Name: "v4/suback", Desc: "granted QoS codes and the failure code 0x80",
			Version: v4, Raw: []byte{0x90, 0x05, 0x00, 0x0A, 0x00, 0x01, 0x80},
			Packet: &packet.Suback{PacketID: 10, ReasonCodes: []packet.ReasonCode{0, 1, 0x80}},
		},
		{
			Name: "v4/unsubscribe", Desc: "two filters",
			Version: v4, Raw: Pkt(0xA2, U16(11), Str("a/+"), Str("b/#")),
			Packet: &packet.Unsubscribe{PacketID: 11, Filters: []string{"a/+", "b/#"}},
		},
		{Name: "v4/unsuback", Desc: "packet identifier only, no payload", Version: v4, Raw: []byte{0xB0, 0x02, 0x00, 0x0B}, Packet: &packet.Unsuback{PacketID: 11}},
		{Name: "v4/pingreq", Desc: "two bytes", Version: v4, Raw: []byte{0xC0, 0x00}, Packet: &packet.Pingreq{}},
		{Name: "v4/pingresp", Desc: "two bytes", Version: v4, Raw: []byte{0xD0, 0x00}, Packet: &packet.Pingresp{}},
		{Name: "v4/disconnect", Desc: "two bytes", Version: v4, Raw: []byte{0xE0, 0x00}, Packet: &packet.Disconnect{}},
	}
}

// userProps is the user property list used across MQTT 5 fixtures: order is
// kept and a key may repeat.
func userProps() []packet.UserProperty {
	return []packet.UserProperty{{Key: "k", Value: "v1"}, {Key: "k", Value: "v2"}, {Key: "", Value: ""}}
}

func userPropBytes() []byte {
	return Cat(0x26, Str("k"), Str("v1"), 0x26, Str("k"), Str("v2"), 0x26, Str(""), Str(""))
}

func valid5() []Fixture {
	return []Fixture{
		{
			Name: "v5/connect/minimal", Desc: "empty properties, clean start",
			Version: v5,
			Raw:     Pkt(0x10, Str("MQTT"), 5, 0x02, U16(60), Props(), Str("c1")),
			Packet:  &packet.Connect{ProtocolName: "MQTT", ProtocolLevel: v5, CleanStart: true, KeepAlive: 60, ClientID: "c1"},
		},
		{
			Name: "v5/connect/all-properties", Desc: "every CONNECT property, every will property, credentials",
			Version: v5,
			Raw: Pkt(0x10, Str("MQTT"), 5, 0xF6, U16(1200),
				Props(0x11, U32(3600), 0x15, Str("SCRAM"), 0x16, Str("d1"), 0x17, 0, 0x19, 1,
					0x21, U16(20), 0x22, U16(8), userPropBytes(), 0x27, U32(131072)),
				Str("dev-2"),
				Props(0x01, 1, 0x02, U32(60), 0x03, Str("text/plain"), 0x08, Str("resp/t"),
					0x09, Str("\x00\x01"), 0x18, U32(5), 0x26, Str("w"), Str("x")),
				Str("dev/2/lwt"), Str("bye"), Str("u"), Str("p")),
			Packet: &packet.Connect{ProtocolName: "MQTT", ProtocolLevel: v5, CleanStart: true, KeepAlive: 1200, ClientID: "dev-2",
				Properties: packet.Properties{SessionExpiry: 3600, HasSessionExpiry: true, AuthMethod: "SCRAM", AuthData: []byte("d1"),
					RequestProblemInfo: 0, HasRequestProblemInfo: true, RequestResponseInfo: 1, ReceiveMaximum: 20,
					TopicAliasMaximum: 8, UserProperties: userProps(), MaximumPacketSize: 131072},
				Will: &packet.Will{QoS: 2, Retain: true, Topic: "dev/2/lwt", Payload: []byte("bye"),
					Properties: packet.Properties{PayloadFormat: 1, MessageExpiry: 60, ContentType: "text/plain",
						ResponseTopic: "resp/t", CorrelationData: []byte{0, 1}, WillDelay: 5,
						UserProperties: []packet.UserProperty{{Key: "w", Value: "x"}}}},
				Username: "u", HasUsername: true, Password: []byte("p")},
		},
		{
			Name: "v5/connect/password-without-username", Desc: "MQTT 5 allows a password without a user name",
			Version: v5,
			Raw:     Pkt(0x10, Str("MQTT"), 5, 0x40, U16(0), Props(), Str(""), Str("tok")),
			Packet:  &packet.Connect{ProtocolName: "MQTT", ProtocolLevel: v5, Password: []byte("tok")},
		},
		{
			Name: "v5/connack/all-properties", Desc: "every CONNACK property (AWS-like capabilities)",
			Version: v5,
			Raw: Pkt(0x20, 0x00, 0x00, Props(0x11, U32(0), 0x12, Str("auto-1"), 0x13, U16(0), 0x15, Str("SCRAM"), 0x16, Str("d2"),
				0x1A, Str("resp/"), 0x1C, Str("other:8883"), 0x1F, Str("welcome"), 0x21, U16(100), 0x22, U16(8),
				0x24, 1, 0x25, 1, userPropBytes(), 0x27, U32(149504), 0x28, 1, 0x29, 0, 0x2A, 1)),
			Packet: &packet.Connack{Properties: packet.Properties{
				SessionExpiry: 0, HasSessionExpiry: true, AssignedClientID: "auto-1", ServerKeepAlive: 0, HasServerKeepAlive: true,
				AuthMethod: "SCRAM", AuthData: []byte("d2"), ResponseInfo: "resp/", ServerReference: "other:8883",
				ReasonString: "welcome", ReceiveMaximum: 100, TopicAliasMaximum: 8,
				MaximumQoS: 1, HasMaximumQoS: true, RetainAvailable: 1, HasRetainAvailable: true,
				UserProperties: userProps(), MaximumPacketSize: 149504,
				WildcardSubAvailable: 1, HasWildcardSubAvailable: true, SubIDAvailable: 0, HasSubIDAvailable: true,
				SharedSubAvailable: 1, HasSharedSubAvailable: true}},
		},
		{
			Name: "v5/connack/refused", Desc: "reason code 0x87 with a reason string",
			Version: v5, Raw: Pkt(0x20, 0x00, 0x87, Props(0x1F, Str("denied"))),
			Packet: &packet.Connack{ReasonCode: packet.NotAuthorized, Properties: packet.Properties{ReasonString: "denied"}},
		},
		{
			Name: "v5/publish/qos0-no-properties", Desc: "empty property section",
			Version: v5, Raw: Pkt(0x30, Str("a/b"), Props(), "hello"),
			Packet: &packet.Publish{Topic: "a/b", Payload: []byte("hello")},
		},
		{
			Name: "v5/publish/all-properties", Desc: "every PUBLISH property, two subscription identifiers",
			Version: v5,
			Raw: Pkt(0x33, Str("a/b"), U16(9), Props(0x01, 1, 0x02, U32(30), 0x03, Str("application/json"),
				0x08, Str("reply/to"), 0x09, Str("cid"), 0x0B, Varint(1), 0x0B, Varint(268435455), 0x23, U16(3),
				userPropBytes()), "{}"),
			Packet: &packet.Publish{QoS: 1, Retain: true, Topic: "a/b", PacketID: 9, Payload: []byte("{}"),
				Properties: packet.Properties{PayloadFormat: 1, MessageExpiry: 30, ContentType: "application/json",
					ResponseTopic: "reply/to", CorrelationData: []byte("cid"), SubscriptionIDs: []uint32{1, 268435455},
					TopicAlias: 3, UserProperties: userProps()}},
		},
		{
			Name: "v5/publish/alias-only", Desc: "empty topic name with a topic alias (§3.3.2.3.4)",
			Version: v5, Raw: Pkt(0x30, Str(""), Props(0x23, U16(3)), "x"),
			Packet: &packet.Publish{Payload: []byte("x"), Properties: packet.Properties{TopicAlias: 3}},
		},
		{
			Name: "v5/publish/explicit-defaults", Desc: "payload format 0 and properties out of identifier order decode; encoding drops the default",
			Version: v5, Raw: Pkt(0x30, Str("t"), Props(0x23, U16(1), 0x01, 0, 0x02, U32(9)), ""),
			Packet:       &packet.Publish{Topic: "t", Payload: []byte{}, Properties: packet.Properties{TopicAlias: 1, MessageExpiry: 9}},
			NonCanonical: true,
		},
		{Name: "v5/puback/short", Desc: "remaining length 2 means success, no properties", Version: v5, Raw: []byte{0x40, 0x02, 0x00, 0x07}, Packet: &packet.Puback{PacketID: 7}},
		{Name: "v5/puback/code-only", Desc: "reason code without properties", Version: v5, Raw: []byte{0x40, 0x03, 0x00, 0x07, 0x10}, Packet: &packet.Puback{PacketID: 7, ReasonCode: packet.NoMatchingSubscribers}},
		{
			Name: "v5/puback/explicit-success", Desc: "an explicit success code and empty properties decode; encoding uses the short form",
			Version: v5, Raw: []byte{0x40, 0x04, 0x00, 0x07, 0x00, 0x00}, Packet: &packet.Puback{PacketID: 7}, NonCanonical: true,
		},
		{
			Name: "v5/puback/properties", Desc: "failure code, reason string and user properties",
			Version: v5, Raw: Pkt(0x40, U16(7), 0x87, Props(0x1F, Str("no"), userPropBytes())),
			Packet: &packet.Puback{PacketID: 7, ReasonCode: packet.NotAuthorized, Properties: packet.Properties{ReasonString: "no", UserProperties: userProps()}},
		},
		{
			Name: "v5/pubrec/properties", Desc: "PUBREC with code 0x91 and a reason string",
			Version: v5, Raw: Pkt(0x50, U16(8), 0x91, Props(0x1F, Str("busy"))),
			Packet: &packet.Pubrec{PacketID: 8, ReasonCode: packet.PacketIdentifierInUse, Properties: packet.Properties{ReasonString: "busy"}},
		},
		{Name: "v5/pubrel/not-found", Desc: "PUBREL with code 0x92", Version: v5, Raw: []byte{0x62, 0x03, 0x00, 0x08, 0x92}, Packet: &packet.Pubrel{PacketID: 8, ReasonCode: packet.PacketIdentifierNotFound}},
		{
			Name: "v5/pubcomp/user-property", Desc: "PUBCOMP success with a user property",
			Version: v5, Raw: Pkt(0x70, U16(8), 0x00, Props(0x26, Str("a"), Str("b"))),
			Packet: &packet.Pubcomp{PacketID: 8, Properties: packet.Properties{UserProperties: []packet.UserProperty{{Key: "a", Value: "b"}}}},
		},
		{
			Name: "v5/subscribe/options", Desc: "subscription identifier, No Local, Retain As Published, Retain Handling",
			Version: v5,
			Raw:     Pkt(0x82, U16(5), Props(0x0B, Varint(300), userPropBytes()), Str("a/#"), 0x2D, Str("b"), 0x10),
			Packet: &packet.Subscribe{PacketID: 5,
				Properties: packet.Properties{SubscriptionIDs: []uint32{300}, UserProperties: userProps()},
				Subscriptions: []packet.Subscription{
					{Filter: "a/#", QoS: 1, NoLocal: true, RetainAsPublished: true, RetainHandling: 2},
					{Filter: "b", RetainHandling: 1}}},
		},
		{
			Name: "v5/suback", Desc: "MQTT 5 failure codes and a reason string",
			Version: v5, Raw: Pkt(0x90, U16(5), Props(0x1F, Str("partly")), 0x01, 0x87, 0xA1, 0x9E, 0xA2, 0x8F, 0x91, 0x97, 0x80, 0x83),
			Packet: &packet.Suback{PacketID: 5, Properties: packet.Properties{ReasonString: "partly"},
				ReasonCodes: []packet.ReasonCode{1, 0x87, 0xA1, 0x9E, 0xA2, 0x8F, 0x91, 0x97, 0x80, 0x83}},
		},
		{
			Name: "v5/unsubscribe", Desc: "user property and two filters",
			Version: v5, Raw: Pkt(0xA2, U16(6), Props(0x26, Str("a"), Str("b")), Str("a/#"), Str("b")),
			Packet: &packet.Unsubscribe{PacketID: 6, Properties: packet.Properties{UserProperties: []packet.UserProperty{{Key: "a", Value: "b"}}},
				Filters: []string{"a/#", "b"}},
		},
		{
			Name: "v5/unsuback", Desc: "success and no-subscription-existed codes",
			Version: v5, Raw: Pkt(0xB0, U16(6), Props(0x1F, Str("ok")), 0x00, 0x11),
			Packet: &packet.Unsuback{PacketID: 6, Properties: packet.Properties{ReasonString: "ok"}, ReasonCodes: []packet.ReasonCode{0, 0x11}},
		},
		{Name: "v5/pingreq", Desc: "two bytes", Version: v5, Raw: []byte{0xC0, 0x00}, Packet: &packet.Pingreq{}},
		{Name: "v5/pingresp", Desc: "two bytes", Version: v5, Raw: []byte{0xD0, 0x00}, Packet: &packet.Pingresp{}},
		{Name: "v5/disconnect/short", Desc: "remaining length 0 means normal disconnection", Version: v5, Raw: []byte{0xE0, 0x00}, Packet: &packet.Disconnect{}},
		{Name: "v5/disconnect/code-only", Desc: "session taken over, no properties", Version: v5, Raw: []byte{0xE0, 0x01, 0x8E}, Packet: &packet.Disconnect{ReasonCode: packet.SessionTakenOver}},
		{
			Name: "v5/disconnect/properties", Desc: "every DISCONNECT property",
			Version: v5, Raw: Pkt(0xE0, 0x9C, Props(0x11, U32(0), 0x1C, Str("b:8883"), 0x1F, Str("moved"), userPropBytes())),
			Packet: &packet.Disconnect{ReasonCode: packet.UseAnotherServer, Properties: packet.Properties{
				SessionExpiry: 0, HasSessionExpiry: true, ServerReference: "b:8883", ReasonString: "moved", UserProperties: userProps()}},
		},
		{Name: "v5/auth/short", Desc: "remaining length 0 means success", Version: v5, Raw: []byte{0xF0, 0x00}, Packet: &packet.Auth{}},
		{
			Name: "v5/auth/continue", Desc: "every AUTH property",
			Version: v5, Raw: Pkt(0xF0, 0x18, Props(0x15, Str("SCRAM"), 0x16, Str("\xff\x00"), 0x1F, Str("step 2"), userPropBytes())),
			Packet: &packet.Auth{ReasonCode: packet.ContinueAuthentication, Properties: packet.Properties{
				AuthMethod: "SCRAM", AuthData: []byte{0xff, 0}, ReasonString: "step 2", UserProperties: userProps()}},
		},
	}
}
