package packettest

import "github.com/moat-iot/moat/internal/mqtt/packet"

// Reason codes used by the invalid fixtures.
const (
	malformed   = packet.MalformedPacket
	protocol    = packet.ProtocolError
	topicName   = packet.TopicNameInvalid
	topicAlias  = packet.TopicAliasInvalid
	unsupported = packet.UnsupportedProtocolVersion
	clientID    = packet.ClientIdentifierNotValid
)

// bad is an invalid fixture.
func bad(name, desc string, v packet.Version, code packet.ReasonCode, clause string, raw []byte) Fixture {
	return Fixture{Name: name, Desc: desc, Version: v, Raw: raw, Code: code, Clause: clause}
}

// connect4 and connect5 build a CONNECT body prefix up to the flags.
func connect4(flags byte) []byte { return Cat(Str("MQTT"), 4, flags, U16(60)) }
func connect5(flags byte) []byte { return Cat(Str("MQTT"), 5, flags, U16(60)) }

// Invalid returns fixtures that a receiver must refuse, each with the reason
// code and, where the specification numbers the rule, the clause.
func Invalid() []Fixture {
	var f []Fixture
	f = append(f, invalidHeader()...)
	f = append(f, invalidConnect()...)
	f = append(f, invalidPublish()...)
	f = append(f, invalidOther()...)
	return f
}

func invalidHeader() []Fixture {
	return []Fixture{
		bad("header/type-0", "packet type 0 is forbidden", v4, malformed, "", []byte{0x00, 0x00}),
		bad("header/type-15-v4", "type 15 is reserved in 3.1.1", v4, malformed, "", []byte{0xF0, 0x00}),
		bad("header/before-connect", "the first packet must be CONNECT", 0, protocol, "MQTT-3.1.0-1", []byte{0xC0, 0x00}),
		bad("header/publish-qos3", "PUBLISH QoS 3", v4, malformed, "MQTT-3.3.1-4", Pkt(0x36, Str("t"), U16(1))),
		bad("header/publish-dup-qos0", "DUP on a QoS 0 PUBLISH", v5, malformed, "MQTT-3.3.1-2", Pkt(0x38, Str("t"), Props())),
		bad("header/pubrel-flags", "PUBREL flags must be 0010", v4, malformed, "MQTT-3.6.1-1", []byte{0x60, 0x02, 0x00, 0x01}),
		bad("header/subscribe-flags", "SUBSCRIBE flags must be 0010", v4, malformed, "MQTT-3.8.1-1", Pkt(0x80, U16(1), Str("a"), 0)),
		bad("header/unsubscribe-flags", "UNSUBSCRIBE flags must be 0010", v5, malformed, "MQTT-3.10.1-1", Pkt(0xA3, U16(1), Props(), Str("a"))),
		bad("header/pingreq-flags", "reserved flags of PINGREQ must be 0", v4, malformed, "MQTT-2.1.3-1", []byte{0xC1, 0x00}),
		bad("header/connect-flags", "reserved flags of CONNECT must be 0", v4, malformed, "MQTT-2.1.3-1", Pkt(0x11, connect4(0x02), Str("c"))),
		bad("header/varint-5-bytes", "a remaining length of five bytes", v4, malformed, "MQTT-1.5.5-1", []byte{0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F}),
		bad("header/varint-not-minimal", "remaining length 0 in two bytes", v4, malformed, "MQTT-1.5.5-1", []byte{0xC0, 0x80, 0x00}),
		bad("header/trailing-bytes", "a PINGREQ with a body", v4, malformed, "", []byte{0xC0, 0x01, 0x00}),
	}
}

func invalidConnect() []Fixture {
	return []Fixture{
		bad("connect/protocol-name", "an unknown protocol name", v4, protocol, "MQTT-3.1.2-1", Pkt(0x10, Str("MQTX"), 4, 0x02, U16(60), Str("c"))),
		bad("connect/mqtt31", "MQTT 3.1 (MQIsdp, level 3) is not supported", v4, unsupported, "MQTT-3.1.2-2", Pkt(0x10, Str("MQIsdp"), 3, 0x02, U16(60), Str("c"))),
		bad("connect/level-6", "an unknown protocol level", v4, unsupported, "MQTT-3.1.2-2", Pkt(0x10, Str("MQTT"), 6, 0x02, U16(60), Str("c"))),
		bad("connect/reserved-flag", "the reserved connect flag must be 0", v4, malformed, "MQTT-3.1.2-3", Pkt(0x10, connect4(0x03), Str("c"))),
		bad("connect/will-qos-no-will", "will QoS without the will flag", v4, malformed, "MQTT-3.1.2-11", Pkt(0x10, connect4(0x0A), Str("c"))),
		bad("connect/will-retain-no-will", "will retain without the will flag", v5, malformed, "MQTT-3.1.2-13", Pkt(0x10, connect5(0x22), Props(), Str("c"))),
		bad("connect/will-qos3", "will QoS 3", v4, malformed, "MQTT-3.1.2-12", Pkt(0x10, connect4(0x1E), Str("c"), Str("w"), Str("p"))),
		bad("connect/password-no-username-v4", "3.1.1 needs a user name for a password", v4, protocol, "MQTT-3.1.2-22", Pkt(0x10, connect4(0x42), Str("c"), Str("p"))),
		bad("connect/empty-id-persistent-v4", "3.1.1 empty client id without clean session", v4, clientID, "MQTT-3.1.3-8", Pkt(0x10, connect4(0x00), Str(""))),
		bad("connect/client-id-ill-formed", "client id with a lone continuation byte", v4, malformed, "MQTT-1.5.4-1", Pkt(0x10, connect4(0x02), Str("a\x80"))),
		bad("connect/client-id-nul", "client id containing U+0000", v5, malformed, "MQTT-1.5.4-2", Pkt(0x10, connect5(0x02), Props(), Str("a\x00b"))),
		bad("connect/client-id-surrogate", "client id with an encoded surrogate U+D800", v4, malformed, "MQTT-1.5.4-1", Pkt(0x10, connect4(0x02), Str("\xED\xA0\x80"))),
		bad("connect/client-id-overlong", "client id with an overlong encoding of '/'", v4, malformed, "MQTT-1.5.4-1", Pkt(0x10, connect4(0x02), Str("\xC0\xAF"))),
		bad("connect/will-topic-wildcard", "a will topic is a topic name", v4, topicName, "MQTT-3.3.2-2", Pkt(0x10, connect4(0x06), Str("c"), Str("a/#"), Str("p"))),
		bad("connect/truncated-client-id", "client id length beyond the packet", v4, malformed, "", Pkt(0x10, connect4(0x02), U16(10), "ab")),
		bad("connect/missing-password", "password flag without a password", v5, malformed, "", Pkt(0x10, connect5(0xC2), Props(), Str("c"), Str("u"))),
		bad("connect/trailing", "bytes after the last field", v4, malformed, "", Pkt(0x10, connect4(0x02), Str("c"), 0)),
		bad("connect/duplicate-session-expiry", "a property that may appear once appears twice", v5, protocol, "", Pkt(0x10, connect5(0x02), Props(0x11, U32(1), 0x11, U32(2)), Str("c"))),
		bad("connect/topic-alias-property", "topic alias is not a CONNECT property", v5, malformed, "", Pkt(0x10, connect5(0x02), Props(0x23, U16(1)), Str("c"))),
		bad("connect/will-session-expiry", "session expiry is not a will property", v5, malformed, "", Pkt(0x10, connect5(0x06), Props(), Str("c"), Props(0x11, U32(1)), Str("w"), Str("p"))),
		bad("connect/will-duplicate-delay", "will delay twice", v5, protocol, "", Pkt(0x10, connect5(0x06), Props(), Str("c"), Props(0x18, U32(1), 0x18, U32(1)), Str("w"), Str("p"))),
		bad("connect/auth-data-no-method", "authentication data without a method", v5, protocol, "", Pkt(0x10, connect5(0x02), Props(0x16, Str("d")), Str("c"))),
		bad("connect/receive-maximum-0", "receive maximum 0", v5, protocol, "", Pkt(0x10, connect5(0x02), Props(0x21, U16(0)), Str("c"))),
		bad("connect/maximum-packet-size-0", "maximum packet size 0", v5, protocol, "", Pkt(0x10, connect5(0x02), Props(0x27, U32(0)), Str("c"))),
		bad("connect/request-problem-2", "request problem information must be 0 or 1", v5, protocol, "", Pkt(0x10, connect5(0x02), Props(0x17, 2), Str("c"))),
		bad("connect/request-response-2", "request response information must be 0 or 1", v5, protocol, "", Pkt(0x10, connect5(0x02), Props(0x19, 2), Str("c"))),
		bad("connect/property-length-overflow", "property length beyond the packet", v5, malformed, "", Pkt(0x10, connect5(0x02), 0x7F, 0x11)),
		bad("connect/unknown-property", "property identifier 0x7F does not exist", v5, malformed, "", Pkt(0x10, connect5(0x02), Props(0x7F, 0), Str("c"))),
		bad("connect/user-property-invalid-utf8", "a user property key must be UTF-8", v5, malformed, "MQTT-1.5.4-1", Pkt(0x10, connect5(0x02), Props(0x26, Str("\xff"), Str("v")), Str("c"))),
		bad("connack/reserved-flags", "CONNACK acknowledge flags bits 7-1 are reserved", v4, malformed, "", []byte{0x20, 0x02, 0x02, 0x00}),
		bad("connack/v4-code-6", "3.1.1 return codes stop at 5", v4, protocol, "", []byte{0x20, 0x02, 0x00, 0x06}),
		bad("connack/session-present-refused", "a refusal with session present", v5, protocol, "MQTT-3.2.2-6", Pkt(0x20, 0x01, 0x87, Props())),
		bad("connack/v5-wrong-code", "0x10 is not a CONNACK code", v5, protocol, "", Pkt(0x20, 0x00, 0x10, Props())),
		bad("connack/maximum-qos-2", "maximum QoS must be 0 or 1", v5, protocol, "", Pkt(0x20, 0x00, 0x00, Props(0x24, 2))),
		bad("connack/duplicate-retain-available", "retain available twice", v5, protocol, "", Pkt(0x20, 0x00, 0x00, Props(0x25, 1, 0x25, 1))),
	}
}

func invalidPublish() []Fixture {
	return []Fixture{
		bad("publish/wildcard-plus", "'+' in a topic name", v4, topicName, "MQTT-3.3.2-2", Pkt(0x30, Str("a/+"), "p")),
		bad("publish/wildcard-hash", "'#' in a topic name", v5, topicName, "MQTT-3.3.2-2", Pkt(0x30, Str("a/#"), Props(), "p")),
		bad("publish/topic-ill-formed", "a topic name that is not UTF-8", v4, malformed, "MQTT-1.5.4-1", Pkt(0x30, Str("a\xfe"), "p")),
		bad("publish/topic-nul", "U+0000 in a topic name", v4, malformed, "MQTT-1.5.4-2", Pkt(0x30, Str("a\x00"), "p")),
		bad("publish/packet-id-0", "QoS 1 with packet identifier 0", v4, protocol, "MQTT-2.2.1-3", Pkt(0x32, Str("t"), U16(0), "p")),
		bad("publish/missing-packet-id", "QoS 1 ending before the packet identifier", v4, malformed, "", Pkt(0x32, Str("t"), 0)),
		bad("publish/empty-topic-v4", "an empty topic name", v4, topicName, "MQTT-4.7.3-1", Pkt(0x30, Str(""), "p")),
		bad("publish/empty-topic-no-alias", "an empty topic name without a topic alias", v5, topicName, "MQTT-4.7.3-1", Pkt(0x30, Str(""), Props(), "p")),
		bad("publish/topic-alias-0", "topic alias 0", v5, topicAlias, "MQTT-3.3.2-8", Pkt(0x30, Str("t"), Props(0x23, U16(0)), "p")),
		bad("publish/subscription-id-0", "subscription identifier 0", v5, protocol, "", Pkt(0x30, Str("t"), Props(0x0B, 0), "p")),
		bad("publish/subscription-id-5-bytes", "a subscription identifier of five bytes", v5, malformed, "MQTT-1.5.5-1", Pkt(0x30, Str("t"), Props(0x0B, 0xFF, 0xFF, 0xFF, 0xFF, 0x01), "p")),
		bad("publish/payload-format-2", "payload format indicator must be 0 or 1", v5, protocol, "", Pkt(0x30, Str("t"), Props(0x01, 2), "p")),
		bad("publish/duplicate-expiry", "message expiry twice", v5, protocol, "", Pkt(0x30, Str("t"), Props(0x02, U32(1), 0x02, U32(1)), "p")),
		bad("publish/duplicate-alias", "topic alias twice", v5, protocol, "", Pkt(0x30, Str("t"), Props(0x23, U16(1), 0x23, U16(1)), "p")),
		bad("publish/response-topic-wildcard", "a response topic is a topic name", v5, topicName, "MQTT-3.3.2-14", Pkt(0x30, Str("t"), Props(0x08, Str("r/+")), "p")),
		bad("publish/session-expiry", "session expiry is not a PUBLISH property", v5, malformed, "", Pkt(0x30, Str("t"), Props(0x11, U32(1)), "p")),
		bad("publish/truncated-property", "a property value cut by the property length", v5, malformed, "", Pkt(0x30, Str("t"), Props(0x02, 0, 0), "p")),
	}
}

func invalidOther() []Fixture {
	return []Fixture{
		bad("puback/packet-id-0", "an ack for packet identifier 0", v4, protocol, "MQTT-2.2.1-3", []byte{0x40, 0x02, 0x00, 0x00}),
		bad("puback/v4-trailing", "3.1.1 PUBACK has no reason code", v4, malformed, "", []byte{0x40, 0x03, 0x00, 0x01, 0x00}),
		bad("puback/short", "PUBACK without a full packet identifier", v4, malformed, "", []byte{0x40, 0x01, 0x00}),
		bad("pubrel/wrong-code", "0x10 is not a PUBREL code", v5, protocol, "", []byte{0x62, 0x03, 0x00, 0x01, 0x10}),
		bad("pubcomp/bad-property", "topic alias is not a PUBCOMP property", v5, malformed, "", Pkt(0x70, U16(1), 0x00, Props(0x23, U16(1)))),
		bad("subscribe/no-filters", "SUBSCRIBE needs a filter", v4, protocol, "MQTT-3.8.3-2", Pkt(0x82, U16(1))),
		bad("subscribe/no-filters-v5", "SUBSCRIBE needs a filter", v5, protocol, "MQTT-3.8.3-2", Pkt(0x82, U16(1), Props())),
		bad("subscribe/packet-id-0", "SUBSCRIBE with packet identifier 0", v4, protocol, "MQTT-2.2.1-3", Pkt(0x82, U16(0), Str("a"), 0)),
		bad("subscribe/v4-reserved-bits", "3.1.1 requested QoS upper bits are reserved", v4, malformed, "MQTT-3-8.3-4", Pkt(0x82, U16(1), Str("a"), 0x04)),
		bad("subscribe/v5-reserved-bits", "subscription option bits 6-7 are reserved", v5, malformed, "MQTT-3.8.3-5", Pkt(0x82, U16(1), Props(), Str("a"), 0x40)),
		bad("subscribe/qos3", "requested QoS 3", v5, malformed, "MQTT-3-8.3-4", Pkt(0x82, U16(1), Props(), Str("a"), 0x03)),
		bad("subscribe/retain-handling-3", "retain handling 3", v5, protocol, "", Pkt(0x82, U16(1), Props(), Str("a"), 0x30)),
		bad("subscribe/empty-filter", "an empty topic filter", v4, protocol, "MQTT-4.7.3-1", Pkt(0x82, U16(1), Str(""), 0)),
		bad("subscribe/filter-ill-formed", "a topic filter that is not UTF-8", v4, malformed, "MQTT-1.5.4-1", Pkt(0x82, U16(1), Str("\xff"), 0)),
		bad("subscribe/missing-options", "a filter without its options byte", v4, malformed, "", Pkt(0x82, U16(1), Str("a"))),
		bad("subscribe/two-subscription-ids", "SUBSCRIBE carries at most one subscription identifier", v5, protocol, "", Pkt(0x82, U16(1), Props(0x0B, 1, 0x0B, 2), Str("a"), 0)),
		bad("suback/v4-code-3", "3.1.1 SUBACK codes are 0, 1, 2, 0x80", v4, protocol, "", []byte{0x90, 0x03, 0x00, 0x01, 0x03}),
		bad("suback/v5-wrong-code", "0x11 is not a SUBACK code", v5, protocol, "", Pkt(0x90, U16(1), Props(), 0x11)),
		bad("suback/no-codes", "SUBACK without codes", v4, protocol, "", []byte{0x90, 0x02, 0x00, 0x01}),
		bad("unsubscribe/no-filters", "UNSUBSCRIBE needs a filter", v4, protocol, "MQTT-3.10.3-2", Pkt(0xA2, U16(1))),
		bad("unsubscribe/subscription-id", "subscription identifier is not an UNSUBSCRIBE property", v5, malformed, "", Pkt(0xA2, U16(1), Props(0x0B, 1), Str("a"))),
		bad("unsuback/v4-payload", "3.1.1 UNSUBACK has no payload", v4, malformed, "", []byte{0xB0, 0x03, 0x00, 0x01, 0x00}),
		bad("unsuback/v5-no-codes", "MQTT 5 UNSUBACK needs codes", v5, protocol, "", Pkt(0xB0, U16(1), Props())),
		bad("disconnect/v4-body", "3.1.1 DISCONNECT has no body", v4, malformed, "", []byte{0xE0, 0x01, 0x00}),
		bad("disconnect/wrong-code", "0x01 is not a DISCONNECT code", v5, protocol, "", []byte{0xE0, 0x01, 0x01}),
		bad("disconnect/duplicate-session-expiry", "session expiry twice", v5, protocol, "", Pkt(0xE0, 0x00, Props(0x11, U32(0), 0x11, U32(0)))),
		bad("disconnect/assigned-client-id", "assigned client id is not a DISCONNECT property", v5, malformed, "", Pkt(0xE0, 0x00, Props(0x12, Str("x")))),
		bad("auth/wrong-code", "AUTH codes are 0x00, 0x18, 0x19", v5, protocol, "MQTT-3.15.2-1", Pkt(0xF0, 0x80, Props())),
		bad("auth/data-no-method", "authentication data without a method", v5, protocol, "", Pkt(0xF0, 0x18, Props(0x16, Str("d")))),
	}
}
