// Package idlemem measures a server's memory per idle MQTT connection, for
// benchmarks that compare transports (MQTT over TLS, over WebSocket, by ALPN
// on the HTTPS port).
//
// The clients run in a child process, so that only the server's memory is
// measured: the test binary starts itself again with MOAT_IDLE_CHILD set,
// and the child opens the connections, each with a CONNECT answered by a
// CONNACK, says "ready" and holds them until its stdin closes. The parent
// reads the heap and goroutine stacks in use after a collection, before
// the connections and once they are all connected and idle, and reports
// the difference divided by their number.
//
// A benchmark package calls Child first in its TestMain, and Measure in its
// benchmark with a server of its own:
//
//	func TestMain(m *testing.M) {
//		idlemem.Child()
//		os.Exit(m.Run())
//	}
//
//	func BenchmarkIdleMemory(b *testing.B) {
//		n := idlemem.Conns()
//		for range b.N {
//			idlemem.Measure(b, idlemem.Target{Mode: idlemem.TLS, Addr: ..., Root: ..., Client: ..., Connections: ...}, n)
//		}
//	}
//
// Environment: MOAT_IDLE_CONNS sets the number of connections (Conns,
// default 1000); MOAT_IDLE_PROFILE=PREFIX writes the heap profile once the
// connections are idle to PREFIX-MODE.pprof (go tool pprof
// -sample_index=inuse_space), sampling every 512 bytes allocated.
package idlemem

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"testing"
	"time"
)

// The transports the child can dial (Target.Mode).
const (
	// WSS is MQTT over WebSocket: wss://Addr/mqtt with the subprotocol
	// "mqtt".
	WSS = "wss"
	// TLS is MQTT over TLS without ALPN, as on port 8883.
	TLS = "tls"
	// ALPN is MQTT over TLS offering the ALPN protocol x-amzn-mqtt-ca, as
	// on the HTTPS port.
	ALPN = "alpn"
)

// defaultConns is the number of connections when MOAT_IDLE_CONNS is unset.
const defaultConns = 1000

// idleAfter is how long Measure waits once all connections are up before
// it reads the memory: long enough for the broker to park idle TLS
// connections (after 100 ms).
const idleAfter = time.Second

// connectTimeout bounds the wait for the server to count all connections
// after the child said "ready".
const connectTimeout = time.Minute

// Target is the server a measurement connects to.
type Target struct {
	// Mode is the transport: WSS, TLS or ALPN.
	Mode string
	// Addr is the server's host:port.
	Addr string
	// Root is the DER certificate the child trusts for the server.
	Root []byte
	// Client is the certificate every connection presents.
	Client tls.Certificate
	// Connections returns the number of connections the server holds
	// (the broker's Stats().Connections); Measure waits until it is n.
	Connections func() int
}

// Conns returns the number of connections to measure: MOAT_IDLE_CONNS if
// it is a positive integer, else 1000.
func Conns() int {
	if v, err := strconv.Atoi(os.Getenv("MOAT_IDLE_CONNS")); err == nil && v > 0 {
		return v
	}
	return defaultConns
}

// Measure opens n idle connections to t from a child process and reports
// the server's memory per connection as the metrics heap-B/conn,
// stack-B/conn, B/conn (heap + stack) and goroutines/conn. It fails b if
// the child cannot connect or the server does not count n connections
// within a minute. The child is stopped before Measure returns; the server
// is the caller's.
func Measure(b *testing.B, t Target, n int) {
	b.Helper()
	switch t.Mode {
	case WSS, TLS, ALPN:
	default:
		b.Fatalf("idlemem: unknown mode %q", t.Mode)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(t.Client.PrivateKey)
	if err != nil {
		b.Fatal(err)
	}
	if len(t.Client.Certificate) == 0 {
		b.Fatal("idlemem: client certificate missing")
	}
	if os.Getenv("MOAT_IDLE_PROFILE") != "" {
		runtime.MemProfileRate = 512 // every connection's allocations, in detail
	}
	heap0, stack0, g0 := inUse()

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "MOAT_IDLE_CHILD=1", "MOAT_IDLE_MODE="+t.Mode, "MOAT_IDLE_ADDR="+t.Addr, "MOAT_IDLE_CONNS="+strconv.Itoa(n),
		"MOAT_IDLE_ROOT="+string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: t.Root})),
		"MOAT_IDLE_CERT="+string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: t.Client.Certificate[0]})),
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
		b.Fatalf("idlemem: clients: %q %v", line, err)
	}
	deadline := time.Now().Add(connectTimeout)
	for t.Connections() != n {
		if time.Now().After(deadline) {
			b.Fatalf("idlemem: %d connections of %d", t.Connections(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(idleAfter)
	heap1, stack1, g1 := inUse()
	writeHeapProfile(b, t.Mode)
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
// if MOAT_IDLE_PROFILE is set.
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
