//go:build unix

package broker

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"math/big"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t *testing.T) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = server.Close(); _ = client.Close() })
	return server, client
}

func TestIdleConn_Wait(t *testing.T) {
	t.Run("deadline", func(t *testing.T) {
		// The read deadline ends the wait with a timeout.
		srv, _ := tcpPair(t)
		ic := newIdleConn(srv)
		_ = ic.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		var ne net.Error
		if err := ic.wait(); !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("wait: %v, want a timeout", err)
		}
	})
	t.Run("bytes", func(t *testing.T) {
		// Bytes that arrive later end the wait and are read from the
		// stash; a wait with bytes stashed returns at once.
		srv, cli := tcpPair(t)
		ic := newIdleConn(srv)
		time.AfterFunc(30*time.Millisecond, func() { _, _ = cli.Write([]byte("hello")) })
		if err := ic.wait(); err != nil {
			t.Fatalf("wait: %v", err)
		}
		_ = ic.SetReadDeadline(time.Now().Add(-time.Second)) // the stash must not need the socket
		if err := ic.wait(); err != nil {
			t.Fatalf("second wait, bytes stashed: %v", err)
		}
		p := make([]byte, 16)
		if n, err := ic.Read(p); string(p[:n]) != "hello" || err != nil || ic.stash != nil {
			t.Fatalf("Read: %q, %v (stash %v); want hello and the stash given back", p[:n], err, ic.stash != nil)
		}
	})
	t.Run("end of stream", func(t *testing.T) {
		// The peer's close ends the wait; the next Read returns io.EOF.
		srv, cli := tcpPair(t)
		ic := newIdleConn(srv)
		time.AfterFunc(30*time.Millisecond, func() { _ = cli.Close() })
		if err := ic.wait(); err != nil {
			t.Fatalf("wait: %v", err)
		}
		if _, err := ic.Read(make([]byte, 4)); err != io.EOF {
			t.Fatalf("Read after the peer's close: %v, want io.EOF", err)
		}
	})
	t.Run("close", func(t *testing.T) {
		// Closing the connection ends the wait with net.ErrClosed.
		srv, _ := tcpPair(t)
		ic := newIdleConn(srv)
		time.AfterFunc(30*time.Millisecond, func() { _ = ic.Close() })
		if err := ic.wait(); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("wait: %v, want net.ErrClosed", err)
		}
	})
}

// tlsPair returns a TLS 1.3 server over an idleConn (handshake done) and
// its client, whose writes go through cut once cutting is on.
func tlsPair(t *testing.T, cut func(net.Conn, []byte) (int, error)) (*idleConn, *tls.Conn, *atomic.Bool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	srv, cli := tcpPair(t)
	ic := newIdleConn(srv)
	ic.tc = tls.Server(ic, &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}})
	cc := &cutConn{Conn: cli, cut: cut}
	tc := tls.Client(cc, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- tc.HandshakeContext(ctx) }()
	if err := ic.tc.HandshakeContext(ctx); err != nil {
		t.Fatalf("server handshake: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("client handshake: %v", err)
	}
	return ic, tc, &cc.on
}

// cutConn writes through cut while on.
type cutConn struct {
	net.Conn
	cut func(net.Conn, []byte) (int, error)
	on  atomic.Bool
}

func (c *cutConn) Write(b []byte) (int, error) {
	if !c.on.Load() {
		return c.Conn.Write(b)
	}
	return c.cut(c.Conn, b)
}

// readPlain reads n bytes of the decrypted stream through plainReader.
func readPlain(t *testing.T, ic *idleConn, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := io.ReadFull(plainReader{ic}, b); err != nil {
		t.Fatalf("read %d bytes: %v", n, err)
	}
	return string(b)
}

func TestIdleConn_ProbeIdle(t *testing.T) {
	t.Run("records", func(t *testing.T) {
		// Two records in one socket read: the probe finds a byte while
		// crypto/tls holds decrypted bytes or a complete record, and
		// reports idle only once both are consumed, without ever reading
		// the socket.
		ic, tc, _ := tlsPair(t, nil)
		if !ic.probeIdle() {
			t.Fatal("not idle after the handshake")
		}
		_, _ = tc.Write([]byte("ab"))
		_, _ = tc.Write([]byte("cd"))
		time.Sleep(50 * time.Millisecond) // both records in the socket
		if err := ic.wait(); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"ab", "cd"} {
			if ic.probeIdle() {
				t.Fatalf("idle before %q was read", want)
			}
			if got := readPlain(t, ic, 2); got != want {
				t.Fatalf("read %q, want %q", got, want)
			}
		}
		if !ic.probeIdle() {
			t.Fatal("not idle after both records")
		}
	})
	t.Run("record cut in two", func(t *testing.T) {
		// With half a record in crypto/tls the connection is idle (the
		// rest can only come from the socket), and the rest completes it.
		ready := make(chan []byte, 1)
		ic, tc, cutting := tlsPair(t, func(c net.Conn, b []byte) (int, error) {
			if _, err := c.Write(b[:len(b)/2]); err != nil {
				return 0, err
			}
			ready <- b[len(b)/2:]
			return len(b), nil
		})
		cutting.Store(true)
		_, _ = tc.Write(bytes.Repeat([]byte("x"), 100))
		rest := <-ready
		if err := ic.wait(); err != nil {
			t.Fatal(err)
		}
		if !ic.probeIdle() {
			t.Fatal("not idle with half a record")
		}
		_, _ = tc.NetConn().(*cutConn).Conn.Write(rest) // past the cutter
		if err := ic.wait(); err != nil {
			t.Fatal(err)
		}
		if ic.probeIdle() {
			t.Fatal("idle with the record complete")
		}
		if got := readPlain(t, ic, 100); got != string(bytes.Repeat([]byte("x"), 100)) {
			t.Fatalf("read %q", got)
		}
	})
	t.Run("close_notify", func(t *testing.T) {
		// The client's close_notify is not idleness: the probe keeps
		// io.EOF for the packet reader.
		ic, tc, _ := tlsPair(t, nil)
		_ = tc.Close()
		if err := ic.wait(); err != nil {
			t.Fatal(err)
		}
		if ic.probeIdle() {
			t.Fatal("idle after close_notify")
		}
		if _, err := (plainReader{ic}).Read(make([]byte, 4)); err != io.EOF {
			t.Fatalf("read after close_notify: %v, want io.EOF", err)
		}
	})
}
