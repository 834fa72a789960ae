package broker_test

import (
	"testing"

	"github.com/moat-iot/moat/internal/mqtt/packet"
)

// TestRetained_DeliveryAndDeletion walks one topic through store, replace,
// live delivery and deletion. Clauses are MQTT 5's unless marked 3.1.1.
func TestRetained_DeliveryAndDeletion(t *testing.T) {
	tb := startBroker(t, nil)
	for _, v := range []packet.Version{v4, v5} {
		t.Run(v.String(), func(t *testing.T) {
			topic := "ret/" + v.String()
			pub, _ := tb.client(t, "ret-pub-"+v.String(), v)
			// [MQTT-3.3.1-5] a RETAIN 1 PUBLISH is stored, replacing the previous one
			pub.publish(topic, "first", 1, true)
			pub.publish(topic, "second", 1, true)
			// [MQTT-3.3.1-8] (3.1.1 [MQTT-3.3.1-12]) RETAIN 0 neither stores nor replaces
			pub.publish(topic, "not retained", 1, false)

			sub, _ := tb.client(t, "ret-sub-"+v.String(), v)
			sub.sub(topic, 1)
			// [MQTT-3.3.1-9] sent on subscribe; 3.1.1 [MQTT-3.3.1-8]: with RETAIN 1
			p := sub.expectPublish(topic, "second")
			if !p.Retain {
				t.Fatal("retained message sent on subscribe with RETAIN 0")
			}
			sub.ack(p)
			sub.ping()

			// [MQTT-3.3.1-12] (3.1.1 [MQTT-3.3.1-9]) to an established
			// subscription RETAIN is 0 (Retain As Published 0)
			pub.publish(topic, "third", 1, true)
			p = sub.expectPublish(topic, "third")
			if p.Retain {
				t.Fatal("live delivery with RETAIN 1 without Retain As Published")
			}
			sub.ack(p)

			// [MQTT-3.3.1-6] (3.1.1 [MQTT-3.3.1-10]) an empty retained
			// PUBLISH is delivered normally and deletes the retained message
			pub.publish(topic, "", 1, true)
			sub.ack(sub.expectPublish(topic, ""))
			// [MQTT-3.3.1-7] (3.1.1 [MQTT-3.3.1-11]) and is not stored itself
			late, _ := tb.client(t, "ret-late-"+v.String(), v)
			late.sub(topic, 1)
			late.ping()
		})
	}
	t.Run("wildcard", func(t *testing.T) {
		// [MQTT-3.3.1-9] every matching topic's retained message
		pub, _ := tb.client(t, "retw-pub", v5)
		pub.publish("retw/a", "A", 0, true)
		pub.publish("retw/b/c", "C", 1, true)
		pub.publish("other/x", "X", 1, true)
		sub, _ := tb.client(t, "retw-sub", v5)
		sub.sub("retw/#", 1)
		got := map[string]byte{}
		for range 2 {
			p := expect[*packet.Publish](sub)
			if !p.Retain {
				t.Fatalf("%s delivered with RETAIN 0", p.Topic)
			}
			got[p.Topic+"="+string(p.Payload)] = p.QoS
			sub.ack(p)
		}
		if got["retw/a=A"] != 0 || got["retw/b/c=C"] != 1 || len(got) != 2 {
			t.Fatalf("retained deliveries %v", got)
		}
		sub.ping()
	})
}

// TestRetained_Options checks Retain As Published and Retain Handling.
func TestRetained_Options(t *testing.T) {
	tb := startBroker(t, nil)
	pub, _ := tb.client(t, "reto-pub", v5)
	pub.publish("reto/t", "kept", 1, true)

	t.Run("retain as published", func(t *testing.T) {
		// [MQTT-3.3.1-13] RETAIN as in the received PUBLISH
		sub, _ := tb.client(t, "reto-rap", v5)
		sub.subscribe(packet.Properties{}, packet.Subscription{Filter: "reto/rap", QoS: 1, RetainAsPublished: true})
		pub.publish("reto/rap", "r", 1, true)
		if p := sub.expectPublish("reto/rap", "r"); !p.Retain {
			t.Fatal("RETAIN 0 with Retain As Published")
		} else {
			sub.ack(p)
		}
		pub.publish("reto/rap", "n", 1, false)
		if p := sub.expectPublish("reto/rap", "n"); p.Retain {
			t.Fatal("RETAIN 1 for a non-retained publish")
		} else {
			sub.ack(p)
		}
		pub.publish("reto/rap", "", 1, true) // clean up
		sub.ack(sub.expectPublish("reto/rap", ""))
	})

	cases := []struct {
		name          string
		rh            byte
		first, second bool // retained message sent on the first and on a repeated SUBSCRIBE
	}{
		{"handling 0", 0, true, true},   // [MQTT-3.3.1-9] always
		{"handling 1", 1, true, false},  // [MQTT-3.3.1-10] only if the subscription did not exist
		{"handling 2", 2, false, false}, // [MQTT-3.3.1-11] never
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sub, _ := tb.client(t, "reto-"+tc.name, v5)
			for _, want := range []bool{tc.first, tc.second} {
				sub.subscribe(packet.Properties{}, packet.Subscription{Filter: "reto/t", QoS: 1, RetainHandling: tc.rh})
				if want {
					sub.ack(sub.expectPublish("reto/t", "kept"))
				}
				sub.ping()
			}
		})
	}
	t.Run("not to shared subscriptions", func(t *testing.T) {
		// §4.8.2: retained messages are not sent to a shared subscription
		sub, _ := tb.client(t, "reto-shared", v5)
		sub.sub("$share/g/reto/t", 1)
		sub.ping()
	})
}
