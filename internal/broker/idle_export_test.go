package broker

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
