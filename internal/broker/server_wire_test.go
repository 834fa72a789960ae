package broker_test

import (
	"testing"

	"github.com/moat-iot/moat/internal/moattest"
	"github.com/moat-iot/moat/internal/mqtt/packet"
	pt "github.com/moat-iot/moat/internal/mqtt/packet/packettest"
)

// TestWire_FullServer runs raw-wire checks through the complete server:
// a registered certificate, the seed's device policy, the real listener.
func TestWire_FullServer(t *testing.T) {
	srv := moattest.Start(t)
	lamp := srv.NewDevice(t, "lamp-1", srv.DevicePolicy())
	cfg := srv.MQTTTLS(&lamp)
	client := func(t *testing.T, v packet.Version, opts ...connOpt) *wire {
		t.Helper()
		w := dial(t, srv.MQTTAddr, cfg)
		if ack := w.connect("lamp-1", v, opts...); ack.ReasonCode != packet.Success {
			t.Fatalf("CONNACK %s", ack.ReasonCode)
		}
		return w
	}

	t.Run("publish and receive", func(t *testing.T) {
		// [MQTT-3.3.4-1] the allowed publish reaches the allowed subscriber
		w := client(t, v5)
		w.sub("lamp-1/#", 1)
		w.send(&packet.Publish{Topic: "lamp-1/state", QoS: 1, PacketID: 1, Payload: []byte("on")})
		var acked, got bool
		for !acked || !got {
			switch p := w.read().(type) {
			case *packet.Puback:
				acked = p.PacketID == 1 && p.ReasonCode == packet.Success
			case *packet.Publish:
				got = p.Topic == "lamp-1/state" && string(p.Payload) == "on"
				w.ack(p)
			default:
				t.Fatalf("read %s", p.Type())
			}
		}
		// iot:Publish refused: PUBACK 0x87, the connection goes on
		if code := w.publish("other/state", "x", 1, false); code != packet.NotAuthorized {
			t.Fatalf("PUBACK %s, want 0x87", code)
		}
		w.ping()
	})
	t.Run("wildcard topic", func(t *testing.T) {
		// [MQTT-3.3.2-2] before any policy check: DISCONNECT 0x90
		w := client(t, v5)
		w.sendRaw(pt.Pkt(0x30, pt.Str("lamp-1/+"), pt.Props(), "p"))
		w.expectDisconnect(packet.TopicNameInvalid)
	})
	t.Run("takeover", func(t *testing.T) {
		// [MQTT-3.1.4-3] the first connection gets DISCONNECT 0x8E
		first := client(t, v5)
		second := client(t, v4)
		first.expectDisconnect(packet.SessionTakenOver)
		second.ping()
	})
	t.Run("second connect", func(t *testing.T) {
		// [MQTT-3.1.0-2]
		w := client(t, v4)
		w.send(&packet.Connect{ProtocolLevel: v4, ClientID: "lamp-1", CleanStart: true})
		w.expectClosed()
	})
}
