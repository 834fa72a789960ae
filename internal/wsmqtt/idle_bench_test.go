package wsmqtt_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/moat-iot/moat/internal/mqtt/packet"
)

// Memory of idle connections: MQTT over WebSocket against MQTT over TLS.
//
// The clients run in a child process (this test binary, started with
// MOAT_IDLE_CHILD set; see TestMain), so that only the server's memory is
// measured: heap and goroutine stacks in use after a collection, before
// the connections and once they are all connected and idle, divided by
// their number. Run it with
//
//	go test -run '^$' -bench IdleMemory -benchtime 1x ./internal/wsmqtt/
//
// (MOAT_IDLE_CONNS sets the number of connections, default 1000;
// MOAT_IDLE_PROFILE=PREFIX writes heap profiles, see writeHeapProfile).

func TestMain(m *testing.M) {
	if os.Getenv("MOAT_IDLE_CHILD") != "" {
		os.Exit(idleClients())
	}
	os.Exit(m.Run())
}

// idleClients is the child process: it opens MOAT_IDLE_CONNS connections
// of kind MOAT_IDLE_MODE (wss or tls) to MOAT_IDLE_ADDR, each with a
// CONNECT answered by a CONNACK, says "ready" and holds them until its
// stdin closes.
func idleClients() int {
	n, _ := strconv.Atoi(os.Getenv("MOAT_IDLE_CONNS"))
	mode, addr := os.Getenv("MOAT_IDLE_MODE"), os.Getenv("MOAT_IDLE_ADDR")
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM([]byte(os.Getenv("MOAT_IDLE_ROOT")))
	cert, err := tls.X509KeyPair([]byte(os.Getenv("MOAT_IDLE_CERT")), []byte(os.Getenv("MOAT_IDLE_KEY")))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cfg := &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
	conns := make([]net.Conn, 0, n)
	for i := range n {
		var nc net.Conn
		switch mode {
		case "wss":
			ws, _, err := websocket.Dial(context.Background(), "wss://"+addr+"/mqtt", &websocket.DialOptions{HTTPClient: hc, Subprotocols: []string{"mqtt"}})
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			nc = websocket.NetConn(context.Background(), ws, websocket.MessageBinary)
		default:
			if nc, err = tls.Dial("tcp", addr, cfg); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		_, err := packet.Write(nc, &packet.Connect{ProtocolLevel: packet.V311, ClientID: "idle-" + strconv.Itoa(i), CleanStart: true, KeepAlive: 1200}, packet.V311)
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

// inUse is the heap and stack memory in use after a collection, and the
// number of goroutines.
func inUse() (heap, stack uint64, goroutines int) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse, ms.StackInuse, runtime.NumGoroutine()
}

// BenchmarkIdleMemory reports the server's memory per idle connection
// (heap and stack bytes, goroutines) for MQTT over WebSocket and, for
// comparison, MQTT over TLS on the broker's own listener.
func BenchmarkIdleMemory(b *testing.B) {
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("MOAT_IDLE_CONNS")); err == nil && v > 0 {
		n = v
	}
	for _, mode := range []string{"wss", "tls"} {
		b.Run(mode, func(b *testing.B) {
			for range b.N {
				measureIdle(b, mode, n)
			}
		})
	}
}

func measureIdle(b *testing.B, mode string, n int) {
	h := start(b, harnessOpts{})
	addr := h.srv.Listener.Addr().String()
	if mode == "tls" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		go func() {
			_ = h.b.Serve(ln, &tls.Config{Certificates: h.srv.TLS.Certificates, ClientAuth: tls.RequireAnyClientCert, MinVersion: tls.VersionTLS12})
		}()
		addr = ln.Addr().String()
	}
	cert := newCert(b, "idle")
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		b.Fatal(err)
	}
	if os.Getenv("MOAT_IDLE_PROFILE") != "" {
		runtime.MemProfileRate = 512 // every connection's allocations, in detail
	}
	heap0, stack0, g0 := inUse()

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "MOAT_IDLE_CHILD=1", "MOAT_IDLE_MODE="+mode, "MOAT_IDLE_ADDR="+addr, "MOAT_IDLE_CONNS="+strconv.Itoa(n),
		"MOAT_IDLE_ROOT="+string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: h.srv.Certificate().Raw})),
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
	for h.b.Stats().Connections != n {
		if time.Now().After(deadline) {
			b.Fatalf("%d connections of %d", h.b.Stats().Connections, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(time.Second) // idle: TLS connections park after 100 ms
	heap1, stack1, g1 := inUse()
	writeHeapProfile(b, mode)
	b.ReportMetric(float64(int64(heap1)-int64(heap0))/float64(n), "heap-B/conn")
	b.ReportMetric(float64(int64(stack1)-int64(stack0))/float64(n), "stack-B/conn")
	b.ReportMetric(float64(int64(heap1+stack1)-int64(heap0+stack0))/float64(n), "B/conn")
	b.ReportMetric(float64(g1-g0)/float64(n), "goroutines/conn")
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
