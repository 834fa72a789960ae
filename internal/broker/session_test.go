package broker_test

import (
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/broker"
	"github.com/moat-iot/moat/internal/mqtt/packet"
)

// TestSession_Takeover: a second connection with the same client id
// closes the first [MQTT-3.1.4-3]; MQTT 5 tells it with DISCONNECT 0x8E
// Session taken over; the second connection works and keeps the session.
func TestSession_Takeover(t *testing.T) {
	tb := startBroker(t, nil)
	cases := []struct{ first, second packet.Version }{{v4, v4}, {v5, v5}, {v4, v5}, {v5, v4}}
	for _, tc := range cases {
		t.Run(tc.first.String()+"-"+tc.second.String(), func(t *testing.T) {
			id := "takeover-" + tc.first.String() + tc.second.String()
			old, _ := tb.client(t, id, tc.first, persistent)
			old.sub("to/"+id, 1)
			nw, ack := tb.client(t, id, tc.second, persistent)
			old.expectDisconnect(packet.SessionTakenOver)
			// [MQTT-3.2.2-3] the session is taken over, not discarded
			if !ack.SessionPresent {
				t.Fatal("takeover: session not present")
			}
			pub, _ := tb.client(t, id+"-pub", v5)
			pub.publish("to/"+id, "after", 1, false)
			nw.ack(nw.expectPublish("to/"+id, "after"))
			nw.ping()
		})
	}
	t.Run("clean start discards", func(t *testing.T) {
		// [MQTT-3.1.2-4] a takeover with Clean Start 1 starts a new session
		old, _ := tb.client(t, "takeover-clean", v5, persistent)
		old.sub("toc/t", 1)
		nw, ack := tb.client(t, "takeover-clean", v5)
		old.expectDisconnect(packet.SessionTakenOver)
		if ack.SessionPresent {
			t.Fatal("clean start: session present")
		}
		pub, _ := tb.client(t, "takeover-clean-pub", v5)
		if code := pub.publish("toc/t", "x", 1, false); code != packet.NoMatchingSubscribers {
			t.Fatalf("PUBACK %s, want 0x10: the old subscription survived Clean Start", code)
		}
		nw.ping()
	})
}

// TestSession_Present checks the Session Present flag.
func TestSession_Present(t *testing.T) {
	tb := startBroker(t, nil)
	cases := []struct {
		name    string
		v       packet.Version
		first   []connOpt
		second  []connOpt
		present bool
	}{
		// [MQTT-3.2.2-3] (3.1.1 [MQTT-3.2.2-2]) Clean Start 0 with a stored session
		{"v4 resume", v4, []connOpt{persistent}, []connOpt{persistent}, true},
		{"v5 resume", v5, []connOpt{persistent}, []connOpt{persistent}, true},
		// [MQTT-3.2.2-2] (3.1.1 [MQTT-3.2.2-1]) Clean Start 1: Session Present 0
		{"v4 clean", v4, []connOpt{persistent}, nil, false},
		{"v5 clean", v5, []connOpt{persistent}, nil, false},
		// [MQTT-3.1.2-23] MQTT 5 without Session Expiry: the session ends with the connection
		{"v5 no expiry", v5, []connOpt{func(c *packet.Connect) { c.CleanStart = false }}, []connOpt{persistent}, false},
		// 3.1.1 Clean Session 1: the session ends with the connection [MQTT-3.1.2-6]
		{"v4 clean first", v4, nil, []connOpt{persistent}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := "present-" + tc.name
			w, ack := tb.client(t, id, tc.v, tc.first...)
			if ack.SessionPresent {
				t.Fatal("first CONNECT: session present")
			}
			w.sub("p/t", 1)
			w.disconnect(packet.NormalDisconnection)
			_, ack = tb.client(t, id, tc.v, tc.second...)
			if ack.SessionPresent != tc.present {
				t.Fatalf("session present %v, want %v", ack.SessionPresent, tc.present)
			}
		})
	}
}

// TestSession_SubscriptionsSurvive: a persistent session keeps its
// subscriptions and queues QoS 1 messages while offline (in memory)
// [MQTT-3.1.2-5] (3.1.1 [MQTT-3.1.2-5]).
func TestSession_SubscriptionsSurvive(t *testing.T) {
	tb := startBroker(t, nil)
	for _, v := range []packet.Version{v4, v5} {
		t.Run(v.String(), func(t *testing.T) {
			id, topic := "survive-"+v.String(), "sv/"+v.String()
			w, _ := tb.client(t, id, v, persistent)
			w.sub(topic, 1)
			w.disconnect(packet.NormalDisconnection)
			pub, _ := tb.client(t, id+"-pub", v5)
			if code := pub.publish(topic, "while offline", 1, false); code != packet.Success {
				t.Fatalf("PUBACK %s: the offline subscription does not match", code)
			}
			pub.publish(topic, "qos0 offline", 0, false) // QoS 0 may be dropped offline
			w, _ = tb.client(t, id, v, persistent)
			w.ack(w.expectPublish(topic, "while offline"))
			pub.publish(topic, "live", 1, false)
			w.ack(w.expectPublish(topic, "live"))
			w.ping()
		})
	}
}

// TestSession_Expiry: a session whose Session Expiry Interval passed while
// offline is discarded [MQTT-3.1.2-23].
func TestSession_Expiry(t *testing.T) {
	t.Parallel()
	tb := startBroker(t, nil)
	w, _ := tb.client(t, "expiring", v5, func(c *packet.Connect) {
		c.CleanStart = false
		c.Properties.SessionExpiry, c.Properties.HasSessionExpiry = 1, true
	})
	w.sub("e/t", 1)
	w.disconnect(packet.NormalDisconnection)
	tb.waitStats(t, "the session to expire", func(s broker.Stats) bool { return s.Sessions == 0 })
	if _, ack := tb.client(t, "expiring", v5, persistent); ack.SessionPresent {
		t.Fatal("expired session present")
	}
}

// TestSession_KeepAlive: with no packet within 1.5 × Keep Alive the broker
// closes the connection [MQTT-3.1.2-22] (3.1.1 [MQTT-3.1.2-24]); MQTT 5
// gets DISCONNECT 0x8D Keep Alive timeout; a PINGREQ keeps it open.
func TestSession_KeepAlive(t *testing.T) {
	t.Parallel()
	tb := startBroker(t, func(l *broker.Limits) { l.MinKeepAlive = 0 })
	ka := func(c *packet.Connect) { c.KeepAlive = 1 }
	for _, v := range []packet.Version{v4, v5} {
		t.Run("expiry "+v.String(), func(t *testing.T) {
			t.Parallel()
			w, ack := tb.client(t, "ka-"+v.String(), v, ka)
			if ack.Properties.HasServerKeepAlive {
				t.Fatalf("Server Keep Alive %d, want the client's", ack.Properties.ServerKeepAlive)
			}
			start := time.Now()
			w.expectDisconnect(packet.KeepAliveTimeout)
			if d := time.Since(start); d < 1400*time.Millisecond || d > 3*time.Second {
				t.Fatalf("closed after %v, want 1.5 s", d)
			}
		})
	}
	t.Run("pings keep it open", func(t *testing.T) {
		t.Parallel()
		// [MQTT-3.1.2-22]: any control packet within 1.5 × Keep Alive resets the timer
		w, _ := tb.client(t, "ka-ping", v5, ka)
		for range 4 {
			time.Sleep(700 * time.Millisecond) // the client's idle time, not an assertion
			w.ping()
		}
	})
}
