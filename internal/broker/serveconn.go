package broker

import (
	"crypto/x509"
	"net"
	"time"
)

// ConnMeta describes a connection whose transport someone other than the
// broker established and authenticated (ServeConn): what the Gate is told
// besides the CONNECT itself (see ConnInfo).
type ConnMeta struct {
	// Transport is ConnInfo.Transport: TransportALPNCert,
	// TransportALPNCustomAuth or TransportWebSocket (TransportTLS is the
	// broker's own listener's).
	Transport string
	// PeerCertificates is the TLS chain the client sent, unverified, as
	// in ConnInfo; empty if none.
	PeerCertificates []*x509.Certificate
	// ServerName is the TLS SNI the client connected to.
	ServerName string
	// Authenticated is the principal the transport authenticated (an
	// auth.Principal), or nil: see ConnInfo.Authenticated.
	Authenticated any
}

// closedDone is the done channel of a connection that never got going.
var closedDone = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// ServeConn serves MQTT on nc, a connection whose transport is already
// established: a WebSocket stream adapted to net.Conn, or a *tls.Conn
// already handshaken by the HTTPS server (ALPN x-amzn-mqtt-ca or mqtt).
// The broker owns nc from the call on and closes it.
//
// ServeConn reads and decides the CONNECT in the caller's goroutine, as
// the accept loop's handshake goroutine does for MQTT over TLS: it waits
// for a handshake token (admission control, MaxConcurrentHandshakes), at
// most ConnectTimeout, then for the CONNECT within ConnectTimeout, and asks
// the Gate with meta. It returns once the CONNECT is decided; an accepted
// connection goes on in the broker's goroutines, with the limits,
// keep-alive, takeover, rechecks, credential expiry and shutdown of any
// other. The returned channel is closed when the connection has ended, at
// once if it was refused or the broker is shut down.
//
// If nc is a *tls.Conn over a connection of WrapListener, an idle
// connection is parked as the MQTT port's are (see idle.go); otherwise
// the reader waits for it inside nc.Read, in a goroutine. nc's
// Close must not block for long (the broker closes connections while
// kicking them); deadlines must interrupt Read and Write with a net.Error
// whose Timeout is true. AcceptRate applies to the broker's listener only:
// the caller's server accepts nc.
func (b *Broker) ServeConn(nc net.Conn, meta ConnMeta) <-chan struct{} {
	b.mu.Lock()
	if b.closing {
		b.mu.Unlock()
		_ = nc.Close()
		return closedDone
	}
	b.wg.Add(1) // under mu: Shutdown's Wait starts after closing is set
	b.mu.Unlock()
	defer b.wg.Done()

	t := time.NewTimer(b.lim.ConnectTimeout)
	select {
	case b.handshakes <- struct{}{}:
		t.Stop()
	case <-t.C:
		b.log.Info("mqtt connection refused: too many connections in progress", "remote", nc.RemoteAddr().String(), "transport", meta.Transport)
		_ = nc.Close()
		return closedDone
	}
	release := b.tokenRelease()
	defer release()
	_ = nc.SetDeadline(time.Now().Add(b.lim.ConnectTimeout))
	c := b.start(nc, &meta, release)
	if c == nil {
		return closedDone
	}
	return c.done
}
