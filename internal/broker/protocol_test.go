package broker_test

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/broker"
	"github.com/moat-iot/moat/internal/mqtt/packet"
	pt "github.com/moat-iot/moat/internal/mqtt/packet/packettest"
)

const (
	v4 = packet.V311
	v5 = packet.V5
)

// connectBody is a CONNECT body: protocol name, level, flags, keep-alive
// 60, the MQTT 5 properties when level is 5, then rest.
func connectBody(name string, level, flags byte, rest ...any) []byte {
	parts := []any{pt.Str(name), level, flags, pt.U16(60)}
	if level == 5 {
		parts = append(parts, pt.Props())
	}
	return pt.Cat(append(parts, rest...)...)
}

// TestProtocol_FirstPacket sends a bad first packet and checks the answer:
// the exact CONNACK bytes the specification allows, or a close without
// CONNACK.
func TestProtocol_FirstPacket(t *testing.T) {
	tb := startBroker(t, nil)
	cases := []struct {
		name  string
		raw   []byte
		reply []byte // the exact CONNACK expected before the close; nil: none
	}{
		// [MQTT-3.1.0-1] the first packet from the client must be CONNECT
		{"publish before connect", pt.Pkt(0x30, pt.Str("a/b"), "p"), nil},
		// [MQTT-3.1.0-1]
		{"pingreq before connect", []byte{0xC0, 0x00}, nil},
		// [MQTT-1.5.5-1] a remaining length of five bytes is malformed
		{"remaining length 5 bytes", []byte{0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F}, nil},
		// [MQTT-1.5.5-1] a remaining length not minimally encoded
		{"remaining length not minimal", []byte{0x10, 0x80, 0x00}, nil},
		// [MQTT-2.1.3-1] the reserved fixed-header flags of CONNECT are 0
		{"connect header flags", pt.Pkt(0x11, connectBody("MQTT", 4, 0x02, pt.Str("c"))), nil},
		// [MQTT-3.1.2-1] a wrong protocol name: the server may close (3.1.1)
		{"protocol name MQTX", pt.Pkt(0x10, connectBody("MQTX", 4, 0x02, pt.Str("c"))), nil},
		// [MQTT-3.1.2-2] level 3 (MQTT 3.1): 3.1.1 CONNACK 0x01 Unacceptable protocol version
		{"protocol level 3", pt.Pkt(0x10, pt.Str("MQIsdp"), 3, 0x02, pt.U16(60), pt.Str("c")), []byte{0x20, 0x02, 0x00, 0x01}},
		// [MQTT-3.1.2-2] an unknown level: 3.1.1 CONNACK 0x01 (the server cannot know a newer format)
		{"protocol level 6", pt.Pkt(0x10, pt.Str("MQTT"), 6, 0x02, pt.U16(60), pt.Str("c")), []byte{0x20, 0x02, 0x00, 0x01}},
		// [MQTT-3.1.2-3] the reserved connect flag must be 0: 3.1.1 closes
		{"reserved connect flag v4", pt.Pkt(0x10, connectBody("MQTT", 4, 0x03, pt.Str("c"))), nil},
		// [MQTT-3.1.2-3] MQTT 5: CONNACK 0x81 Malformed Packet
		{"reserved connect flag v5", pt.Pkt(0x10, connectBody("MQTT", 5, 0x03, pt.Str("c"))), pt.Pkt(0x20, 0x00, 0x81, pt.Props())},
		// [MQTT-3.1.2-11] will QoS without the will flag (MQTT 5: 0x81)
		{"will qos without will v5", pt.Pkt(0x10, connectBody("MQTT", 5, 0x0A, pt.Str("c"))), pt.Pkt(0x20, 0x00, 0x81, pt.Props())},
		// [MQTT-3.1.3-8] 3.1.1: an empty client id needs Clean Session: CONNACK 0x02 Identifier rejected
		{"empty client id persistent v4", pt.Pkt(0x10, connectBody("MQTT", 4, 0x00, pt.Str(""))), []byte{0x20, 0x02, 0x00, 0x02}},
		// [MQTT-1.5.4-1] an ill-formed UTF-8 client id (MQTT 5: 0x81)
		{"client id bad utf8 v5", pt.Pkt(0x10, connectBody("MQTT", 5, 0x02, pt.Str("a\x80"))), pt.Pkt(0x20, 0x00, 0x81, pt.Props())},
		// [MQTT-1.5.4-2] U+0000 in the client id (MQTT 5: 0x81)
		{"client id nul v5", pt.Pkt(0x10, connectBody("MQTT", 5, 0x02, pt.Str("a\x00b"))), pt.Pkt(0x20, 0x00, 0x81, pt.Props())},
		// [MQTT-3.3.2-2] a will topic is a topic name: no wildcards (MQTT 5: 0x90)
		{"will topic wildcard v5", pt.Pkt(0x10, connectBody("MQTT", 5, 0x06, pt.Str("c"), pt.Props(), pt.Str("a/#"), pt.Str("p"))), pt.Pkt(0x20, 0x00, 0x90, pt.Props())},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := tb.dial(t)
			w.sendRaw(tc.raw)
			if tc.reply != nil {
				got := make([]byte, len(tc.reply))
				_ = w.nc.SetReadDeadline(time.Now().Add(wireTimeout))
				if _, err := io.ReadFull(w.nc, got); err != nil {
					t.Fatalf("no CONNACK: %v", err)
				}
				if !bytes.Equal(got, tc.reply) {
					t.Fatalf("reply % x, want % x", got, tc.reply)
				}
			}
			w.expectClosed()
		})
	}
}

// TestProtocol_Connect checks what an accepted CONNECT gets back.
func TestProtocol_Connect(t *testing.T) {
	tb := startBroker(t, nil)
	t.Run("assigned client id", func(t *testing.T) {
		// [MQTT-3.1.3-6] [MQTT-3.1.3-7] MQTT 5: an empty client id gets one, returned in CONNACK
		_, ack := tb.client(t, "", v5)
		if ack.Properties.AssignedClientID == "" {
			t.Fatal("no Assigned Client Identifier in CONNACK")
		}
	})
	t.Run("server keep alive", func(t *testing.T) {
		// [MQTT-3.2.2-21] a keep-alive below MinKeepAlive (30 s) is raised and told through Server Keep Alive
		_, ack := tb.client(t, "ka", v5, func(c *packet.Connect) { c.KeepAlive = 1 })
		if !ack.Properties.HasServerKeepAlive || ack.Properties.ServerKeepAlive != 30 {
			t.Fatalf("Server Keep Alive %v %d, want 30", ack.Properties.HasServerKeepAlive, ack.Properties.ServerKeepAlive)
		}
	})
	t.Run("capabilities", func(t *testing.T) {
		// §3.2.2.3: CONNACK states Receive Maximum, Maximum Packet Size and Topic Alias Maximum
		_, ack := tb.client(t, "caps", v5)
		lim := broker.DefaultLimits()
		pr := ack.Properties
		if pr.ReceiveMaximum != lim.ReceiveMaximum || pr.MaximumPacketSize != uint32(lim.MaxPacketSize) || pr.TopicAliasMaximum != lim.TopicAliasMaximum {
			t.Fatalf("CONNACK properties %+v", pr)
		}
	})
	t.Run("refused by the gate", func(t *testing.T) {
		// §3.2.2.2: a refused CONNECT gets the gate's code and reason string, then the close
		tb := startBrokerGate(t, nil, fakeGate{admit: func(broker.ConnInfo) (broker.Permissions, *broker.Refusal) {
			return nil, &broker.Refusal{Code: packet.NotAuthorized, Reason: "iot:Connect on client/x"}
		}})
		w := tb.dial(t)
		ack := w.connect("x", v5)
		if ack.ReasonCode != packet.NotAuthorized || ack.Properties.ReasonString == "" || ack.SessionPresent {
			t.Fatalf("CONNACK %+v, want 0x87 with a reason string", ack)
		}
		w.expectClosed()
		w = tb.dial(t)
		if ack := w.connect("x", v4); ack.ReasonCode != packet.V3NotAuthorized {
			t.Fatalf("3.1.1 CONNACK %s, want 0x05", ack.ReasonCode)
		}
		w.expectClosed()
	})
}

// TestProtocol_AfterConnect sends a bad packet on an established
// connection: MQTT 5 gets DISCONNECT with the reason code, then the close;
// 3.1.1 gets the close.
func TestProtocol_AfterConnect(t *testing.T) {
	tb := startBroker(t, func(l *broker.Limits) { l.MaxPacketSize = 1024 })
	cases := []struct {
		name string
		v    packet.Version
		raw  []byte
		code packet.ReasonCode
	}{
		// [MQTT-3.1.0-2] a second CONNECT is a protocol error
		{"second connect v4", v4, pt.Pkt(0x10, connectBody("MQTT", 4, 0x02, pt.Str("c"))), packet.ProtocolError},
		// [MQTT-3.1.0-2]
		{"second connect v5", v5, pt.Pkt(0x10, connectBody("MQTT", 5, 0x02, pt.Str("c"))), packet.ProtocolError},
		// §2.1.2: packet type 0 is forbidden
		{"type 0 v5", v5, []byte{0x00, 0x00}, packet.MalformedPacket},
		// [MQTT-1.5.5-1] a remaining length of five bytes
		{"remaining length 5 bytes v4", v4, []byte{0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F}, packet.MalformedPacket},
		// [MQTT-1.5.5-1]
		{"remaining length 5 bytes v5", v5, []byte{0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F}, packet.MalformedPacket},
		// [MQTT-2.1.3-1] reserved flags of PINGREQ
		{"pingreq flags v5", v5, []byte{0xC1, 0x00}, packet.MalformedPacket},
		// [MQTT-3.8.1-1] SUBSCRIBE flags must be 0010
		{"subscribe flags v4", v4, pt.Pkt(0x80, pt.U16(1), pt.Str("a"), 0), packet.MalformedPacket},
		// [MQTT-3.3.1-4] PUBLISH QoS 3
		{"publish qos 3 v5", v5, pt.Pkt(0x36, pt.Str("t"), pt.U16(1), pt.Props()), packet.MalformedPacket},
		// [MQTT-3.3.2-2] '+' in a PUBLISH topic
		{"publish wildcard plus v4", v4, pt.Pkt(0x30, pt.Str("a/+"), "p"), packet.TopicNameInvalid},
		// [MQTT-3.3.2-2] '+' in a PUBLISH topic: 0x90 Topic Name invalid
		{"publish wildcard plus v5", v5, pt.Pkt(0x30, pt.Str("a/+"), pt.Props(), "p"), packet.TopicNameInvalid},
		// [MQTT-3.3.2-2] '#' in a PUBLISH topic
		{"publish wildcard hash v5", v5, pt.Pkt(0x32, pt.Str("a/#"), pt.U16(1), pt.Props(), "p"), packet.TopicNameInvalid},
		// [MQTT-1.5.4-1] a topic that is not UTF-8
		{"publish topic bad utf8 v4", v4, pt.Pkt(0x30, pt.Str("a\xfe"), "p"), packet.MalformedPacket},
		// [MQTT-1.5.4-1] an encoded surrogate in a topic
		{"publish topic surrogate v5", v5, pt.Pkt(0x30, pt.Str("a/\xED\xA0\x80"), pt.Props(), "p"), packet.MalformedPacket},
		// [MQTT-1.5.4-2] U+0000 in a topic
		{"publish topic nul v5", v5, pt.Pkt(0x30, pt.Str("a\x00b"), pt.Props(), "p"), packet.MalformedPacket},
		// [MQTT-4.7.3-1] an empty topic name
		{"publish empty topic v4", v4, pt.Pkt(0x30, pt.Str(""), "p"), packet.TopicNameInvalid},
		// [MQTT-2.2.1-3] QoS 1 with packet identifier 0
		{"publish packet id 0 v5", v5, pt.Pkt(0x32, pt.Str("t"), pt.U16(0), pt.Props(), "p"), packet.ProtocolError},
		// [MQTT-3.3.4-6] a client PUBLISH must not carry a Subscription Identifier
		{"publish subscription id v5", v5, pt.Pkt(0x30, pt.Str("t"), pt.Props(0x0B, 1), "p"), packet.ProtocolError},
		// [MQTT-3.8.3-2] SUBSCRIBE without a filter
		{"subscribe no filters v5", v5, pt.Pkt(0x82, pt.U16(1), pt.Props()), packet.ProtocolError},
		// [MQTT-3.14.2-2] DISCONNECT may not set a session expiry when CONNECT had 0
		{"disconnect session expiry v5", v5, pt.Pkt(0xE0, 0x00, pt.Props(0x11, pt.U32(60))), packet.ProtocolError},
		// §3.1.2.11.2, §4.13: a packet over the Maximum Packet Size: 0x95
		// Packet too large, refused from its fixed header (the body is not sent)
		{"packet too large v5", v5, pt.Cat(0x30, pt.Varint(2000), pt.Str("big")), packet.PacketTooLarge},
		// [MQTT-3.2.2-15]-side: 3.1.1 over the limit is closed
		{"packet too large v4", v4, pt.Cat(0x30, pt.Varint(2000), pt.Str("big")), packet.PacketTooLarge},
		// §3.15: AUTH without an authentication method in CONNECT
		{"auth unexpected v5", v5, pt.Pkt(0xF0, 0x18, pt.Props(0x15, pt.Str("m"))), packet.ProtocolError},
		// §3.2: a client does not send CONNACK
		{"connack from client v5", v5, pt.Pkt(0x20, 0x00, 0x00, pt.Props()), packet.ProtocolError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w, _ := tb.client(t, "c-"+tc.name, tc.v)
			w.sendRaw(tc.raw)
			w.expectDisconnect(tc.code)
		})
	}
}

// TestProtocol_Fixtures runs every invalid packettest fixture of a packet
// a client may send, after a CONNECT of its version: the broker refuses it
// with the fixture's code (MQTT 5) or closes (3.1.1). Each fixture names
// its clause.
func TestProtocol_Fixtures(t *testing.T) {
	tb := startBroker(t, nil)
	for _, f := range pt.Invalid() {
		if f.Version == 0 || len(f.Raw) == 0 {
			continue
		}
		switch packet.Type(f.Raw[0] >> 4) {
		case packet.TypeConnect, packet.TypeConnack, packet.TypeSuback, packet.TypeUnsuback:
			continue // CONNECT is a second CONNECT here; the others are server packets
		}
		t.Run(f.Name, func(t *testing.T) {
			// [f.Clause] f.Desc
			w, _ := tb.client(t, f.Name, f.Version)
			w.sendRaw(f.Raw)
			w.expectDisconnect(f.Code)
		})
	}
}

// TestProtocol_SubscribeFilters checks per-filter SUBACK codes.
func TestProtocol_SubscribeFilters(t *testing.T) {
	tb := startBroker(t, nil)
	subs := []packet.Subscription{
		{Filter: "a/#/b", QoS: 1}, // [MQTT-4.7.1-1] '#' must be last
		{Filter: "a/b+", QoS: 1},  // [MQTT-4.7.1-2] '+' must occupy a whole level
		{Filter: "ok/+", QoS: 2},
		{Filter: "$share//a", QoS: 1}, // [MQTT-4.8.2-1] a share name is at least one character
		{Filter: "$share/g", QoS: 1},  // [MQTT-4.8.2-2] the share name is followed by '/' and a filter
		{Filter: "$share/g+/a", QoS: 0},
	}
	t.Run("v5", func(t *testing.T) {
		// [MQTT-3.9.3-1] one code per filter, in order; 0x8F Topic Filter invalid
		w, _ := tb.client(t, "subf5", v5)
		got := w.subscribe(packet.Properties{}, subs...).ReasonCodes
		want := []packet.ReasonCode{0x8F, 0x8F, 0x02, 0x8F, 0x8F, 0x8F}
		if !bytes.Equal(codes(got), codes(want)) {
			t.Fatalf("SUBACK % x, want % x", codes(got), codes(want))
		}
	})
	t.Run("v4", func(t *testing.T) {
		// 3.1.1 [MQTT-3.9.3-1]: failure is 0x80
		w, _ := tb.client(t, "subf4", v4)
		got := w.subscribe(packet.Properties{}, subs[:3]...).ReasonCodes
		if !bytes.Equal(codes(got), []byte{0x80, 0x80, 0x02}) {
			t.Fatalf("SUBACK % x, want 80 80 02", codes(got))
		}
	})
	t.Run("too many filters", func(t *testing.T) {
		// AWS: 8 filters per SUBSCRIBE; the ninth gets 0x97 Quota exceeded
		w, _ := tb.client(t, "subf9", v5)
		var many []packet.Subscription
		for i := range 9 {
			many = append(many, packet.Subscription{Filter: "f/" + string(rune('a'+i))})
		}
		got := w.subscribe(packet.Properties{}, many...).ReasonCodes
		if got[7] != packet.GrantedQoS0 || got[8] != packet.QuotaExceeded {
			t.Fatalf("SUBACK % x, want the ninth 0x97", codes(got))
		}
	})
}

// TestProtocol_Unsubscribe checks UNSUBACK and that delivery stops.
func TestProtocol_Unsubscribe(t *testing.T) {
	tb := startBroker(t, nil)
	for _, v := range []packet.Version{v4, v5} {
		t.Run(v.String(), func(t *testing.T) {
			w, _ := tb.client(t, "unsub", v)
			w.sub("u/1", 1)
			w.send(&packet.Unsubscribe{PacketID: 7, Filters: []string{"u/1", "u/never"}})
			a := expect[*packet.Unsuback](w)
			if a.PacketID != 7 {
				t.Fatalf("UNSUBACK for %d, want 7", a.PacketID)
			}
			// [MQTT-3.11.3-1] MQTT 5: a code per filter, in order; 0x11 No subscription existed
			if v == v5 && !bytes.Equal(codes(a.ReasonCodes), []byte{0x00, 0x11}) {
				t.Fatalf("UNSUBACK % x, want 00 11", codes(a.ReasonCodes))
			}
			// [MQTT-3.10.4-2] no new messages for the removed subscription
			pub, _ := tb.client(t, "unsub-pub", v)
			if code := pub.publish("u/1", "x", 1, false); v == v5 && code != packet.NoMatchingSubscribers {
				t.Fatalf("PUBACK %s, want 0x10 No matching subscribers", code)
			}
			w.ping()
		})
	}
}

func codes(rc []packet.ReasonCode) []byte {
	b := make([]byte, len(rc))
	for i, c := range rc {
		b[i] = byte(c)
	}
	return b
}
