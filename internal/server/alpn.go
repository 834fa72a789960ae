package server

import (
	"crypto/tls"
	"net"
	"net/http"
	"sync"

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
// broker.ServeConn, with the transport named in broker.ConnInfo.
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

// configureHTTPS makes hs and its TLS configuration serve the ALPN
// protocols above. HTTP/2 is kept on explicitly: a TLSNextProto map of
// one's own otherwise turns net/http's automatic HTTP/2 off, and with a
// TLSConfig set, Serve enables it only if NextProtos lists "h2".
func (s *Server) configureHTTPS(hs *http.Server, cfg *tls.Config) {
	cfg.NextProtos = append([]string(nil), httpsNextProtos...)
	var protos http.Protocols
	protos.SetHTTP1(true)
	protos.SetHTTP2(true)
	hs.Protocols = &protos
	hs.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){
		alpnMQTTCert:       s.serveMQTT(broker.TransportALPNCert),
		alpnMQTTCustomAuth: s.serveMQTT(broker.TransportALPNCustomAuth),
		alpnHTTPCert:       serveHTTPCert,
	}
}

// serveMQTT returns the TLSNextProto handler of an MQTT ALPN protocol: the
// handshaken connection goes to the broker. net/http closes the connection
// when the handler returns, so it waits until the broker is done with it.
func (s *Server) serveMQTT(transport string) func(*http.Server, *tls.Conn, http.Handler) {
	return func(_ *http.Server, tc *tls.Conn, _ http.Handler) {
		st := tc.ConnectionState()
		<-s.broker.ServeConn(tc, broker.ConnMeta{Transport: transport, PeerCertificates: st.PeerCertificates, ServerName: st.ServerName})
	}
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
