package server

import (
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/moat-iot/moat/internal/broker"
	"github.com/moat-iot/moat/internal/wsmqtt"
)

// The HTTPS port serves more than HTTP, as AWS IoT Core's port 443 does
// (reference §6.5): the TLS handshake's ALPN protocol decides what the
// connection carries.
//
//	h2, http/1.1      the APIs, /health, /metrics, and MQTT over WebSocket at /mqtt
//	x-amzn-http-ca    HTTP/1.1 with a device certificate (as http/1.1 here,
//	                  where any HTTPS request may present one)
//	x-amzn-mqtt-ca    MQTT with a device certificate (the Gate refuses a
//	                  CONNECT without one)
//	mqtt              MQTT authenticated by a custom authorizer from the
//	                  CONNECT's username and password
//	(none)            HTTP/1.1
//
// The MQTT connections go to the same broker as the MQTT port's, through
// broker.ServeConn, with the transport named in broker.ConnInfo; the
// HTTPS listener (alpnListener) hands them over itself, so that net/http
// holds nothing of them and the broker parks them while idle.
const (
	alpnMQTTCert       = "x-amzn-mqtt-ca"
	alpnMQTTCustomAuth = "mqtt"
	alpnHTTPCert       = "x-amzn-http-ca"
)

// httpsNextProtos are the protocols the HTTPS port offers, in the server's
// order of preference (crypto/tls takes the first one the client offers
// too): AWS IoT's own first, since a client offers one of them only to be
// served it.
var httpsNextProtos = []string{alpnMQTTCert, alpnMQTTCustomAuth, alpnHTTPCert, "h2", "http/1.1"}

// configureHTTPS makes hs and its TLS configuration serve the HTTP ALPN
// protocols above (the MQTT ones never reach hs: see alpnListener).
// HTTP/2 is kept on explicitly: a TLSNextProto map of one's own otherwise
// turns net/http's automatic HTTP/2 off, and with a TLSConfig set, Serve
// enables it only if NextProtos lists "h2".
func configureHTTPS(hs *http.Server, cfg *tls.Config) {
	cfg.NextProtos = append([]string(nil), httpsNextProtos...)
	var protos http.Protocols
	protos.SetHTTP1(true)
	protos.SetHTTP2(true)
	hs.Protocols = &protos
	hs.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){
		alpnHTTPCert: serveHTTPCert,
	}
}

// mqttTransport is the broker transport of an MQTT ALPN protocol; ok is
// false for any other protocol.
func mqttTransport(proto string) (transport string, ok bool) {
	switch proto {
	case alpnMQTTCert:
		return broker.TransportALPNCert, true
	case alpnMQTTCustomAuth:
		return broker.TransportALPNCustomAuth, true
	}
	return "", false
}

// serveMQTT hands b a handshaken connection that negotiated an MQTT ALPN
// protocol (transport); it returns once the CONNECT is decided, and the
// broker owns the connection from then on.
func serveMQTT(b *broker.Broker, tc *tls.Conn, transport string) {
	st := tc.ConnectionState()
	b.ServeConn(tc, broker.ConnMeta{Transport: transport, PeerCertificates: st.PeerCertificates, ServerName: st.ServerName})
}

// serveHTTPCert serves HTTP/1.1 on a connection that negotiated
// x-amzn-http-ca. net/http serves HTTP/1.1 only on connections without an
// ALPN protocol of their own, so the connection is handed to the same
// server again through a one-connection listener, wrapped in a type that
// is not a *tls.Conn but still reports the TLS state (Request.TLS, and so
// the client certificate, as for any HTTPS request). The server then
// tracks it like its other connections: timeouts, keep-alive, Shutdown.
func serveHTTPCert(hs *http.Server, tc *tls.Conn, _ http.Handler) {
	c := &httpCertConn{Conn: tc, done: make(chan struct{})}
	l := &oneConnListener{c: c, closed: make(chan struct{})}
	_ = hs.Serve(l) // returns once the connection is handed over and done, or the server is shut down
	if l.accepted() {
		<-c.done
	}
}

// httpCertConn is an x-amzn-http-ca connection served as HTTP/1.1; done is
// closed when it is closed.
type httpCertConn struct {
	*tls.Conn
	once sync.Once
	done chan struct{}
}

// Close closes the connection and signals done.
func (c *httpCertConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { close(c.done) })
	return err
}

// oneConnListener accepts its one connection, then blocks until that
// connection or the listener is closed.
type oneConnListener struct {
	c *httpCertConn

	mu     sync.Mutex
	taken  bool // guarded by mu
	once   sync.Once
	closed chan struct{}
}

func (l *oneConnListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	if !l.taken {
		l.taken = true
		l.mu.Unlock()
		return l.c, nil
	}
	l.mu.Unlock()
	select {
	case <-l.c.done:
	case <-l.closed:
	}
	return nil, net.ErrClosed
}

// accepted reports whether the connection was handed to the server.
func (l *oneConnListener) accepted() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.taken
}

func (l *oneConnListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *oneConnListener) Addr() net.Addr { return l.c.LocalAddr() }

// withWebSocket routes /mqtt to the MQTT-over-WebSocket handler and every
// other path to h, unchanged (no path cleaning or redirects are added).
func withWebSocket(ws http.Handler, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/mqtt" {
			ws.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// webSocketHandler builds the /mqtt handler over the server's broker and
// authenticator. custom authenticates custom-authorizer headers and query
// parameters; nil offers none.
func (s *Server) webSocketHandler(custom wsmqtt.CustomAuth) (http.Handler, error) {
	return wsmqtt.New(wsmqtt.Options{
		Broker:         s.broker,
		Auth:           s.auth,
		CustomAuth:     custom,
		MaxPacketSize:  s.cfg.BrokerLimits().MaxPacketSize,
		ReplayCapacity: s.cfg.WebSocket.ReplayCache,
		Logger:         s.log,
		Registerer:     s.reg,
	})
}

// alpnListener is the HTTPS port's listener. It runs each connection's TLS
// handshake itself, in a goroutine of its own, and then:
//
//   - a connection that negotiated an MQTT protocol goes to the broker
//     (mqtt), and net/http never sees it: the broker parks it while its
//     client is idle, without a goroutine, as it does the MQTT port's
//     (the TCP connections are wrapped by broker.WrapListener). Served
//     through net/http's TLSNextProto instead, each would keep net/http's
//     connection goroutine, whose stack the handshake grew, until it
//     ends;
//   - any other, and one whose handshake failed, is returned by Accept to
//     http.Server.Serve, whose own handshake then returns at once with the
//     outcome: net/http serves it, or logs the failure (and answers plain
//     HTTP sent to the TLS port with 400), exactly as if it had run it.
//
// The handshake has the deadline net/http would give it (timeout). Close
// stops accepting, closes the connections still in handshake and waits
// for the accept loop.
type alpnListener struct {
	ln      net.Listener // the TCP listener, wrapped by broker.WrapListener
	cfg     *tls.Config
	timeout time.Duration                        // handshake deadline; 0: none
	mqtt    func(tc *tls.Conn, transport string) // serves an MQTT connection

	conns  chan net.Conn // handshaken connections for net/http
	errc   chan error    // the accept loop's final error, once
	closed chan struct{} // closed by Close
	once   sync.Once
	loop   sync.WaitGroup // the accept loop

	mu      sync.Mutex
	pending map[*tls.Conn]struct{} // in handshake; guarded by mu, nil once closed
}

// newALPNListener starts accepting TLS connections on ln (a TCP listener)
// with cfg; see alpnListener.
func newALPNListener(ln net.Listener, cfg *tls.Config, timeout time.Duration, mqtt func(*tls.Conn, string)) *alpnListener {
	l := &alpnListener{
		ln: broker.WrapListener(ln), cfg: cfg, timeout: timeout, mqtt: mqtt,
		conns: make(chan net.Conn), errc: make(chan error, 1), closed: make(chan struct{}),
		pending: map[*tls.Conn]struct{}{},
	}
	l.loop.Add(1)
	go l.acceptLoop()
	return l
}

// handshakeTimeout is the TLS handshake deadline net/http gives hs's
// connections: the least of its positive ReadHeaderTimeout, ReadTimeout
// and WriteTimeout; 0 (none) if there is none.
func handshakeTimeout(hs *http.Server) time.Duration {
	var d time.Duration
	for _, v := range []time.Duration{hs.ReadHeaderTimeout, hs.ReadTimeout, hs.WriteTimeout} {
		if v > 0 && (d == 0 || v < d) {
			d = v
		}
	}
	return d
}

// acceptLoop accepts TCP connections until the listener fails or is
// closed, and handshakes each in a new goroutine.
func (l *alpnListener) acceptLoop() {
	defer l.loop.Done()
	var delay time.Duration
	for {
		nc, err := l.ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				select {
				case <-time.After(delay):
					continue
				case <-l.closed:
				}
			}
			l.errc <- err
			return
		}
		delay = 0
		tc := tls.Server(nc, l.cfg)
		l.mu.Lock()
		if l.pending == nil {
			l.mu.Unlock()
			_ = nc.Close()
			continue // closed: the next Accept fails
		}
		l.pending[tc] = struct{}{}
		l.mu.Unlock()
		go l.handshake(tc)
	}
}

// handshake runs tc's handshake and hands the connection on.
func (l *alpnListener) handshake(tc *tls.Conn) {
	if l.timeout > 0 {
		_ = tc.SetDeadline(time.Now().Add(l.timeout))
	}
	err := tc.Handshake()
	_ = tc.SetDeadline(time.Time{})
	l.mu.Lock()
	open := l.pending != nil
	delete(l.pending, tc)
	l.mu.Unlock()
	if !open {
		_ = tc.Close()
		return
	}
	if err == nil {
		if transport, ok := mqttTransport(tc.ConnectionState().NegotiatedProtocol); ok {
			l.mqtt(tc, transport)
			return
		}
	}
	select {
	case l.conns <- tc:
	case <-l.closed:
		_ = tc.Close()
	}
}

// Accept returns the next connection for net/http: a *tls.Conn whose
// handshake has run (see alpnListener).
func (l *alpnListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case err := <-l.errc:
		l.errc <- err // for the next call
		return nil, err
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

// Close stops accepting, closes the connections still in handshake and
// waits for the accept loop to end.
func (l *alpnListener) Close() error {
	var err error
	l.once.Do(func() {
		close(l.closed)
		err = l.ln.Close()
		l.mu.Lock()
		pending := l.pending
		l.pending = nil
		l.mu.Unlock()
		for tc := range pending {
			_ = tc.NetConn().Close()
		}
		l.loop.Wait()
	})
	return err
}

// Addr is the TCP listener's address.
func (l *alpnListener) Addr() net.Addr { return l.ln.Addr() }
