package wsmqtt_test

import (
	"crypto/tls"
	"net"
	"os"
	"testing"

	"github.com/moat-iot/moat/internal/moattest/idlemem"
)

// Memory of idle connections: MQTT over WebSocket against MQTT over TLS,
// measured by idlemem (clients in a child process, the server's heap and
// goroutine stacks per connection). Run it with
//
//	go test -run '^$' -bench IdleMemory -benchtime 1x ./internal/wsmqtt/
//
// (MOAT_IDLE_CONNS sets the number of connections, default 1000;
// MOAT_IDLE_PROFILE=PREFIX writes heap profiles).

func TestMain(m *testing.M) {
	idlemem.Child()
	os.Exit(m.Run())
}

// BenchmarkIdleMemory reports the server's memory per idle connection
// (heap and stack bytes, goroutines) for MQTT over WebSocket and, for
// comparison, MQTT over TLS on the broker's own listener.
func BenchmarkIdleMemory(b *testing.B) {
	n := idlemem.Conns()
	for _, mode := range []string{idlemem.WSS, idlemem.TLS} {
		b.Run(mode, func(b *testing.B) {
			for range b.N {
				idlemem.Measure(b, idleTarget(b, mode), n)
			}
		})
	}
}

// idleTarget starts a harness and, in mode idlemem.TLS, a TLS listener of
// its broker, and returns them as the target of a measurement.
func idleTarget(b *testing.B, mode string) idlemem.Target {
	h := start(b, harnessOpts{})
	addr := h.srv.Listener.Addr().String()
	if mode == idlemem.TLS {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		go func() {
			_ = h.b.Serve(ln, &tls.Config{Certificates: h.srv.TLS.Certificates, ClientAuth: tls.RequireAnyClientCert, MinVersion: tls.VersionTLS12})
		}()
		addr = ln.Addr().String()
	}
	return idlemem.Target{Mode: mode, Addr: addr, Root: h.srv.Certificate().Raw, Client: newCert(b, "idle"),
		Connections: func() int { return h.b.Stats().Connections }}
}
