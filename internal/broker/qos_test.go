package broker_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/broker"
	"github.com/moat-iot/moat/internal/mqtt/packet"
)

// TestQoS1_Flow checks the QoS 1 exchange in both directions.
func TestQoS1_Flow(t *testing.T) {
	tb := startBroker(t, nil)
	for _, v := range []packet.Version{v4, v5} {
		t.Run(v.String(), func(t *testing.T) {
			sub, _ := tb.client(t, "q1-sub-"+v.String(), v)
			sub.sub("q1/"+v.String(), 1)
			pub, _ := tb.client(t, "q1-pub-"+v.String(), v)
			// [MQTT-4.3.2-4] PUBACK carries the PUBLISH's packet identifier
			// (checked by publishP)
			if code := pub.publishP(&packet.Publish{Topic: "q1/" + v.String(), QoS: 1, PacketID: 0x1234, Payload: []byte("m")}); code != packet.Success {
				t.Fatalf("PUBACK %s", code)
			}
			// [MQTT-4.3.2-1] [MQTT-4.3.2-2] the broker sends QoS 1 with a
			// non-zero packet identifier and DUP 0
			p := sub.expectPublish("q1/"+v.String(), "m")
			if p.QoS != 1 || p.PacketID == 0 || p.Dup {
				t.Fatalf("delivered QoS %d id %d dup %v, want QoS 1, an id, DUP 0", p.QoS, p.PacketID, p.Dup)
			}
			sub.ack(p)
			sub.ping()
		})
	}
	t.Run("downgrade", func(t *testing.T) {
		// [MQTT-3.8.4-8] delivered at min(published QoS, granted QoS)
		sub, _ := tb.client(t, "q-down-sub", v5)
		sub.sub("down/t", 0)
		pub, _ := tb.client(t, "q-down-pub", v5)
		pub.publish("down/t", "x", 2, false)
		if p := sub.expectPublish("down/t", "x"); p.QoS != 0 {
			t.Fatalf("delivered at QoS %d, want 0", p.QoS)
		}
	})
}

// TestQoS1_RedeliveryAfterReconnect: unacknowledged QoS 1 messages are
// sent again with DUP 1, same ids, same order, when a persistent session
// resumes [MQTT-4.4.0-1]; messages published while offline are queued.
func TestQoS1_RedeliveryAfterReconnect(t *testing.T) {
	tb := startBroker(t, nil)
	for _, v := range []packet.Version{v4, v5} {
		t.Run(v.String(), func(t *testing.T) {
			id := "redeliver-" + v.String()
			topic := "rd/" + v.String()
			sub, ack := tb.client(t, id, v, persistent)
			if ack.SessionPresent {
				t.Fatal("first CONNECT: session present")
			}
			sub.sub(topic, 1)
			pub, _ := tb.client(t, id+"-pub", v)
			for i := range 3 {
				pub.publish(topic, fmt.Sprint(i), 1, false)
			}
			var first []*packet.Publish
			for i := range 3 {
				first = append(first, sub.expectPublish(topic, fmt.Sprint(i)))
			}
			sub.drop() // no PUBACK, no DISCONNECT
			tb.waitStats(t, "the subscriber to be gone", func(s broker.Stats) bool { return s.Connections == 1 })
			pub.publish(topic, "offline", 1, false)

			sub, ack = tb.client(t, id, v, func(c *packet.Connect) { persistent(c) })
			// [MQTT-3.2.2-3] session present on resume
			if !ack.SessionPresent {
				t.Fatal("resume: session not present")
			}
			for i := range 3 {
				p := sub.expectPublish(topic, fmt.Sprint(i))
				// [MQTT-4.4.0-1] resent with DUP 1 and the original packet identifier
				if !p.Dup || p.PacketID != first[i].PacketID || p.QoS != 1 {
					t.Fatalf("redelivery %d: dup %v id %d qos %d, want DUP 1 id %d", i, p.Dup, p.PacketID, p.QoS, first[i].PacketID)
				}
				sub.ack(p)
			}
			// the message queued while offline follows, as a first delivery
			p := sub.expectPublish(topic, "offline")
			if p.Dup {
				t.Fatal("queued message delivered with DUP 1")
			}
			sub.ack(p)
			sub.ping()
		})
	}
}

// TestQoS2_Inbound checks the broker as QoS 2 receiver [MQTT-4.3.3-8..12].
func TestQoS2_Inbound(t *testing.T) {
	tb := startBroker(t, nil)
	for _, v := range []packet.Version{v4, v5} {
		t.Run(v.String(), func(t *testing.T) {
			topic := "q2in/" + v.String()
			sub, _ := tb.client(t, "q2in-sub-"+v.String(), v)
			sub.sub(topic, 2)
			pub, _ := tb.client(t, "q2in-pub-"+v.String(), v)

			msg := &packet.Publish{Topic: topic, QoS: 2, PacketID: 7, Payload: []byte("once")}
			pub.send(msg)
			// [MQTT-4.3.3-8] PUBREC with the PUBLISH's packet identifier
			if r := expect[*packet.Pubrec](pub); r.PacketID != 7 || r.ReasonCode.IsError() {
				t.Fatalf("PUBREC %+v", r)
			}
			// [MQTT-4.3.3-10] the same id again before PUBREL: PUBREC again,
			// and no second delivery
			dup := *msg
			dup.Dup = true
			pub.send(&dup)
			if r := expect[*packet.Pubrec](pub); r.PacketID != 7 {
				t.Fatalf("PUBREC %+v for the duplicate", r)
			}
			// [MQTT-4.3.3-11] PUBCOMP answers PUBREL with the same id
			pub.send(&packet.Pubrel{PacketID: 7})
			if c := expect[*packet.Pubcomp](pub); c.PacketID != 7 || c.ReasonCode != packet.Success {
				t.Fatalf("PUBCOMP %+v", c)
			}
			p := sub.expectPublish(topic, "once")
			if p.QoS != 2 || p.Dup {
				t.Fatalf("delivered QoS %d DUP %v, want QoS 2 DUP 0 [MQTT-4.3.3-2]", p.QoS, p.Dup)
			}
			sub.ack(p)
			sub.ping() // exactly once

			// [MQTT-4.3.3-12] after PUBCOMP the same id is a new message
			pub.publishP(&packet.Publish{Topic: topic, QoS: 2, PacketID: 7, Payload: []byte("again")})
			sub.ack(sub.expectPublish(topic, "again"))
			sub.ping()
		})
	}
	t.Run("pubrel unknown id", func(t *testing.T) {
		// §3.7.2.1: PUBREL for an id the broker does not hold: PUBCOMP 0x92
		// Packet Identifier not found (MQTT 5); 3.1.1 gets a plain PUBCOMP
		for _, v := range []packet.Version{v4, v5} {
			w, _ := tb.client(t, "pubrel-"+v.String(), v)
			w.send(&packet.Pubrel{PacketID: 99})
			c := expect[*packet.Pubcomp](w)
			want := packet.PacketIdentifierNotFound
			if v == v4 {
				want = packet.Success
			}
			if c.PacketID != 99 || c.ReasonCode != want {
				t.Fatalf("%s: PUBCOMP %+v, want id 99 code %s", v, c, want)
			}
			w.ping() // the connection goes on
		}
	})
	t.Run("inbound state survives reconnect", func(t *testing.T) {
		// [MQTT-4.3.3-10] [MQTT-4.4.0-1] a persistent session keeps the
		// PUBREC state: the PUBLISH resent with DUP 1 after a reconnect is
		// not delivered again, and PUBREL completes it
		sub, _ := tb.client(t, "q2r-sub", v5)
		sub.sub("q2r/t", 2)
		pub, _ := tb.client(t, "q2r-pub", v5, persistent)
		pub.send(&packet.Publish{Topic: "q2r/t", QoS: 2, PacketID: 3, Payload: []byte("x")})
		expect[*packet.Pubrec](pub)
		sub.ack(sub.expectPublish("q2r/t", "x"))
		pub.drop()
		tb.waitStats(t, "the publisher to be gone", func(s broker.Stats) bool { return s.Connections == 1 })
		pub, ack := tb.client(t, "q2r-pub", v5, persistent)
		if !ack.SessionPresent {
			t.Fatal("session not present")
		}
		pub.send(&packet.Publish{Topic: "q2r/t", QoS: 2, PacketID: 3, Dup: true, Payload: []byte("x")})
		if r := expect[*packet.Pubrec](pub); r.PacketID != 3 {
			t.Fatalf("PUBREC %+v", r)
		}
		pub.send(&packet.Pubrel{PacketID: 3})
		if c := expect[*packet.Pubcomp](pub); c.ReasonCode != packet.Success {
			t.Fatalf("PUBCOMP %+v, want success", c)
		}
		pub.ping()
		sub.ping()
	})
}

// TestQoS2_Outbound checks the broker as QoS 2 sender, across reconnects:
// an unacknowledged PUBLISH is resent with DUP 1; once PUBREC has been
// received only PUBREL is resent [MQTT-4.3.3-6] [MQTT-4.4.0-1].
func TestQoS2_Outbound(t *testing.T) {
	tb := startBroker(t, nil)
	for _, v := range []packet.Version{v4, v5} {
		t.Run(v.String(), func(t *testing.T) {
			id, topic := "q2out-"+v.String(), "q2out/"+v.String()
			sub, _ := tb.client(t, id, v, persistent)
			sub.sub(topic, 2)
			pub, _ := tb.client(t, id+"-pub", v)
			pub.publish(topic, "m", 2, false)

			// [MQTT-4.3.3-1] [MQTT-4.3.3-2] QoS 2, a packet id, DUP 0
			p := sub.expectPublish(topic, "m")
			if p.QoS != 2 || p.Dup || p.PacketID == 0 {
				t.Fatalf("PUBLISH qos %d dup %v id %d", p.QoS, p.Dup, p.PacketID)
			}
			sub.drop() // before PUBREC
			tb.waitStats(t, "the subscriber to be gone", func(s broker.Stats) bool { return s.Connections == 1 })

			sub, _ = tb.client(t, id, v, persistent)
			// [MQTT-4.3.3-3] unacknowledged until PUBREC: resent with DUP 1
			p2 := sub.expectPublish(topic, "m")
			if !p2.Dup || p2.PacketID != p.PacketID {
				t.Fatalf("resent dup %v id %d, want DUP 1 id %d", p2.Dup, p2.PacketID, p.PacketID)
			}
			sub.send(&packet.Pubrec{PacketID: p.PacketID})
			// [MQTT-4.3.3-4] PUBREL with the same id
			if rel := expect[*packet.Pubrel](sub); rel.PacketID != p.PacketID {
				t.Fatalf("PUBREL %d, want %d", rel.PacketID, p.PacketID)
			}
			sub.drop() // before PUBCOMP
			tb.waitStats(t, "the subscriber to be gone", func(s broker.Stats) bool { return s.Connections == 1 })

			sub, _ = tb.client(t, id, v, persistent)
			// [MQTT-4.3.3-5] [MQTT-4.3.3-6] PUBREL again, never the PUBLISH
			if rel := expect[*packet.Pubrel](sub); rel.PacketID != p.PacketID {
				t.Fatalf("PUBREL %d after reconnect, want %d", rel.PacketID, p.PacketID)
			}
			sub.send(&packet.Pubcomp{PacketID: p.PacketID})
			sub.ping()
			// done: a further reconnect owes nothing
			sub.drop()
			tb.waitStats(t, "the subscriber to be gone", func(s broker.Stats) bool { return s.Connections == 1 })
			sub, _ = tb.client(t, id, v, persistent)
			sub.ping()
		})
	}
}

// TestQoS_ReceiveMaximum: the broker never has more unacknowledged QoS 1
// and 2 PUBLISH packets towards a client than its Receive Maximum
// [MQTT-3.3.4-9]; the rest wait and follow as acknowledgements come.
func TestQoS_ReceiveMaximum(t *testing.T) {
	tb := startBroker(t, nil)
	sub, _ := tb.client(t, "rm-sub", v5, func(c *packet.Connect) { c.Properties.ReceiveMaximum = 2 })
	sub.sub("rm/t", 2)
	pub, _ := tb.client(t, "rm-pub", v5)
	for i := range 5 {
		pub.publish("rm/t", fmt.Sprint(i), byte(1+i%2), false)
	}
	var inflight []*packet.Publish
	next := 0
	for len(inflight) > 0 || next < 5 {
		for len(inflight) < 2 && next < 5 {
			inflight = append(inflight, sub.expectPublish("rm/t", fmt.Sprint(next)))
			next++
		}
		sub.ping() // nothing beyond the window
		p := inflight[0]
		inflight = inflight[1:]
		if p.QoS == 2 {
			// [MQTT-3.3.4-9] a QoS 2 message counts until PUBCOMP
			sub.send(&packet.Pubrec{PacketID: p.PacketID})
			expect[*packet.Pubrel](sub)
			sub.ping()
			sub.send(&packet.Pubcomp{PacketID: p.PacketID})
		} else {
			sub.ack(p)
		}
	}
	sub.ping()
}

// TestQoS_MessageExpiry: a queued message whose Message Expiry Interval
// passed is not delivered [MQTT-3.3.2-5]; one still alive is delivered
// with the interval reduced by its time in the queue [MQTT-3.3.2-6].
func TestQoS_MessageExpiry(t *testing.T) {
	t.Parallel()
	tb := startBroker(t, nil)
	sub, _ := tb.client(t, "exp-sub", v5, persistent)
	sub.sub("exp/t", 1)
	sub.disconnect(packet.NormalDisconnection)
	pub, _ := tb.client(t, "exp-pub", v5)
	short := &packet.Publish{Topic: "exp/t", QoS: 1, Payload: []byte("short")}
	short.Properties.MessageExpiry = 1
	long := &packet.Publish{Topic: "exp/t", QoS: 1, Payload: []byte("long")}
	long.Properties.MessageExpiry = 60
	pub.publishP(short)
	pub.publishP(long)
	time.Sleep(1100 * time.Millisecond) // let the short expiry pass (not an assertion)

	sub, _ = tb.client(t, "exp-sub", v5, persistent)
	p := sub.expectPublish("exp/t", "long")
	if e := p.Properties.MessageExpiry; e == 0 || e >= 60 {
		t.Fatalf("Message Expiry %d, want reduced below 60", e)
	}
	sub.ack(p)
	sub.ping()
}

// TestQoS_MaximumPacketSize: a message larger than the client's Maximum
// Packet Size is not sent to it [MQTT-3.1.2-25].
func TestQoS_MaximumPacketSize(t *testing.T) {
	tb := startBroker(t, nil)
	sub, _ := tb.client(t, "mps-sub", v5, func(c *packet.Connect) { c.Properties.MaximumPacketSize = 64 })
	sub.sub("mps/t", 1)
	pub, _ := tb.client(t, "mps-pub", v5)
	pub.publish("mps/t", string(make([]byte, 100)), 1, false)
	pub.publish("mps/t", "small", 1, false)
	sub.ack(sub.expectPublish("mps/t", "small"))
	sub.ping()
}
