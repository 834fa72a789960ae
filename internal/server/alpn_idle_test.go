package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/broker"
	"github.com/moat-iot/moat/internal/moattest/idlemem"
)

// Memory of idle MQTT connections on the HTTPS port (ALPN x-amzn-mqtt-ca)
// against the MQTT port's (broker.Serve), measured by idlemem (clients in a
// child process, the server's heap and goroutine stacks per connection).
// Run it with
//
//	go test -run '^$' -bench ALPNIdleMemory -benchtime 1x ./internal/server/
//
// (MOAT_IDLE_CONNS sets the number of connections, default 1000;
// MOAT_IDLE_PROFILE=PREFIX writes heap profiles).

func TestMain(m *testing.M) {
	idlemem.Child()
	os.Exit(m.Run())
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
	n := idlemem.Conns()
	for _, mode := range []string{idlemem.ALPN, idlemem.TLS} {
		b.Run(mode, func(b *testing.B) {
			for range b.N {
				idlemem.Measure(b, alpnIdleTarget(b, mode), n)
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

// alpnIdleTarget starts a broker served on the HTTPS port's listener
// (mode idlemem.ALPN) or on its own (idlemem.TLS) and returns it as the
// target of a measurement.
func alpnIdleTarget(b *testing.B, mode string) idlemem.Target {
	br, err := broker.New(broker.Options{Limits: broker.DefaultLimits(), Gate: admitAll{}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	srvCert := selfSigned(b, "moat", true)
	addr := alpnServer(b, br, srvCert, http.NotFoundHandler())
	if mode == idlemem.TLS {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		go func() {
			_ = br.Serve(ln, &tls.Config{Certificates: []tls.Certificate{srvCert}, ClientAuth: tls.RequireAnyClientCert, MinVersion: tls.VersionTLS12})
		}()
		addr = ln.Addr().String()
	}
	return idlemem.Target{Mode: mode, Addr: addr, Root: srvCert.Certificate[0], Client: selfSigned(b, "idle", false),
		Connections: func() int { return br.Stats().Connections }}
}
