package broker

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/moat-iot/moat/internal/mqtt/packet"
	"github.com/moat-iot/moat/internal/topic"
)

// conn is one client connection.
type conn struct {
	b *Broker
	// nc is the connection MQTT flows over: a *tls.Conn (over an idleConn
	// when the broker's accept loop or WrapListener made it) or whatever
	// else ServeConn was given (a WebSocket stream).
	nc       net.Conn
	r        *packet.Reader
	version  packet.Version
	clientID string
	permsV   atomic.Pointer[permsBox] // replaced when policies change (Recheck)
	sess     *session
	keep     time.Duration // read deadline between packets: 1.5 × keep-alive; 0: none
	maxOut   uint32        // the client's Maximum Packet Size; 0: no limit
	// Server-to-client topic aliases (MQTT 5): how many the client takes
	// (capped by maxOutAliases), and the writer goroutine's map and buffer.
	aliasMax   uint16
	outAliases map[string]uint16
	aliasBuf   []byte
	aliases    map[uint16]string
	rate       rateLimiter
	done       chan struct{} // closed when the connection is fully torn down

	// mu guards the write queue and the closed state; it is a leaf lock.
	mu      sync.Mutex
	queue   []outItem
	writing bool
	closed  bool
	// writer counts the running writer goroutine (0 or 1); kick waits on it
	// so that its DISCONNECT is not interleaved with a half-written batch.
	writer sync.WaitGroup
	// kicked is set (under mu) when the server closes the connection, with
	// the reason sent; a kicked connection does not publish its will on
	// server shutdown.
	kickCode packet.ReasonCode
	kicked   bool
	// graceful is set by the reader on DISCONNECT 0x00: no will.
	graceful bool
	// expiry closes the connection when its certificate expires (Expirer).
	expiry *time.Timer
}

// maxOutAliases bounds the topic aliases the broker assigns towards one
// client (and so the memory of its alias map).
const maxOutAliases = 64

// permsBox holds a connection's Permissions for atomic replacement.
type permsBox struct{ p Permissions }

// permissions returns the connection's current permissions; fan-out
// goroutines read them while a recheck may replace them.
func (c *conn) permissions() Permissions { return c.permsV.Load().p }

func (c *conn) setPermissions(p Permissions) { c.permsV.Store(&permsBox{p}) }

// log is the broker's logger with the connection's identity; made when
// something is logged, so that an idle connection holds no logger.
func (c *conn) log() *slog.Logger {
	if p := c.permsV.Load(); p != nil {
		return c.b.log.With("client_id", c.clientID, "principal", p.p.Principal())
	}
	return c.b.log
}

// handle runs one connection's TLS handshake and CONNECT. The caller
// holds a handshake token; handle returns it once the CONNECT is decided.
// nc should be a tls.Server over an idleConn (newIdleConn), so that the
// reader can wait for an idle connection outside crypto/tls and without a
// goroutine (see idle.go); over any other connection the reader waits in
// tls.Conn.Read.
func (b *Broker) handle(nc *tls.Conn) {
	release := b.tokenRelease()
	defer release()
	_ = nc.SetDeadline(time.Now().Add(b.lim.ConnectTimeout))
	ctx, cancel := context.WithTimeout(context.Background(), b.lim.ConnectTimeout)
	err := nc.HandshakeContext(ctx)
	cancel()
	if err != nil {
		b.m.handshakeFail.Inc()
		b.log.Debug("mqtt tls handshake failed", "remote", nc.RemoteAddr().String(), "err", err)
		_ = nc.Close()
		return
	}
	st := nc.ConnectionState()
	b.start(nc, &ConnMeta{Transport: TransportTLS, PeerCertificates: st.PeerCertificates, ServerName: st.ServerName}, release)
}

// tokenRelease returns a function that gives back the caller's handshake
// token, once however often it is called.
func (b *Broker) tokenRelease() func() {
	held := true
	return func() {
		if held {
			held = false
			<-b.handshakes
		}
	}
}

// start reads and decides the CONNECT of nc, whose transport is
// established and whose deadline bounds the wait for the CONNECT. The
// caller holds a handshake token, which release gives back once the
// CONNECT is decided. An accepted connection's reader runs in a new
// goroutine, and start returns it: the handshake grows a goroutine's stack
// to 8 KiB or more, which an idle connection would otherwise keep for its
// lifetime (the runtime shrinks a stack only while less than a quarter of
// it is in use). A refused connection is closed and start returns nil.
func (b *Broker) start(nc net.Conn, meta *ConnMeta, release func()) *conn {
	c := &conn{b: b, nc: nc, done: make(chan struct{})}
	// No read buffer while idle: one is borrowed per packet (or burst).
	var src io.Reader = nc
	if ic := c.ic(); ic != nil {
		ic.tc = nc.(*tls.Conn)
		src = plainReader{ic}
	}
	c.r = packet.NewPooledReader(src, b.lim.MaxPacketSize)
	p, err := c.r.ReadPacket(0)
	if err != nil {
		c.refuseDecode(err, meta.Transport)
		_ = nc.Close()
		return nil
	}
	if !c.connect(p.(*packet.Connect), meta) {
		_ = nc.Close()
		return nil
	}
	release()
	_ = nc.SetDeadline(time.Time{})
	c.expireAt()
	b.wg.Add(1) // before the caller's Done; the reader's until teardown
	go c.run(false)
	return c
}

// expireAt closes the connection when its credential stops being valid
// (Expirer); the timer is stopped when the connection closes.
func (c *conn) expireAt() {
	e, ok := c.permissions().(Expirer)
	if !ok {
		return
	}
	until := e.ValidUntil()
	if until.IsZero() {
		return
	}
	t := time.AfterFunc(time.Until(until), func() {
		c.log().Info("mqtt credential expired", "valid_until", until)
		c.kick(packet.BadAuthenticationMethod, "the client's credential expired")
	})
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		t.Stop()
		return
	}
	c.expiry = t
	c.mu.Unlock()
}

// run is an accepted connection's reader: it reads and handles packets
// while the client's stream has bytes buffered on this side of the socket
// and, once it has none, leaves the wait for the next one to a fresh
// goroutine or the poller (see idle.go) and returns. With wait set it
// first waits for the socket to be readable. The connection holds one
// count of b.wg from handle to teardown, whichever goroutine reads it.
func (c *conn) run(wait bool) {
	for {
		if wait {
			if err := c.ic().wait(); err != nil {
				c.readEnded(err)
				c.end()
				return
			}
		}
		if !c.readLoop() {
			c.end()
			return
		}
		if c.park() {
			return
		}
		wait = true
	}
}

// end tears the connection down once its reader is done.
func (c *conn) end() {
	c.teardown()
	c.b.wg.Done()
}

// refuseDecode answers a CONNECT that failed to decode, where the
// protocol allows an answer, and counts it.
func (c *conn) refuseDecode(err error, transport string) {
	var pe *packet.Error
	if !errors.As(err, &pe) {
		return // EOF, timeout, transport error: nothing to say
	}
	c.b.m.connects.WithLabelValues(pe.Code.String()).Inc()
	c.b.log.Info("mqtt connect refused", "remote", c.nc.RemoteAddr().String(), "transport", transport, "code", pe.Code.String(), "reason", pe.Error())
	v := pe.Version
	if v != packet.V5 {
		// 3.1.1 has a return code for these two only; otherwise close.
		if pe.Code != packet.UnsupportedProtocolVersion && pe.Code != packet.ClientIdentifierNotValid {
			return
		}
		v = packet.V311
	}
	c.writeNow(&packet.Connack{ReasonCode: pe.Code}, v)
}

// writeNow writes a packet synchronously; used before the connection has a
// writer (CONNACK refusals).
func (c *conn) writeNow(p packet.Packet, v packet.Version) {
	_ = c.nc.SetWriteDeadline(time.Now().Add(c.b.lim.WriteTimeout))
	_, _ = packet.Write(c.nc, p, v)
}

func randomClientID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "moat-" + hex.EncodeToString(b[:])
}

// connect decides a CONNECT that arrived over the transport meta describes
// and, when accepted, attaches the connection to its session and sends
// CONNACK. It reports whether the connection goes on.
func (c *conn) connect(cp *packet.Connect, meta *ConnMeta) bool {
	b := c.b
	c.version = cp.ProtocolLevel
	lim := b.lim
	principal := ""
	refuse := func(code packet.ReasonCode, reason string) bool {
		b.m.connects.WithLabelValues(code.String()).Inc()
		b.log.Info("mqtt connect refused", "client_id", cp.ClientID, "principal", principal, "remote", c.nc.RemoteAddr().String(),
			"transport", meta.Transport, "code", code.String(), "reason", reason)
		ack := &packet.Connack{ReasonCode: code}
		if c.version == packet.V5 {
			ack.Properties.ReasonString = reason
		}
		c.writeNow(ack, c.version)
		return false
	}

	assigned := ""
	if cp.ClientID == "" {
		// [MQTT-3.1.3-6]: the server assigns one (3.1.1 needs Clean
		// Session, which the codec checked).
		assigned = randomClientID()
		cp.ClientID = assigned
	}
	if lim.MaxClientIDLength > 0 && len(cp.ClientID) > lim.MaxClientIDLength {
		return refuse(packet.ClientIdentifierNotValid, "client id longer than the limit")
	}
	info := ConnInfo{ClientID: cp.ClientID, PeerCertificates: meta.PeerCertificates,
		RemoteAddr: c.nc.RemoteAddr(), Username: cp.Username, Password: cp.Password, CleanStart: cp.CleanStart, Version: c.version,
		HasWill: cp.Will != nil, ServerName: meta.ServerName, Transport: meta.Transport, Authenticated: meta.Authenticated}
	_, info.Persistent = c.sessionExpiry(cp)
	perms, ref := b.gate.Admit(context.Background(), info)
	if ref != nil {
		principal = ref.Principal
		return refuse(ref.Code, ref.Reason)
	}
	principal = perms.Principal()
	c.setPermissions(perms)
	c.clientID = cp.ClientID

	if w := cp.Will; w != nil {
		if err := topic.ValidateName(w.Topic, lim.Topic); err != nil {
			return refuse(packet.TopicNameInvalid, "will topic is not valid: "+err.Error())
		}
		if w.QoS > lim.MaxQoS {
			if c.version == packet.V5 {
				return refuse(packet.QoSNotSupported, "will QoS 2 is not supported")
			}
			w.QoS = lim.MaxQoS
		}
		if !perms.Allow(ActPublish, w.Topic) || (w.Retain && !perms.Allow(ActRetainPublish, w.Topic)) {
			return refuse(packet.NotAuthorized, "not authorized to publish the will topic")
		}
	}

	// Keep-alive, clamped to the limits.
	ka := cp.KeepAlive
	if ka == 0 && lim.MaxKeepAlive > 0 {
		ka = lim.MaxKeepAlive
	}
	if lim.MinKeepAlive > 0 && ka < lim.MinKeepAlive {
		ka = lim.MinKeepAlive
	}
	if lim.MaxKeepAlive > 0 && ka > lim.MaxKeepAlive {
		ka = lim.MaxKeepAlive
	}
	c.keep = time.Duration(ka) * 1500 * time.Millisecond
	c.maxOut = cp.Properties.MaximumPacketSize
	if c.version == packet.V5 {
		c.aliasMax = min(cp.Properties.TopicAliasMaximum, maxOutAliases)
	}
	if lim.MaxPublishRate > 0 {
		c.rate = newRateLimiter(lim.MaxPublishRate)
	}

	expiry, persistent := c.sessionExpiry(cp)
	sess, present := b.attach(c, cp, expiry, persistent)
	if present {
		// A resumed session's subscriptions are checked against the
		// permissions of today, not those of when they were made.
		c.pruneSubscriptions(perms)
	}

	ack := &packet.Connack{SessionPresent: present, ReasonCode: packet.Success}
	if c.version == packet.V5 {
		pr := &ack.Properties
		pr.AssignedClientID = assigned
		if ka != cp.KeepAlive {
			pr.ServerKeepAlive, pr.HasServerKeepAlive = ka, true
		}
		pr.ReceiveMaximum = lim.ReceiveMaximum
		if lim.MaxQoS < 2 {
			pr.MaximumQoS, pr.HasMaximumQoS = lim.MaxQoS, true
		}
		pr.MaximumPacketSize = uint32(lim.MaxPacketSize)
		pr.TopicAliasMaximum = lim.TopicAliasMaximum
		if cp.Properties.HasSessionExpiry && uint32(expiry/time.Second) != cp.Properties.SessionExpiry {
			pr.SessionExpiry, pr.HasSessionExpiry = uint32(expiry/time.Second), true
		}
	}
	b.m.connects.WithLabelValues("accepted").Inc()
	b.m.connections.Inc()
	b.connAccepted()
	c.log().Debug("mqtt connected", "version", c.version.String(), "transport", meta.Transport, "session_present", present, "keep_alive", ka)
	sess.mu.Lock()
	c.sendControl(ack)
	sess.resumeLocked()
	sess.mu.Unlock()
	return true
}

// sessionExpiry is how long the session of this CONNECT outlives it.
func (c *conn) sessionExpiry(cp *packet.Connect) (time.Duration, bool) {
	lim := c.b.lim
	if c.version != packet.V5 {
		if cp.CleanStart {
			return 0, false
		}
		return lim.SessionExpiry, true
	}
	if !cp.Properties.HasSessionExpiry || cp.Properties.SessionExpiry == 0 {
		return 0, false
	}
	d := time.Duration(cp.Properties.SessionExpiry) * time.Second
	maxExp := lim.maxSessionExpiry()
	if cp.Properties.SessionExpiry == 0xFFFFFFFF || d > maxExp {
		d = maxExp
	}
	return d, d > 0
}

// kick closes the connection from the server side, sending DISCONNECT with
// code first to MQTT 5 clients.
func (c *conn) kick(code packet.ReasonCode, reason string) {
	c.mu.Lock()
	if c.kicked || c.closed {
		c.mu.Unlock()
		return
	}
	c.kicked, c.kickCode = true, code
	// Nothing more is queued (enqueue refuses once kicked); a writer that
	// is running finishes the batch it holds, bounded by a short deadline:
	// the queue may be stuck behind a client that does not read.
	c.queue = c.queue[:0]
	_ = c.nc.SetWriteDeadline(time.Now().Add(time.Second))
	c.mu.Unlock()
	c.b.m.disconnects.WithLabelValues(code.String()).Inc()
	c.log().Info("mqtt connection closed by server", "code", code.String(), "reason", reason)
	if c.version == packet.V5 {
		d := &packet.Disconnect{ReasonCode: code}
		d.Properties.ReasonString = reason
		if b, err := packet.Encode(d, c.version); err == nil {
			// Written directly once the writer has let go of the
			// connection, so that it does not land inside a packet.
			idle := make(chan struct{})
			go func() { c.writer.Wait(); close(idle) }()
			select {
			case <-idle:
			case <-time.After(2 * time.Second):
			}
			c.mu.Lock()
			if !c.writing && !c.closed {
				_, _ = c.nc.Write(b)
			}
			c.mu.Unlock()
		}
	}
	c.close()
}

// close closes the network connection once; the reader then tears down.
func (c *conn) close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	expiry := c.expiry
	c.expiry = nil
	c.mu.Unlock()
	if expiry != nil {
		expiry.Stop()
	}
	// Close the TCP connection under a TLS one without waiting for a
	// close_notify to be written to a client that may not read. Any other
	// connection (ServeConn's) closes without blocking on its own.
	if tc, ok := c.nc.(*tls.Conn); ok {
		if nc := tc.NetConn(); nc != nil {
			_ = nc.Close()
			return
		}
	}
	_ = c.nc.Close()
}

// protocolError ends the connection for a packet that breaks the protocol:
// MQTT 5 clients get DISCONNECT with the code.
func (c *conn) protocolError(code packet.ReasonCode, reason string) {
	c.log().Info("mqtt protocol error", "code", code.String(), "reason", reason)
	c.kick(code, reason)
}

// denied counts and logs a refused action.
func (c *conn) denied(a Action, resource string) {
	c.b.m.denied.WithLabelValues(a.String()).Inc()
	c.log().Info("mqtt action denied", "action", a.String(), "resource", resource)
}

// readLoop reads and handles packets until the connection ends (false) or
// nothing the client sent is buffered any more (true: see idle.go).
func (c *conn) readLoop() (idle bool) {
	for {
		if c.keep > 0 {
			_ = c.nc.SetReadDeadline(time.Now().Add(c.keep))
		}
		if c.idle() {
			return true
		}
		p, err := c.r.ReadPacket(c.version)
		if err != nil {
			c.readEnded(err)
			return false
		}
		if !c.dispatch(p) {
			return false
		}
	}
}

// readEnded handles the error that ended reading: a protocol error or a
// keep-alive timeout closes the connection with its reason.
func (c *conn) readEnded(err error) {
	var pe *packet.Error
	var ne net.Error
	switch {
	case errors.As(err, &pe):
		c.protocolError(pe.Code, pe.Error())
	case errors.As(err, &ne) && ne.Timeout():
		c.kick(packet.KeepAliveTimeout, "keep-alive timeout")
	case errors.Is(err, io.EOF):
	default:
		c.log().Debug("mqtt read ended", "err", err)
	}
}

// dispatch handles one packet; it reports whether to keep reading.
func (c *conn) dispatch(p packet.Packet) bool {
	switch p := p.(type) {
	case *packet.Publish:
		return c.onPublish(p)
	case *packet.Puback:
		if !c.sess.acked(p.PacketID, 1) {
			c.log().Debug("mqtt puback for unknown packet id", "packet_id", p.PacketID)
		}
	case *packet.Pubrec:
		if c.sess.received(p.PacketID, p.ReasonCode.IsError()) {
			if !p.ReasonCode.IsError() {
				c.sendControl(&packet.Pubrel{PacketID: p.PacketID})
			}
		} else {
			c.sendControl(&packet.Pubrel{PacketID: p.PacketID, ReasonCode: packet.PacketIdentifierNotFound})
		}
	case *packet.Pubcomp:
		c.sess.acked(p.PacketID, 2)
	case *packet.Pubrel:
		c.onPubrel(p)
	case *packet.Subscribe:
		return c.onSubscribe(p)
	case *packet.Unsubscribe:
		c.onUnsubscribe(p)
	case *packet.Pingreq:
		c.sendControl(&packet.Pingresp{})
	case *packet.Disconnect:
		c.onDisconnect(p)
		return false
	case *packet.Connect:
		// [MQTT-3.1.0-2]: a second CONNECT is a protocol error.
		c.protocolError(packet.ProtocolError, "second CONNECT on a connection")
		return false
	case *packet.Auth:
		c.protocolError(packet.ProtocolError, "AUTH without an authentication method")
		return false
	default:
		c.protocolError(packet.ProtocolError, "unexpected "+p.Type().String()+" from a client")
		return false
	}
	return true
}

func (c *conn) onDisconnect(p *packet.Disconnect) {
	s := c.sess
	if c.version == packet.V5 && p.Properties.HasSessionExpiry {
		s.mu.Lock()
		if s.expiry == 0 && p.Properties.SessionExpiry != 0 {
			s.mu.Unlock()
			// [MQTT-3.14.2-2]
			c.protocolError(packet.ProtocolError, "session expiry set on DISCONNECT after CONNECT had none")
			return
		}
		d := time.Duration(p.Properties.SessionExpiry) * time.Second
		if maxExp := c.b.lim.maxSessionExpiry(); d > maxExp || p.Properties.SessionExpiry == 0xFFFFFFFF {
			d = maxExp
		}
		s.expiry, s.persistent = d, d > 0
		s.mu.Unlock()
	}
	c.mu.Lock()
	c.graceful = p.ReasonCode != packet.DisconnectWithWill
	c.mu.Unlock()
	c.close()
}
