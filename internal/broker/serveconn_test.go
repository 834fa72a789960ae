package broker_test

import (
	"context"
	"crypto/x509"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/broker"
	"github.com/moat-iot/moat/internal/mqtt/packet"
)

// ServeConn: connections whose transport someone else established (a
// WebSocket stream, a TLS connection of the HTTPS port), here a plain
// loopback TCP connection.

// served is a connection handed to ServeConn and the raw client on its
// other end; done yields ServeConn's channel once ServeConn has returned.
type served struct {
	w    *wire
	done chan (<-chan struct{})
}

// serveConn connects a loopback TCP pair and serves the server end with
// ServeConn(meta) in a goroutine.
func serveConn(t *testing.T, b *broker.Broker, meta broker.ConnMeta) *served {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cli, err := net.DialTimeout("tcp", ln.Addr().String(), wireTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cli.Close() })
	srv, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	s := &served{w: &wire{t: t, nc: cli, r: packet.NewReader(cli, packet.MaxPacketSize)}, done: make(chan (<-chan struct{}), 1)}
	go func() { s.done <- b.ServeConn(srv, meta) }()
	return s
}

// returned waits for ServeConn to return and yields its channel.
func (s *served) returned(t *testing.T) <-chan struct{} {
	t.Helper()
	select {
	case d := <-s.done:
		return d
	case <-time.After(wireTimeout):
		t.Fatal("ServeConn did not return")
		return nil
	}
}

// isClosed reports whether ch is closed, waiting at most d for it.
func isClosed(ch <-chan struct{}, d time.Duration) bool {
	select {
	case <-ch:
		return true
	default:
	}
	select {
	case <-ch:
		return true
	case <-time.After(d):
		return false
	}
}

// TestBroker_ServeConn checks that a connection served by ServeConn gives
// the Gate the transport's facts, is admitted, exchanges messages with a
// client of the TLS listener through the same broker, and that the
// returned channel closes only when the connection has ended.
func TestBroker_ServeConn(t *testing.T) {
	var mu sync.Mutex
	var infos []broker.ConnInfo
	gate := fakeGate{admit: func(info broker.ConnInfo) (broker.Permissions, *broker.Refusal) {
		mu.Lock()
		infos = append(infos, info)
		mu.Unlock()
		return allowAll{}, nil
	}}
	tb := startBrokerGate(t, nil, gate)
	cert := &x509.Certificate{Raw: []byte("not parsed")}
	type principal struct{ name string }
	s := serveConn(t, tb.Broker, broker.ConnMeta{Transport: broker.TransportWebSocket, PeerCertificates: []*x509.Certificate{cert},
		ServerName: "iot.example", Authenticated: principal{"alice"}})
	if ack := s.w.connect("ws-1", packet.V5); ack.ReasonCode != packet.Success {
		t.Fatalf("CONNACK %s, want success", ack.ReasonCode)
	}
	done := s.returned(t)

	mu.Lock()
	got := infos[0]
	mu.Unlock()
	if got.Transport != broker.TransportWebSocket || got.ServerName != "iot.example" || len(got.PeerCertificates) != 1 ||
		got.PeerCertificates[0] != cert || got.Authenticated != (principal{"alice"}) || got.ClientID != "ws-1" {
		t.Fatalf("gate got %+v", got)
	}
	if got.RemoteAddr == nil || got.RemoteAddr.String() != s.w.nc.LocalAddr().String() {
		t.Fatalf("RemoteAddr %v, want the client's %v", got.RemoteAddr, s.w.nc.LocalAddr())
	}

	tlsClient, _ := tb.client(t, "tls-1", packet.V311)
	mu.Lock()
	if infos[1].Transport != broker.TransportTLS || infos[1].Authenticated != nil {
		t.Errorf("TLS listener: gate got transport %q, authenticated %v; want %q, nil", infos[1].Transport, infos[1].Authenticated, broker.TransportTLS)
	}
	mu.Unlock()
	s.w.sub("t/#", 1)
	tlsClient.sub("u/#", 1)
	tlsClient.publish("t/1", "to ws", 1, false)
	s.w.ack(s.w.expectPublish("t/1", "to ws"))
	s.w.publish("u/1", "to tls", 1, false)
	tlsClient.ack(tlsClient.expectPublish("u/1", "to tls"))

	if isClosed(done, 50*time.Millisecond) {
		t.Fatal("done closed while the connection is up")
	}
	s.w.disconnect(packet.Success)
	if !isClosed(done, wireTimeout) {
		t.Fatal("done not closed after DISCONNECT")
	}
}

// TestBroker_ServeConnRefused checks that a refused CONNECT gets its
// CONNACK, the connection is closed and the channel is closed at once.
func TestBroker_ServeConnRefused(t *testing.T) {
	gate := fakeGate{admit: func(broker.ConnInfo) (broker.Permissions, *broker.Refusal) {
		return nil, &broker.Refusal{Code: packet.NotAuthorized, Reason: "no"}
	}}
	tb := startBrokerGate(t, nil, gate)
	s := serveConn(t, tb.Broker, broker.ConnMeta{Transport: broker.TransportALPNCert})
	if ack := s.w.connect("c", packet.V5); ack.ReasonCode != packet.NotAuthorized {
		t.Fatalf("CONNACK %s, want NotAuthorized", ack.ReasonCode)
	}
	s.w.expectClosed()
	if !isClosed(s.returned(t), 0) {
		t.Fatal("done of a refused connection not closed")
	}
	if n := tb.Stats().Connections; n != 0 {
		t.Fatalf("%d connections, want 0", n)
	}
}

// TestBroker_ServeConnGarbage checks that a first packet that is not a
// CONNECT closes the connection as on the TLS listener: without a CONNACK
// (3.1.1 has no code for it).
func TestBroker_ServeConnGarbage(t *testing.T) {
	tb := startBroker(t, nil)
	s := serveConn(t, tb.Broker, broker.ConnMeta{Transport: broker.TransportWebSocket})
	s.w.sendRaw([]byte{0xC0, 0x00}) // PINGREQ
	s.w.expectClosed()
	if !isClosed(s.returned(t), 0) {
		t.Fatal("done not closed")
	}
}

// TestBroker_ServeConnKeepAlive checks that the keep-alive applies to a
// ServeConn connection: an MQTT 5 client that goes silent gets DISCONNECT
// 0x8D after 1.5 × its keep-alive.
func TestBroker_ServeConnKeepAlive(t *testing.T) {
	tb := startBroker(t, func(l *broker.Limits) { l.MinKeepAlive = 0 })
	s := serveConn(t, tb.Broker, broker.ConnMeta{Transport: broker.TransportWebSocket})
	ack := s.w.connect("quiet", packet.V5, func(c *packet.Connect) { c.KeepAlive = 1 })
	if ack.ReasonCode != packet.Success {
		t.Fatalf("CONNACK %s", ack.ReasonCode)
	}
	start := time.Now()
	s.w.expectDisconnect(packet.KeepAliveTimeout)
	if d := time.Since(start); d < time.Second {
		t.Fatalf("closed after %v, before 1.5 × the keep-alive", d)
	}
}

// TestBroker_ServeConnShutdown checks that Shutdown sends a ServeConn
// client DISCONNECT 0x8B and ends it, and that ServeConn after Shutdown
// closes the connection at once.
func TestBroker_ServeConnShutdown(t *testing.T) {
	tb := startBroker(t, nil)
	s := serveConn(t, tb.Broker, broker.ConnMeta{Transport: broker.TransportWebSocket})
	s.w.connect("bye", packet.V5)
	done := s.returned(t)
	ctx, cancel := context.WithTimeout(context.Background(), wireTimeout)
	defer cancel()
	if err := tb.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	s.w.expectDisconnect(packet.ServerShuttingDown)
	if !isClosed(done, wireTimeout) {
		t.Fatal("done not closed after Shutdown")
	}

	late := serveConn(t, tb.Broker, broker.ConnMeta{Transport: broker.TransportWebSocket})
	if !isClosed(late.returned(t), 0) {
		t.Fatal("ServeConn after Shutdown: done not closed")
	}
	late.w.expectClosed()
}

// TestBroker_ServeConnAdmission checks that ServeConn takes a handshake
// token like the accept loop: with one token, a second connection's
// CONNECT waits until the first has been decided.
func TestBroker_ServeConnAdmission(t *testing.T) {
	tb := startBroker(t, func(l *broker.Limits) { l.MaxConcurrentHandshakes = 1 })
	first := serveConn(t, tb.Broker, broker.ConnMeta{Transport: broker.TransportWebSocket})
	time.Sleep(50 * time.Millisecond) // first holds the token, waiting for its CONNECT
	second := serveConn(t, tb.Broker, broker.ConnMeta{Transport: broker.TransportWebSocket})
	second.w.v = packet.V5
	second.w.send(&packet.Connect{ProtocolLevel: packet.V5, ClientID: "second", CleanStart: true, KeepAlive: 60})
	if p, err := second.w.next(200 * time.Millisecond); err == nil || closedErr(err) {
		t.Fatalf("second connection answered (%v, %v) while the first holds the only token", p, err)
	}
	first.w.connect("first", packet.V5)
	if ack := expect[*packet.Connack](second.w); ack.ReasonCode != packet.Success {
		t.Fatalf("second CONNACK %s", ack.ReasonCode)
	}
}
