package broker_test

import (
	"slices"
	"testing"

	"github.com/moat-iot/moat/internal/mqtt/packet"
)

// TestOptions_SubscriptionIdentifiers: MQTT 5 subscription identifiers
// come back in the PUBLISH of each matching subscription; overlapping
// subscriptions deliver once with all of them [MQTT-3.3.4-2] [MQTT-3.3.4-3].
func TestOptions_SubscriptionIdentifiers(t *testing.T) {
	tb := startBroker(t, nil)
	sub, _ := tb.client(t, "subid", v5)
	sub.subscribe(packet.Properties{SubscriptionIDs: []uint32{7}}, packet.Subscription{Filter: "sid/#", QoS: 1})
	sub.subscribe(packet.Properties{SubscriptionIDs: []uint32{300000}}, packet.Subscription{Filter: "sid/+/x", QoS: 1})
	sub.subscribe(packet.Properties{}, packet.Subscription{Filter: "sid/a/+", QoS: 0})
	pub, _ := tb.client(t, "subid-pub", v5)

	pub.publish("sid/a/x", "both", 1, false)
	p := sub.expectPublish("sid/a/x", "both")
	ids := slices.Sorted(slices.Values(p.Properties.SubscriptionIDs))
	// one PUBLISH at the highest QoS with every identifier (order not significant)
	if !slices.Equal(ids, []uint32{7, 300000}) || p.QoS != 1 {
		t.Fatalf("subscription ids %v QoS %d, want [7 300000] QoS 1", p.Properties.SubscriptionIDs, p.QoS)
	}
	sub.ack(p)

	pub.publish("sid/b", "one", 1, false)
	p = sub.expectPublish("sid/b", "one")
	if !slices.Equal(p.Properties.SubscriptionIDs, []uint32{7}) {
		t.Fatalf("subscription ids %v, want [7]", p.Properties.SubscriptionIDs)
	}
	sub.ack(p)
	sub.ping() // one PUBLISH per message, not one per subscription

	// [MQTT-3.8.4-3] a SUBSCRIBE of the same filter replaces the subscription, identifier included
	sub.subscribe(packet.Properties{SubscriptionIDs: []uint32{9}}, packet.Subscription{Filter: "sid/#", QoS: 1})
	pub.publish("sid/c", "new id", 1, false)
	p = sub.expectPublish("sid/c", "new id")
	if !slices.Equal(p.Properties.SubscriptionIDs, []uint32{9}) {
		t.Fatalf("subscription ids %v, want [9]", p.Properties.SubscriptionIDs)
	}
	sub.ack(p)
}

// TestOptions_NoLocal: with No Local a client does not receive its own
// publications [MQTT-3.8.3-3]; others' still arrive.
func TestOptions_NoLocal(t *testing.T) {
	tb := startBroker(t, nil)
	w, _ := tb.client(t, "nolocal", v5)
	w.subscribe(packet.Properties{}, packet.Subscription{Filter: "nl/t", QoS: 1, NoLocal: true})
	if code := w.publish("nl/t", "mine", 1, false); code != packet.NoMatchingSubscribers && code != packet.Success {
		t.Fatalf("PUBACK %s", code)
	}
	w.ping()
	other, _ := tb.client(t, "nolocal-other", v5)
	other.publish("nl/t", "theirs", 1, false)
	w.ack(w.expectPublish("nl/t", "theirs"))

	// without No Local, a client gets its own messages
	echo, _ := tb.client(t, "echo", v5)
	echo.sub("echo/t", 0)
	echo.send(&packet.Publish{Topic: "echo/t", Payload: []byte("self")})
	echo.expectPublish("echo/t", "self")
}

// TestOptions_Properties: the broker forwards a PUBLISH's application
// properties unaltered: Payload Format Indicator [MQTT-3.3.2-4], Response
// Topic [MQTT-3.3.2-15], Correlation Data [MQTT-3.3.2-16], User Properties
// in order [MQTT-3.3.2-17] [MQTT-3.3.2-18], Content Type [MQTT-3.3.2-20];
// a 3.1.1 subscriber gets the message without them.
func TestOptions_Properties(t *testing.T) {
	tb := startBroker(t, nil)
	sub5, _ := tb.client(t, "props5", v5)
	sub5.sub("pr/t", 1)
	sub4, _ := tb.client(t, "props4", v4)
	sub4.sub("pr/t", 1)
	pub, _ := tb.client(t, "props-pub", v5)
	want := packet.Properties{
		PayloadFormat: 1, ResponseTopic: "pr/reply", CorrelationData: []byte{0, 1, 2},
		ContentType: "text/plain", UserProperties: []packet.UserProperty{{Key: "b", Value: "1"}, {Key: "a", Value: "2"}, {Key: "b", Value: "3"}},
	}
	pub.publishP(&packet.Publish{Topic: "pr/t", QoS: 1, Payload: []byte("req"), Properties: want})
	p := sub5.expectPublish("pr/t", "req")
	got := p.Properties
	if got.PayloadFormat != 1 || got.ResponseTopic != want.ResponseTopic || string(got.CorrelationData) != string(want.CorrelationData) ||
		got.ContentType != want.ContentType || !slices.Equal(got.UserProperties, want.UserProperties) {
		t.Fatalf("forwarded properties %+v, want %+v", got, want)
	}
	sub5.ack(p)
	sub4.ack(sub4.expectPublish("pr/t", "req"))
}
