package server

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/broker"
	"github.com/moat-iot/moat/internal/mqtt/packet"
)

// Memory of idle MQTT connections on the HTTPS port (ALPN x-amzn-mqtt-ca)
// against the MQTT port's (broker.Serve).
//
// The clients run in a child process (this test binary, started with
// MOAT_ALPN_IDLE_CHILD set; see TestMain), so that only the server's
// memory is measured: heap and goroutine stacks in use after a collection,
// before the connections and once they are all connected and idle, divided
// by their number. Run it with
//
//	go test -run '^$' -bench ALPNIdleMemory -benchtime 1x ./internal/server/
//
// (MOAT_IDLE_CONNS sets the number of connections, default 1000;
// MOAT_IDLE_PROFILE=PREFIX writes heap profiles, see writeHeapProfile).

func TestMain(m *testing.M) {
	if os.Getenv("MOAT_ALPN_IDLE_CHILD") != "" {
		os.Exit(alpnIdleClients())
	}
	os.Exit(m.Run())
}

// alpnIdleClients is the child process: it opens MOAT_IDLE_CONNS TLS
// connections to MOAT_IDLE_ADDR, offering the ALPN protocol MOAT_IDLE_ALPN
// (none if empty), each with a CONNECT answered by a CONNACK, says "ready"
// and holds them until its stdin closes.
func alpnIdleClients() int {
	n, _ := strconv.Atoi(os.Getenv("MOAT_IDLE_CONNS"))
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM([]byte(os.Getenv("MOAT_IDLE_ROOT")))
	cert, err := tls.X509KeyPair([]byte(os.Getenv("MOAT_IDLE_CERT")), []byte(os.Getenv("MOAT_IDLE_KEY")))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cfg := &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if p := os.Getenv("MOAT_IDLE_ALPN"); p != "" {
		cfg.NextProtos = []string{p}
	}
	conns := make([]net.Conn, 0, n)
	for i := range n {
		nc, err := tls.Dial("tcp", os.Getenv("MOAT_IDLE_ADDR"), cfg)
		if err == nil {
			_, err = packet.Write(nc, &packet.Connect{ProtocolLevel: packet.V311, ClientID: "idle-" + strconv.Itoa(i), CleanStart: true, KeepAlive: 1200}, packet.V311)
		}
		if err == nil {
			_, err = packet.NewReader(nc, 64).ReadPacket(packet.V311)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		conns = append(conns, nc)
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		_ = c.Close()
	}
	return 0
}

// admitAll is a broker.Gate that admits every client with every right.
type admitAll struct{}

func (admitAll) Admit(_ context.Context, info broker.ConnInfo) (broker.Permissions, *broker.Refusal) {
	return allowAll(info.ClientID), nil
}

type allowAll string

func (allowAll) Allow(broker.Action, string) bool { return true }
func (a allowAll) Principal() string              { return string(a) }

// BenchmarkALPNIdleMemory reports the server's memory per idle connection
// (heap and stack bytes, goroutines) for MQTT by ALPN on the HTTPS port
// and, for comparison, MQTT over TLS on the broker's own listener.
func BenchmarkALPNIdleMemory(b *testing.B) {
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("MOAT_IDLE_CONNS")); err == nil && v > 0 {
		n = v
	}
	for _, mode := range []string{"alpn", "tls"} {
		b.Run(mode, func(b *testing.B) {
			for range b.N {
				measureALPNIdle(b, mode, n)
			}
		})
	}
}

// selfSigned returns a certificate for 127.0.0.1 (server) or a client.
func selfSigned(tb testing.TB, cn string, server bool) tls.Certificate {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// alpnServer serves the HTTPS port's protocols (configureHTTPS,
// alpnListener) with b's broker and handler h on a loopback port, as
// serveAll does, and returns its address. It is stopped with the test.
func alpnServer(tb testing.TB, b *broker.Broker, srvCert tls.Certificate, h http.Handler) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{srvCert}, ClientAuth: tls.RequestClientCert, MinVersion: tls.VersionTLS12}
	hs := &http.Server{Handler: h, TLSConfig: cfg, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(slog.DiscardHandler, slog.LevelDebug)}
	configureHTTPS(hs, cfg)
	hl := newALPNListener(ln, cfg, handshakeTimeout(hs), func(tc *tls.Conn, transport string) { serveMQTT(b, tc, transport) })
	go func() { _ = hs.Serve(hl) }()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = b.Shutdown(ctx)
		_ = hs.Shutdown(ctx)
	})
	return ln.Addr().String()
}

func measureALPNIdle(b *testing.B, mode string, n int) {
	br, err := broker.New(broker.Options{Limits: broker.DefaultLimits(), Gate: admitAll{}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	srvCert := selfSigned(b, "moat", true)
	addr, proto := alpnServer(b, br, srvCert, http.NotFoundHandler()), alpnMQTTCert
	if mode == "tls" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		go func() {
			_ = br.Serve(ln, &tls.Config{Certificates: []tls.Certificate{srvCert}, ClientAuth: tls.RequireAnyClientCert, MinVersion: tls.VersionTLS12})
		}()
		addr, proto = ln.Addr().String(), ""
	}
	cert := selfSigned(b, "idle", false)
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		b.Fatal(err)
	}
	if os.Getenv("MOAT_IDLE_PROFILE") != "" {
		runtime.MemProfileRate = 512 // every connection's allocations, in detail
	}
	heap0, stack0, g0 := inUse()

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "MOAT_ALPN_IDLE_CHILD=1", "MOAT_IDLE_ALPN="+proto, "MOAT_IDLE_ADDR="+addr, "MOAT_IDLE_CONNS="+strconv.Itoa(n),
		"MOAT_IDLE_ROOT="+string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srvCert.Certificate[0]})),
		"MOAT_IDLE_CERT="+string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})),
		"MOAT_IDLE_KEY="+string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "ready\n" {
		b.Fatalf("clients: %q %v", line, err)
	}
	deadline := time.Now().Add(time.Minute)
	for br.Stats().Connections != n {
		if time.Now().After(deadline) {
			b.Fatalf("%d connections of %d", br.Stats().Connections, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(time.Second) // idle: parked connections park after 100 ms
	heap1, stack1, g1 := inUse()
	writeHeapProfile(b, mode)
	b.ReportMetric(float64(int64(heap1)-int64(heap0))/float64(n), "heap-B/conn")
	b.ReportMetric(float64(int64(stack1)-int64(stack0))/float64(n), "stack-B/conn")
	b.ReportMetric(float64(int64(heap1+stack1)-int64(heap0+stack0))/float64(n), "B/conn")
	b.ReportMetric(float64(g1-g0)/float64(n), "goroutines/conn")
}

// inUse is the heap and stack memory in use after a collection, and the
// number of goroutines.
func inUse() (heap, stack uint64, goroutines int) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse, ms.StackInuse, runtime.NumGoroutine()
}

// writeHeapProfile writes the heap profile to $MOAT_IDLE_PROFILE-mode.pprof
// if MOAT_IDLE_PROFILE is set (go tool pprof -sample_index=inuse_space).
func writeHeapProfile(b *testing.B, mode string) {
	prefix := os.Getenv("MOAT_IDLE_PROFILE")
	if prefix == "" {
		return
	}
	f, err := os.Create(prefix + "-" + mode + ".pprof")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		b.Fatal(err)
	}
}
