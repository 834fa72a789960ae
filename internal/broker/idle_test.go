package broker_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/broker"
	"github.com/moat-iot/moat/internal/mqtt/packet"
)

// The reader path of idle connections (idle*.go): packets however they
// are cut into TLS records and TCP segments, waits at a record boundary,
// parking, and what ends a parked connection.

// startIdleBroker is startBroker whose connections have the record layer
// (and so wait for packets outside crypto/tls, and park).
func startIdleBroker(t testing.TB, mod func(*broker.Limits)) *testBroker {
	t.Helper()
	id, err := testIdentity()
	if err != nil {
		t.Fatal(err)
	}
	lim := broker.DefaultLimits()
	if mod != nil {
		mod(&lim)
	}
	b, err := broker.New(broker.Options{Limits: lim, Gate: fakeGate{}, Logger: testLogger()})
	if err != nil {
		t.Fatalf("broker.New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srvTLS := &tls.Config{Certificates: []tls.Certificate{id}, ClientAuth: tls.RequireAnyClientCert, MinVersion: tls.VersionTLS12}
	served := make(chan error, 1)
	go func() { served <- b.Serve(broker.WrapListener(ln), srvTLS) }()
	tb := &testBroker{Broker: b, addr: ln.Addr().String()}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wireTimeout)
		defer cancel()
		if err := b.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	leaf, err := x509.ParseCertificate(id.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	tb.tls = &tls.Config{RootCAs: roots, ServerName: "localhost", Certificates: []tls.Certificate{id}, MinVersion: tls.VersionTLS12}
	return tb
}

// splitConn writes everything in pieces of at most n bytes, a TCP segment
// each (Go sets TCP_NODELAY), once split is set.
type splitConn struct {
	net.Conn
	n     int
	split atomic.Bool
}

func (c *splitConn) Write(b []byte) (int, error) {
	if !c.split.Load() {
		return c.Conn.Write(b)
	}
	for i := 0; i < len(b); i += c.n {
		if _, err := c.Conn.Write(b[i:min(i+c.n, len(b))]); err != nil {
			return i, err
		}
		time.Sleep(time.Millisecond) // a segment of its own
	}
	return len(b), nil
}

// encode returns the bytes of packets for version v, back to back.
func encode(t testing.TB, v packet.Version, ps ...packet.Packet) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, p := range ps {
		if _, err := packet.Write(&b, p, v); err != nil {
			t.Fatalf("encode %s: %v", p.Type(), err)
		}
	}
	return b.Bytes()
}

// expectAcks reads PUBACKs for ids 1..n, then a PINGRESP.
func (w *wire) expectAcks(n int) {
	w.t.Helper()
	for id := 1; id <= n; id++ {
		if a := expect[*packet.Puback](w); a.PacketID != uint16(id) || a.ReasonCode.IsError() {
			w.t.Fatalf("PUBACK %d %s, want %d success", a.PacketID, a.ReasonCode, id)
		}
	}
	expect[*packet.Pingresp](w)
}

// pubs returns n QoS 1 PUBLISHes (ids 1..n) of size bytes each, then a
// PINGREQ.
func pubs(n, size int) []packet.Packet {
	var ps []packet.Packet
	for id := 1; id <= n; id++ {
		ps = append(ps, &packet.Publish{Topic: "idle/t", QoS: 1, PacketID: uint16(id), Payload: bytes.Repeat([]byte{byte(id)}, size)})
	}
	return append(ps, &packet.Pingreq{})
}

// waitParked waits until clientID's connection is parked where the
// system parks connections, and fails the test if it is not within a
// second.
func (tb *testBroker) waitParked(t testing.TB, clientID string) {
	t.Helper()
	time.Sleep(broker.ParkDelay)
	if !broker.ParksInPoller {
		return // it waits in a goroutine of its own: nothing to observe
	}
	deadline := time.Now().Add(time.Second)
	for !tb.Parked(clientID) {
		if time.Now().After(deadline) {
			t.Fatalf("%s not parked after %v idle", clientID, broker.ParkDelay+time.Second)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestIdle_Pipelining(t *testing.T) {
	tb := startIdleBroker(t, nil)
	t.Run("several packets in one record", func(t *testing.T) {
		// One TLS record carries three PUBLISHes and a PINGREQ: all are
		// answered, in order, with no wait for more bytes in between.
		w, _ := tb.client(t, "one-record", v5)
		w.sendRaw(encode(t, v5, pubs(3, 10)...))
		w.expectAcks(3)
	})
	t.Run("packets across records", func(t *testing.T) {
		// A PUBLISH cut in the middle, its halves in two records, the
		// second with the next packets: the reader waits for the second
		// record inside the packet.
		w, _ := tb.client(t, "two-records", v5)
		b := encode(t, v5, pubs(2, 100)...)
		w.sendRaw(b[:57])
		time.Sleep(20 * time.Millisecond)
		w.sendRaw(b[57:])
		w.expectAcks(2)
	})
	t.Run("a record in many TCP segments", func(t *testing.T) {
		// A record whose header and body arrive a few bytes at a time.
		raw, err := net.DialTimeout("tcp", tb.addr, wireTimeout)
		if err != nil {
			t.Fatal(err)
		}
		sc := &splitConn{Conn: raw, n: 3}
		nc := tls.Client(sc, tb.tls)
		t.Cleanup(func() { _ = nc.Close() })
		w := &wire{t: t, nc: nc, r: packet.NewReader(nc, packet.MaxPacketSize)}
		if ack := w.connect("segments", v5); ack.ReasonCode != packet.Success {
			t.Fatalf("CONNACK %s", ack.ReasonCode)
		}
		sc.split.Store(true)
		w.sendRaw(encode(t, v5, pubs(2, 30)...))
		w.expectAcks(2)
	})
	t.Run("large packets", func(t *testing.T) {
		// PUBLISHes larger than a TLS record and than the record layer's
		// stash, then a small one.
		w, _ := tb.client(t, "large", v5)
		b := encode(t, v5, pubs(2, 40000)...)
		w.sendRaw(b)
		w.expectAcks(2)
		w.ping()
	})
}

func TestIdle_ParkAndWake(t *testing.T) {
	tb := startIdleBroker(t, nil)
	t.Run("a record of packets, then idle", func(t *testing.T) {
		// After a record with several packets, nothing is buffered: the
		// connection parks, and wakes for each new packet, several times.
		w, _ := tb.client(t, "burst-idle", v5)
		w.sendRaw(encode(t, v5, pubs(3, 10)...))
		w.expectAcks(3)
		for range 3 {
			tb.waitParked(t, "burst-idle")
			w.ping()
		}
	})
	t.Run("large packet, then idle", func(t *testing.T) {
		// A packet that filled the packet reader's and crypto/tls's
		// buffers exactly still leaves the connection idle after it.
		w, _ := tb.client(t, "large-idle", v5)
		w.sendRaw(encode(t, v5, pubs(1, 20000)...))
		w.expectAcks(1)
		tb.waitParked(t, "large-idle")
		w.ping()
	})
	t.Run("delivery to a parked subscriber", func(t *testing.T) {
		// A parked connection still receives: the writer does not need
		// the reader.
		sub, _ := tb.client(t, "parked-sub", v5)
		sub.sub("idle/deliver", 1)
		pub, _ := tb.client(t, "parked-pub", v5)
		tb.waitParked(t, "parked-sub")
		pub.publish("idle/deliver", "x", 1, false)
		sub.ack(sub.expectPublish("idle/deliver", "x"))
		sub.ping()
	})
	t.Run("many connections", func(t *testing.T) {
		// Many parked connections, some closed and replaced (their file
		// descriptors and poller slots reused), all still answer.
		const n = 40
		ws := make([]*wire, n)
		for i := range ws {
			ws[i], _ = tb.client(t, "many-"+strconv.Itoa(i), v4)
		}
		tb.waitParked(t, "many-0")
		for i := 0; i < n; i += 3 {
			ws[i].drop()
		}
		for i := 0; i < n; i += 3 {
			ws[i], _ = tb.client(t, "many-"+strconv.Itoa(i), v4)
		}
		tb.waitParked(t, "many-0")
		var wg sync.WaitGroup
		for _, w := range ws {
			wg.Go(func() { w.ping() })
		}
		wg.Wait()
	})
}

func TestIdle_KeepAliveWhileParked(t *testing.T) {
	// [MQTT-3.1.2-24] a parked connection without a packet for 1.5 × the
	// keep-alive is closed (MQTT 5: DISCONNECT 0x8D), not before, and not
	// much later.
	tb := startIdleBroker(t, func(l *broker.Limits) { l.MinKeepAlive = 0 })
	for _, v := range []packet.Version{v4, v5} {
		t.Run(v.String(), func(t *testing.T) {
			id := "ka-" + v.String()
			w, _ := tb.client(t, id, v, func(c *packet.Connect) { c.KeepAlive = 1 })
			start := time.Now()
			tb.waitParked(t, id)
			w.expectDisconnect(packet.KeepAliveTimeout)
			if d := time.Since(start); d < 1400*time.Millisecond || d > 3*time.Second {
				t.Fatalf("closed after %v, want about 1.5 s", d)
			}
		})
	}
	t.Run("pings keep it", func(t *testing.T) {
		// A ping before each deadline, the connection parked between
		// them, keeps it open past several deadlines.
		w, _ := tb.client(t, "ka-pings", v5, func(c *packet.Connect) { c.KeepAlive = 1 })
		for range 4 {
			tb.waitParked(t, "ka-pings")
			time.Sleep(700*time.Millisecond - broker.ParkDelay)
			w.ping()
		}
	})
}

func TestIdle_CloseWhileParked(t *testing.T) {
	tb := startIdleBroker(t, nil)
	t.Run("server disconnect", func(t *testing.T) {
		// Closing a parked connection wakes it: the client gets its
		// DISCONNECT and the close, and the broker lets it go.
		w, _ := tb.client(t, "close-server", v5)
		tb.waitParked(t, "close-server")
		if !tb.Disconnect("close-server", packet.AdministrativeAction, "test") {
			t.Fatal("Disconnect found no connection")
		}
		w.expectDisconnect(packet.AdministrativeAction)
		tb.waitStats(t, "no connections", func(s broker.Stats) bool { return s.Connections == 0 })
	})
	t.Run("client close", func(t *testing.T) {
		// The peer's close wakes a parked connection, which ends.
		w, _ := tb.client(t, "close-client", v4)
		tb.waitParked(t, "close-client")
		w.drop()
		tb.waitStats(t, "no connections", func(s broker.Stats) bool { return s.Connections == 0 })
	})
	t.Run("takeover", func(t *testing.T) {
		// [MQTT-3.1.4-3] a new connection with the same client id closes
		// the parked one.
		first, _ := tb.client(t, "close-takeover", v5)
		tb.waitParked(t, "close-takeover")
		second, _ := tb.client(t, "close-takeover", v5)
		first.expectDisconnect(packet.SessionTakenOver)
		second.ping()
	})
	t.Run("shutdown", func(t *testing.T) {
		// Shutdown wakes and closes every parked connection and returns.
		tb := startIdleBroker(t, nil)
		ws := make([]*wire, 5)
		for i := range ws {
			ws[i], _ = tb.client(t, "shutdown-"+strconv.Itoa(i), v5)
		}
		tb.waitParked(t, "shutdown-4")
		ctx, cancel := context.WithTimeout(context.Background(), wireTimeout)
		defer cancel()
		if err := tb.Shutdown(ctx); err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
		for _, w := range ws {
			w.expectDisconnect(packet.ServerShuttingDown)
		}
	})
}

// BenchmarkIdle_PingPong measures a round trip that takes the reader from
// idle to a packet and back: PINGREQ, PINGRESP, and again. "inside-tls" is
// the reader waiting in tls.Conn.Read (no idleConn under crypto/tls).
func BenchmarkIdle_PingPong(b *testing.B) {
	for _, tt := range []struct {
		name  string
		start func(testing.TB, func(*broker.Limits)) *testBroker
	}{
		{"idleConn", startIdleBroker},
		{"inside-tls", startBroker},
	} {
		b.Run(tt.name, func(b *testing.B) {
			tb := tt.start(b, nil)
			w, _ := tb.client(b, "pingpong", v5)
			b.ReportAllocs()
			for b.Loop() {
				w.ping()
			}
		})
	}
}
