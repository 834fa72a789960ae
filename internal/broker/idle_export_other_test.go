//go:build !linux

package broker

// ParksInPoller reports whether idle connections leave their goroutine
// for the poller on this system: not here, where they wait in a goroutine
// of their own.
const ParksInPoller = false

// ParkDelay is how long a connection stays idle before it waits in its
// own goroutine.
const ParkDelay = 0

// Parked is false: there is no poller here.
func (b *Broker) Parked(string) bool { return false }
