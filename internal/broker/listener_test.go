package broker_test

import (
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/broker"
	"github.com/moat-iot/moat/internal/mqtt/packet"
)

// serveTLS accepts TLS connections on a new loopback listener (wrapped by
// WrapListener if wrap is set), handshakes each and serves it with
// ServeConn as the HTTPS port does for MQTT by ALPN. It returns the
// listener's address and the channels ServeConn returns, in order.
func serveTLS(t *testing.T, b *broker.Broker, wrap bool) (string, <-chan (<-chan struct{})) {
	t.Helper()
	id, err := testIdentity()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	var raw net.Listener = ln
	if wrap {
		raw = broker.WrapListener(ln)
	}
	tln := tls.NewListener(raw, &tls.Config{Certificates: []tls.Certificate{id}, ClientAuth: tls.RequireAnyClientCert, MinVersion: tls.VersionTLS12})
	dones := make(chan (<-chan struct{}), 8)
	go func() {
		for {
			nc, err := tln.Accept()
			if err != nil {
				return
			}
			go func() {
				tc := nc.(*tls.Conn)
				if err := tc.Handshake(); err != nil {
					_ = tc.Close()
					return
				}
				dones <- b.ServeConn(tc, broker.ConnMeta{Transport: broker.TransportALPNCert, PeerCertificates: tc.ConnectionState().PeerCertificates})
			}()
		}
	}()
	return ln.Addr().String(), dones
}

// dialWire connects a raw MQTT client to addr over TLS.
func dialWire(t *testing.T, tb *testBroker, addr string) *wire {
	t.Helper()
	tc, err := tls.DialWithDialer(&net.Dialer{Timeout: wireTimeout}, "tcp", addr, tb.tls)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tc.Close() })
	return &wire{t: t, nc: tc, r: packet.NewReader(tc, packet.MaxPacketSize)}
}

// TestWrapListener_ServeConn checks that a TLS connection made over a
// WrapListener connection and handed to ServeConn is parked while idle, as
// the MQTT port's are, wakes for its next packet, and ends when closed
// while parked; and that one over a plain connection is not parked (its
// reader waits inside crypto/tls).
func TestWrapListener_ServeConn(t *testing.T) {
	tb := startIdleBroker(t, nil)
	t.Run("wrapped", func(t *testing.T) {
		// Parked, woken by a PINGREQ, parked again, then kicked while
		// parked: DISCONNECT, and ServeConn's channel closes.
		addr, dones := serveTLS(t, tb.Broker, true)
		w := dialWire(t, tb, addr)
		if ack := w.connect("alpn-parked", v5); ack.ReasonCode != packet.Success {
			t.Fatalf("CONNACK %s", ack.ReasonCode)
		}
		done := <-dones
		tb.waitParked(t, "alpn-parked")
		w.ping()
		tb.waitParked(t, "alpn-parked")
		if !tb.Disconnect("alpn-parked", packet.AdministrativeAction, "test") {
			t.Fatal("Disconnect found no connection")
		}
		w.expectDisconnect(packet.AdministrativeAction)
		if !isClosed(done, wireTimeout) {
			t.Fatal("ServeConn's channel not closed after the connection ended")
		}
	})
	t.Run("not wrapped", func(t *testing.T) {
		// Without the wrapper the broker cannot wait outside crypto/tls:
		// the connection works but is never parked.
		addr, _ := serveTLS(t, tb.Broker, false)
		w := dialWire(t, tb, addr)
		if ack := w.connect("alpn-unparked", v5); ack.ReasonCode != packet.Success {
			t.Fatalf("CONNACK %s", ack.ReasonCode)
		}
		time.Sleep(broker.ParkDelay + 200*time.Millisecond)
		if tb.Parked("alpn-unparked") {
			t.Fatal("a connection not made by WrapListener was parked")
		}
		w.ping()
	})
}
