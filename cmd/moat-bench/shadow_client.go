package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/moat-iot/moat/internal/mqtt/packet"
)

// errConnDead stops a sender whose connection's reader ended; the reader's
// error says why.
var errConnDead = errors.New("connection closed")

// States of one update request. A request leaves reqInFlight exactly once,
// by compare-and-swap: whoever wins (the reader with a reply or a refusing
// PUBACK, the sweeper with a timeout) frees its window slot.
const (
	reqUnsent   uint32 = iota
	reqInFlight        // sent, no reply yet
	reqAccepted        // update/accepted with its clientToken
	reqRejected        // update/rejected with its clientToken
	reqRefused         // MQTT 5 PUBACK with a failure reason code: the broker dropped it
	reqMissing         // no reply within -reply-timeout
)

// shadowClient is one connection of the shadow mode. Its sender goroutine
// (run) sends the updates of its things round robin, thing k%n's counter
// k/n+1 as request k, keeping at most window requests in flight; its
// reader goroutine (readLoop) matches each reply to its request by
// clientToken; the run's sweeper (sweep) marks requests that waited longer
// than the reply timeout missing. Requests are numbered in send order, so
// their send times increase with k.
type shadowClient struct {
	c      *conn
	idx    int      // connection number, part of every clientToken
	things []string // this connection's things
	topics []string // update request topic of each thing
	name   string   // shadow name; "" = classic
	qos    byte
	total  int    // requests to send: len(things) * updates
	filler string // padding in each reported state

	slots  chan struct{}   // a value per request in flight: the window
	ids    chan uint16     // QoS 1: free packet identifiers
	pidReq []atomic.Int32  // QoS 1: 1 + the request a packet identifier carries; 0 = free
	state  []atomic.Uint32 // per request
	sentAt []int64         // per request: now() at send, written before state becomes reqInFlight

	replyTimeout time.Duration
	// With -rate, request k is due at start + offset + k*interval, and its
	// latency counts from then: a sender held back by a full window or a
	// slow connection reports the wait (no coordinated omission).
	interval time.Duration // 0 = unpaced: each request as soon as the window allows
	offset   time.Duration // staggers the connections' schedules
	start    int64         // now() when the run started; set before run

	sent      atomic.Int64  // requests 0..sent-1 were sent
	resolved  atomic.Int64  // requests that left reqInFlight
	lastReply atomic.Int64  // now() of the latest matched reply
	done      chan struct{} // closed when run returns
	dead      chan struct{} // closed when readLoop returns
	sendErr   error         // why run stopped early; read after done is closed

	low int // sweeper's: requests below low are resolved

	// The reader's (subscribe's, then readLoop's); read after readLoop returned.
	ack        packet.Puback // reused for the replies' PUBACKs
	hist       Histogram
	rejected   map[int]uint64 // by code
	firstRej   string
	late       uint64 // replies after the request was counted missing
	foreign    uint64 // replies with another run's or client's clientToken
	other      uint64 // update/documents, update/delta, ...
	errs       uint64 // replies that break the contract, unexpected packets
	firstErr   error
	firstRefus string // the first refusing PUBACK
}

// newShadowClient prepares connection idx of c for things [lo, hi).
func newShadowClient(cn *conn, idx, lo, hi int, c *shadowConfig) *shadowClient {
	s := &shadowClient{c: cn, idx: idx, name: c.shadowName, qos: byte(c.qos), filler: strings.Repeat("x", c.size),
		slots: make(chan struct{}, c.window), rejected: map[int]uint64{},
		replyTimeout: c.replyTimeout, done: make(chan struct{}), dead: make(chan struct{})}
	if c.rate > 0 { // c.conns connections share -rate, their schedules staggered
		s.interval = time.Duration(float64(c.conns) / c.rate * float64(time.Second))
		s.offset = s.interval * time.Duration(idx) / time.Duration(c.conns)
	}
	for i := lo; i < hi; i++ {
		t := shadowThing(c.thingPre, i)
		s.things = append(s.things, t)
		s.topics = append(s.topics, shadowTopic(t, c.shadowName, "update"))
	}
	s.total = len(s.things) * c.updates
	s.state = make([]atomic.Uint32, s.total)
	s.sentAt = make([]int64, s.total)
	if s.qos > 0 {
		// Packet identifiers are flow-controlled apart from the window:
		// a PUBACK may come after the reply, so allow twice the window,
		// within the broker's MQTT 5 Receive Maximum.
		n := 2 * c.window
		if cn.ack != nil && cn.ack.Properties.ReceiveMaximum > 0 {
			n = min(n, int(cn.ack.Properties.ReceiveMaximum))
		}
		n = min(n, 65535)
		s.ids = make(chan uint16, n)
		s.pidReq = make([]atomic.Int32, n+1)
		for id := 1; id <= n; id++ {
			s.ids <- uint16(id)
		}
	}
	return s
}

// filters returns the topic filters of this connection's subscriptions:
// update/accepted and update/rejected of each thing, or update/+.
func (s *shadowClient) filters(wildcard bool) []string {
	var fs []string
	for _, t := range s.things {
		if wildcard {
			fs = append(fs, shadowTopic(t, s.name, "update/+"))
			continue
		}
		fs = append(fs, shadowTopic(t, s.name, "update/accepted"), shadowTopic(t, s.name, "update/rejected"))
	}
	return fs
}

// subscribe sends filters at qos in SUBSCRIBE packets of at most 8 filters
// (AWS IoT's limit per packet) and waits for each SUBACK. It runs before
// readLoop starts and before any update is sent.
func (s *shadowClient) subscribe(filters []string, qos byte, timeout time.Duration) error {
	c := s.c
	c.nc.SetDeadline(time.Now().Add(timeout))
	defer c.nc.SetDeadline(time.Time{})
	for id := uint16(1); len(filters) > 0; id++ {
		n := min(len(filters), 8)
		sub := &packet.Subscribe{PacketID: id}
		for _, f := range filters[:n] {
			sub.Subscriptions = append(sub.Subscriptions, packet.Subscription{Filter: f, QoS: qos})
		}
		if err := c.send(sub); err != nil {
			return fmt.Errorf("send SUBSCRIBE: %w", err)
		}
		ack, err := s.readSuback()
		if err != nil {
			return err
		}
		if ack.PacketID != id || len(ack.ReasonCodes) != n {
			return fmt.Errorf("SUBACK %d with %d reason codes, want SUBACK %d for %d filters", ack.PacketID, len(ack.ReasonCodes), id, n)
		}
		for i, rc := range ack.ReasonCodes {
			if rc.IsError() {
				return fmt.Errorf("%w: SUBSCRIBE %q: %v (check the IoT policy: iot:Subscribe)", errRefused, filters[i], rc)
			}
		}
		filters = filters[n:]
	}
	return nil
}

// readSuback reads packets until a SUBACK. A reply that comes first (to
// an earlier run's request still in the broker, once a first SUBSCRIBE
// is granted) is acknowledged and counted as readLoop would.
func (s *shadowClient) readSuback() (*packet.Suback, error) {
	for {
		p, err := s.c.r.ReadPacket(s.c.v)
		if err != nil {
			return nil, fmt.Errorf("read SUBACK: %w", err)
		}
		switch m := p.(type) {
		case *packet.Suback:
			return m, nil
		case *packet.Publish:
			if err := s.handlePublish(m, now()); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("got %v, want SUBACK", p.Type())
		}
	}
}

// run sends every request of this connection, each at its due time with
// -rate, waiting for a window slot (and at QoS 1 a packet identifier)
// before each, until all are sent, the connection fails or ctx ends. It
// closes s.done when it returns.
func (s *shadowClient) run(ctx context.Context) {
	defer close(s.done)
	pkt := packet.Publish{QoS: s.qos}
	var tok, body []byte
	n := len(s.things)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for k := range s.total {
		if d := time.Duration(s.due(k) - now()); s.interval > 0 && d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-ctx.Done():
				s.sendErr = ctx.Err()
				return
			case <-s.dead:
				return
			}
		}
		select {
		case s.slots <- struct{}{}:
		case <-ctx.Done():
			s.sendErr = ctx.Err()
			return
		case <-s.dead:
			return // the reader reports why
		}
		pkt.PacketID = 0
		if s.qos > 0 {
			id, err := s.packetID(ctx)
			if err != nil {
				s.sendErr = err
				return
			}
			pkt.PacketID = id
			s.pidReq[id].Store(int32(k + 1))
		}
		tok = appendToken(tok[:0], s.idx, k)
		body = appendUpdate(body[:0], k/n+1, s.filler, tok)
		pkt.Topic, pkt.Payload = s.topics[k%n], body
		s.sentAt[k] = now()
		s.state[k].Store(reqInFlight)
		if err := s.c.send(&pkt); err != nil { // send copies pkt: reusing it is safe
			s.state[k].CompareAndSwap(reqInFlight, reqUnsent)
			s.sendErr = fmt.Errorf("%s: send update: %w", s.c.id, err)
			return
		}
		s.sent.Add(1)
	}
}

// packetID returns a free packet identifier, waiting up to the reply
// timeout for a PUBACK to free one.
func (s *shadowClient) packetID(ctx context.Context) (uint16, error) {
	select {
	case id := <-s.ids:
		return id, nil
	default:
	}
	t := time.NewTimer(s.replyTimeout)
	defer t.Stop()
	select {
	case id := <-s.ids:
		return id, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-s.dead:
		return 0, errConnDead
	case <-t.C:
		return 0, fmt.Errorf("%s: no PUBACK for %d update requests within %v", s.c.id, cap(s.ids), s.replyTimeout)
	}
}

// due returns when request k is due (a now() value) with -rate, or 0.
func (s *shadowClient) due(k int) int64 {
	if s.interval == 0 {
		return 0
	}
	return s.start + int64(s.offset) + int64(k)*int64(s.interval)
}

// resolve moves request k from reqInFlight to state to and frees its
// window slot; it reports false if k had left reqInFlight already.
func (s *shadowClient) resolve(k int, to uint32) bool {
	if !s.state[k].CompareAndSwap(reqInFlight, to) {
		return false
	}
	s.resolved.Add(1)
	<-s.slots
	return true
}

// complete reports whether the sender has stopped and every request it
// sent is resolved.
func (s *shadowClient) complete() bool {
	select {
	case <-s.done:
		return s.resolved.Load() == s.sent.Load()
	default:
		return false
	}
}

// sweep marks the requests sent at or before deadline (a now() value) and
// still in flight missing. Only the run's sweeper goroutine calls it.
func (s *shadowClient) sweep(deadline int64) {
	for sent := int(s.sent.Load()); s.low < sent; s.low++ {
		if s.state[s.low].Load() == reqInFlight {
			if s.sentAt[s.low] > deadline {
				return // later requests were sent later still
			}
			s.resolve(s.low, reqMissing)
		}
	}
}

// readLoop handles the broker's packets until the connection ends:
// replies (acknowledged at QoS 1), PUBACKs of the requests, PINGRESPs.
// It closes s.dead when it returns, which stops the sender.
func (s *shadowClient) readLoop() error {
	defer close(s.dead)
	for {
		pk, err := s.c.r.ReadPacket(s.c.v)
		if err != nil {
			return err
		}
		switch m := pk.(type) {
		case *packet.Publish:
			if err := s.handlePublish(m, now()); err != nil {
				return err
			}
		case *packet.Puback:
			s.puback(m)
		case *packet.Pingresp:
		case *packet.Disconnect:
			return fmt.Errorf("broker sent DISCONNECT: %v %s", m.ReasonCode, m.Properties.ReasonString)
		default:
			s.noteErr(fmt.Errorf("unexpected %v", pk.Type()))
		}
	}
}

// handlePublish acknowledges a message of the service received at t (at
// QoS 1) and matches it to its request.
func (s *shadowClient) handlePublish(m *packet.Publish, t int64) error {
	if m.QoS > 0 {
		if m.QoS == 2 {
			s.noteErr(fmt.Errorf("reply on %s at QoS 2, above the subscription's QoS", m.Topic))
		}
		s.ack.PacketID = m.PacketID
		if err := s.c.send(&s.ack); err != nil {
			return err
		}
	}
	s.reply(m.Topic, m.Payload, t)
	return nil
}

// puback ends the MQTT flow of an update request; a failure reason code
// (MQTT 5, e.g. 0x87 not authorized) means no reply will come.
func (s *shadowClient) puback(a *packet.Puback) {
	if int(a.PacketID) >= len(s.pidReq) || a.PacketID == 0 {
		s.noteErr(fmt.Errorf("PUBACK for packet id %d, never used", a.PacketID))
		return
	}
	k1 := s.pidReq[a.PacketID].Swap(0)
	if k1 == 0 {
		s.noteErr(fmt.Errorf("PUBACK for packet id %d, not in flight", a.PacketID))
		return
	}
	s.ids <- a.PacketID
	if a.ReasonCode.IsError() && s.resolve(int(k1-1), reqRefused) && s.firstRefus == "" {
		s.firstRefus = strings.TrimSpace(fmt.Sprintf("PUBACK %v %s", a.ReasonCode, a.Properties.ReasonString))
	}
}

// reply matches a message from the shadow service, received at t, to its
// request.
func (s *shadowClient) reply(topic string, payload []byte, t int64) {
	r, err := parseShadowReply(topic, payload)
	if err != nil {
		s.noteErr(err)
		return
	}
	if r.Kind == replyOther {
		s.other++
		return
	}
	conn, k, ok := parseToken(r.Token)
	if !ok || conn != s.idx {
		s.foreign++ // another client's update of the same shadow, or an earlier run's
		return
	}
	if k >= s.total || r.Thing != s.things[k%len(s.things)] || r.Name != s.name {
		s.noteErr(fmt.Errorf("reply on %s with clientToken %q, which belongs to another shadow", topic, r.Token))
		return
	}
	to := reqAccepted
	if r.Kind == replyRejected {
		to = reqRejected
	}
	if !s.resolve(k, to) {
		switch st := s.state[k].Load(); st {
		case reqMissing:
			s.late++
		case reqRefused:
			s.noteErr(fmt.Errorf("reply to clientToken %q, whose PUBLISH the broker refused", r.Token))
		case reqUnsent:
			s.noteErr(fmt.Errorf("reply to clientToken %q, not sent yet", r.Token))
		default:
			s.noteErr(fmt.Errorf("second reply (%v) to clientToken %q", r.Kind, r.Token))
		}
		return
	}
	s.lastReply.Store(t)
	if r.Kind == replyAccepted {
		from := s.sentAt[k]
		if s.interval > 0 {
			from = s.due(k)
		}
		s.hist.Record(t - from)
		return
	}
	s.rejected[r.Code]++
	if s.firstRej == "" {
		s.firstRej = fmt.Sprintf("%d %s (thing %s)", r.Code, r.Message, r.Thing)
	}
}

// noteErr counts a contract violation and keeps the first.
func (s *shadowClient) noteErr(err error) {
	s.errs++
	if s.firstErr == nil {
		s.firstErr = fmt.Errorf("%s: %w", s.c.id, err)
	}
}
