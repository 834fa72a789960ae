package broker_test

import (
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/broker"
	"github.com/moat-iot/moat/internal/mqtt/packet"
)

// A service registered with Handle gets the messages its filter matches,
// from clients and from moat, with the publisher's client id; its replies
// reach subscribers through the ordinary fan-out; a v5 publisher's
// acknowledgement counts the service as a match; unregistering stops it.
func TestServiceHandle(t *testing.T) {
	tb := startBroker(t, nil)
	got := make(chan broker.Inbound, 4)
	unregister, err := tb.Handle("svc/+/request", func(in broker.Inbound) {
		// Copy: the message's memory is shared with the fan-out.
		in.Payload = append([]byte(nil), in.Payload...)
		got <- in
		tb.Publish(&packet.Publish{Topic: "svc/reply", Payload: in.Payload, QoS: 1})
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tb.Handle("$share/g/svc/#", func(broker.Inbound) {}); err == nil {
		t.Error("Handle accepted a shared subscription")
	}
	if _, err := tb.Handle("svc/#/x", func(broker.Inbound) {}); err == nil {
		t.Error("Handle accepted an invalid filter")
	}

	sub, _ := tb.client(t, "sub", packet.V5)
	sub.sub("svc/reply", 1)
	pub, _ := tb.client(t, "pub", packet.V5)
	if code := pub.publish("svc/a/request", "hello", 1, false); code != packet.Success {
		t.Fatalf("PUBACK %v, want Success (the service is a match)", code)
	}
	select {
	case in := <-got:
		if in.Topic != "svc/a/request" || string(in.Payload) != "hello" || in.ClientID != "pub" || in.QoS != 1 {
			t.Errorf("service got %+v", in)
		}
	case <-time.After(wireTimeout):
		t.Fatal("the service got nothing")
	}
	if p := sub.expectPublish("svc/reply", "hello"); p.QoS != 1 {
		t.Errorf("reply QoS %d, want 1", p.QoS)
	}

	tb.Publish(&packet.Publish{Topic: "svc/b/request", Payload: []byte("from moat")})
	select {
	case in := <-got:
		if in.ClientID != "" || string(in.Payload) != "from moat" {
			t.Errorf("service got %+v, want moat's own message", in)
		}
	case <-time.After(wireTimeout):
		t.Fatal("the service did not get moat's own message")
	}
	sub.expectPublish("svc/reply", "from moat")

	unregister()
	unregister() // twice is harmless
	if code := pub.publish("svc/a/request", "again", 1, false); code != packet.NoMatchingSubscribers {
		t.Errorf("PUBACK %v after unregister, want NoMatchingSubscribers", code)
	}
	select {
	case in := <-got:
		t.Errorf("unregistered service got %+v", in)
	case <-time.After(100 * time.Millisecond):
	}
}
