package e2e

// Shared helpers for MQTT: presigned MQTT-over-WebSocket URLs, the
// WebSocket upgrade (coder/websocket, subprotocol mqtt, trusting the
// server's root CA), an MQTT 5 client (paho.golang over that WebSocket)
// that records how its connection ended, and an MQTT 3.1.1 client
// (paho.mqtt.golang) for any of its transports: wss://, tls:// by ALPN
// (helpers_authz_test.go) and ssl:// to the MQTT port (Go-side devices).

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/coder/websocket"
	paho5packets "github.com/eclipse/paho.golang/packets"
	paho "github.com/eclipse/paho.golang/paho"
	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/moat-iot/moat/internal/moattest"
)

// MQTT 5 reason codes.
const (
	v5Success byte = 0x00
	// v5NotAuthorized (0x87) is of a refused CONNECT, SUBSCRIBE or
	// PUBLISH, and of the DISCONNECT that closes a connection whose
	// principal may no longer connect.
	v5NotAuthorized byte = 0x87
)

// MQTT 3.1.1 CONNACK return codes.
const (
	v3BadCredentials byte = 4 // bad user name or password
	v3NotAuthorized  byte = 5
)

// mqttURL is the server's MQTT-over-WebSocket URL without credentials,
// wss://HOST:PORT/mqtt.
func mqttURL(s *moattest.Server) string { return "wss" + strings.TrimPrefix(s.URL, "https") + "/mqtt" }

// presignConfig is how presignMQTT signs; presignOptions change it.
type presignConfig struct {
	service     string        // the signing name; iotdevicegateway
	expires     time.Duration // X-Amz-Expires, signed; none when 0
	at          time.Time     // the signing time; zero: distinctSigningTime
	appendToken bool          // the session token appended after signing
}

// presignOption changes how presignMQTT signs.
type presignOption func(*presignConfig)

// tokenAppended leaves the session token out of the signature and
// appends it to the signed URL: the v1 AWS IoT device SDKs' placement.
// Without it the token is signed in the canonical query, as the SDK
// signer (and the v2 device SDKs) place it.
func tokenAppended() presignOption { return func(c *presignConfig) { c.appendToken = true } }

// signedAt signs at at, which need not be distinct from another URL's.
func signedAt(at time.Time) presignOption { return func(c *presignConfig) { c.at = at } }

// signedFor signs for the signing name service instead of
// iotdevicegateway.
func signedFor(service string) presignOption { return func(c *presignConfig) { c.service = service } }

// expiresIn signs X-Amz-Expires=d (whole seconds) into the URL.
func expiresIn(d time.Duration) presignOption { return func(c *presignConfig) { c.expires = d } }

// presignMQTT returns a wss:// URL of the server's /mqtt presigned with
// creds (signing name iotdevicegateway, the session token if any in the
// canonical query), unless opts say otherwise. Without signedAt it is
// signed at a time no other URL of the same key was (distinctSigningTime),
// so that each URL is new: moat accepts a URL once.
func presignMQTT(t testing.TB, s *moattest.Server, creds aws.Credentials, opts ...presignOption) string {
	t.Helper()
	c := presignConfig{service: "iotdevicegateway"}
	for _, o := range opts {
		o(&c)
	}
	raw := s.URL + "/mqtt"
	if c.expires > 0 {
		raw += "?X-Amz-Expires=" + strconv.Itoa(int(c.expires/time.Second))
	}
	r, err := http.NewRequest(http.MethodGet, raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.at.IsZero() {
		c.at = distinctSigningTime(creds.AccessKeyID)
	}
	token := creds.SessionToken
	if c.appendToken {
		creds.SessionToken = ""
	}
	signed, _, err := v4.NewSigner().PresignHTTP(context.Background(), creds, r, emptySHA256, c.service, s.Config.Region, c.at)
	if err != nil {
		t.Fatal(err)
	}
	if c.appendToken && token != "" {
		signed += "&X-Amz-Security-Token=" + url.QueryEscape(token)
	}
	return "wss" + strings.TrimPrefix(signed, "https")
}

// signingTimes are the last signing times distinctSigningTime handed out,
// by access key.
var signingTimes = struct {
	sync.Mutex
	last map[string]time.Time
}{last: map[string]time.Time{}}

// distinctSigningTime hands out signing times: now, or a second before
// the last one handed out for the same access key, so that no two
// presigned URLs of one key are the same. (SigV4 signs to the second: two
// URLs presigned with the same credentials in the same second are
// identical, and moat accepts each URL once.)
func distinctSigningTime(key string) time.Time {
	signingTimes.Lock()
	defer signingTimes.Unlock()
	at := time.Now().Truncate(time.Second)
	if last, ok := signingTimes.last[key]; ok && !at.Before(last) {
		at = last.Add(-time.Second)
	}
	signingTimes.last[key] = at
	return at
}

// dialWS opens a WebSocket with subprotocol mqtt to wsURL, sending hdr
// (nil for none) on the upgrade. A refused upgrade returns a nil
// connection with the HTTP status and body; an accepted one the status
// 101 and closes when the test ends.
func dialWS(t testing.TB, s *moattest.Server, wsURL string, hdr http.Header) (*websocket.Conn, response) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPClient: s.HTTPClient(), HTTPHeader: hdr, Subprotocols: []string{"mqtt"}})
	if err == nil {
		t.Cleanup(func() { _ = ws.CloseNow() })
		return ws, response{status: http.StatusSwitchingProtocols}
	}
	if resp == nil {
		t.Fatalf("websocket dial: %v", err)
	}
	return nil, readResponse(resp)
}

// wantRefusedUpgrade fails unless the upgrade to wsURL is refused with
// status and a body containing want.
func wantRefusedUpgrade(t testing.TB, s *moattest.Server, wsURL string, status int, want string) {
	t.Helper()
	ws, r := dialWS(t, s, wsURL, nil)
	if ws != nil || r.status != status || !strings.Contains(r.body, want) {
		t.Fatalf("upgrade: HTTP %d %q, want %d mentioning %q", r.status, r.body, status, want)
	}
	t.Logf("upgrade refused: HTTP %d %s", r.status, strings.TrimSpace(r.body))
}

// wsUpgrades is moat's count of MQTT-over-WebSocket upgrade requests with
// result ("accepted", "signature", "custom_auth", ...).
func wsUpgrades(t testing.TB, s *moattest.Server, result string) int {
	t.Helper()
	return int(metric(t, s, `moat_mqtt_websocket_upgrades_total{result="`+result+`"}`))
}

// mqtt5End is how an MQTT 5 connection ended: the server's DISCONNECT
// reason code and reason string, or gone when it closed without one, and
// when the client saw it.
type mqtt5End struct {
	code   byte
	reason string
	at     time.Time
	gone   bool // closed without a DISCONNECT
}

// mqtt5Client is a paho.golang MQTT 5 client over a WebSocket.
type mqtt5Client struct {
	t    testing.TB
	id   string
	c    *paho.Client
	msgs chan *paho.Publish // received messages; dropped when full
	ends chan mqtt5End      // the first way the connection ended
	once sync.Once
}

// connectMQTT5 upgrades to a WebSocket at wsURL with hdr (nil for none),
// then sends CONNECT as clientID. It returns the client and the CONNACK's
// reason code; the test fails if the upgrade is refused or no CONNACK
// comes. An accepted client disconnects when the test ends.
func connectMQTT5(t testing.TB, s *moattest.Server, wsURL string, hdr http.Header, clientID string) (*mqtt5Client, byte) {
	t.Helper()
	ws, r := dialWS(t, s, wsURL, hdr)
	if ws == nil {
		t.Fatalf("upgrade for %s refused: HTTP %d %s", clientID, r.status, r.body)
	}
	m := &mqtt5Client{t: t, id: clientID, msgs: make(chan *paho.Publish, 16), ends: make(chan mqtt5End, 1)}
	conn := websocket.NetConn(context.Background(), ws, websocket.MessageBinary)
	m.c = paho.NewClient(paho.ClientConfig{ClientID: clientID, Conn: paho5packets.NewThreadSafeConn(conn),
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
			select {
			case m.msgs <- pr.Packet:
			default:
			}
			return true, nil
		}},
		OnServerDisconnect: func(d *paho.Disconnect) {
			e := mqtt5End{code: d.ReasonCode, at: time.Now()}
			if d.Properties != nil {
				e.reason = d.Properties.ReasonString
			}
			m.end(e)
		},
		OnClientError: func(error) { m.end(mqtt5End{at: time.Now(), gone: true}) },
	})
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ack, err := m.c.Connect(ctx, &paho.Connect{ClientID: clientID, KeepAlive: 60, CleanStart: true})
	if ack == nil {
		t.Fatalf("connect %s: no CONNACK: %v", clientID, err)
	}
	if ack.ReasonCode == v5Success {
		t.Cleanup(func() { _ = m.c.Disconnect(&paho.Disconnect{}) })
	}
	return m, ack.ReasonCode
}

// mustConnectMQTT5 connects and fails unless the CONNACK is Success.
func mustConnectMQTT5(t testing.TB, s *moattest.Server, wsURL string, hdr http.Header, clientID string) *mqtt5Client {
	t.Helper()
	m, code := connectMQTT5(t, s, wsURL, hdr, clientID)
	if code != v5Success {
		t.Fatalf("connect %s: CONNACK 0x%02X, want success", clientID, code)
	}
	return m
}

// end records the first way the connection ended.
func (m *mqtt5Client) end(e mqtt5End) { m.once.Do(func() { m.ends <- e }) }

// subscribe subscribes to filter at QoS 1 and returns the SUBACK's reason
// code.
func (m *mqtt5Client) subscribe(filter string) byte {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	sa, err := m.c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: filter, QoS: 1}}})
	if sa == nil || len(sa.Reasons) != 1 {
		m.t.Fatalf("%s: subscribe %s: %v %+v", m.id, filter, err, sa)
	}
	return sa.Reasons[0]
}

// mustSubscribe subscribes and fails unless QoS 1 is granted.
func (m *mqtt5Client) mustSubscribe(filter string) {
	m.t.Helper()
	if code := m.subscribe(filter); code != 1 {
		m.t.Fatalf("%s: subscribe %s: SUBACK 0x%02X, want QoS 1 granted", m.id, filter, code)
	}
}

// publish publishes at QoS 1 and returns the PUBACK's reason code.
func (m *mqtt5Client) publish(topic, payload string) byte {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	pr, err := m.c.Publish(ctx, &paho.Publish{Topic: topic, QoS: 1, Payload: []byte(payload)})
	if pr == nil {
		m.t.Fatalf("%s: publish %s: no PUBACK: %v", m.id, topic, err)
	}
	return pr.ReasonCode
}

// receive waits for payload on topic; other messages are skipped.
func (m *mqtt5Client) receive(topic, payload string) {
	m.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case p := <-m.msgs:
			if p.Topic == topic && string(p.Payload) == payload {
				return
			}
		case <-deadline:
			m.t.Fatalf("%s: no message %q on %s", m.id, payload, topic)
		}
	}
}

// noMessage fails if a message arrives within d.
func (m *mqtt5Client) noMessage(d time.Duration) {
	m.t.Helper()
	select {
	case p := <-m.msgs:
		m.t.Fatalf("%s: unexpected message %q on %s", m.id, p.Payload, p.Topic)
	case <-time.After(d):
	}
}

// roundTrip subscribes to topic, publishes payload on it and receives it:
// the connection is alive and allowed to do all three.
func (m *mqtt5Client) roundTrip(topic, payload string) {
	m.t.Helper()
	if code := m.subscribe(topic); code > 2 {
		m.t.Fatalf("%s: subscribe %s: SUBACK 0x%02X", m.id, topic, code)
	}
	if code := m.publish(topic, payload); code != v5Success {
		m.t.Fatalf("%s: publish %s: PUBACK 0x%02X", m.id, topic, code)
	}
	m.receive(topic, payload)
}

// disconnected waits for the connection to end and fails unless the
// server sent DISCONNECT with code within liveBound of since. It returns
// how long that took (0 if it came before since: a re-check runs as soon
// as a change commits, which may be before the API's response reaches
// the test).
func (m *mqtt5Client) disconnected(code byte, since time.Time) time.Duration {
	m.t.Helper()
	select {
	case e := <-m.ends:
		d := e.at.Sub(since)
		switch {
		case e.gone:
			m.t.Fatalf("%s: closed without a DISCONNECT after %v, want DISCONNECT 0x%02X", m.id, d, code)
		case e.code != code:
			m.t.Fatalf("%s: DISCONNECT 0x%02X (%q) after %v, want 0x%02X", m.id, e.code, e.reason, d, code)
		case d > liveBound:
			m.t.Fatalf("%s: DISCONNECT 0x%02X came %v after the change, want within %v", m.id, code, d, liveBound)
		}
		d = max(d, 0)
		m.t.Logf("%s: DISCONNECT 0x%02X %q %v after the change returned", m.id, e.code, e.reason, d)
		return d
	case <-time.After(timeout):
		m.t.Fatalf("%s: still connected %v after the change, want DISCONNECT 0x%02X", m.id, timeout, code)
	}
	return 0
}

// stillConnected fails if the connection ends within d, then checks that
// it still works (round trip on topic).
func (m *mqtt5Client) stillConnected(d time.Duration, topic string) {
	m.t.Helper()
	select {
	case e := <-m.ends:
		m.t.Fatalf("%s: disconnected (0x%02X %q, closed without DISCONNECT: %v), want the connection kept", m.id, e.code, e.reason, e.gone)
	case <-time.After(d):
	}
	m.roundTrip(topic, "still here")
}

// mqtt3Client is a paho.mqtt.golang MQTT 3.1.1 client.
type mqtt3Client struct {
	t    testing.TB
	id   string
	c    mqtt.Client
	wait time.Duration     // bound of each wait for the server
	msgs chan mqtt.Message // messages of subscriptions; dropped when full
	lost chan time.Time    // when the connection was lost
}

// dialMQTT3 connects as clientID to broker (wss://, tls:// or ssl://)
// with tlsConf, MQTT 3.1.1 only, without reconnecting; set may change
// further options. wait bounds the connect and each later wait. It returns
// the client, or nil with the CONNACK's return code (0 when there was
// none) and the connect error; the test fails when nothing comes back
// within wait. A connected client disconnects when the test ends.
func dialMQTT3(t testing.TB, broker string, tlsConf *tls.Config, clientID string, wait time.Duration,
	set ...func(*mqtt.ClientOptions)) (*mqtt3Client, byte, error) {
	t.Helper()
	m := &mqtt3Client{t: t, id: clientID, wait: wait, msgs: make(chan mqtt.Message, 16), lost: make(chan time.Time, 1)}
	// Protocol version 4 only: without it paho falls back to MQTT 3.1
	// after a refused CONNECT, with the same (maybe spent) URL.
	opts := mqtt.NewClientOptions().AddBroker(broker).SetClientID(clientID).SetProtocolVersion(4).SetTLSConfig(tlsConf).
		SetAutoReconnect(false).SetConnectRetry(false).SetConnectTimeout(wait).
		SetDefaultPublishHandler(func(_ mqtt.Client, msg mqtt.Message) {
			select {
			case m.msgs <- msg:
			default:
			}
		}).
		SetConnectionLostHandler(func(mqtt.Client, error) {
			select {
			case m.lost <- time.Now():
			default:
			}
		})
	for _, f := range set {
		f(opts)
	}
	m.c = mqtt.NewClient(opts)
	tok := m.c.Connect()
	if !tok.WaitTimeout(wait) {
		t.Fatalf("connect %s: no CONNACK within %v", clientID, wait)
	}
	if err := tok.Error(); err != nil {
		return nil, tok.(*mqtt.ConnectToken).ReturnCode(), err
	}
	t.Cleanup(func() { m.c.Disconnect(100) })
	return m, 0, nil
}

// connectWSMQTT3 connects as clientID to a presigned wss:// URL; it
// returns the client, or the connect error.
func connectWSMQTT3(t testing.TB, s *moattest.Server, wsURL, clientID string) (*mqtt3Client, error) {
	t.Helper()
	m, _, err := dialMQTT3(t, wsURL, &tls.Config{RootCAs: s.RootCAs, MinVersion: tls.VersionTLS12}, clientID, timeout)
	return m, err
}

// subscribe subscribes to filter at QoS 1; its messages go to receive.
func (m *mqtt3Client) subscribe(filter string) {
	m.t.Helper()
	if tok := m.c.Subscribe(filter, 1, nil); !tok.WaitTimeout(m.wait) || tok.Error() != nil {
		m.t.Fatalf("%s: subscribe %s: %v", m.id, filter, tok.Error())
	}
}

// publish publishes payload on topic at QoS 1 and waits for the PUBACK.
func (m *mqtt3Client) publish(topic, payload string) {
	m.t.Helper()
	if tok := m.c.Publish(topic, 1, false, payload); !tok.WaitTimeout(m.wait) || tok.Error() != nil {
		m.t.Fatalf("%s: publish %s: %v", m.id, topic, tok.Error())
	}
}

// receive fails unless the next message is payload on topic.
func (m *mqtt3Client) receive(topic, payload string) {
	m.t.Helper()
	select {
	case msg := <-m.msgs:
		if msg.Topic() != topic || string(msg.Payload()) != payload {
			m.t.Fatalf("%s received %q on %s, want %q on %s", m.id, msg.Payload(), msg.Topic(), payload, topic)
		}
	case <-time.After(m.wait):
		m.t.Fatalf("%s: no message %q on %s within %v", m.id, payload, topic, m.wait)
	}
}

// roundTrip subscribes to topic, publishes payload on it and receives it.
func (m *mqtt3Client) roundTrip(topic, payload string) {
	m.t.Helper()
	m.subscribe(topic)
	m.publish(topic, payload)
	m.receive(topic, payload)
}

// noMessage fails if a message arrives within d.
func (m *mqtt3Client) noMessage(d time.Duration) {
	m.t.Helper()
	select {
	case msg := <-m.msgs:
		m.t.Fatalf("%s received %q on %s, want nothing", m.id, msg.Payload(), msg.Topic())
	case <-time.After(d):
	}
}

// kicked fails unless the server closes the connection within bound of
// since (MQTT 3.1.1 has no DISCONNECT from the server).
func (m *mqtt3Client) kicked(since time.Time, bound time.Duration) {
	m.t.Helper()
	select {
	case at := <-m.lost:
		if d := at.Sub(since); d > bound {
			m.t.Fatalf("%s: closed %v after the change, want within %v", m.id, d, bound)
		} else {
			m.t.Logf("%s: closed %v after the change", m.id, d)
		}
	case <-time.After(m.wait):
		m.t.Fatalf("%s: still connected %v after the change, want it closed", m.id, m.wait)
	}
}
