package broker

import (
	"strconv"
	"sync"
	"time"

	"github.com/moat-iot/moat/internal/mqtt/packet"
	"github.com/moat-iot/moat/internal/topic"
)

// onPublish handles a PUBLISH from the client. It reports whether to keep
// reading.
func (c *conn) onPublish(p *packet.Publish) bool {
	b := c.b
	lim := b.lim
	b.m.receivedQ[p.QoS].Inc()
	if p.QoS > lim.MaxQoS {
		// AWS IoT (and MaxQoS 1) does not take QoS 2.
		c.protocolError(packet.QoSNotSupported, "QoS 2 is not supported")
		return false
	}
	if c.version == packet.V5 {
		if len(p.Properties.SubscriptionIDs) > 0 {
			c.protocolError(packet.ProtocolError, "a client PUBLISH carries a subscription identifier") // [MQTT-3.3.4-6]
			return false
		}
		if !c.resolveAlias(p) {
			return false
		}
	}
	if c.rate.limited() {
		b.m.dropped.WithLabelValues("rate").Inc()
		if c.version == packet.V5 && p.QoS > 0 {
			c.ack(p, packet.QuotaExceeded, "publish rate over the limit")
			return true
		}
		c.protocolError(packet.MessageRateTooHigh, "publish rate over the limit")
		return false
	}
	if err := topic.ValidateName(p.Topic, lim.Topic); err != nil {
		c.protocolError(packet.TopicNameInvalid, "topic name is not valid: "+err.Error())
		return false
	}
	if !c.permissions().Allow(ActPublish, p.Topic) || (p.Retain && !c.permissions().Allow(ActRetainPublish, p.Topic)) {
		action := ActPublish
		if p.Retain && c.permissions().Allow(ActPublish, p.Topic) {
			action = ActRetainPublish
		}
		c.denied(action, p.Topic)
		if c.version != packet.V5 {
			// 3.1.1 has no way to refuse one PUBLISH: AWS closes the
			// connection.
			c.kick(packet.NotAuthorized, "not authorized to publish to the topic")
			return false
		}
		if p.QoS > 0 {
			c.ack(p, packet.NotAuthorized, "not authorized: "+action.String()+" on the topic")
		}
		return true
	}

	if p.QoS == 2 {
		s := c.sess
		s.mu.Lock()
		if s.qos2in == nil {
			s.qos2in = map[uint16]struct{}{}
		}
		_, dup := s.qos2in[p.PacketID]
		if !dup && len(s.qos2in) >= int(lim.ReceiveMaximum) {
			s.mu.Unlock()
			c.protocolError(packet.ReceiveMaximumExceeded, "more QoS 2 messages in flight than Receive Maximum")
			return false
		}
		s.qos2in[p.PacketID] = struct{}{}
		s.mu.Unlock()
		if dup {
			// Already routed: acknowledge again only [MQTT-4.3.3-10].
			c.sendControl(&packet.Pubrec{PacketID: p.PacketID})
			return true
		}
	}
	p.Dup = false
	m := newMessage(p, c.sess)
	code := b.publish(m)
	if p.QoS > 0 {
		c.ack(p, code, "")
	}
	if ch := m.congestion(); ch != nil {
		// Backpressure: a subscriber's queue is over its high water mark;
		// read this publisher's next packet once it drained, or after
		// backpressureWait at most (then the queue drops what overflows).
		t := time.NewTimer(backpressureWait)
		select {
		case <-ch:
		case <-t.C:
		}
		t.Stop()
	}
	return true
}

// backpressureWait bounds how long a publisher waits for a slow
// subscriber.
const backpressureWait = time.Second

// ack sends PUBACK or PUBREC for p with the reason code.
func (c *conn) ack(p *packet.Publish, code packet.ReasonCode, reason string) {
	var pr packet.Properties
	if c.version == packet.V5 {
		pr.ReasonString = reason
	}
	if p.QoS == 1 {
		c.sendControl(&packet.Puback{PacketID: p.PacketID, ReasonCode: code, Properties: pr})
		return
	}
	if code.IsError() {
		// A refused QoS 2 message is not awaiting PUBREL.
		c.sess.mu.Lock()
		delete(c.sess.qos2in, p.PacketID)
		c.sess.mu.Unlock()
	}
	c.sendControl(&packet.Pubrec{PacketID: p.PacketID, ReasonCode: code, Properties: pr})
}

// onPubrel completes an inbound QoS 2 exchange.
func (c *conn) onPubrel(p *packet.Pubrel) {
	s := c.sess
	s.mu.Lock()
	_, ok := s.qos2in[p.PacketID]
	delete(s.qos2in, p.PacketID)
	s.mu.Unlock()
	code := packet.Success
	if !ok {
		code = packet.PacketIdentifierNotFound
	}
	c.sendControl(&packet.Pubcomp{PacketID: p.PacketID, ReasonCode: code})
}

// resolveAlias applies MQTT 5 topic aliases of an incoming PUBLISH: a topic
// with an alias sets it, an empty topic with an alias uses it.
func (c *conn) resolveAlias(p *packet.Publish) bool {
	a := p.Properties.TopicAlias
	if a == 0 {
		return true
	}
	if a > c.b.lim.TopicAliasMaximum {
		c.protocolError(packet.TopicAliasInvalid, "topic alias "+strconv.Itoa(int(a))+" is over Topic Alias Maximum") // [MQTT-3.3.2-9]
		return false
	}
	if p.Topic == "" {
		t, ok := c.aliases[a]
		if !ok {
			c.protocolError(packet.ProtocolError, "unknown topic alias "+strconv.Itoa(int(a))) // [MQTT-3.3.4-9]
			return false
		}
		p.Topic = t
	} else {
		if c.aliases == nil {
			c.aliases = map[uint16]string{}
		}
		c.aliases[a] = p.Topic
	}
	p.Properties.TopicAlias = 0
	return true
}

var results = sync.Pool{New: func() any { return new(topic.Result[*session, subOpts]) }}

// publish routes a message: retained store first (an acknowledged retained
// publish is durable), then every matching subscription. It returns the
// reason code for the publisher's acknowledgement.
func (b *Broker) publish(m *message) packet.ReasonCode {
	p := m.pub
	if p.Retain {
		if err := b.retained.set(m); err != nil {
			b.log.Error("mqtt retained message not stored", "topic", p.Topic, "err", err)
			return packet.UnspecifiedError
		}
	}
	r := results.Get().(*topic.Result[*session, subOpts])
	b.subs.Match(p.Topic, r)
	matched := len(r.Subs) + len(r.Groups)
	b.fanout(m, r)
	r.Reset()
	results.Put(r)
	matched += b.serve(m)
	if matched == 0 {
		return packet.NoMatchingSubscribers
	}
	return packet.Success
}

// delivery is what one session gets of one message.
type delivery struct {
	s      *session
	qos    byte
	retain bool
	ids    []uint32
}

var deliveries = sync.Pool{New: func() any { return new([]delivery) }}

// fanout delivers m to each session once: overlapping subscriptions of one
// session are merged (highest QoS, every subscription identifier), shared
// groups deliver to one member.
func (b *Broker) fanout(m *message, r *topic.Result[*session, subOpts]) {
	p := m.pub
	dp := deliveries.Get().(*[]delivery)
	ds := (*dp)[:0]
	var index map[*session]int
	if len(r.Subs) > 16 {
		index = make(map[*session]int, len(r.Subs))
	}
	for _, sub := range r.Subs {
		s, o := sub.Key, sub.Value
		if o.noLocal && s == m.from {
			continue
		}
		qos, retain := min(p.QoS, o.qos), p.Retain && o.rap
		at := -1
		if index != nil {
			if i, ok := index[s]; ok {
				at = i
			}
		} else {
			for i := range ds {
				if ds[i].s == s {
					at = i
					break
				}
			}
		}
		if at < 0 {
			d := delivery{s: s, qos: qos, retain: retain}
			if o.id != 0 {
				d.ids = []uint32{o.id}
			}
			if index != nil {
				index[s] = len(ds)
			}
			ds = append(ds, d)
			continue
		}
		d := &ds[at]
		d.qos = max(d.qos, qos)
		d.retain = d.retain || retain
		if o.id != 0 {
			d.ids = append(d.ids, o.id)
		}
	}
	var durable []pendingStore
	for i := range ds {
		if om := ds[i].s.deliver(m, ds[i].qos, ds[i].retain, ds[i].ids); om != nil {
			durable = append(durable, pendingStore{ds[i].s, om})
		}
	}
	clear(ds)
	*dp = ds[:0]
	deliveries.Put(dp)

	for _, g := range r.Groups {
		n := len(g.Members)
		start := g.Next()
		for k := 0; k < n; k++ {
			mem := g.Members[(start+k)%n]
			if !mem.Key.online() && k < n-1 {
				continue // prefer a connected member
			}
			var ids []uint32
			if mem.Value.id != 0 {
				ids = []uint32{mem.Value.id}
			}
			if om := mem.Key.deliver(m, min(p.QoS, mem.Value.qos), false, ids); om != nil {
				durable = append(durable, pendingStore{mem.Key, om})
			}
			break
		}
	}
	if len(durable) > 0 {
		// Written before the publisher's acknowledgement.
		b.enqueueDurably(durable)
	}
}

// online reports whether the session has a connection.
func (s *session) online() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conn != nil
}

// Publish routes a message from moat itself (shadows, rules, events,
// HTTPS publish), with the same fan-out and receive checks as a client's.
func (b *Broker) Publish(p *packet.Publish) packet.ReasonCode {
	q := *p
	q.Dup, q.PacketID = false, 0
	return b.publish(newMessage(&q, nil))
}
