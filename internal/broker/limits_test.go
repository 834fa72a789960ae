package broker_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/broker"
	"github.com/moat-iot/moat/internal/mqtt/packet"
)

// TestLimits_InboundReceiveMaximum: more unacknowledged QoS 2 PUBLISH
// packets from a client than the broker's Receive Maximum: DISCONNECT
// 0x93 Receive Maximum exceeded (§3.3.4, [MQTT-3.3.4-7] on the client).
func TestLimits_InboundReceiveMaximum(t *testing.T) {
	tb := startBroker(t, func(l *broker.Limits) { l.ReceiveMaximum = 2 })
	w, ack := tb.client(t, "rmin", v5)
	if ack.Properties.ReceiveMaximum != 2 {
		t.Fatalf("CONNACK Receive Maximum %d, want 2", ack.Properties.ReceiveMaximum)
	}
	for id := uint16(1); id <= 2; id++ {
		w.send(&packet.Publish{Topic: "rmin/t", QoS: 2, PacketID: id, Payload: []byte("x")})
		expect[*packet.Pubrec](w)
	}
	w.send(&packet.Publish{Topic: "rmin/t", QoS: 2, PacketID: 3, Payload: []byte("x")})
	w.expectDisconnect(packet.ReceiveMaximumExceeded)
}

// TestLimits_MaxQoS1 runs the AWS profile's QoS limit: CONNACK says
// Maximum QoS 1 (§3.2.2.3.4); a QoS 2 SUBSCRIBE is granted QoS 1 (§3.9.3);
// a QoS 2 PUBLISH is refused with DISCONNECT 0x9B QoS not supported
// ([MQTT-3.2.2-11] on the client, §4.13); a QoS 2 will is refused with
// CONNACK 0x9B [MQTT-3.2.2-12].
func TestLimits_MaxQoS1(t *testing.T) {
	tb := startBroker(t, func(l *broker.Limits) { l.MaxQoS = 1 })
	w, ack := tb.client(t, "maxqos", v5)
	if !ack.Properties.HasMaximumQoS || ack.Properties.MaximumQoS != 1 {
		t.Fatalf("CONNACK Maximum QoS %v %d, want 1", ack.Properties.HasMaximumQoS, ack.Properties.MaximumQoS)
	}
	if a := w.subscribe(packet.Properties{}, packet.Subscription{Filter: "mq/t", QoS: 2}); a.ReasonCodes[0] != packet.GrantedQoS1 {
		t.Fatalf("SUBACK %s, want QoS 1 granted", a.ReasonCodes[0])
	}
	w.send(&packet.Publish{Topic: "mq/t", QoS: 2, PacketID: 1, Payload: []byte("x")})
	w.expectDisconnect(packet.QoSNotSupported)

	w = tb.dial(t)
	ack = w.connect("maxqos-will", v5, func(c *packet.Connect) { c.Will = &packet.Will{QoS: 2, Topic: "mq/will", Payload: []byte("x")} })
	if ack.ReasonCode != packet.QoSNotSupported {
		t.Fatalf("CONNACK %s for a QoS 2 will, want 0x9B", ack.ReasonCode)
	}
	w.expectClosed()
}

// TestLimits_ClientID: a client id over MaxClientIDLength (AWS 128) is
// refused with 0x85 Client Identifier not valid (3.1.1: 0x02)
// [MQTT-3.1.3-8].
func TestLimits_ClientID(t *testing.T) {
	tb := startBroker(t, nil)
	long := strings.Repeat("c", 129)
	for _, tc := range []struct {
		v    packet.Version
		code packet.ReasonCode
	}{{v5, packet.ClientIdentifierNotValid}, {v4, packet.V3IdentifierRejected}} {
		w := tb.dial(t)
		if ack := w.connect(long, tc.v); ack.ReasonCode != tc.code {
			t.Fatalf("%s: CONNACK %s, want %s", tc.v, ack.ReasonCode, tc.code)
		}
		w.expectClosed()
	}
}

// TestOrder_Acks: PUBACKs go out in the order the PUBLISH packets came
// [MQTT-4.6.0-2]; the DUP flag of an incoming PUBLISH is not propagated
// [MQTT-3.3.1-3].
func TestOrder_Acks(t *testing.T) {
	tb := startBroker(t, nil)
	sub, _ := tb.client(t, "order-sub", v5)
	sub.sub("ord/t", 1)
	pub, _ := tb.client(t, "order-pub", v5)
	for id := uint16(1); id <= 10; id++ {
		pub.send(&packet.Publish{Topic: "ord/t", QoS: 1, PacketID: id, Dup: id%2 == 0, Payload: []byte(fmt.Sprint(id))})
	}
	for id := uint16(1); id <= 10; id++ {
		if a := expect[*packet.Puback](pub); a.PacketID != id {
			t.Fatalf("PUBACK %d, want %d", a.PacketID, id)
		}
	}
	for id := 1; id <= 10; id++ {
		// [MQTT-4.6.0-6] ordered delivery on one topic
		p := sub.expectPublish("ord/t", fmt.Sprint(id))
		if p.Dup {
			t.Fatalf("message %d delivered with DUP 1", id)
		}
		sub.ack(p)
	}
}

// TestTopic_Dollar: '#' and '+' at the first level do not match topics
// starting with '$' [MQTT-4.7.2-1].
func TestTopic_Dollar(t *testing.T) {
	tb := startBroker(t, nil)
	w, _ := tb.client(t, "dollar", v5)
	w.sub("#", 0)
	w.sub("+/x", 0)
	w.sub("$app/#", 0)
	pub, _ := tb.client(t, "dollar-pub", v5)
	pub.publish("$app/x", "d", 1, false)
	w.expectPublish("$app/x", "d") // once, through "$app/#" only
	w.ping()
}

// TestShutdown: a graceful stop sends MQTT 5 clients DISCONNECT 0x8B
// Server shutting down and keeps persistent sessions (issue 3).
func TestShutdown(t *testing.T) {
	tb := startBroker(t, nil)
	w5, _ := tb.client(t, "stop5", v5, persistent)
	w4, _ := tb.client(t, "stop4", v4)
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), wireTimeout)
		defer cancel()
		done <- tb.Shutdown(ctx)
	}()
	w5.expectDisconnect(packet.ServerShuttingDown)
	w4.expectClosed()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
	case <-time.After(wireTimeout):
		t.Fatal("Shutdown did not return")
	}
	if st := tb.Stats(); st.Sessions != 1 {
		t.Fatalf("%d sessions after shutdown, want the persistent one", st.Sessions)
	}
}
