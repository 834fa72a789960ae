package broker

// ParksInPoller reports whether idle connections leave their goroutine
// for the poller on this system (Parked says whether one has).
const ParksInPoller = true

// ParkDelay is how long a connection stays idle before it is parked.
const ParkDelay = hotWait

// Parked reports whether clientID's connection is parked in the poller.
func (b *Broker) Parked(clientID string) bool {
	c := b.connOf(clientID)
	p := getPoller(false)
	if c == nil || c.ic() == nil || p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return c.ic().park.slot != 0
}
