package server_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/coder/websocket"
	paho5packets "github.com/eclipse/paho.golang/packets"
	paho "github.com/eclipse/paho.golang/paho"
	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/moat-iot/moat/internal/moattest"
	"github.com/moat-iot/moat/internal/mqtt/packet"
)

// alpnWait bounds every wait of these tests.
const alpnWait = 10 * time.Second

// pahoClient connects paho.mqtt.golang to broker (ssl:// or wss://) with
// cfg and fails the test unless it connects.
func pahoClient(t *testing.T, brokerURL, id string, cfg *tls.Config) mqtt.Client {
	t.Helper()
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(brokerURL).SetClientID(id).SetTLSConfig(cfg).
		SetAutoReconnect(false).SetConnectRetry(false).SetConnectTimeout(alpnWait))
	if tok := c.Connect(); !tok.WaitTimeout(alpnWait) || tok.Error() != nil {
		t.Fatalf("connect %s to %s: %v", id, brokerURL, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c
}

// roundTrip subscribes c to topic, publishes to it and waits for the
// message.
func roundTrip(t *testing.T, c mqtt.Client, topic, payload string) {
	t.Helper()
	msgs := make(chan mqtt.Message, 1)
	if tok := c.Subscribe(topic, 1, func(_ mqtt.Client, m mqtt.Message) { msgs <- m }); !tok.WaitTimeout(alpnWait) || tok.Error() != nil {
		t.Fatalf("subscribe %s: %v", topic, tok.Error())
	}
	if tok := c.Publish(topic, 1, false, payload); !tok.WaitTimeout(alpnWait) || tok.Error() != nil {
		t.Fatalf("publish %s: %v", topic, tok.Error())
	}
	select {
	case m := <-msgs:
		if string(m.Payload()) != payload {
			t.Fatalf("payload %q, want %q", m.Payload(), payload)
		}
	case <-time.After(alpnWait):
		t.Fatalf("no message on %s", topic)
	}
}

// rawConnect dials the HTTPS port with ALPN proto (and certs), sends an
// MQTT 3.1.1 CONNECT and returns the negotiated protocol and the CONNACK.
func rawConnect(t *testing.T, srv *moattest.Server, proto, clientID string, certs ...tls.Certificate) (string, *packet.Connack) {
	t.Helper()
	cfg := srv.MQTTTLS(nil)
	cfg.Certificates, cfg.NextProtos = certs, []string{proto}
	tc, err := tls.DialWithDialer(&net.Dialer{Timeout: alpnWait}, "tcp", srv.HTTPSAddr, cfg)
	if err != nil {
		t.Fatalf("dial with ALPN %s: %v", proto, err)
	}
	defer tc.Close()
	_ = tc.SetDeadline(time.Now().Add(alpnWait))
	if _, err := packet.Write(tc, &packet.Connect{ProtocolLevel: packet.V311, ClientID: clientID, CleanStart: true, KeepAlive: 30}, packet.V311); err != nil {
		t.Fatal(err)
	}
	p, err := packet.NewReader(tc, packet.MaxPacketSize).ReadPacket(packet.V311)
	if err != nil {
		t.Fatalf("read CONNACK over ALPN %s: %v", proto, err)
	}
	ack, ok := p.(*packet.Connack)
	if !ok {
		t.Fatalf("read %s, want CONNACK", p.Type())
	}
	return tc.ConnectionState().NegotiatedProtocol, ack
}

// TestHTTPS_ALPNMQTT checks MQTT on the HTTPS port by ALPN: a device with
// x-amzn-mqtt-ca connects, subscribes, publishes and receives with
// paho.mqtt.golang; without a certificate the CONNECT is refused; mqtt
// (custom authorizers) reaches the broker, which refuses a CONNECT no
// authorizer admits.
func TestHTTPS_ALPNMQTT(t *testing.T) {
	srv := moattest.Start(t)
	d := srv.NewDevice(t, "lamp-1", srv.DevicePolicy())
	cfg := srv.MQTTTLS(&d)
	cfg.NextProtos = []string{"x-amzn-mqtt-ca"}
	c := pahoClient(t, "ssl://"+srv.HTTPSAddr, "lamp-1", cfg)
	roundTrip(t, c, "lamp-1/alpn", "by ALPN")

	if proto, ack := rawConnect(t, srv, "x-amzn-mqtt-ca", "lamp-2"); proto != "x-amzn-mqtt-ca" || ack.ReasonCode == packet.Success {
		t.Fatalf("no certificate: ALPN %q, CONNACK %s; want x-amzn-mqtt-ca and a refusal", proto, ack.ReasonCode)
	}
	if proto, ack := rawConnect(t, srv, "mqtt", "lamp-3"); proto != "mqtt" || ack.ReasonCode == packet.Success {
		t.Fatalf("custom auth without an authorizer: ALPN %q, CONNACK %s; want mqtt and a refusal", proto, ack.ReasonCode)
	}
}

// TestHTTPS_HTTPVersions checks that HTTP/2 and HTTP/1.1 keep working on
// the port that also serves MQTT: an h2 client negotiates h2 (and a SigV4
// SDK call works over it), a default client HTTP/1.1, and a device that
// asks for x-amzn-http-ca is served HTTP/1.1 with its certificate, on a
// kept-alive connection.
func TestHTTPS_HTTPVersions(t *testing.T) {
	srv := moattest.Start(t)
	get := func(c *http.Client) *http.Response {
		t.Helper()
		resp, err := c.Get(srv.URL + "/health")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /health: %d", resp.StatusCode)
		}
		return resp
	}
	h2 := &http.Client{Timeout: alpnWait, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: srv.RootCAs}, ForceAttemptHTTP2: true}}
	if resp := get(h2); resp.ProtoMajor != 2 || resp.TLS.NegotiatedProtocol != "h2" {
		t.Fatalf("h2 client: %s over %q", resp.Proto, resp.TLS.NegotiatedProtocol)
	}
	if _, err := srv.IoT(func(o *iot.Options) { o.HTTPClient = h2 }).ListThings(context.Background(), &iot.ListThingsInput{}); err != nil {
		t.Fatalf("ListThings over h2: %v", err)
	}
	// A SigV4 data-plane publish over h2, its topic escaped in the path.
	body := []byte(`{"over":"h2"}`)
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/topics/sensors%2Fh2?qos=1", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	srv.Sign(t, req, body, "iotdata", srv.AccessKey, srv.Secret, time.Now())
	resp, err := h2.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.ProtoMajor != 2 {
		t.Fatalf("SigV4 publish over h2: %s %d %s", resp.Proto, resp.StatusCode, b)
	}
	if resp := get(srv.HTTPClient()); resp.ProtoMajor != 1 || resp.ProtoMinor != 1 {
		t.Fatalf("default client: %s", resp.Proto)
	}

	policy := strings.NewReplacer("REGION", srv.Config.Region, "ACCOUNT", srv.Config.AccountID).Replace(`{"Version": "2012-10-17", "Statement": [
		{"Effect": "Allow", "Action": "iot:Publish", "Resource": "arn:aws:iot:REGION:ACCOUNT:topic/sensors/*"}]}`)
	d := srv.NewDevice(t, "", policy)
	ca := &http.Client{Timeout: alpnWait, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: srv.RootCAs,
		Certificates: []tls.Certificate{d.TLS}, NextProtos: []string{"x-amzn-http-ca"}}}}
	if resp := get(ca); resp.TLS.NegotiatedProtocol != "x-amzn-http-ca" || resp.ProtoMajor != 1 {
		t.Fatalf("x-amzn-http-ca: %s over %q", resp.Proto, resp.TLS.NegotiatedProtocol)
	}
	reused := false
	req, err = http.NewRequest(http.MethodPost, srv.URL+"/topics/sensors/1?qos=1", bytes.NewReader([]byte(`{"t":1}`)))
	if err != nil {
		t.Fatal(err)
	}
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }}))
	resp, err = ca.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !reused {
		t.Fatalf("publish with the device certificate over x-amzn-http-ca: %d %s (connection reused: %v)", resp.StatusCode, body, reused)
	}
}

// TestHTTPS_WebSocket checks MQTT over WebSocket at /mqtt end to end:
// paho.mqtt.golang's wss:// transport with a device certificate, and
// paho.golang (MQTT 5) over a presigned URL of the admin's key.
func TestHTTPS_WebSocket(t *testing.T) {
	srv := moattest.Start(t)
	d := srv.NewDevice(t, "lamp-ws", srv.DevicePolicy())
	c := pahoClient(t, "wss://"+srv.HTTPSAddr+"/mqtt", "lamp-ws", srv.MQTTTLS(&d))
	roundTrip(t, c, "lamp-ws/t", "over websocket")

	r, err := http.NewRequest(http.MethodGet, srv.URL+"/mqtt", nil)
	if err != nil {
		t.Fatal(err)
	}
	presigned, _, err := v4.NewSigner().PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: srv.AccessKey, SecretAccessKey: srv.Secret},
		r, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "iotdevicegateway", srv.Config.Region, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), alpnWait)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "wss"+strings.TrimPrefix(presigned, "https"),
		&websocket.DialOptions{HTTPClient: srv.HTTPClient(), Subprotocols: []string{"mqtt"}})
	if err != nil {
		t.Fatal(err)
	}
	msgs := make(chan *paho.Publish, 1)
	pc := paho.NewClient(paho.ClientConfig{ClientID: "admin-app", Conn: paho5packets.NewThreadSafeConn(websocket.NetConn(context.Background(), ws, websocket.MessageBinary)),
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
			msgs <- pr.Packet
			return true, nil
		}}})
	if ack, err := pc.Connect(ctx, &paho.Connect{ClientID: "admin-app", KeepAlive: 30, CleanStart: true}); err != nil || ack.ReasonCode != 0 {
		t.Fatalf("admin over a presigned URL: %v %+v", err, ack)
	}
	defer func() { _ = pc.Disconnect(&paho.Disconnect{}) }()
	if _, err := pc.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "lamp-ws/#", QoS: 1}}}); err != nil {
		t.Fatal(err)
	}
	if tok := c.Publish("lamp-ws/status", 1, false, "on"); !tok.WaitTimeout(alpnWait) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	select {
	case m := <-msgs:
		if m.Topic != "lamp-ws/status" || string(m.Payload) != "on" {
			t.Fatalf("got %s %q", m.Topic, m.Payload)
		}
	case <-time.After(alpnWait):
		t.Fatal("no message")
	}

	// The same URL again: spent.
	_, resp, err := websocket.Dial(ctx, "wss"+strings.TrimPrefix(presigned, "https"),
		&websocket.DialOptions{HTTPClient: srv.HTTPClient(), Subprotocols: []string{"mqtt"}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("replayed URL: %v (%v)", resp, err)
	}
}

// TestHTTPS_StopWithALPNConnections checks that the server stops promptly
// and cleanly with MQTT connections on the HTTPS port (ALPN and
// WebSocket) and an idle x-amzn-http-ca connection: MQTT 5 clients get
// DISCONNECT 0x8B.
func TestHTTPS_StopWithALPNConnections(t *testing.T) {
	srv := moattest.Start(t)
	d := srv.NewDevice(t, "lamp-stop", srv.DevicePolicy())
	cfg := srv.MQTTTLS(&d)
	cfg.NextProtos = []string{"x-amzn-mqtt-ca"}
	tc, err := tls.Dial("tcp", srv.HTTPSAddr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	disconnected := make(chan byte, 1)
	pc := paho.NewClient(paho.ClientConfig{ClientID: "lamp-stop", Conn: paho5packets.NewThreadSafeConn(tc),
		OnServerDisconnect: func(d *paho.Disconnect) { disconnected <- d.ReasonCode }})
	ctx, cancel := context.WithTimeout(context.Background(), alpnWait)
	defer cancel()
	if ack, err := pc.Connect(ctx, &paho.Connect{ClientID: "lamp-stop", KeepAlive: 30, CleanStart: true}); err != nil || ack.ReasonCode != 0 {
		t.Fatalf("connect: %v %+v", err, ack)
	}
	d2 := srv.NewDevice(t, "lamp-stop-ws", srv.DevicePolicy())
	wsLost := make(chan error, 1)
	wsc := mqtt.NewClient(mqtt.NewClientOptions().AddBroker("wss://" + srv.HTTPSAddr + "/mqtt").SetClientID("lamp-stop-ws").SetTLSConfig(srv.MQTTTLS(&d2)).
		SetAutoReconnect(false).SetConnectionLostHandler(func(_ mqtt.Client, err error) { wsLost <- err }))
	if tok := wsc.Connect(); !tok.WaitTimeout(alpnWait) || tok.Error() != nil {
		t.Fatalf("connect over WebSocket: %v", tok.Error())
	}
	idle := &http.Client{Timeout: alpnWait, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: srv.RootCAs, NextProtos: []string{"x-amzn-http-ca"}}}}
	resp, err := idle.Get(srv.URL + "/health")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()

	start := time.Now()
	if err := srv.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Fatalf("Stop took %v", el)
	}
	select {
	case code := <-disconnected:
		if code != byte(packet.ServerShuttingDown) {
			t.Fatalf("DISCONNECT 0x%02x, want 0x8B", code)
		}
	case <-time.After(alpnWait):
		t.Fatal("no DISCONNECT")
	}
	select {
	case <-wsLost:
	case <-time.After(alpnWait):
		t.Fatal("the WebSocket client was not disconnected")
	}
}
