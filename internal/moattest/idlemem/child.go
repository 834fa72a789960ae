package idlemem

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"

	"github.com/coder/websocket"

	"github.com/moat-iot/moat/internal/mqtt/packet"
)

// alpnMQTT is the ALPN protocol of MQTT with a client certificate on the
// HTTPS port (AWS IoT Core's x-amzn-mqtt-ca).
const alpnMQTT = "x-amzn-mqtt-ca"

// Child must be called first in the TestMain of a package that calls
// Measure. In the child process Measure starts (MOAT_IDLE_CHILD set), it
// opens the connections, holds them until its stdin closes and exits: 0
// on success, 1 after printing the error to stderr. Elsewhere it returns
// at once.
func Child() {
	if os.Getenv("MOAT_IDLE_CHILD") == "" {
		return
	}
	if err := runChild(); err != nil {
		fmt.Fprintln(os.Stderr, "idlemem child:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// runChild opens MOAT_IDLE_CONNS connections of kind MOAT_IDLE_MODE to
// MOAT_IDLE_ADDR, each with a CONNECT answered by a CONNACK, says "ready"
// and holds them until its stdin closes.
func runChild() error {
	n, err := strconv.Atoi(os.Getenv("MOAT_IDLE_CONNS"))
	if err != nil {
		return fmt.Errorf("MOAT_IDLE_CONNS: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM([]byte(os.Getenv("MOAT_IDLE_ROOT"))) {
		return errors.New("MOAT_IDLE_ROOT: no certificate")
	}
	cert, err := tls.X509KeyPair([]byte(os.Getenv("MOAT_IDLE_CERT")), []byte(os.Getenv("MOAT_IDLE_KEY")))
	if err != nil {
		return err
	}
	cfg := &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	dial, err := newDialer(os.Getenv("MOAT_IDLE_MODE"), cfg)
	if err != nil {
		return err
	}
	addr := os.Getenv("MOAT_IDLE_ADDR")
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	for i := range n {
		nc, err := dial(addr)
		if err != nil {
			return err
		}
		conns = append(conns, nc)
		if err := connect(nc, "idle-"+strconv.Itoa(i)); err != nil {
			return err
		}
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	return nil
}

// newDialer returns the function that opens one connection of the given
// mode (WSS, TLS or ALPN) to addr.
func newDialer(mode string, cfg *tls.Config) (func(addr string) (net.Conn, error), error) {
	switch mode {
	case WSS:
		hc := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
		opts := &websocket.DialOptions{HTTPClient: hc, Subprotocols: []string{"mqtt"}}
		return func(addr string) (net.Conn, error) {
			ws, _, err := websocket.Dial(context.Background(), "wss://"+addr+"/mqtt", opts)
			if err != nil {
				return nil, err
			}
			return websocket.NetConn(context.Background(), ws, websocket.MessageBinary), nil
		}, nil
	case TLS, ALPN:
		if mode == ALPN {
			cfg = cfg.Clone()
			cfg.NextProtos = []string{alpnMQTT}
		}
		return func(addr string) (net.Conn, error) { return tls.Dial("tcp", addr, cfg) }, nil
	default:
		return nil, fmt.Errorf("MOAT_IDLE_MODE: unknown mode %q", mode)
	}
}

// connect sends an MQTT 3.1.1 CONNECT with a 20-minute keep-alive on nc and
// reads the server's answer.
func connect(nc net.Conn, clientID string) error {
	_, err := packet.Write(nc, &packet.Connect{ProtocolLevel: packet.V311, ClientID: clientID, CleanStart: true, KeepAlive: 1200}, packet.V311)
	if err != nil {
		return err
	}
	p, err := packet.NewReader(nc, 64).ReadPacket(packet.V311)
	if err != nil {
		return err
	}
	if ack, ok := p.(*packet.Connack); !ok {
		return fmt.Errorf("%s: got %T, want CONNACK", clientID, p)
	} else if ack.ReasonCode != 0 {
		return fmt.Errorf("%s: CONNACK refused: reason code %d", clientID, ack.ReasonCode)
	}
	return nil
}
