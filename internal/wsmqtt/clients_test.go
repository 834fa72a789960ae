package wsmqtt_test

import (
	"context"
	"testing"
	"time"

	"github.com/coder/websocket"
	paho5packets "github.com/eclipse/paho.golang/packets"
	paho "github.com/eclipse/paho.golang/paho"
	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/moat-iot/moat/internal/wsmqtt"
)

// TestHandler_PahoWSS checks paho.mqtt.golang's own wss:// transport
// (gorilla/websocket, Sec-WebSocket-Protocol: mqtt) with presigned URLs of
// temporary credentials, both session-token placements: connect,
// subscribe, publish, receive.
func TestHandler_PahoWSS(t *testing.T) {
	h := start(t, harnessOpts{})
	for _, appended := range []bool{false, true} {
		name := "token-signed"
		if appended {
			name = "token-appended"
		}
		t.Run(name, func(t *testing.T) {
			creds := h.tempCreds("us-east-1:00000000-0000-0000-0000-0000000000aa", time.Hour)
			u := h.presign(creds, wsmqtt.SigningName, time.Now(), 0, appended)
			msgs := make(chan mqtt.Message, 4)
			c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(u).SetClientID("paho-" + name).SetTLSConfig(h.tlsConfig()).
				SetAutoReconnect(false).SetConnectRetry(false).SetConnectTimeout(timeout))
			if tok := c.Connect(); !tok.WaitTimeout(timeout) || tok.Error() != nil {
				t.Fatalf("connect: %v", tok.Error())
			}
			defer c.Disconnect(100)
			topic := "app/" + name
			if tok := c.Subscribe(topic, 1, func(_ mqtt.Client, m mqtt.Message) { msgs <- m }); !tok.WaitTimeout(timeout) || tok.Error() != nil {
				t.Fatalf("subscribe: %v", tok.Error())
			}
			if tok := c.Publish(topic, 1, false, "over websocket"); !tok.WaitTimeout(timeout) || tok.Error() != nil {
				t.Fatalf("publish: %v", tok.Error())
			}
			select {
			case m := <-msgs:
				if string(m.Payload()) != "over websocket" {
					t.Fatalf("payload %q", m.Payload())
				}
			case <-time.After(timeout):
				t.Fatal("no message")
			}
		})
	}
}

// TestHandler_PahoV5 checks paho.golang (MQTT 5) over a WebSocket made by
// github.com/coder/websocket with a presigned URL of a long-term key.
func TestHandler_PahoV5(t *testing.T) {
	h := start(t, harnessOpts{})
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	u := h.presign(h.userCreds(), wsmqtt.SigningName, time.Now(), time.Minute, false)
	ws, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: h.httpClient(), Subprotocols: []string{wsmqtt.Subprotocol}})
	if err != nil {
		t.Fatal(err)
	}
	conn := websocket.NetConn(context.Background(), ws, websocket.MessageBinary)
	msgs := make(chan *paho.Publish, 4)
	c := paho.NewClient(paho.ClientConfig{ClientID: "v5", Conn: paho5packets.NewThreadSafeConn(conn),
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
			msgs <- pr.Packet
			return true, nil
		}}})
	ack, err := c.Connect(ctx, &paho.Connect{ClientID: "v5", KeepAlive: 30, CleanStart: true})
	if err != nil || ack.ReasonCode != 0 {
		t.Fatalf("connect: %v %+v", err, ack)
	}
	defer func() { _ = c.Disconnect(&paho.Disconnect{}) }()
	if ack.Properties == nil || ack.Properties.MaximumPacketSize == nil {
		t.Fatal("CONNACK without the broker's maximum packet size")
	}
	if _, err := c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "v5/#", QoS: 1}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Publish(ctx, &paho.Publish{Topic: "v5/t", QoS: 1, Payload: []byte("five")}); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-msgs:
		if m.Topic != "v5/t" || string(m.Payload) != "five" {
			t.Fatalf("got %s %q", m.Topic, m.Payload)
		}
	case <-time.After(timeout):
		t.Fatal("no message")
	}
}
