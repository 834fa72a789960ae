package main

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/moat-iot/moat/internal/mqtt/packet"
)

// Phases of a pubsub run. Only messages that arrive in phaseMeasure count
// towards throughput and latency.
const (
	phaseWarmup int32 = iota
	phaseMeasure
	phaseStop
)

// errStopped ends a publisher that was waiting when the run stopped.
var errStopped = errors.New("stopped")

// publisher sends numbered, timestamped messages to its own topic with at
// most len(free) unacknowledged at QoS 1 and 2. One goroutine runs run (or
// publish); another runs readLoop.
type publisher struct {
	c     *conn
	idx   uint32
	qos   byte
	pkt   packet.Publish // reused: Append takes a pointer, so no allocation per message
	free  chan uint16    // packet identifiers not in flight
	state []atomic.Uint32
	timer *time.Timer

	sent    atomic.Uint32 // messages sent = next sequence number
	acked   atomic.Uint64 // QoS 1/2 flows completed
	refused atomic.Uint64 // PUBACK/PUBREC with a failure reason code
	errs    atomic.Uint64 // unexpected packets or identifiers
}

// Packet identifier states of a publisher.
const (
	idFree uint32 = iota
	idSent        // PUBLISH sent, waiting for PUBACK (QoS 1) or PUBREC (QoS 2)
	idRec         // PUBREL sent, waiting for PUBCOMP
)

func newPublisher(c *conn, idx int, topic string, qos byte, size, inflight int) *publisher {
	if c.ack != nil && c.ack.Properties.ReceiveMaximum > 0 {
		inflight = min(inflight, int(c.ack.Properties.ReceiveMaximum))
	}
	p := &publisher{c: c, idx: uint32(idx), qos: qos, free: make(chan uint16, inflight)}
	p.pkt = packet.Publish{QoS: qos, Topic: topic, Payload: make([]byte, size)}
	if qos > 0 {
		p.state = make([]atomic.Uint32, inflight+1)
		for id := 1; id <= inflight; id++ {
			p.free <- uint16(id)
		}
	}
	return p
}

// inflight returns the number of QoS 1/2 flows not yet completed.
func (p *publisher) inflight() int { return cap(p.free) - len(p.free) }

// publish sends message seq, first waiting for a free packet identifier at
// QoS 1 and 2.
func (p *publisher) publish(seq uint32, stop <-chan struct{}) error {
	var id uint16
	if p.qos > 0 {
		select {
		case id = <-p.free:
		case <-stop:
			return errStopped
		}
		p.state[id].Store(idSent)
	}
	p.pkt.PacketID = id
	putPayload(p.pkt.Payload, now(), seq, p.idx)
	if err := p.c.send(&p.pkt); err != nil {
		return err
	}
	p.sent.Store(seq + 1)
	return nil
}

// run publishes until stop is closed, at rate messages/s (0 = unpaced).
func (p *publisher) run(rate float64, stop <-chan struct{}) error {
	start := time.Now()
	p.timer = time.NewTimer(time.Hour)
	defer p.timer.Stop()
	for seq := uint32(0); ; seq++ {
		select {
		case <-stop:
			return nil
		default:
		}
		if rate > 0 {
			due := start.Add(time.Duration(float64(seq) * float64(time.Second) / rate))
			if d := time.Until(due); d > 0 {
				p.timer.Reset(d)
				select {
				case <-p.timer.C:
				case <-stop:
					return nil
				}
			}
		}
		if err := p.publish(seq, stop); err != nil {
			if err == errStopped {
				return nil
			}
			return fmt.Errorf("publisher %s: %w", p.c.id, err)
		}
	}
}

// release ends the flow of id, which must be in state want.
func (p *publisher) release(id uint16, want uint32) {
	if int(id) >= len(p.state) || id == 0 || !p.state[id].CompareAndSwap(want, idFree) {
		p.errs.Add(1)
		return
	}
	p.acked.Add(1)
	p.free <- id
}

// readLoop handles the broker's acknowledgements until the connection ends.
func (p *publisher) readLoop() error {
	var rel packet.Pubrel
	for {
		pk, err := p.c.r.ReadPacket(p.c.v)
		if err != nil {
			return err
		}
		switch a := pk.(type) {
		case *packet.Puback:
			if a.ReasonCode.IsError() {
				p.refused.Add(1)
			}
			p.release(a.PacketID, idSent)
		case *packet.Pubrec:
			if a.ReasonCode.IsError() { // the flow ends here ([MQTT-4.3.3])
				p.refused.Add(1)
				p.release(a.PacketID, idSent)
				continue
			}
			if int(a.PacketID) >= len(p.state) || !p.state[a.PacketID].CompareAndSwap(idSent, idRec) {
				p.errs.Add(1)
				continue
			}
			rel.PacketID = a.PacketID
			if err := p.c.send(&rel); err != nil {
				return err
			}
		case *packet.Pubcomp:
			p.release(a.PacketID, idRec)
		case *packet.Pingresp:
		case *packet.Disconnect:
			return fmt.Errorf("broker sent DISCONNECT: %v %s", a.ReasonCode, a.Properties.ReasonString)
		default:
			p.errs.Add(1)
		}
	}
}

// subscriber receives messages, acknowledges them (QoS 1, and the QoS 2
// exchange with duplicate suppression before PUBREL), and accounts for
// each: latency, duplicates, sequence numbers seen per publisher. Its
// fields other than the atomics are read only after readLoop returns.
type subscriber struct {
	c     *conn
	phase *atomic.Int32
	seen  []seqSet // per publisher index
	rel   []bool   // QoS 2: packet identifier received, PUBREL not yet
	hist  Histogram
	ack   packet.Puback
	rec   packet.Pubrec
	comp  packet.Pubcomp

	unique    atomic.Uint64 // distinct messages received, any phase
	delivered uint64        // distinct messages received in phaseMeasure
	dup       uint64        // messages received again
	stale     uint64        // messages of an earlier run, still in the broker
	bad       uint64        // payloads not from moat-bench
	errs      uint64        // unexpected packets
}

func newSubscriber(c *conn, pubs int, phase *atomic.Int32) *subscriber {
	return &subscriber{c: c, phase: phase, seen: make([]seqSet, pubs), rel: make([]bool, 65536)}
}

// readLoop handles deliveries until the connection ends.
func (s *subscriber) readLoop() error {
	for {
		pk, err := s.c.r.ReadPacket(s.c.v)
		if err != nil {
			return err
		}
		if err := s.handle(pk, now()); err != nil {
			return err
		}
	}
}

// subscribe sends the filters at qos in SUBSCRIBE packets of at most 8
// filters (AWS IoT's limit) and waits for every SUBACK, handling any
// delivery that comes first. It runs before readLoop.
func (s *subscriber) subscribe(filters []string, qos byte, timeout time.Duration) error {
	c := s.c
	c.nc.SetDeadline(time.Now().Add(timeout))
	defer c.nc.SetDeadline(time.Time{})
	var id uint16
	for len(filters) > 0 {
		n := min(len(filters), 8)
		id++
		sub := &packet.Subscribe{PacketID: id}
		for _, f := range filters[:n] {
			sub.Subscriptions = append(sub.Subscriptions, packet.Subscription{Filter: f, QoS: qos})
		}
		if err := c.send(sub); err != nil {
			return fmt.Errorf("send SUBSCRIBE: %w", err)
		}
		var ack *packet.Suback
		for ack == nil {
			p, err := c.r.ReadPacket(c.v)
			if err != nil {
				return fmt.Errorf("read SUBACK: %w", err)
			}
			if a, ok := p.(*packet.Suback); ok && a.PacketID == id {
				ack = a
			} else if err := s.handle(p, now()); err != nil {
				return err
			}
		}
		for i, rc := range ack.ReasonCodes {
			if rc >= 0x80 {
				return fmt.Errorf("%w: SUBSCRIBE %q: %v (check the ACL or policy)", errRefused, filters[i], rc)
			}
			if byte(rc) < qos {
				return fmt.Errorf("SUBSCRIBE %q: granted QoS %d < %d", filters[i], rc, qos)
			}
		}
		filters = filters[n:]
	}
	return nil
}

// handle processes one packet received at time t.
func (s *subscriber) handle(pk packet.Packet, t int64) error {
	switch m := pk.(type) {
	case *packet.Publish:
		switch m.QoS {
		case 1:
			s.ack.PacketID = m.PacketID
			if err := s.c.send(&s.ack); err != nil {
				return err
			}
		case 2:
			s.rec.PacketID = m.PacketID
			if err := s.c.send(&s.rec); err != nil {
				return err
			}
			if s.rel[m.PacketID] { // retransmission before PUBREL: delivered once already
				return nil
			}
			s.rel[m.PacketID] = true
		}
		s.record(m.Payload, t)
	case *packet.Pubrel:
		if !s.rel[m.PacketID] {
			s.errs++
		}
		s.rel[m.PacketID] = false
		s.comp.PacketID = m.PacketID
		return s.c.send(&s.comp)
	case *packet.Pingresp:
	case *packet.Disconnect:
		return fmt.Errorf("broker sent DISCONNECT: %v %s", m.ReasonCode, m.Properties.ReasonString)
	default:
		s.errs++
	}
	return nil
}

// record accounts for one received payload at time t.
func (s *subscriber) record(payload []byte, t int64) {
	sent, seq, pub, err := readPayload(payload)
	if err == errStale {
		s.stale++
		return
	}
	if err != nil || int(pub) >= len(s.seen) {
		s.bad++
		return
	}
	if !s.seen[pub].add(seq) {
		s.dup++
		return
	}
	s.unique.Add(1)
	if s.phase.Load() == phaseMeasure {
		s.delivered++
		s.hist.Record(t - sent)
	}
}
