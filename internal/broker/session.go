package broker

import (
	"sync"
	"time"

	"github.com/moat-iot/moat/internal/mqtt/packet"
)

// subOpts is one subscription's options, the trie's value.
type subOpts struct {
	qos     byte
	noLocal bool
	rap     bool   // retain as published
	rh      byte   // retain handling
	id      uint32 // MQTT 5 subscription identifier; 0: none
}

// outMsg is a QoS 1/2 message owed to a session: queued, or in flight.
type outMsg struct {
	m      *message
	qos    byte
	retain bool
	subIDs []uint32
	id     uint16 // packet identifier while in flight
	rec    bool   // QoS 2: PUBREC received and PUBREL sent
	seq    int64  // store sequence number of a persistent session's message; 0: not stored
}

// session is the state of one client id: subscriptions, messages owed,
// will. It outlives its connection when persistent.
type session struct {
	b  *Broker
	id string

	// mu guards everything below. Lock order: Broker.mu, session.mu,
	// conn.mu.
	mu         sync.Mutex
	conn       *conn // nil while offline
	version    packet.Version
	persistent bool
	expiry     time.Duration // how long it outlives its connection
	expTimer   *time.Timer
	subs       map[string]subOpts // filter (as subscribed, $share included) → options
	inflight   []*outMsg          // sent, awaiting acknowledgement, in send order
	pending    []*outMsg          // waiting for a connection or window space
	nextID     uint16
	sendQuota  int                 // the client's Receive Maximum
	qos2in     map[uint16]struct{} // inbound QoS 2 ids awaiting PUBREL
	will       *packet.Will        // the current connection's will
	willDelay  time.Duration
	willTimer  *time.Timer // a delayed will of a closed connection
	certID     string      // certificate of the last connection
	created    time.Time
	// drained, while publishers wait on this session's backlog, is closed
	// when the backlog falls to the low water mark.
	drained chan struct{}
	// stored: the store has a row for this session; guarded by the
	// client id's plock, not by mu.
	stored bool

	// ackMu guards the acknowledged store sequence numbers waiting to be
	// deleted and whether a goroutine is deleting them (a leaf lock).
	ackMu     sync.Mutex
	acks      []int64
	acking    bool
	discarded bool // removed from the broker; drop everything
}

func newSession(b *Broker, id string) *session {
	return &session{b: b, id: id, created: time.Now().UTC()} // subs is made on first SUBSCRIBE
}

// deliver offers a message to the session; called by fan-out from the
// publisher's goroutine. A QoS 1/2 message for a persistent session is not
// queued yet: deliver returns it, to be written to the store and then
// handed over with admit.
func (s *session) deliver(m *message, qos byte, retain bool, subIDs []uint32) *outMsg {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.discarded {
		return nil
	}
	c := s.conn
	if qos == 0 {
		if c == nil {
			s.b.m.dropped.WithLabelValues("offline").Inc()
			return nil
		}
		if !c.permissions().Allow(ActReceive, m.pub.Topic) {
			c.denied(ActReceive, m.pub.Topic)
			return nil
		}
		c.sendPublish(m, packet.Delivery{QoS: 0, Retain: retain}, subIDs)
		return nil
	}
	om := &outMsg{m: m, qos: qos, retain: retain, subIDs: subIDs}
	if s.persistent && s.b.persist != nil {
		return om
	}
	s.admitLocked(om)
	return nil
}

// admit hands a message (stored first if the session is persistent) to
// the session: sent if there is a connection and window space, else queued.
func (s *session) admit(om *outMsg) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.discarded {
		return
	}
	s.admitLocked(om)
}

func (s *session) admitLocked(om *outMsg) {
	if s.conn != nil && len(s.pending) == 0 && len(s.inflight) < s.sendQuota {
		s.sendLocked(om)
		return
	}
	if s.conn == nil && !s.persistent {
		return
	}
	s.queueLocked(om)
}

// queueLocked appends om to the pending queue, dropping it when the queue
// is full. The caller holds s.mu.
func (s *session) queueLocked(om *outMsg) {
	if len(s.pending) >= s.b.lim.MaxQueuedMessages {
		s.b.m.dropped.WithLabelValues("queue_full").Inc()
		s.ackStored(om.seq)
		return
	}
	s.pending = append(s.pending, om)
	if s.conn != nil && len(s.pending) >= s.highWater() {
		// A connected subscriber falls behind: slow its publishers down
		// rather than drop (an offline session never slows anyone).
		if s.drained == nil {
			s.drained = make(chan struct{})
		}
		om.m.congest(s.drained)
	}
}

// highWater and lowWater are the queue lengths where backpressure starts
// and ends.
func (s *session) highWater() int { return max(1, s.b.lim.MaxQueuedMessages/2) }
func (s *session) lowWater() int  { return s.b.lim.MaxQueuedMessages / 4 }

// releaseLocked ends backpressure: publishers waiting on this session go on.
// The caller holds s.mu.
func (s *session) releaseLocked() {
	if s.drained != nil {
		close(s.drained)
		s.drained = nil
	}
}

// sendLocked puts om in flight on the current connection. The caller holds
// s.mu and has checked there is a connection and window space.
func (s *session) sendLocked(om *outMsg) {
	c := s.conn
	if expired, _ := om.m.expired(time.Now()); expired {
		s.b.m.dropped.WithLabelValues("expired").Inc()
		s.ackStored(om.seq)
		return
	}
	if !c.permissions().Allow(ActReceive, om.m.pub.Topic) {
		c.denied(ActReceive, om.m.pub.Topic)
		s.ackStored(om.seq)
		return
	}
	om.id = s.packetID()
	if c.sendPublish(om.m, packet.Delivery{QoS: om.qos, PacketID: om.id, Retain: om.retain}, om.subIDs) {
		s.inflight = append(s.inflight, om)
	} else {
		s.ackStored(om.seq)
	}
}

// packetID returns an identifier not in flight. The caller holds s.mu.
func (s *session) packetID() uint16 {
	for {
		s.nextID++
		if s.nextID == 0 {
			s.nextID = 1
		}
		if s.findInflight(s.nextID) < 0 {
			return s.nextID
		}
	}
}

func (s *session) findInflight(id uint16) int {
	for i, om := range s.inflight {
		if om.id == id {
			return i
		}
	}
	return -1
}

// drainLocked moves pending messages into the window while there is room.
// The caller holds s.mu.
func (s *session) drainLocked() {
	n := 0
	for n < len(s.pending) && s.conn != nil && len(s.inflight) < s.sendQuota {
		om := s.pending[n]
		s.pending[n] = nil
		n++
		s.sendLocked(om)
	}
	if n > 0 {
		s.pending = append(s.pending[:0], s.pending[n:]...)
	}
	if len(s.pending) <= s.lowWater() || s.conn == nil {
		s.releaseLocked()
	}
}

// acked handles PUBACK (QoS 1) and PUBCOMP (QoS 2) for id; it reports
// whether id was in flight with that QoS.
func (s *session) acked(id uint16, qos byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.findInflight(id)
	if i < 0 || s.inflight[i].qos != qos || (qos == 2 && !s.inflight[i].rec) {
		return false
	}
	s.ackStored(s.inflight[i].seq)
	s.inflight = append(s.inflight[:i], s.inflight[i+1:]...)
	s.drainLocked()
	return true
}

// received handles PUBREC for id: the message moves to the PUBREL state,
// or, when the client refused it (reason >= 0x80), leaves the window.
func (s *session) received(id uint16, refused bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.findInflight(id)
	if i < 0 || s.inflight[i].qos != 2 {
		return false
	}
	if refused {
		s.ackStored(s.inflight[i].seq)
		s.inflight = append(s.inflight[:i], s.inflight[i+1:]...)
		s.drainLocked()
		return true
	}
	s.inflight[i].rec = true
	return true
}

// resume sends what the session owes a new connection: in-flight messages
// again with DUP set (or PUBREL for those past PUBREC) in their original
// order [MQTT-4.4.0-1], then pending ones. The caller holds s.mu.
func (s *session) resumeLocked() {
	c := s.conn
	for _, om := range s.inflight {
		if om.rec {
			c.sendControl(&packet.Pubrel{PacketID: om.id})
			continue
		}
		c.sendPublish(om.m, packet.Delivery{QoS: om.qos, PacketID: om.id, Dup: true, Retain: om.retain}, om.subIDs)
	}
	s.drainLocked()
}

// clearLocked drops everything the session holds. The caller holds s.mu
// and removes its subscriptions from the trie.
func (s *session) clearLocked() {
	s.releaseLocked()
	s.inflight, s.pending = nil, nil
	s.qos2in = nil
	s.subs = nil
}
