package broker

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/moat-iot/moat/internal/mqtt/packet"
)

// message is one published application message on its way to subscribers.
// It is immutable once routed, but for its lazily made encodings.
type message struct {
	pub      *packet.Publish // Topic resolved, TopicAlias and SubscriptionIDs cleared, QoS as published
	from     *session        // publisher (No Local); nil for wills and system messages
	received time.Time       // for MQTT 5 message expiry
	hops     uint8           // services' derivations (PublishDerived)

	once [2]sync.Once
	enc  [2]packet.SharedPublish // [0] 3.1.1, [1] 5
	err  [2]error

	// congested is set when a connected subscriber's queue passed its high
	// water mark while taking this message: the publisher waits for it to
	// drain before reading on (backpressure instead of loss).
	congested atomic.Pointer[chan struct{}]
}

// congest records a subscriber's drain signal, the first one only.
func (m *message) congest(ch chan struct{}) {
	m.congested.CompareAndSwap(nil, &ch)
}

// congestion returns the drain signal to wait for, or nil.
func (m *message) congestion() chan struct{} {
	if p := m.congested.Load(); p != nil {
		return *p
	}
	return nil
}

func newMessage(p *packet.Publish, from *session) *message {
	return &message{pub: p, from: from, received: time.Now()}
}

func vindex(v packet.Version) int {
	if v == packet.V5 {
		return 1
	}
	return 0
}

// encoded returns the message's shared encoding for version v.
func (m *message) encoded(v packet.Version) (packet.SharedPublish, error) {
	i := vindex(v)
	m.once[i].Do(func() { m.enc[i], m.err[i] = packet.NewSharedPublish(m.pub, v) })
	return m.enc[i], m.err[i]
}

// expired reports whether the MQTT 5 message expiry interval has passed,
// and the seconds left otherwise (0 when it has no expiry).
func (m *message) expired(now time.Time) (bool, uint32) {
	exp := m.pub.Properties.MessageExpiry
	if exp == 0 {
		return false, 0
	}
	elapsed := uint32(now.Sub(m.received) / time.Second)
	if elapsed >= exp {
		return true, 0
	}
	return false, exp - elapsed
}

// variant encodes a delivery that cannot share the common encoding: MQTT
// 5 subscription identifiers, or a message expiry that time in the queue
// has reduced.
func (m *message) variant(v packet.Version, subIDs []uint32, expiryLeft uint32) (packet.SharedPublish, error) {
	p := *m.pub
	p.Properties.SubscriptionIDs = subIDs
	if expiryLeft > 0 {
		p.Properties.MessageExpiry = expiryLeft
	}
	return packet.NewSharedPublish(&p, v)
}
