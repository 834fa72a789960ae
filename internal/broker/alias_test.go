package broker_test

import (
	"testing"

	"github.com/moat-iot/moat/internal/mqtt/packet"
	pt "github.com/moat-iot/moat/internal/mqtt/packet/packettest"
)

// aliased is a QoS 1 PUBLISH with a topic alias.
func aliased(topic string, alias uint16, payload string) *packet.Publish {
	p := &packet.Publish{Topic: topic, QoS: 1, Payload: []byte(payload)}
	p.Properties.TopicAlias = alias
	return p
}

// TestAlias_Inbound checks MQTT 5 topic aliases from the client (§3.3.2.3.4).
func TestAlias_Inbound(t *testing.T) {
	tb := startBroker(t, nil)
	sub, _ := tb.client(t, "alias-sub", v5)
	sub.sub("al/#", 1)

	t.Run("set then use", func(t *testing.T) {
		// [MQTT-3.3.2-12] the broker accepts aliases 1..Topic Alias Maximum
		w, ack := tb.client(t, "alias-1", v5)
		max := ack.Properties.TopicAliasMaximum
		if max == 0 {
			t.Fatal("CONNACK has no Topic Alias Maximum")
		}
		steps := []struct {
			pub         *packet.Publish
			topic, body string
		}{
			{aliased("al/one", 1, "a"), "al/one", "a"},
			{aliased("", 1, "b"), "al/one", "b"},         // use
			{aliased("al/max", max, "c"), "al/max", "c"}, // the highest alias
			{aliased("", max, "d"), "al/max", "d"},       //
			{aliased("al/two", 1, "e"), "al/two", "e"},   // re-map
			{aliased("", 1, "f"), "al/two", "f"},         //
			{&packet.Publish{Topic: "al/one", QoS: 1, Payload: []byte("g")}, "al/one", "g"},
		}
		for _, s := range steps {
			if code := w.publishP(s.pub); code != packet.Success {
				t.Fatalf("PUBACK %s for %s", code, s.body)
			}
			p := sub.expectPublish(s.topic, s.body)
			// [MQTT-3.3.2-11] no alias towards a client that allowed none
			if p.Properties.TopicAlias != 0 {
				t.Fatalf("delivered with topic alias %d", p.Properties.TopicAlias)
			}
			sub.ack(p)
		}
	})
	t.Run("not carried to a new connection", func(t *testing.T) {
		// [MQTT-3.3.2-7] aliases end with their network connection
		w, _ := tb.client(t, "alias-2", v5, persistent)
		w.publishP(aliased("al/x", 2, "x"))
		sub.ack(sub.expectPublish("al/x", "x"))
		w.disconnect(packet.NormalDisconnection)
		w, _ = tb.client(t, "alias-2", v5, persistent)
		p := aliased("", 2, "y")
		p.PacketID = w.id()
		w.send(p)
		w.expectDisconnect(packet.ProtocolError)
	})
	cases := []struct {
		name string
		raw  []byte
		code packet.ReasonCode
	}{
		// §3.3.2.3.4: an alias with no mapping on this connection is a protocol error
		{"unknown alias", pt.Pkt(0x30, pt.Str(""), pt.Props(0x23, pt.U16(3)), "p"), packet.ProtocolError},
		// [MQTT-3.3.2-8] alias 0 is not permitted: 0x94 Topic Alias invalid
		{"alias 0", pt.Pkt(0x30, pt.Str("al/z"), pt.Props(0x23, pt.U16(0)), "p"), packet.TopicAliasInvalid},
		// [MQTT-3.3.2-9] over the Topic Alias Maximum (8): 0x94
		{"alias over maximum", pt.Pkt(0x30, pt.Str("al/z"), pt.Props(0x23, pt.U16(9)), "p"), packet.TopicAliasInvalid},
		// [MQTT-4.7.3-1] an empty topic without an alias
		{"empty topic no alias", pt.Pkt(0x30, pt.Str(""), pt.Props(), "p"), packet.TopicNameInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w, _ := tb.client(t, "alias-bad", v5)
			w.sendRaw(tc.raw)
			w.expectDisconnect(tc.code)
		})
	}
	sub.ping()
}
