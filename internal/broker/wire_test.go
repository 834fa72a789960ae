package broker_test

// The raw-wire harness: a broker started directly (broker.New + Serve with a
// throwaway TLS identity and a fake Gate), and a tiny MQTT client that
// writes packets or bytes and reads packets with deadlines, in the style of
// nats-server's server/mqtt_test.go. Every wait is bounded by wireTimeout.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"log/slog"
	"math/big"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/broker"
	"github.com/moat-iot/moat/internal/mqtt/packet"
)

// wireTimeout bounds every read, write and poll of the raw-wire tests.
const wireTimeout = 5 * time.Second

// allowAll is Permissions that allow everything.
type allowAll struct{}

func (allowAll) Allow(broker.Action, string) bool { return true }
func (allowAll) Principal() string                { return "test" }

// fakeGate is a scriptable broker.Gate; a nil admit admits everyone with
// allowAll.
type fakeGate struct {
	admit func(broker.ConnInfo) (broker.Permissions, *broker.Refusal)
}

func (g fakeGate) Admit(_ context.Context, info broker.ConnInfo) (broker.Permissions, *broker.Refusal) {
	if g.admit != nil {
		return g.admit(info)
	}
	return allowAll{}, nil
}

// testIdentity is a throwaway TLS identity: one self-signed certificate
// used by the server (for "localhost") and by every client.
var testIdentity = sync.OnceValues(func() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
})

// testBroker is a broker serving on a loopback port.
type testBroker struct {
	*broker.Broker
	addr string
	tls  *tls.Config // client side
}

// startBroker runs a broker with DefaultLimits adjusted by mod and an
// allow-all gate until the test ends.
func startBroker(t testing.TB, mod func(*broker.Limits)) *testBroker {
	t.Helper()
	return startBrokerGate(t, mod, fakeGate{})
}

func startBrokerGate(t testing.TB, mod func(*broker.Limits), gate broker.Gate) *testBroker {
	t.Helper()
	id, err := testIdentity()
	if err != nil {
		t.Fatal(err)
	}
	lim := broker.DefaultLimits()
	if mod != nil {
		mod(&lim)
	}
	b, err := broker.New(broker.Options{Limits: lim, Gate: gate, Logger: testLogger()})
	if err != nil {
		t.Fatalf("broker.New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srvTLS := &tls.Config{Certificates: []tls.Certificate{id}, ClientAuth: tls.RequireAnyClientCert, MinVersion: tls.VersionTLS12}
	served := make(chan error, 1)
	go func() { served <- b.Serve(ln, srvTLS) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wireTimeout)
		defer cancel()
		if err := b.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(wireTimeout):
			t.Error("Serve did not return after Shutdown")
		}
	})
	leaf, _ := x509.ParseCertificate(id.Certificate[0])
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	cli := &tls.Config{RootCAs: roots, ServerName: "localhost", Certificates: []tls.Certificate{id}, MinVersion: tls.VersionTLS12}
	return &testBroker{Broker: b, addr: ln.Addr().String(), tls: cli}
}

// waitStats polls the broker's counts until cond holds, bounded.
func (tb *testBroker) waitStats(t testing.TB, what string, cond func(broker.Stats) bool) {
	t.Helper()
	deadline := time.Now().Add(wireTimeout)
	for !cond(tb.Stats()) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; stats %+v", what, tb.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// wire is a raw MQTT client over TLS (or, for ServeConn, any stream).
type wire struct {
	t      testing.TB
	nc     net.Conn
	r      *packet.Reader
	v      packet.Version // 0 until a CONNECT is written
	nextID atomic.Uint32
}

// dial opens a TLS connection; it is closed when the test ends.
func dial(t testing.TB, addr string, cfg *tls.Config) *wire {
	t.Helper()
	d := &net.Dialer{Timeout: wireTimeout}
	nc, err := tls.DialWithDialer(d, "tcp", addr, cfg)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	return &wire{t: t, nc: nc, r: packet.NewReader(nc, packet.MaxPacketSize)}
}

func (tb *testBroker) dial(t testing.TB) *wire { return dial(t, tb.addr, tb.tls) }

// connOpt adjusts a CONNECT.
type connOpt func(*packet.Connect)

// persistent: Clean Start 0 and, for MQTT 5, a session expiry of 5 minutes.
func persistent(c *packet.Connect) {
	c.CleanStart = false
	c.Properties.SessionExpiry, c.Properties.HasSessionExpiry = 300, true
}

// client dials and connects with client id id (clean start, keep-alive
// 60 s), and fails the test unless the CONNACK is a success.
func (tb *testBroker) client(t testing.TB, id string, v packet.Version, opts ...connOpt) (*wire, *packet.Connack) {
	t.Helper()
	w := tb.dial(t)
	ack := w.connect(id, v, opts...)
	if ack.ReasonCode != packet.Success {
		t.Fatalf("CONNACK %s for %q, want success", ack.ReasonCode, id)
	}
	return w, ack
}

// connect sends a CONNECT and returns the CONNACK.
func (w *wire) connect(id string, v packet.Version, opts ...connOpt) *packet.Connack {
	w.t.Helper()
	cp := &packet.Connect{ProtocolLevel: v, ClientID: id, CleanStart: true, KeepAlive: 60}
	for _, o := range opts {
		o(cp)
	}
	if v == packet.V311 {
		cp.Properties = packet.Properties{}
	}
	w.v = v
	w.send(cp)
	return expect[*packet.Connack](w)
}

// send writes one packet for the connection's version.
func (w *wire) send(p packet.Packet) {
	w.t.Helper()
	v := w.v
	if cp, ok := p.(*packet.Connect); ok {
		v = cp.ProtocolLevel
	}
	_ = w.nc.SetWriteDeadline(time.Now().Add(wireTimeout))
	if _, err := packet.Write(w.nc, p, v); err != nil {
		w.t.Fatalf("write %s: %v", p.Type(), err)
	}
}

// sendRaw writes bytes as they are.
func (w *wire) sendRaw(b []byte) {
	w.t.Helper()
	_ = w.nc.SetWriteDeadline(time.Now().Add(wireTimeout))
	if _, err := w.nc.Write(b); err != nil {
		w.t.Fatalf("write raw: %v", err)
	}
}

// next reads one packet, waiting at most d.
func (w *wire) next(d time.Duration) (packet.Packet, error) {
	_ = w.nc.SetReadDeadline(time.Now().Add(d))
	v := w.v
	if v == 0 {
		v = packet.V311 // a CONNACK before any CONNECT was written
	}
	return w.r.ReadPacket(v)
}

// read reads one packet and fails the test on error.
func (w *wire) read() packet.Packet {
	w.t.Helper()
	p, err := w.next(wireTimeout)
	if err != nil {
		w.t.Fatalf("read: %v", err)
	}
	return p
}

// expect reads one packet and fails the test unless it is a T.
func expect[T packet.Packet](w *wire) T {
	w.t.Helper()
	p := w.read()
	got, ok := p.(T)
	if !ok {
		var want T
		w.t.Fatalf("read %s %+v, want %T", p.Type(), p, want)
	}
	return got
}

// closedErr reports whether err means the server closed the connection
// (rather than a timeout or a packet).
func closedErr(err error) bool {
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

// expectClosed reads until the server closes the connection and fails if a
// packet arrives first.
func (w *wire) expectClosed() {
	w.t.Helper()
	p, err := w.next(wireTimeout)
	if err == nil {
		w.t.Fatalf("read %s %+v, want the connection closed", p.Type(), p)
	}
	if !closedErr(err) {
		w.t.Fatalf("connection not closed: %v", err)
	}
}

// expectDisconnect expects DISCONNECT with code and then the close for
// MQTT 5, and only the close for 3.1.1 (which has no server DISCONNECT).
func (w *wire) expectDisconnect(code packet.ReasonCode) {
	w.t.Helper()
	if w.v == packet.V5 {
		d := expect[*packet.Disconnect](w)
		if d.ReasonCode != code {
			w.t.Fatalf("DISCONNECT %s (%q), want %s", d.ReasonCode, d.Properties.ReasonString, code)
		}
	}
	w.expectClosed()
}

// ping sends PINGREQ and expects PINGRESP as the very next packet. The
// broker answers in order, so this is a barrier: anything the broker had
// queued for this client before reading the PINGREQ arrives first and
// fails the test.
func (w *wire) ping() {
	w.t.Helper()
	w.send(&packet.Pingreq{})
	expect[*packet.Pingresp](w)
}

// id returns a fresh packet identifier.
func (w *wire) id() uint16 { return uint16(w.nextID.Add(1)) }

// publish sends a PUBLISH; for QoS 1 it waits for the PUBACK and for QoS 2
// completes the exchange, failing on an error code. It returns the code of
// the acknowledgement (Success for QoS 0).
func (w *wire) publish(topic, payload string, qos byte, retain bool) packet.ReasonCode {
	w.t.Helper()
	return w.publishP(&packet.Publish{Topic: topic, Payload: []byte(payload), QoS: qos, Retain: retain})
}

func (w *wire) publishP(p *packet.Publish) packet.ReasonCode {
	w.t.Helper()
	if p.QoS > 0 && p.PacketID == 0 {
		p.PacketID = w.id()
	}
	w.send(p)
	switch p.QoS {
	case 1:
		a := expect[*packet.Puback](w)
		if a.PacketID != p.PacketID {
			w.t.Fatalf("PUBACK for %d, want %d", a.PacketID, p.PacketID)
		}
		return a.ReasonCode
	case 2:
		r := expect[*packet.Pubrec](w)
		if r.PacketID != p.PacketID {
			w.t.Fatalf("PUBREC for %d, want %d", r.PacketID, p.PacketID)
		}
		if r.ReasonCode.IsError() {
			return r.ReasonCode
		}
		w.send(&packet.Pubrel{PacketID: p.PacketID})
		c := expect[*packet.Pubcomp](w)
		if c.PacketID != p.PacketID || c.ReasonCode != packet.Success {
			w.t.Fatalf("PUBCOMP %+v, want success for %d", c, p.PacketID)
		}
		return r.ReasonCode
	}
	// A QoS 0 PUBLISH has no answer: a ping shows it was handled.
	w.ping()
	return packet.Success
}

// subscribe sends one SUBSCRIBE and returns the SUBACK.
func (w *wire) subscribe(props packet.Properties, subs ...packet.Subscription) *packet.Suback {
	w.t.Helper()
	id := w.id()
	w.send(&packet.Subscribe{PacketID: id, Properties: props, Subscriptions: subs})
	a := expect[*packet.Suback](w)
	if a.PacketID != id || len(a.ReasonCodes) != len(subs) {
		w.t.Fatalf("SUBACK %+v for %d filters with id %d", a, len(subs), id)
	}
	return a
}

// sub subscribes to one filter with QoS qos and fails unless it is
// granted.
func (w *wire) sub(filter string, qos byte) {
	w.t.Helper()
	a := w.subscribe(packet.Properties{}, packet.Subscription{Filter: filter, QoS: qos})
	if a.ReasonCodes[0] != packet.ReasonCode(qos) {
		w.t.Fatalf("SUBACK %s for %q, want QoS %d", a.ReasonCodes[0], filter, qos)
	}
}

// expectPublish reads a PUBLISH and checks its topic and payload.
func (w *wire) expectPublish(topic, payload string) *packet.Publish {
	w.t.Helper()
	p := expect[*packet.Publish](w)
	if p.Topic != topic || string(p.Payload) != payload {
		w.t.Fatalf("PUBLISH %s %q, want %s %q", p.Topic, p.Payload, topic, payload)
	}
	return p
}

// ack acknowledges a received QoS 1 or 2 PUBLISH (QoS 2: PUBREC, PUBREL,
// PUBCOMP).
func (w *wire) ack(p *packet.Publish) {
	w.t.Helper()
	switch p.QoS {
	case 1:
		w.send(&packet.Puback{PacketID: p.PacketID})
	case 2:
		w.send(&packet.Pubrec{PacketID: p.PacketID})
		rel := expect[*packet.Pubrel](w)
		if rel.PacketID != p.PacketID {
			w.t.Fatalf("PUBREL for %d, want %d", rel.PacketID, p.PacketID)
		}
		w.send(&packet.Pubcomp{PacketID: p.PacketID})
	}
}

// drop closes the TCP connection without DISCONNECT (an abnormal close).
func (w *wire) drop() {
	if tc, ok := w.nc.(*tls.Conn); ok {
		_ = tc.NetConn().Close()
		return
	}
	_ = w.nc.Close()
}

// disconnect sends DISCONNECT with code (MQTT 5) and waits for the close.
func (w *wire) disconnect(code packet.ReasonCode) {
	w.t.Helper()
	w.send(&packet.Disconnect{ReasonCode: code})
	w.expectClosed()
}

// testLogger discards the broker's log unless MOAT_TEST_LOG is set, when
// it writes everything to stderr.
func testLogger() *slog.Logger {
	if os.Getenv("MOAT_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
