package broker

import "net"

// NewIdleConn is newIdleConn for the external tests, whose listener
// wraps accepted connections as the accept loop does.
func NewIdleConn(nc net.Conn) net.Conn { return newIdleConn(nc) }

// connOf returns clientID's current connection, or nil.
func (b *Broker) connOf(clientID string) *conn {
	b.mu.Lock()
	s := b.sessions[clientID]
	b.mu.Unlock()
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conn
}
