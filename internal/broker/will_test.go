package broker_test

import (
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/broker"
	"github.com/moat-iot/moat/internal/mqtt/packet"
)

// withWill sets a QoS 1 will on topic.
func withWill(topic string, delay uint32) connOpt {
	return func(c *packet.Connect) {
		c.Will = &packet.Will{QoS: 1, Topic: topic, Payload: []byte("gone")}
		c.Will.Properties.WillDelay = delay
	}
}

// TestWill_Delivery: the will is published when the connection closes
// without a normal DISCONNECT [MQTT-3.1.2-8], and removed on DISCONNECT
// 0x00 [MQTT-3.1.2-10]; MQTT 5 DISCONNECT 0x04 asks for it (§3.14.2.1).
func TestWill_Delivery(t *testing.T) {
	tb := startBroker(t, nil)
	cases := []struct {
		name      string
		v         packet.Version
		end       func(w *wire)
		delivered bool
	}{
		// [MQTT-3.1.2-8] network connection closed without DISCONNECT
		{"v4 abnormal close", v4, (*wire).drop, true},
		{"v5 abnormal close", v5, (*wire).drop, true},
		// [MQTT-3.1.2-10] (3.1.1 [MQTT-3.1.2-10] / [MQTT-3.14.4-3]) DISCONNECT removes the will
		{"v4 disconnect", v4, func(w *wire) { w.disconnect(0) }, false},
		{"v5 disconnect 0x00", v5, func(w *wire) { w.disconnect(packet.NormalDisconnection) }, false},
		// §3.14.2.1: 0x04 Disconnect with Will Message
		{"v5 disconnect 0x04", v5, func(w *wire) { w.disconnect(packet.DisconnectWithWill) }, true},
		// [MQTT-3.1.2-8] the server closes the connection for a protocol error
		{"v4 protocol error", v4, func(w *wire) { w.sendRaw([]byte{0x00, 0x00}); w.expectClosed() }, true},
		{"v5 protocol error", v5, func(w *wire) { w.sendRaw([]byte{0x00, 0x00}); w.expectDisconnect(packet.MalformedPacket) }, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			topic := "will/" + tc.name
			watch, _ := tb.client(t, "watch-"+tc.name, v5)
			watch.sub(topic, 1)
			w, _ := tb.client(t, "dying-"+tc.name, tc.v, withWill(topic, 0))
			w.ping()
			tc.end(w)
			if tc.delivered {
				p := watch.expectPublish(topic, "gone")
				if p.Retain {
					t.Fatal("will delivered with RETAIN 1")
				}
				watch.ack(p)
				return
			}
			tb.waitStats(t, "the connection to be torn down", func(s broker.Stats) bool { return s.Connections == 1 })
			marker, _ := tb.client(t, "marker-"+tc.name, v5)
			marker.publish(topic, "marker", 1, false)
			watch.ack(watch.expectPublish(topic, "marker"))
			watch.ping()
		})
	}
	t.Run("retained will", func(t *testing.T) {
		// [MQTT-3.1.2-17] Will Retain 1: published as a retained message
		w, _ := tb.client(t, "dying-retained", v5, func(c *packet.Connect) {
			c.Will = &packet.Will{QoS: 1, Retain: true, Topic: "will/retained", Payload: []byte("gone")}
		})
		w.drop()
		tb.waitStats(t, "the retained will", func(s broker.Stats) bool { return s.Retained == 1 })
		late, _ := tb.client(t, "late", v5)
		late.sub("will/retained", 1)
		if p := late.expectPublish("will/retained", "gone"); !p.Retain {
			t.Fatal("retained will delivered with RETAIN 0 to a new subscription")
		}
	})
	t.Run("keep-alive expiry", func(t *testing.T) {
		t.Parallel()
		// [MQTT-3.1.2-8] a keep-alive timeout publishes the will
		tb := startBroker(t, func(l *broker.Limits) { l.MinKeepAlive = 0 })
		watch, _ := tb.client(t, "watch-ka", v5, func(c *packet.Connect) { c.KeepAlive = 10 })
		watch.sub("will/ka", 1)
		w, _ := tb.client(t, "dying-ka", v4, withWill("will/ka", 0), func(c *packet.Connect) { c.KeepAlive = 1 })
		w.expectClosed()
		watch.ack(watch.expectPublish("will/ka", "gone"))
	})
}

// TestWill_Delay: MQTT 5 delays the will by the Will Delay Interval, and a
// new connection to the session before it passes cancels it
// [MQTT-3.1.3-9].
func TestWill_Delay(t *testing.T) {
	t.Parallel()
	tb := startBroker(t, nil)
	t.Run("published after the delay", func(t *testing.T) {
		t.Parallel()
		watch, _ := tb.client(t, "wd-watch", v5)
		watch.sub("wd/late", 1)
		w, _ := tb.client(t, "wd-late", v5, persistent, withWill("wd/late", 1))
		start := time.Now()
		w.drop()
		watch.ack(watch.expectPublish("wd/late", "gone"))
		if d := time.Since(start); d < 900*time.Millisecond {
			t.Fatalf("will published after %v, want the 1 s delay", d)
		}
	})
	t.Run("cancelled by reconnect", func(t *testing.T) {
		t.Parallel()
		watch, _ := tb.client(t, "wc-watch", v5)
		watch.sub("wd/cancel", 1)
		w, _ := tb.client(t, "wd-cancel", v5, persistent, withWill("wd/cancel", 1))
		w.drop()
		tb.waitStats(t, "the connection to be torn down", func(s broker.Stats) bool { return s.Connections <= 3 })
		w, _ = tb.client(t, "wd-cancel", v5, persistent)
		time.Sleep(1500 * time.Millisecond) // past the delay (not an assertion)
		marker, _ := tb.client(t, "wd-marker", v5)
		marker.publish("wd/cancel", "marker", 1, false)
		watch.ack(watch.expectPublish("wd/cancel", "marker"))
		watch.ping()
		w.ping()
	})
	t.Run("session end", func(t *testing.T) {
		t.Parallel()
		// §3.1.3.2.2: the will is published when the session ends, if that
		// is before the delay (no Session Expiry: at once)
		watch, _ := tb.client(t, "ws-watch", v5)
		watch.sub("wd/end", 1)
		w, _ := tb.client(t, "wd-end", v5, withWill("wd/end", 60))
		w.drop()
		watch.ack(watch.expectPublish("wd/end", "gone"))
	})
}
