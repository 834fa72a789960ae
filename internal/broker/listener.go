package broker

import "net"

// WrapListener returns a listener that accepts ln's connections wrapped
// for idle parking, for a TLS server other than the broker's own
// (tls.NewListener over it): a *tls.Conn over one of its connections that
// is later handed to ServeConn waits for its idle client the way the
// MQTT port's connections do, without a goroutine (see idle.go). The
// HTTPS port wraps every connection so that those it serves MQTT by ALPN
// can be parked; what else is served over them is not affected: until
// the broker reads one, a wrapped connection's Read, Write and Close are
// the TCP connection's (Close also wakes a parked reader).
func WrapListener(ln net.Listener) net.Listener { return idleListener{ln} }

// idleListener is WrapListener's listener.
type idleListener struct{ net.Listener }

// Accept returns the next connection of the listener, wrapped.
func (l idleListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return newIdleConn(nc), nil
}
