package idlemem_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/coder/websocket"

	"github.com/moat-iot/moat/internal/moattest/idlemem"
	"github.com/moat-iot/moat/internal/mqtt/packet"
	"github.com/moat-iot/moat/internal/pki/pkitest"
)

func TestMain(m *testing.M) {
	idlemem.Child()
	os.Exit(m.Run())
}

// fakeServer is an MQTT server that answers every CONNECT with a CONNACK
// and holds the connection, after checking the connection came as its
// mode expects (ALPN protocol, WebSocket subprotocol, client certificate).
type fakeServer struct {
	t      *testing.T
	mode   string // the mode the server expects
	client []byte // the DER certificate clients must present
	root   []byte // the DER root of the server's certificate
	addr   string

	conns   atomic.Int32 // connected and not yet closed
	mu      sync.Mutex
	clients map[string]bool // client ids that connected
	wg      sync.WaitGroup
}

// startFake starts a fake server expecting connections of the given mode
// with the client certificate client. It is stopped with the test.
func startFake(t *testing.T, mode string, client tls.Certificate) *fakeServer {
	t.Helper()
	s := &fakeServer{t: t, mode: mode, client: client.Certificate[0], clients: map[string]bool{}}
	srvCert, root := newCert(t, x509.ExtKeyUsageServerAuth)
	s.root = root
	cfg := &tls.Config{Certificates: []tls.Certificate{srvCert}, ClientAuth: tls.RequireAnyClientCert, MinVersion: tls.VersionTLS12}
	if mode == idlemem.WSS {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(s.serveWebSocket))
		srv.TLS = cfg
		srv.StartTLS()
		t.Cleanup(srv.Close)
		s.addr = srv.Listener.Addr().String()
		return s
	}
	cfg.NextProtos = []string{"x-amzn-mqtt-ca"}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.serveTLS(c.(*tls.Conn))
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		s.wg.Wait()
	})
	return s
}

// serveTLS checks the negotiated ALPN protocol: x-amzn-mqtt-ca in mode
// ALPN, none in mode TLS.
func (s *fakeServer) serveTLS(c *tls.Conn) {
	defer c.Close()
	if err := c.Handshake(); err != nil {
		return
	}
	want := ""
	if s.mode == idlemem.ALPN {
		want = "x-amzn-mqtt-ca"
	}
	st := c.ConnectionState()
	if st.NegotiatedProtocol != want {
		s.t.Logf("fake %s: ALPN %q, want %q", s.mode, st.NegotiatedProtocol, want)
		return
	}
	s.serveMQTT(c, st.PeerCertificates)
}

// serveWebSocket accepts the subprotocol mqtt on /mqtt only.
func (s *fakeServer) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/mqtt" {
		http.NotFound(w, r)
		return
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"mqtt"}})
	if err != nil {
		return
	}
	if ws.Subprotocol() != "mqtt" {
		s.t.Logf("fake wss: subprotocol %q", ws.Subprotocol())
		_ = ws.Close(websocket.StatusPolicyViolation, "subprotocol mqtt required")
		return
	}
	nc := websocket.NetConn(context.Background(), ws, websocket.MessageBinary)
	defer nc.Close()
	s.serveMQTT(nc, r.TLS.PeerCertificates)
}

// serveMQTT answers a CONNECT from the expected client certificate and
// holds the connection until the client closes it.
func (s *fakeServer) serveMQTT(c net.Conn, peer []*x509.Certificate) {
	if len(peer) == 0 || !bytes.Equal(peer[0].Raw, s.client) {
		s.t.Logf("fake %s: not the target's client certificate", s.mode)
		return
	}
	p, err := packet.NewReader(c, 64).ReadPacket(packet.V311)
	if err != nil {
		return
	}
	conn, ok := p.(*packet.Connect)
	if !ok {
		s.t.Logf("fake %s: got %T, want CONNECT", s.mode, p)
		return
	}
	if _, err := packet.Write(c, &packet.Connack{}, packet.V311); err != nil {
		return
	}
	s.mu.Lock()
	s.clients[conn.ClientID] = true
	s.mu.Unlock()
	s.conns.Add(1)
	defer s.conns.Add(-1)
	var buf [1]byte
	_, _ = c.Read(buf[:]) // until the client closes
}

// target is the idlemem.Target of s in the given mode.
func (s *fakeServer) target(mode string, client tls.Certificate) idlemem.Target {
	return idlemem.Target{Mode: mode, Addr: s.addr, Root: s.root, Client: client,
		Connections: func() int { return int(s.conns.Load()) }}
}

// measure runs idlemem.Measure as a benchmark and returns its result (N
// is 0 if it failed).
func measure(t idlemem.Target, n int) testing.BenchmarkResult {
	return testing.Benchmark(func(b *testing.B) {
		for range b.N {
			idlemem.Measure(b, t, n)
		}
	})
}

// TestMeasure checks that the child dials each mode as the server expects,
// that Measure waits for every connection and reports the four metrics,
// and that it writes a heap profile when asked.
func TestMeasure(t *testing.T) {
	const n = 20
	for _, mode := range []string{idlemem.WSS, idlemem.TLS, idlemem.ALPN} {
		t.Run(mode, func(t *testing.T) {
			prefix := filepath.Join(t.TempDir(), "heap")
			t.Setenv("MOAT_IDLE_PROFILE", prefix)
			client, _ := newCert(t, x509.ExtKeyUsageClientAuth)
			s := startFake(t, mode, client)
			r := measure(s.target(mode, client), n)
			if r.N == 0 {
				t.Fatal("Measure failed")
			}
			for _, m := range []string{"heap-B/conn", "stack-B/conn", "B/conn", "goroutines/conn"} {
				if _, ok := r.Extra[m]; !ok {
					t.Errorf("metric %s missing: %v", m, r.Extra)
				}
			}
			// Each fake connection holds at least one goroutine and its
			// buffers.
			if g := r.Extra["goroutines/conn"]; g < 1 {
				t.Errorf("goroutines/conn = %v, want >= 1", g)
			}
			if h := r.Extra["heap-B/conn"]; h <= 0 {
				t.Errorf("heap-B/conn = %v, want > 0", h)
			}
			if sum := r.Extra["heap-B/conn"] + r.Extra["stack-B/conn"]; abs(r.Extra["B/conn"]-sum) > 0.01 {
				t.Errorf("B/conn = %v, want heap + stack = %v", r.Extra["B/conn"], sum)
			}
			s.mu.Lock()
			got := len(s.clients)
			s.mu.Unlock()
			if got != n {
				t.Errorf("%d distinct client ids connected, want %d", got, n)
			}
			fi, err := os.Stat(prefix + "-" + mode + ".pprof")
			if err != nil || fi.Size() == 0 {
				t.Errorf("heap profile: %v", err)
			}
		})
	}
}

// TestMeasure_fails checks that Measure fails when the child cannot
// connect as the server expects or the mode is unknown.
func TestMeasure_fails(t *testing.T) {
	client, _ := newCert(t, x509.ExtKeyUsageClientAuth)
	for name, tc := range map[string]struct{ server, client string }{
		"tls client, alpn server": {server: idlemem.ALPN, client: idlemem.TLS},
		"alpn client, tls server": {server: idlemem.TLS, client: idlemem.ALPN},
		"unknown mode":            {server: idlemem.TLS, client: "ws"},
	} {
		t.Run(name, func(t *testing.T) {
			s := startFake(t, tc.server, client)
			if r := measure(s.target(tc.client, client), 2); r.N != 0 {
				t.Fatalf("Measure succeeded: %v", r)
			}
		})
	}
}

// TestConns checks MOAT_IDLE_CONNS and its default.
func TestConns(t *testing.T) {
	for v, want := range map[string]int{"": 1000, "7": 7, "0": 1000, "-3": 1000, "x": 1000} {
		t.Setenv("MOAT_IDLE_CONNS", v)
		if got := idlemem.Conns(); got != want {
			t.Errorf("MOAT_IDLE_CONNS=%q: Conns() = %d, want %d", v, got, want)
		}
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// newCert returns a certificate (leaf and intermediate) for 127.0.0.1 with
// the given extended key usage, and its root.
func newCert(t *testing.T, eku x509.ExtKeyUsage) (cert tls.Certificate, root []byte) {
	t.Helper()
	c := pkitest.NewChain(t, pkitest.ChainOptions{EKU: []x509.ExtKeyUsage{eku}})
	return tls.Certificate{Certificate: [][]byte{c.Leaf.Raw, c.Intermediate.Raw}, PrivateKey: c.LeafKey}, c.Root.Raw
}
