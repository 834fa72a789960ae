package broker_test

import (
	"fmt"
	"testing"

	"github.com/moat-iot/moat/internal/broker"
	"github.com/moat-iot/moat/internal/mqtt/packet"
)

// TestShared_Group: a message matching a shared subscription goes to
// exactly one session of the group (§4.8.2), round robin, while an
// ordinary subscription on the same filter gets every message.
func TestShared_Group(t *testing.T) {
	tb := startBroker(t, nil)
	const members, msgs = 3, 30
	var group []*wire
	for i := range members {
		w, _ := tb.client(t, fmt.Sprint("share-", i), v5)
		// [MQTT-4.8.2-3] the member's granted QoS is respected
		w.sub("$share/g/sh/t", 1)
		group = append(group, w)
	}
	plain, _ := tb.client(t, "share-plain", v5)
	plain.sub("sh/t", 0)
	pub, _ := tb.client(t, "share-pub", v5)
	for i := range msgs {
		pub.publish("sh/t", fmt.Sprint(i), 1, false)
	}
	for i := range msgs {
		plain.expectPublish("sh/t", fmt.Sprint(i))
	}
	plain.ping()

	seen := map[string]int{}
	for i, w := range group {
		// the barrier: everything routed to this member is before PINGRESP
		w.send(&packet.Pingreq{})
		n := 0
		for {
			p := w.read()
			if _, ok := p.(*packet.Pingresp); ok {
				break
			}
			pp, ok := p.(*packet.Publish)
			if !ok || pp.QoS != 1 {
				t.Fatalf("member %d: read %s %+v, want a QoS 1 PUBLISH", i, p.Type(), p)
			}
			seen[string(pp.Payload)]++
			w.ack(pp)
			n++
		}
		// round robin: roughly balanced
		if n < msgs/members/2 || n > 2*msgs/members {
			t.Errorf("member %d got %d of %d messages, want about %d", i, n, msgs, msgs/members)
		}
	}
	for i := range msgs {
		if c := seen[fmt.Sprint(i)]; c != 1 {
			t.Errorf("message %d delivered %d times to the group, want once", i, c)
		}
	}
}

// TestShared_Errors checks what a shared subscription may not do.
func TestShared_Errors(t *testing.T) {
	tb := startBroker(t, nil)
	t.Run("no local", func(t *testing.T) {
		// [MQTT-3.8.3-4] No Local on a shared subscription is a protocol error
		w, _ := tb.client(t, "share-nl", v5)
		w.send(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: "$share/g/a", NoLocal: true}}})
		w.expectDisconnect(packet.ProtocolError)
	})
	t.Run("offline member", func(t *testing.T) {
		// §4.8.2: a connected member is preferred; a persistent offline
		// member keeps what was sent to it [MQTT-4.8.2-4]
		on, _ := tb.client(t, "share-on", v5)
		on.sub("$share/h/sh2/t", 1)
		off, _ := tb.client(t, "share-off", v5, persistent)
		off.sub("$share/h/sh2/t", 1)
		off.disconnect(packet.NormalDisconnection)
		// Wait until the broker has let go of share-off's connection, or a
		// publish may still pick it.
		tb.waitStats(t, "share-off disconnected", func(s broker.Stats) bool { return s.Connections <= 1 })
		pub, _ := tb.client(t, "share-pub2", v5)
		for i := range 4 {
			pub.publish("sh2/t", fmt.Sprint(i), 1, false)
			on.ack(on.expectPublish("sh2/t", fmt.Sprint(i)))
		}
		off, _ = tb.client(t, "share-off", v5, persistent)
		off.ping()
	})
}
