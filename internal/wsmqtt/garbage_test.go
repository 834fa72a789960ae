package wsmqtt_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// readAll reads what the server sends until it closes the connection,
// failing on a timeout.
func readAll(t *testing.T, r io.Reader, setDeadline func(time.Time) error) []byte {
	t.Helper()
	_ = setDeadline(time.Now().Add(timeout))
	var out bytes.Buffer
	buf := make([]byte, 512)
	for {
		n, err := r.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("not closed; read so far %x", out.Bytes())
			}
			return out.Bytes()
		}
	}
}

// TestHandler_GarbageLikeTLS checks that a bad first packet gets the same
// answer over WebSocket as over the broker's TLS listener: the same bytes
// (a CONNACK where the protocol has a code for it), then the close.
func TestHandler_GarbageLikeTLS(t *testing.T) {
	h := start(t, harnessOpts{})
	cert := newCert(t, "d")

	// The broker's own MQTT-over-TLS listener, with the test server's
	// identity.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() {
		served <- h.b.Serve(ln, &tls.Config{Certificates: h.srv.TLS.Certificates, ClientAuth: tls.RequireAnyClientCert, MinVersion: tls.VersionTLS12})
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		_ = h.b.Shutdown(ctx)
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})

	connect := func(level byte, props ...byte) []byte {
		body := append([]byte{0, 4, 'M', 'Q', 'T', 'T', level, 0x02, 0, 60}, props...)
		body = append(body, 0, 1, 'a')
		return append([]byte{0x10, byte(len(body))}, body...)
	}
	tests := []struct {
		name string
		in   []byte
		want []byte // nil: compare the two transports only
	}{
		// A PINGREQ before CONNECT [MQTT-3.1.0-1]: closed, no CONNACK.
		{"pingreq-first", []byte{0xC0, 0x00}, []byte{}},
		// A PUBLISH before CONNECT: closed, no CONNACK.
		{"publish-first", []byte{0x30, 0x03, 0x00, 0x01, 'a'}, []byte{}},
		// A remaining length of more than four bytes.
		{"bad-length", []byte{0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}, []byte{}},
		// Protocol level 9: CONNACK 0x01 (3.1.1's unacceptable protocol version).
		{"unsupported-version", connect(9), []byte{0x20, 0x02, 0x00, 0x01}},
		// MQTT 5 with an unknown property: a v5 CONNACK with the code.
		{"v5-bad-property", connect(5, 2, 0xFF, 0x00), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tc, err := tls.Dial("tcp", ln.Addr().String(), h.tlsConfig(cert))
			if err != nil {
				t.Fatal(err)
			}
			defer tc.Close()
			if _, err := tc.Write(tt.in); err != nil {
				t.Fatal(err)
			}
			overTLS := readAll(t, tc, tc.SetReadDeadline)

			c := h.mqtt(h.url, dialOpts{certs: []tls.Certificate{cert}})
			c.sendRaw(tt.in)
			overWS := readAll(t, c.nc, c.nc.SetReadDeadline)

			if !bytes.Equal(overTLS, overWS) {
				t.Fatalf("over TLS %x, over WebSocket %x", overTLS, overWS)
			}
			if tt.want != nil && !bytes.Equal(overWS, tt.want) {
				t.Fatalf("got %x, want %x", overWS, tt.want)
			}
			if tt.want == nil && len(overWS) == 0 {
				t.Fatal("no CONNACK")
			}
		})
	}
	if n := h.b.Stats().Connections; n != 0 {
		t.Fatalf("%d connections", n)
	}
}
