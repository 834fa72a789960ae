package broker_test

import (
	"context"
	"crypto/tls"
	"errors"
	"strings"
	"testing"
	"time"

	paho5packets "github.com/eclipse/paho.golang/packets"
	"github.com/eclipse/paho.golang/paho"
	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"

	"github.com/moat-iot/moat/internal/moattest"
)

const waitFor = 10 * time.Second

// client311 connects a paho.mqtt.golang (MQTT 3.1.1) client.
func client311(t *testing.T, srv *moattest.Server, d *moattest.Device, id string, onLost func(error)) (mqtt.Client, error) {
	t.Helper()
	opts := mqtt.NewClientOptions().AddBroker("ssl://" + srv.MQTTAddr).SetClientID(id).
		SetTLSConfig(srv.MQTTTLS(d)).SetAutoReconnect(false).SetConnectRetry(false).
		SetProtocolVersion(4).SetCleanSession(true).SetConnectTimeout(waitFor).SetKeepAlive(30 * time.Second)
	if onLost != nil {
		opts.SetConnectionLostHandler(func(_ mqtt.Client, err error) { onLost(err) })
	}
	c := mqtt.NewClient(opts)
	tok := c.Connect()
	if !tok.WaitTimeout(waitFor) {
		t.Fatalf("connect %s: timeout", id)
	}
	if tok.Error() == nil {
		t.Cleanup(func() { c.Disconnect(100) })
	}
	return c, tok.Error()
}

// client5 connects a paho.golang (MQTT 5) client; msgs receives its
// publications.
func client5(t *testing.T, srv *moattest.Server, d *moattest.Device, id string, msgs chan<- *paho.Publish) (*paho.Client, *paho.Connack, error) {
	t.Helper()
	conn, err := tls.Dial("tcp", srv.MQTTAddr, srv.MQTTTLS(d))
	if err != nil {
		return nil, nil, err
	}
	// paho.golang writes from several goroutines: a tls.Conn needs the
	// thread-safe wrapper, or packets interleave.
	cfg := paho.ClientConfig{ClientID: id, Conn: paho5packets.NewThreadSafeConn(conn)}
	if msgs != nil {
		cfg.OnPublishReceived = []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
			msgs <- pr.Packet
			return true, nil
		}}
	}
	c := paho.NewClient(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	ack, err := c.Connect(ctx, &paho.Connect{ClientID: id, KeepAlive: 30, CleanStart: true})
	if err == nil {
		t.Cleanup(func() { _ = c.Disconnect(&paho.Disconnect{}) })
	} else {
		conn.Close()
	}
	return c, ack, err
}

// appPolicy lets "app-1" connect, and subscribe to and receive lamp-1's
// topics (but not "lamp-1/secret").
func appPolicy(srv *moattest.Server) string {
	return strings.NewReplacer("REGION", srv.Config.Region, "ACCOUNT", srv.Config.AccountID).Replace(`{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": "iot:Connect", "Resource": "arn:aws:iot:REGION:ACCOUNT:client/app-1"},
    {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": "arn:aws:iot:REGION:ACCOUNT:topicfilter/lamp-1/*"},
    {"Effect": "Allow", "Action": "iot:Receive", "Resource": "arn:aws:iot:REGION:ACCOUNT:topic/lamp-1/*"},
    {"Effect": "Deny", "Action": "iot:Receive", "Resource": "arn:aws:iot:REGION:ACCOUNT:topic/lamp-1/secret"}
  ]
}`)
}

// TestDeviceFlow_311 is the seed's device flow with MQTT 3.1.1: an allowed
// publish reaches an allowed subscriber; a denied receive is not delivered.
func TestDeviceFlow_311(t *testing.T) {
	srv := moattest.Start(t)
	lamp := srv.NewDevice(t, "lamp-1", srv.DevicePolicy())
	app := srv.NewDevice(t, "", appPolicy(srv))

	got := make(chan mqtt.Message, 10)
	sub, err := client311(t, srv, &app, "app-1", nil)
	if err != nil {
		t.Fatalf("subscriber connect: %v", err)
	}
	st := sub.Subscribe("lamp-1/#", 1, func(_ mqtt.Client, m mqtt.Message) { got <- m })
	if !st.WaitTimeout(waitFor) || st.Error() != nil {
		t.Fatalf("subscribe: %v", st.Error())
	}
	if codes := st.(*mqtt.SubscribeToken).Result(); codes["lamp-1/#"] != 1 {
		t.Fatalf("SUBACK = %v, want QoS 1 granted", codes)
	}
	pub, err := client311(t, srv, &lamp, "lamp-1", nil)
	if err != nil {
		t.Fatalf("publisher connect: %v", err)
	}
	for _, topic := range []string{"lamp-1/secret", "lamp-1/state"} {
		tok := pub.Publish(topic, 1, false, "on")
		if !tok.WaitTimeout(waitFor) || tok.Error() != nil {
			t.Fatalf("publish %s: %v", topic, tok.Error())
		}
	}
	select {
	case m := <-got:
		// the denied message was published first: receiving the allowed one
		// first shows the denied one was not delivered
		if m.Topic() != "lamp-1/state" || string(m.Payload()) != "on" {
			t.Fatalf("received %s %q, want lamp-1/state \"on\"", m.Topic(), m.Payload())
		}
	case <-time.After(waitFor):
		t.Fatal("allowed message not delivered")
	}
}

// TestDeviceFlow_5 is the same flow with MQTT 5.
func TestDeviceFlow_5(t *testing.T) {
	srv := moattest.Start(t)
	lamp := srv.NewDevice(t, "lamp-1", srv.DevicePolicy())
	app := srv.NewDevice(t, "", appPolicy(srv))
	ctx := context.Background()

	got := make(chan *paho.Publish, 10)
	sub, _, err := client5(t, srv, &app, "app-1", got)
	if err != nil {
		t.Fatalf("subscriber connect: %v", err)
	}
	sa, err := sub.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "lamp-1/#", QoS: 1}}})
	if err != nil || sa.Reasons[0] != 1 {
		t.Fatalf("subscribe: %v %v", sa, err)
	}
	pub, _, err := client5(t, srv, &lamp, "lamp-1", nil)
	if err != nil {
		t.Fatalf("publisher connect: %v", err)
	}
	for _, topic := range []string{"lamp-1/secret", "lamp-1/state"} {
		if _, err := pub.Publish(ctx, &paho.Publish{Topic: topic, QoS: 1, Payload: []byte("on")}); err != nil {
			t.Fatalf("publish %s: %v", topic, err)
		}
	}
	select {
	case m := <-got:
		if m.Topic != "lamp-1/state" || string(m.Payload) != "on" {
			t.Fatalf("received %s %q, want lamp-1/state \"on\"", m.Topic, m.Payload)
		}
	case <-time.After(waitFor):
		t.Fatal("allowed message not delivered")
	}
}

// TestRefusals_311 checks each refusal an MQTT 3.1.1 client can meet.
func TestRefusals_311(t *testing.T) {
	srv := moattest.Start(t)
	lamp := srv.NewDevice(t, "lamp-1", srv.DevicePolicy())

	t.Run("foreign client id", func(t *testing.T) {
		// the certificate's policy allows only client id lamp-1
		_, err := client311(t, srv, &lamp, "lamp-2", nil)
		if !errors.Is(err, packets.ErrorRefusedNotAuthorised) {
			t.Fatalf("connect as lamp-2: %v, want not authorized", err)
		}
	})
	t.Run("foreign topic subscribe", func(t *testing.T) {
		// SUBACK 0x80 for the refused filter, the other filter granted
		c, err := client311(t, srv, &lamp, "lamp-1", nil)
		if err != nil {
			t.Fatal(err)
		}
		st := c.SubscribeMultiple(map[string]byte{"other/#": 1, "lamp-1/in": 1}, nil)
		if !st.WaitTimeout(waitFor) {
			t.Fatal("no SUBACK")
		}
		codes := st.(*mqtt.SubscribeToken).Result()
		if codes["other/#"] != 0x80 || codes["lamp-1/in"] != 1 {
			t.Fatalf("SUBACK codes = %v", codes)
		}
	})
	t.Run("foreign topic publish", func(t *testing.T) {
		// AWS closes a 3.1.1 connection that publishes where it may not
		lost := make(chan error, 1)
		c, err := client311(t, srv, &lamp, "lamp-1", func(err error) { lost <- err })
		if err != nil {
			t.Fatal(err)
		}
		c.Publish("other/state", 1, false, "x")
		select {
		case <-lost:
		case <-time.After(waitFor):
			t.Fatal("connection not closed after a denied publish")
		}
	})
	t.Run("inactive certificate", func(t *testing.T) {
		d := srv.NewDevice(t, "lamp-3", srv.DevicePolicy())
		srv.SetCertificateStatus(t, d.CertificateID, "INACTIVE")
		_, err := client311(t, srv, &d, "lamp-3", nil)
		if !errors.Is(err, packets.ErrorRefusedNotAuthorised) {
			t.Fatalf("connect with an INACTIVE certificate: %v, want not authorized", err)
		}
	})
	t.Run("unregistered certificate", func(t *testing.T) {
		d := moattest.SelfSignedDevice(t, "lamp-1")
		_, err := client311(t, srv, &d, "lamp-1", nil)
		if !errors.Is(err, packets.ErrorRefusedNotAuthorised) {
			t.Fatalf("connect with an unregistered certificate: %v, want not authorized", err)
		}
	})
}

// TestRefusals_5 checks the MQTT 5 reason codes of refusals.
func TestRefusals_5(t *testing.T) {
	srv := moattest.Start(t)
	lamp := srv.NewDevice(t, "lamp-1", srv.DevicePolicy())
	ctx := context.Background()

	t.Run("foreign client id", func(t *testing.T) {
		// CONNACK 0x87 Not authorized
		_, ack, err := client5(t, srv, &lamp, "lamp-2", nil)
		if err == nil || ack == nil || ack.ReasonCode != 0x87 {
			t.Fatalf("connect as lamp-2: ack %v err %v, want 0x87", ack, err)
		}
		if ack.Properties == nil || !strings.Contains(ack.Properties.ReasonString, "iot:Connect") {
			t.Fatalf("reason string %+v does not name the action", ack.Properties)
		}
	})
	t.Run("foreign topic", func(t *testing.T) {
		// PUBACK 0x87 and SUBACK 0x87, and the connection goes on
		c, _, err := client5(t, srv, &lamp, "lamp-1", nil)
		if err != nil {
			t.Fatal(err)
		}
		pr, err := c.Publish(ctx, &paho.Publish{Topic: "other/state", QoS: 1, Payload: []byte("x")})
		if pr == nil || pr.ReasonCode != 0x87 {
			t.Fatalf("denied publish: %v %v, want PUBACK 0x87", pr, err)
		}
		sa, err := c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "other/#", QoS: 1}, {Topic: "lamp-1/in", QoS: 1}}})
		if sa == nil || len(sa.Reasons) != 2 || sa.Reasons[0] != 0x87 || sa.Reasons[1] != 1 {
			t.Fatalf("SUBACK = %v %v, want [0x87 1]", sa, err)
		}
		if pr, err := c.Publish(ctx, &paho.Publish{Topic: "lamp-1/state", QoS: 1, Payload: []byte("x")}); err != nil || pr.ReasonCode >= 0x80 {
			t.Fatalf("allowed publish after refusals: %v %v", pr, err)
		}
	})
	t.Run("inactive certificate", func(t *testing.T) {
		d := srv.NewDevice(t, "lamp-3", srv.DevicePolicy())
		srv.SetCertificateStatus(t, d.CertificateID, "INACTIVE")
		_, ack, err := client5(t, srv, &d, "lamp-3", nil)
		if err == nil || ack == nil || ack.ReasonCode != 0x87 {
			t.Fatalf("INACTIVE certificate: ack %v err %v, want 0x87", ack, err)
		}
	})
}

// TestRefusals_TLS checks what never reaches MQTT: no client certificate,
// TLS 1.1, and plain text.
func TestRefusals_TLS(t *testing.T) {
	srv := moattest.Start(t)
	t.Run("no client certificate", func(t *testing.T) {
		conn, err := tls.Dial("tcp", srv.MQTTAddr, srv.MQTTTLS(nil))
		if err == nil {
			// TLS 1.3 reports the server's refusal on the first read
			_ = conn.SetDeadline(time.Now().Add(waitFor))
			_, err = conn.Read(make([]byte, 1))
			conn.Close()
		}
		if err == nil {
			t.Fatal("a client without a certificate got through")
		}
	})
	t.Run("TLS 1.1", func(t *testing.T) {
		d := srv.NewDevice(t, "", "")
		cfg := srv.MQTTTLS(&d)
		cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
		conn, err := tls.Dial("tcp", srv.MQTTAddr, cfg)
		if err == nil {
			conn.Close()
			t.Fatal("TLS 1.1 handshake succeeded")
		}
	})
	t.Run("plain text", func(t *testing.T) {
		if err := moattest.PlainTextConnect(srv.MQTTAddr); err == nil {
			t.Fatal("a plain-text CONNECT got a CONNACK")
		}
	})
}

// TestRetainPublish checks iot:RetainPublish: the seed policy grants
// iot:Publish but not iot:RetainPublish, so a retained publish is refused
// (MQTT 5 PUBACK 0x87) while the same publish without RETAIN goes through;
// a policy that adds iot:RetainPublish allows it.
func TestRetainPublish(t *testing.T) {
	srv := moattest.Start(t)
	ctx := context.Background()
	lamp := srv.NewDevice(t, "lamp-1", srv.DevicePolicy())
	c, _, err := client5(t, srv, &lamp, "lamp-1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if pr, err := c.Publish(ctx, &paho.Publish{Topic: "lamp-1/cfg", QoS: 1, Retain: true, Payload: []byte("x")}); pr == nil || pr.ReasonCode != 0x87 {
		t.Fatalf("retained publish without iot:RetainPublish: %v %v, want PUBACK 0x87", pr, err)
	}
	if pr, err := c.Publish(ctx, &paho.Publish{Topic: "lamp-1/cfg", QoS: 1, Payload: []byte("x")}); err != nil || pr.ReasonCode >= 0x80 {
		t.Fatalf("plain publish: %v %v", pr, err)
	}
	doc := strings.Replace(srv.DevicePolicy(), `["iot:Publish", "iot:Receive"]`, `["iot:Publish", "iot:RetainPublish", "iot:Receive"]`, 1)
	lamp2 := srv.NewDevice(t, "lamp-2", doc)
	c2, _, err := client5(t, srv, &lamp2, "lamp-2", nil)
	if err != nil {
		t.Fatal(err)
	}
	if pr, err := c2.Publish(ctx, &paho.Publish{Topic: "lamp-2/cfg", QoS: 1, Retain: true, Payload: []byte("x")}); err != nil || pr.ReasonCode >= 0x80 {
		t.Fatalf("retained publish with iot:RetainPublish: %v %v", pr, err)
	}
}
