package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/moat-iot/moat/internal/mqtt/packet"
)

// identities gives each client id its TLS configuration: one shared
// identity (-cert/-key) or a per-client certificate from -certdir.
type identities struct {
	base *tls.Config // RootCAs, ServerName, MinVersion; no certificate
	dir  string
	one  *tls.Config // -cert/-key: the config every client uses
}

// newIdentities loads the CA and, for -cert/-key, the shared identity.
func newIdentities(c *config) (*identities, error) {
	pem, err := os.ReadFile(c.caFile)
	if err != nil {
		return nil, fmt.Errorf("-cafile: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("-cafile %s: no PEM certificate in it", c.caFile)
	}
	name := c.serverName
	if name == "" {
		name, _, _ = net.SplitHostPort(c.broker)
	}
	// No session cache: every connection is a full mutual-TLS handshake,
	// as a fleet of devices coming back would make.
	ids := &identities{base: &tls.Config{RootCAs: roots, ServerName: name, MinVersion: tls.VersionTLS12}, dir: c.certDir}
	if c.certDir == "" {
		cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
		if err != nil {
			return nil, fmt.Errorf("-cert/-key: %w", err)
		}
		ids.one = ids.with(cert)
	}
	return ids, nil
}

func (ids *identities) with(cert tls.Certificate) *tls.Config {
	cfg := ids.base.Clone()
	cfg.Certificates = []tls.Certificate{cert}
	return cfg
}

// config returns the TLS config of clientID, reading <dir>/<id>.crt and
// .key for -certdir. Callers that reconnect the same id cache the result.
func (ids *identities) config(clientID string) (*tls.Config, error) {
	if ids.one != nil {
		return ids.one, nil
	}
	base := filepath.Join(ids.dir, clientID)
	cert, err := tls.LoadX509KeyPair(base+".crt", base+".key")
	if err != nil {
		return nil, fmt.Errorf("-certdir: identity of %s: %w (make it with moat-bench gencerts)", clientID, err)
	}
	return ids.with(cert), nil
}

// configs loads the TLS configs of ids, in order.
func (ids *identities) configs(clientIDs []string) ([]*tls.Config, error) {
	out := make([]*tls.Config, len(clientIDs))
	for i, id := range clientIDs {
		cfg, err := ids.config(id)
		if err != nil {
			return nil, err
		}
		out[i] = cfg
	}
	return out, nil
}

// dialer opens MQTT-over-mTLS connections.
type dialer struct {
	addr      string
	version   packet.Version
	keepAlive uint16
	timeout   time.Duration // per connection: TCP + TLS + CONNECT/CONNACK
	src       *sourceAddrs  // nil = let the kernel choose
}

// conn is one MQTT client connection. One goroutine reads (via r); any
// goroutine may send. Sends append to a pending buffer that a writer
// goroutine, started on demand, writes out: under load several packets
// (acks especially) leave in one TLS record and one system call, at light
// load each leaves at once. A sender waits when maxPending bytes are
// pending, so a slow broker pushes back on publishers.
type conn struct {
	id  string
	nc  net.Conn
	v   packet.Version
	br  *bufio.Reader
	r   *packet.Reader
	ack *packet.Connack

	mu      sync.Mutex
	cond    sync.Cond // on mu: pending drained, or writer stopped
	pending []byte
	spare   []byte
	writing bool
	werr    error
	sent    time.Time // last send, for keep-alive pings
}

// maxPending bounds the bytes queued for the writer of one connection.
const maxPending = 64 << 10

// errRefused wraps a refusal by the broker (CONNACK, SUBACK).
var errRefused = errors.New("refused by broker")

// connect opens a TCP connection (from the next source address), completes
// the TLS handshake with cfg, sends CONNECT with a clean session and waits
// for a successful CONNACK. readBuf sizes the read buffer (small for idle
// connections, larger for subscribers).
func (d *dialer) connect(ctx context.Context, clientID string, cfg *tls.Config, readBuf int) (*conn, error) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	nd := net.Dialer{Control: d.src.control()}
	if d.src != nil {
		nd.LocalAddr = d.src.next()
	}
	raw, err := nd.DialContext(ctx, "tcp", d.addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", d.addr, err)
	}
	tc := tls.Client(raw, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, fmt.Errorf("tls handshake: %w", err)
	}
	c := &conn{id: clientID, nc: tc, v: d.version, br: bufio.NewReaderSize(tc, readBuf)}
	c.cond.L = &c.mu
	c.r = packet.NewReader(c.br, 0)
	if dl, ok := ctx.Deadline(); ok {
		tc.SetDeadline(dl)
	}
	cp := &packet.Connect{CleanStart: true, KeepAlive: d.keepAlive, ClientID: clientID}
	if d.version == packet.V5 {
		cp.Properties.ReceiveMaximum = 65535
	}
	if err := c.sendWait(cp); err != nil {
		tc.Close()
		return nil, fmt.Errorf("send CONNECT: %w", err)
	}
	p, err := c.r.ReadPacket(d.version)
	if err != nil {
		tc.Close()
		return nil, fmt.Errorf("read CONNACK: %w", err)
	}
	ack, ok := p.(*packet.Connack)
	switch {
	case !ok:
		err = fmt.Errorf("got %v before CONNACK", p.Type())
	case d.version == packet.V311 && ack.ReasonCode != 0:
		err = fmt.Errorf("%w: CONNACK return code %d", errRefused, ack.ReasonCode)
	case ack.ReasonCode.IsError():
		err = fmt.Errorf("%w: CONNACK %v %s", errRefused, ack.ReasonCode, ack.Properties.ReasonString)
	}
	if err != nil {
		tc.Close()
		return nil, err
	}
	tc.SetDeadline(time.Time{})
	c.ack = ack
	return c, nil
}

// send queues p for the writer goroutine.
func (c *conn) send(p packet.Packet) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.pending) >= maxPending && c.werr == nil {
		c.cond.Wait()
	}
	if c.werr != nil {
		return c.werr
	}
	b, err := p.Append(c.pending, c.v)
	if err != nil {
		return err
	}
	c.pending = b
	c.sent = time.Now()
	if !c.writing {
		c.writing = true
		go c.writeLoop()
	}
	return nil
}

// sendWait sends p and waits until everything pending is written.
func (c *conn) sendWait(p packet.Packet) error {
	if err := c.send(p); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.writing && c.werr == nil {
		c.cond.Wait()
	}
	return c.werr
}

// writeLoop writes pending bytes until there are none, then exits.
func (c *conn) writeLoop() {
	c.mu.Lock()
	for len(c.pending) > 0 && c.werr == nil {
		out := c.pending
		c.pending = c.spare[:0]
		c.mu.Unlock()
		_, err := c.nc.Write(out)
		c.mu.Lock()
		if err != nil {
			c.werr = err
		}
		if cap(out) <= 2*maxPending {
			c.spare = out[:0]
		}
		c.cond.Broadcast()
	}
	c.writing = false
	c.cond.Broadcast()
	c.mu.Unlock()
}

// keepAlive sends PINGREQ when nothing was sent for half the keep-alive
// interval, until done is closed. The reader discards PINGRESP.
func (c *conn) keepAlive(secs uint16, done <-chan struct{}) {
	if secs == 0 {
		return
	}
	half := time.Duration(secs) * time.Second / 2
	t := time.NewTicker(half / 2)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			c.mu.Lock()
			idle := time.Since(c.sent) >= half
			c.mu.Unlock()
			if idle && c.send(&packet.Pingreq{}) != nil {
				return
			}
		}
	}
}

// disconnect sends DISCONNECT, then with wait > 0 waits up to wait for the
// broker to close (so the broker side, not the client's ephemeral port,
// holds TIME_WAIT) and closes; with wait 0 it resets the connection, so
// nothing still queued in either direction (a QoS 0 backlog) reaches the
// broker after the run.
func (c *conn) disconnect(wait time.Duration) {
	c.nc.SetWriteDeadline(time.Now().Add(time.Second)) // also unblocks a stuck writer
	if c.sendWait(&packet.Disconnect{}) != nil || wait == 0 {
		c.abort()
		return
	}
	c.nc.SetReadDeadline(time.Now().Add(wait))
	var buf [64]byte
	for {
		if _, err := c.nc.Read(buf[:]); err != nil {
			break
		}
	}
	c.nc.Close()
}

// abort closes the connection with a TCP reset (SO_LINGER 0).
func (c *conn) abort() {
	raw := c.nc
	if tc, ok := raw.(*tls.Conn); ok {
		raw = tc.NetConn()
	}
	if t, ok := raw.(*net.TCPConn); ok {
		t.SetLinger(0)
	}
	c.nc.Close()
}
