package wsmqtt_test

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/coder/websocket"

	"github.com/moat-iot/moat/internal/access"
	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/broker"
	"github.com/moat-iot/moat/internal/mqtt/packet"
	"github.com/moat-iot/moat/internal/wsmqtt"
)

// TestHandler_Presigned checks that presigned URLs of long-term and
// temporary credentials (both placements of the session token) open a
// connection whose principal reaches the Gate, and that MQTT flows.
func TestHandler_Presigned(t *testing.T) {
	h := start(t, harnessOpts{})
	temp := h.tempCreds("us-east-1:11111111-2222-3333-4444-555555555555", time.Hour)
	tests := []struct {
		name string
		url  func() string
		kind auth.Kind
	}{
		// A user's access key.
		{"long-term", func() string { return h.presign(h.userCreds(), wsmqtt.SigningName, time.Now(), 0, false) }, auth.KindUser},
		// Temporary credentials, the token in the canonical query (Go SDK, aws-c-auth).
		{"token-signed", func() string { return h.presign(temp, wsmqtt.SigningName, time.Now(), 0, false) }, auth.KindRole},
		// Temporary credentials, the token appended after signing (v1 device SDKs).
		{"token-appended", func() string { return h.presign(temp, wsmqtt.SigningName, time.Now(), 0, true) }, auth.KindRole},
		// X-Amz-Expires is honoured past the 15 minutes of skew.
		{"expires-honoured", func() string {
			return h.presign(h.userCreds(), wsmqtt.SigningName, time.Now().Add(-20*time.Minute), time.Hour, false)
		}, auth.KindUser},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := h.mqtt(tt.url(), dialOpts{})
			id := "client-" + tt.name
			if ack := c.connect(id, packet.V311); ack.ReasonCode != packet.Success {
				t.Fatalf("CONNACK %s", ack.ReasonCode)
			}
			info := h.gate.calls()[i]
			p, ok := info.Authenticated.(auth.Principal)
			if !ok || p.Kind != tt.kind || info.Transport != broker.TransportWebSocket || info.ClientID != id {
				t.Fatalf("gate got transport %q, client %q, authenticated %#v", info.Transport, info.ClientID, info.Authenticated)
			}
			if tt.kind == auth.KindUser && p.UserName != userName {
				t.Errorf("user %q, want %q", p.UserName, userName)
			}
			if tt.kind == auth.KindRole && (p.Session == nil || p.Session.IdentityID != "us-east-1:11111111-2222-3333-4444-555555555555") {
				t.Errorf("session %+v, want the Cognito identity", p.Session)
			}
			c.send(&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: id + "/#", QoS: 1}}})
			expect[*packet.Suback](c)
			c.send(&packet.Publish{Topic: id + "/t", Payload: []byte("hello"), QoS: 1, PacketID: 2})
			var gotAck, gotPub bool
			for !gotAck || !gotPub {
				switch p := expect[packet.Packet](c).(type) {
				case *packet.Puback:
					gotAck = true
				case *packet.Publish:
					if string(p.Payload) != "hello" {
						t.Fatalf("payload %q", p.Payload)
					}
					gotPub = true
					c.send(&packet.Puback{PacketID: p.PacketID})
				default:
					t.Fatalf("unexpected %s", p.Type())
				}
			}
		})
	}
}

// TestHandler_PresignedRefused checks that invalid presigned URLs are
// refused with 403 before any upgrade, and that nothing reaches the broker.
func TestHandler_PresignedRefused(t *testing.T) {
	h := start(t, harnessOpts{})
	temp := h.tempCreds("us-east-1:aaaaaaaa-0000-0000-0000-000000000001", time.Hour)
	other := h.tempCreds("us-east-1:bbbbbbbb-0000-0000-0000-000000000002", time.Hour)
	expired := h.tempCreds("us-east-1:cccccccc-0000-0000-0000-000000000003", time.Second)
	time.Sleep(1100 * time.Millisecond)
	tests := []struct {
		name   string
		url    func() string
		header http.Header
		reason string
	}{
		// The signature is not the key holder's.
		{"forged", func() string {
			u := h.presign(h.userCreds(), wsmqtt.SigningName, time.Now(), 0, false)
			s := sigOf(t, u)
			forged := s[:63] + string("0123456789abcdef"[(strings.IndexByte("0123456789abcdef", s[63])+1)%16])
			return strings.Replace(u, s, forged, 1)
		}, nil, "InvalidSignatureException"},
		// Signed 20 minutes ago without X-Amz-Expires: beyond the skew.
		{"expired-skew", func() string {
			return h.presign(h.userCreds(), wsmqtt.SigningName, time.Now().Add(-20*time.Minute), 0, false)
		}, nil, "Signature expired"},
		// Past its X-Amz-Expires.
		{"expired-expires", func() string {
			return h.presign(h.userCreds(), wsmqtt.SigningName, time.Now().Add(-2*time.Minute), time.Minute, false)
		}, nil, "Signature expired"},
		// Signed for another service.
		{"wrong-service", func() string { return h.presign(h.userCreds(), "iotdata", time.Now(), 0, false) }, nil, "scoped to correct service"},
		// Temporary credentials with the session token of another key.
		{"token-of-another-key", func() string {
			c := temp
			c.SessionToken = other.SessionToken
			return h.presign(c, wsmqtt.SigningName, time.Now(), 0, false)
		}, nil, "UnrecognizedClientException"},
		// Temporary credentials that have expired.
		{"credentials-expired", func() string { return h.presign(expired, wsmqtt.SigningName, time.Now(), 0, false) }, nil, "ExpiredToken"},
		// An access key moat does not know.
		{"unknown-key", func() string {
			return h.presign(aws.Credentials{AccessKeyID: "AKIANOTKNOWN00000000", SecretAccessKey: "x"}, wsmqtt.SigningName, time.Now(), 0, false)
		}, nil, "UnrecognizedClientException"},
		// SigV4 in an Authorization header rather than a presigned URL.
		{"authorization-header", func() string { return h.url }, http.Header{
			"Authorization": {"AWS4-HMAC-SHA256 Credential=" + userKey + "/20250101/us-east-1/iotdevicegateway/aws4_request, SignedHeaders=host, Signature=" + strings.Repeat("0", 64)},
		}, "presigned URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := h.refused(tt.url(), dialOpts{header: tt.header}, http.StatusForbidden)
			if !strings.Contains(body, tt.reason) {
				t.Errorf("body %q, want it to mention %q", body, tt.reason)
			}
		})
	}
	h.noConnections()
}

// TestHandler_Replay checks that a presigned URL opens one connection only,
// including when its signature is resent in upper case, and stays spent
// after that connection ends.
func TestHandler_Replay(t *testing.T) {
	h := start(t, harnessOpts{})
	u := h.presign(h.userCreds(), wsmqtt.SigningName, time.Now(), 0, false)
	c := h.mqtt(u, dialOpts{})
	if ack := c.connect("once", packet.V5); ack.ReasonCode != packet.Success {
		t.Fatalf("CONNACK %s", ack.ReasonCode)
	}
	if body := h.refused(u, dialOpts{}, http.StatusForbidden); !strings.Contains(body, "already used") {
		t.Errorf("replay body %q", body)
	}
	sig := sigOf(t, u)
	h.refused(strings.Replace(u, sig, strings.ToUpper(sig), 1), dialOpts{}, http.StatusForbidden)
	c.send(&packet.Disconnect{})
	c.expectClosed()
	h.refused(u, dialOpts{}, http.StatusForbidden)
	if n := len(h.gate.calls()); n != 1 {
		t.Fatalf("gate asked %d times, want 1", n)
	}
}

// TestHandler_ReplayCacheFull checks that when the replay cache is full
// of unexpired signatures, a new presigned URL is refused (503) rather
// than a spent one forgotten.
func TestHandler_ReplayCacheFull(t *testing.T) {
	h := start(t, harnessOpts{replayCap: 1})
	first := h.presign(h.userCreds(), wsmqtt.SigningName, time.Now(), 0, false)
	h.mqtt(first, dialOpts{}).connect("first", packet.V311)
	second := h.presign(h.userCreds(), wsmqtt.SigningName, time.Now().Add(-time.Second), 0, false)
	h.refused(second, dialOpts{}, http.StatusServiceUnavailable)
	h.refused(first, dialOpts{}, http.StatusForbidden)
}

// TestHandler_BadUpgrade checks requests that are not MQTT WebSocket
// upgrades: refused before authentication, nothing connected, and a
// presigned URL in them not spent.
func TestHandler_BadUpgrade(t *testing.T) {
	h := start(t, harnessOpts{})
	u := h.presign(h.userCreds(), wsmqtt.SigningName, time.Now(), 0, false)
	// No subprotocol.
	h.refused(u, dialOpts{subprotocols: []string{}}, http.StatusBadRequest)
	// Other subprotocols only.
	h.refused(u, dialOpts{subprotocols: []string{"mqttv5", "wamp"}}, http.StatusBadRequest)

	httpsURL := "https" + strings.TrimPrefix(u, "wss")
	for _, tc := range []struct {
		method string
		status int
	}{
		{http.MethodGet, http.StatusUpgradeRequired},     // a plain GET, no upgrade
		{http.MethodPost, http.StatusMethodNotAllowed},   // not GET
		{http.MethodDelete, http.StatusMethodNotAllowed}, // not GET
	} {
		req, err := http.NewRequest(tc.method, httpsURL, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := h.httpClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d", tc.method, resp.StatusCode, tc.status)
		}
	}
	// Neither a presigned URL nor a certificate.
	if body := h.refused(h.url, dialOpts{}, http.StatusForbidden); !strings.Contains(body, "no credentials") {
		t.Errorf("body %q", body)
	}
	h.noConnections()
	// The URL was never spent.
	h.mqtt(u, dialOpts{}).connect("finally", packet.V311)
}

// TestHandler_LegacySubprotocol checks that a client offering only the
// legacy subprotocol mqttv3.1 (as the AWS IoT Device SDK for JavaScript v1
// does) gets it echoed and speaks MQTT, and that mqtt is chosen when a
// client offers both.
func TestHandler_LegacySubprotocol(t *testing.T) {
	h := start(t, harnessOpts{})
	u := h.presign(h.userCreds(), wsmqtt.SigningName, time.Now(), 0, false)
	c := h.mqtt(u, dialOpts{subprotocols: []string{wsmqtt.LegacySubprotocol}}) // fails unless mqttv3.1 is echoed
	if ack := c.connect("legacy", packet.V311); ack.ReasonCode != packet.Success {
		t.Fatalf("CONNACK %s", ack.ReasonCode)
	}
	u = h.presign(h.userCreds(), wsmqtt.SigningName, time.Now().Add(-time.Second), 0, false)
	h.mqtt(u, dialOpts{subprotocols: []string{wsmqtt.LegacySubprotocol, wsmqtt.Subprotocol}}) // fails unless mqtt is echoed
}

// TestHandler_Certificate checks the device-certificate way in: the Gate
// gets the chain and no principal; a foreign Origin is refused for a
// certificate but not for a presigned URL.
func TestHandler_Certificate(t *testing.T) {
	h := start(t, harnessOpts{})
	cert := newCert(t, "device-1")
	// X-Forwarded-For is not believed: the remote address is the TCP peer's.
	c := h.mqtt(h.url, dialOpts{certs: []tls.Certificate{cert}, header: http.Header{"X-Forwarded-For": {"203.0.113.9"}}})
	if ack := c.connect("device-1", packet.V5); ack.ReasonCode != packet.Success {
		t.Fatalf("CONNACK %s", ack.ReasonCode)
	}
	info := h.gate.calls()[0]
	if info.Authenticated != nil || len(info.PeerCertificates) != 1 || string(info.PeerCertificates[0].Raw) != string(cert.Certificate[0]) ||
		info.Transport != broker.TransportWebSocket {
		t.Fatalf("gate got %+v", info)
	}
	if host, _, _ := net.SplitHostPort(info.RemoteAddr.String()); host != "127.0.0.1" {
		t.Fatalf("remote address %v, want the TCP peer 127.0.0.1", info.RemoteAddr)
	}
	evil := http.Header{"Origin": {"https://evil.example"}}
	h.refused(h.url, dialOpts{certs: []tls.Certificate{cert}, header: evil}, http.StatusForbidden)
	same := http.Header{"Origin": {"https://" + h.srv.Listener.Addr().String()}}
	h.mqtt(h.url, dialOpts{certs: []tls.Certificate{cert}, header: same}).connect("device-2", packet.V311)
	u := h.presign(h.userCreds(), wsmqtt.SigningName, time.Now(), 0, false)
	h.mqtt(u, dialOpts{header: evil}).connect("browser-app", packet.V311)
}

// TestHandler_CustomAuth checks custom-authorizer credentials: an allowed
// one becomes the connection's principal, which can be authenticated again
// with the same upgrade request (refresh); a refused one is 401; a request
// without them goes on to the other ways in.
func TestHandler_CustomAuth(t *testing.T) {
	ca := &fakeCustomAuth{}
	h := start(t, harnessOpts{customAuth: ca})
	hdr := http.Header{"X-Amz-Customauthorizer-Name": {"my-authorizer"}, "X-Token": {"allow"}}
	c := h.mqtt(h.url, dialOpts{header: hdr})
	if ack := c.connect("custom", packet.V311); ack.ReasonCode != packet.Success {
		t.Fatalf("CONNACK %s", ack.ReasonCode)
	}
	pre, ok := h.gate.calls()[0].Authenticated.(access.Preauthenticated)
	if !ok || pre.Principal.Kind != auth.KindAuthorizer || pre.Principal.Grant.AuthorizerName != "my-authorizer" || pre.Reauthenticate == nil {
		t.Fatalf("authenticated %#v", h.gate.calls()[0].Authenticated)
	}
	if p, err := pre.Reauthenticate(context.Background()); err != nil || p.Grant.PrincipalID != "device1" || ca.calls.Load() != 2 {
		t.Fatalf("reauthenticate: %+v, %v after %d calls", p, err, ca.calls.Load())
	}
	ca.revoked.Store(true)
	if _, err := pre.Reauthenticate(context.Background()); err == nil {
		t.Fatal("reauthenticate after revocation: no error")
	}
	h.refused(h.url, dialOpts{header: hdr}, http.StatusUnauthorized)
	ca.revoked.Store(false)
	h.refused(h.url, dialOpts{header: http.Header{"X-Amz-Customauthorizer-Name": {"my-authorizer"}, "X-Token": {"deny"}}}, http.StatusUnauthorized)
	h.refused(h.url, dialOpts{}, http.StatusForbidden)
	if n := len(h.gate.calls()); n != 1 {
		t.Fatalf("gate asked %d times, want 1", n)
	}

	// Without a CustomAuth the headers are not credentials.
	plain := start(t, harnessOpts{})
	plain.refused(plain.url, dialOpts{header: hdr}, http.StatusForbidden)
}

// TestHandler_Framing checks that a packet may span WebSocket messages
// and a message may hold several packets ([MQTT-6.0.0-2]).
func TestHandler_Framing(t *testing.T) {
	h := start(t, harnessOpts{})
	c := h.mqtt(h.url, dialOpts{certs: []tls.Certificate{newCert(t, "d")}})
	connect, err := packet.Encode(&packet.Connect{ProtocolLevel: packet.V5, ClientID: "framed", CleanStart: true, KeepAlive: 60}, packet.V5)
	if err != nil {
		t.Fatal(err)
	}
	c.v = packet.V5
	for _, b := range connect {
		c.sendRaw([]byte{b}) // one message per byte
	}
	expect[*packet.Connack](c)
	var batch []byte
	for _, p := range []packet.Packet{
		&packet.Subscribe{PacketID: 1, Subscriptions: []packet.Subscription{{Filter: "f/#"}}},
		&packet.Publish{Topic: "f/1", Payload: []byte("x")},
		&packet.Pingreq{},
	} {
		b, err := packet.Encode(p, packet.V5)
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, b...)
	}
	c.sendRaw(batch)
	expect[*packet.Suback](c)
	if p := expect[*packet.Publish](c); p.Topic != "f/1" {
		t.Fatalf("PUBLISH %s", p.Topic)
	}
	expect[*packet.Pingresp](c)
}

// TestHandler_Limits checks that a message over the limit closes the
// connection with status 1009, a text message with 1003, and that the
// keep-alive applies (MQTT 5: DISCONNECT 0x8D).
func TestHandler_Limits(t *testing.T) {
	const maxPacket = 2048
	h := start(t, harnessOpts{limits: func(l *broker.Limits) { l.MaxPacketSize = maxPacket; l.MinKeepAlive = 0 }})
	cert := []tls.Certificate{newCert(t, "d")}

	t.Run("message-too-large", func(t *testing.T) {
		c := h.mqtt(h.url, dialOpts{certs: cert})
		c.connect("big", packet.V311)
		// Valid packets (PINGREQ), one byte more than a message may hold:
		// the server reads all of it, so its close frame is not lost to a
		// TCP reset.
		msg := make([]byte, maxPacket+wsmqtt.MessageSlack+1)
		for i := 0; i+1 < len(msg); i += 2 {
			msg[i] = 0xC0
		}
		msg[len(msg)-1] = 0xC0
		c.sendRaw(msg)
		for {
			p, err := c.next(timeout)
			if err == nil {
				if _, ok := p.(*packet.Pingresp); !ok {
					t.Fatalf("read %s", p.Type())
				}
				continue
			}
			if websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
				t.Fatalf("closed with %v, want status 1009", err)
			}
			break
		}
	})
	t.Run("text-message", func(t *testing.T) {
		c := h.mqtt(h.url, dialOpts{certs: cert})
		c.connect("text", packet.V311)
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		if err := c.ws.Write(ctx, websocket.MessageText, []byte{0xC0, 0x00}); err != nil {
			t.Fatal(err)
		}
		if err := c.expectClosed(); websocket.CloseStatus(err) != websocket.StatusUnsupportedData {
			t.Fatalf("closed with %v, want status 1003", err)
		}
	})
	t.Run("keep-alive", func(t *testing.T) {
		c := h.mqtt(h.url, dialOpts{certs: cert})
		c.connect("quiet", packet.V5, func(cp *packet.Connect) { cp.KeepAlive = 1 })
		start := time.Now()
		if d := expect[*packet.Disconnect](c); d.ReasonCode != packet.KeepAliveTimeout {
			t.Fatalf("DISCONNECT %s, want keep-alive timeout", d.ReasonCode)
		}
		if el := time.Since(start); el < time.Second {
			t.Fatalf("after %v, before 1.5 × the keep-alive", el)
		}
		c.expectClosed()
	})
}

// TestHandler_Shutdown checks that a broker shutdown reaches WebSocket
// clients as DISCONNECT 0x8B.
func TestHandler_Shutdown(t *testing.T) {
	h := start(t, harnessOpts{})
	c := h.mqtt(h.url, dialOpts{certs: []tls.Certificate{newCert(t, "d")}})
	c.connect("bye", packet.V5)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := h.b.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if d := expect[*packet.Disconnect](c); d.ReasonCode != packet.ServerShuttingDown {
		t.Fatalf("DISCONNECT %s", d.ReasonCode)
	}
	c.expectClosed()
}

// TestHandler_New checks the required options.
func TestHandler_New(t *testing.T) {
	h := start(t, harnessOpts{})
	for name, o := range map[string]wsmqtt.Options{
		"no broker":      {Auth: h.auth, MaxPacketSize: 1},
		"no auth":        {Broker: h.b, MaxPacketSize: 1},
		"no packet size": {Broker: h.b, Auth: h.auth},
		"negative cap":   {Broker: h.b, Auth: h.auth, MaxPacketSize: 1, ReplayCapacity: -1},
	} {
		if _, err := wsmqtt.New(o); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := wsmqtt.New(wsmqtt.Options{Broker: h.b, Auth: h.auth, MaxPacketSize: 1}); err != nil {
		t.Errorf("minimal options: %v", err)
	}
}
