package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/broker"
)

// lockedBuffer is an io.Writer safe for concurrent use (net/http's
// ErrorLog).
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// listenerHarness is an http.Server over an alpnListener whose MQTT
// connections are recorded (and answered with "mqtt:TRANSPORT") rather
// than given to a broker.
type listenerHarness struct {
	addr   string
	hs     *http.Server
	ln     *alpnListener
	mqtt   chan string // transports of the MQTT connections
	errLog *lockedBuffer
	client *tls.Config // trusts the server
	// serveErrs are what Serve may have returned once the test is over.
	serveErrs []error
}

func startListener(t *testing.T, timeout time.Duration) *listenerHarness {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srvCert := selfSigned(t, "moat", true)
	cfg := &tls.Config{Certificates: []tls.Certificate{srvCert}, ClientAuth: tls.RequestClientCert, MinVersion: tls.VersionTLS12}
	h := &listenerHarness{addr: ln.Addr().String(), mqtt: make(chan string, 4), errLog: &lockedBuffer{}, serveErrs: []error{http.ErrServerClosed}}
	h.hs = &http.Server{
		Handler:  http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, r.Proto) }),
		ErrorLog: log.New(h.errLog, "", 0),
	}
	configureHTTPS(h.hs, cfg)
	h.ln = newALPNListener(ln, cfg, timeout, func(tc *tls.Conn, transport string) {
		_, _ = io.WriteString(tc, "mqtt:"+transport)
		_ = tc.Close()
		h.mqtt <- transport
	})
	served := make(chan error, 1)
	go func() { served <- h.hs.Serve(h.ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := h.hs.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		err := <-served
		if !slices.ContainsFunc(h.serveErrs, func(want error) bool { return errors.Is(err, want) }) {
			t.Errorf("Serve: %v, want one of %v", err, h.serveErrs)
		}
	})
	leaf, err := x509.ParseCertificate(srvCert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	h.client = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	return h
}

// get fetches / with ALPN protos and returns the body (the protocol the
// handler saw) and the negotiated protocol.
func (h *listenerHarness) get(t *testing.T, protos ...string) (string, string) {
	t.Helper()
	cfg := h.client.Clone()
	cfg.NextProtos = protos
	tr := &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: len(protos) > 0 && protos[0] == "h2"}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get("https://" + h.addr + "/")
	if err != nil {
		t.Fatalf("GET over %v: %v", protos, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b), resp.TLS.NegotiatedProtocol
}

// TestALPNListener_Dispatch checks where each kind of connection goes:
// HTTP/1.1, h2 and x-amzn-http-ca to net/http, the MQTT protocols to the
// MQTT function with their transport, and failed handshakes to net/http,
// which logs them and answers plain HTTP with 400, as it does for a
// handshake it runs itself.
func TestALPNListener_Dispatch(t *testing.T) {
	h := startListener(t, 5*time.Second)
	for _, tc := range []struct{ name, proto, wantBody, wantProto string }{
		{"no ALPN", "", "HTTP/1.1", ""},
		{"http/1.1", "http/1.1", "HTTP/1.1", "http/1.1"},
		{"h2", "h2", "HTTP/2.0", "h2"},
		{"x-amzn-http-ca", alpnHTTPCert, "HTTP/1.1", alpnHTTPCert},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Served by net/http with the protocol negotiated.
			var protos []string
			if tc.proto != "" {
				protos = []string{tc.proto}
			}
			body, proto := h.get(t, protos...)
			if body != tc.wantBody || proto != tc.wantProto {
				t.Fatalf("served %q over %q, want %q over %q", body, proto, tc.wantBody, tc.wantProto)
			}
		})
	}
	for _, tc := range []struct{ proto, transport string }{
		{alpnMQTTCert, broker.TransportALPNCert},
		{alpnMQTTCustomAuth, broker.TransportALPNCustomAuth},
	} {
		t.Run(tc.proto, func(t *testing.T) {
			// Given to the MQTT function, not to net/http.
			cfg := h.client.Clone()
			cfg.NextProtos = []string{tc.proto}
			c, err := tls.Dial("tcp", h.addr, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			b, _ := io.ReadAll(c)
			if string(b) != "mqtt:"+tc.transport {
				t.Fatalf("read %q, want %q", b, "mqtt:"+tc.transport)
			}
			if got := <-h.mqtt; got != tc.transport {
				t.Fatalf("transport %q, want %q", got, tc.transport)
			}
		})
	}
	t.Run("plain HTTP", func(t *testing.T) {
		// net/http's answer to plain HTTP on a TLS port.
		c, err := net.Dial("tcp", h.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		b, _ := io.ReadAll(c)
		if !strings.HasPrefix(string(b), "HTTP/1.0 400 Bad Request") {
			t.Fatalf("answer %q, want a 400", b)
		}
	})
	t.Run("failed handshake", func(t *testing.T) {
		// A client that does not trust the server: net/http logs the
		// handshake error.
		if _, err := tls.Dial("tcp", h.addr, &tls.Config{MinVersion: tls.VersionTLS12}); err == nil {
			t.Fatal("handshake with an untrusted server succeeded")
		}
		deadline := time.Now().Add(5 * time.Second)
		for !strings.Contains(h.errLog.String(), "TLS handshake error") {
			if time.Now().After(deadline) {
				t.Fatalf("no handshake error logged: %q", h.errLog.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// TestALPNListener_Timeouts checks that a client that never completes its
// handshake is dropped after the timeout, and that closing the listener
// drops those still in handshake at once and makes Accept fail.
func TestALPNListener_Timeouts(t *testing.T) {
	t.Run("handshake timeout", func(t *testing.T) {
		// Dropped after about the timeout, not before.
		h := startListener(t, 300*time.Millisecond)
		c, err := net.Dial("tcp", h.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		start := time.Now()
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Fatal("read a byte from a silent handshake")
		} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatal("the server did not drop a silent client")
		}
		if el := time.Since(start); el < 250*time.Millisecond {
			t.Fatalf("dropped after %v, before the 300ms timeout", el)
		}
	})
	t.Run("close", func(t *testing.T) {
		// Close drops a connection in handshake (no timeout here) and
		// Accept then fails.
		h := startListener(t, 0)
		c, err := net.Dial("tcp", h.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		deadline := time.Now().Add(5 * time.Second)
		for {
			h.ln.mu.Lock()
			n := len(h.ln.pending)
			h.ln.mu.Unlock()
			if n == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the connection never started its handshake")
			}
			time.Sleep(5 * time.Millisecond)
		}
		// Serve's listener fails under it; if the test's Shutdown comes
		// before Serve sees that, Serve says the server closed.
		h.serveErrs = []error{net.ErrClosed, http.ErrServerClosed}
		if err := h.ln.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Fatal("read a byte after Close")
		} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatal("Close did not drop the connection in handshake")
		}
		if _, err := h.ln.Accept(); err == nil {
			t.Fatal("Accept after Close succeeded")
		}
	})
}

// TestHandshakeTimeout checks that the handshake deadline is net/http's:
// the least positive of the three timeouts, 0 if none.
func TestHandshakeTimeout(t *testing.T) {
	for _, tc := range []struct {
		name string
		hs   *http.Server
		want time.Duration
	}{
		{"none", &http.Server{}, 0},
		{"read header", &http.Server{ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second}, 5 * time.Second},
		{"least positive", &http.Server{ReadHeaderTimeout: -1, ReadTimeout: 9 * time.Second, WriteTimeout: 7 * time.Second}, 7 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := handshakeTimeout(tc.hs); got != tc.want {
				t.Fatalf("%v, want %v", got, tc.want)
			}
		})
	}
}

// BenchmarkHTTPSListener compares HTTP on the alpnListener with net/http
// over a plain tls.NewListener (net/http running the handshake): a request
// on a kept-alive connection (keep-alive), and one on a new connection
// each time (new-conn, handshake included). Run it with
//
//	go test -run '^$' -bench HTTPSListener -benchmem ./internal/server/
func BenchmarkHTTPSListener(b *testing.B) {
	for _, mode := range []string{"tls.NewListener", "alpnListener"} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		srvCert := selfSigned(b, "moat", true)
		cfg := &tls.Config{Certificates: []tls.Certificate{srvCert}, ClientAuth: tls.RequestClientCert, MinVersion: tls.VersionTLS12}
		hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }),
			ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
		configureHTTPS(hs, cfg)
		var hl net.Listener = tls.NewListener(ln, cfg)
		if mode == "alpnListener" {
			hl = newALPNListener(ln, cfg, handshakeTimeout(hs), func(tc *tls.Conn, _ string) { _ = tc.Close() })
		}
		go func() { _ = hs.Serve(hl) }()
		leaf, _ := x509.ParseCertificate(srvCert.Certificate[0])
		roots := x509.NewCertPool()
		roots.AddCert(leaf)
		url := "https://" + ln.Addr().String() + "/"
		for _, keep := range []bool{true, false} {
			name := mode + "/new-conn"
			if keep {
				name = mode + "/keep-alive"
			}
			b.Run(name, func(b *testing.B) {
				tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}, DisableKeepAlives: !keep}
				defer tr.CloseIdleConnections()
				c := &http.Client{Transport: tr}
				b.ReportAllocs()
				for b.Loop() {
					resp, err := c.Get(url)
					if err != nil {
						b.Fatal(err)
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
				}
			})
		}
		_ = hs.Close()
	}
}
