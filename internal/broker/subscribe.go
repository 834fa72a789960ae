package broker

import (
	"strings"
	"time"

	"github.com/moat-iot/moat/internal/mqtt/packet"
	"github.com/moat-iot/moat/internal/topic"
)

// grant is the outcome of one filter of a SUBSCRIBE.
type grant struct {
	filter   string
	code     packet.ReasonCode
	retained []*message // retained messages to send after the SUBACK
	qos      byte
	ids      []uint32
}

// onSubscribe handles a SUBSCRIBE: each filter is validated, authorized
// (iot:Subscribe on the filter as sent, $share prefix included) and counted
// on its own; refused filters do not affect the others. Retained messages
// follow the SUBACK. It reports whether to keep reading.
func (c *conn) onSubscribe(p *packet.Subscribe) bool {
	b, s, lim := c.b, c.sess, c.b.lim
	var subID uint32
	if len(p.Properties.SubscriptionIDs) > 0 {
		subID = p.Properties.SubscriptionIDs[0]
	}
	grants := make([]grant, len(p.Subscriptions))
	for i, sub := range p.Subscriptions {
		g := &grants[i]
		g.filter = sub.Filter
		if lim.MaxFiltersPerSubscribe > 0 && i >= lim.MaxFiltersPerSubscribe {
			g.code = packet.QuotaExceeded
			continue
		}
		if err := topic.ValidateFilter(sub.Filter, lim.Topic); err != nil || strings.HasPrefix(sub.Filter, topic.BasicIngestPrefix) {
			g.code = packet.TopicFilterInvalid
			continue
		}
		_, inner, shared, _ := topic.ParseShared(sub.Filter)
		if shared && sub.NoLocal {
			c.protocolError(packet.ProtocolError, "No Local on a shared subscription") // [MQTT-3.8.3-4]
			return false
		}
		if !c.permissions().Allow(ActSubscribe, sub.Filter) {
			c.denied(ActSubscribe, sub.Filter)
			g.code = packet.NotAuthorized
			continue
		}
		qos := min(sub.QoS, lim.MaxQoS)
		opts := subOpts{qos: qos, noLocal: sub.NoLocal, rap: sub.RetainAsPublished, rh: sub.RetainHandling, id: subID}
		s.mu.Lock()
		_, had := s.subs[sub.Filter]
		if !had && lim.MaxSubscriptionsPerConnection > 0 && len(s.subs) >= lim.MaxSubscriptionsPerConnection {
			s.mu.Unlock()
			g.code = packet.QuotaExceeded
			continue
		}
		existed, err := b.subs.Insert(sub.Filter, s, opts)
		if err != nil {
			s.mu.Unlock()
			g.code = packet.TopicFilterInvalid
			continue
		}
		if s.subs == nil {
			s.subs = map[string]subOpts{}
		}
		s.subs[sub.Filter] = opts
		s.mu.Unlock()
		g.code, g.qos = packet.ReasonCode(qos), qos
		if subID != 0 {
			g.ids = []uint32{subID}
		}
		// Retained messages: not for shared subscriptions; by Retain
		// Handling (0: always, 1: new subscriptions only, 2: never).
		wild := strings.ContainsAny(inner, "+#")
		if !shared && (sub.RetainHandling == 0 || (sub.RetainHandling == 1 && !existed)) && (!wild || lim.RetainedOnWildcard) {
			g.retained = b.retained.matching(inner, lim.ParentMatch)
		}
	}
	ack := &packet.Suback{PacketID: p.PacketID, ReasonCodes: make([]packet.ReasonCode, len(grants))}
	for i, g := range grants {
		ack.ReasonCodes[i] = g.code
	}
	c.saveSession()
	c.sendControl(ack)
	var durable []pendingStore
	for _, g := range grants {
		for _, m := range g.retained {
			if om := s.deliver(m, min(m.pub.QoS, g.qos), true, g.ids); om != nil { // [MQTT-3.3.1-9]: RETAIN set
				durable = append(durable, pendingStore{s, om})
			}
		}
	}
	if len(durable) > 0 {
		b.enqueueDurably(durable)
	}
	return true
}

// saveSession writes a persistent session's subscriptions before they are
// acknowledged.
func (c *conn) saveSession() {
	if err := c.sess.save(time.Time{}); err != nil {
		c.log().Error("mqtt session not stored", "err", err)
	}
}

// onUnsubscribe removes subscriptions.
func (c *conn) onUnsubscribe(p *packet.Unsubscribe) {
	s := c.sess
	ack := &packet.Unsuback{PacketID: p.PacketID, ReasonCodes: make([]packet.ReasonCode, len(p.Filters))}
	s.mu.Lock()
	for i, f := range p.Filters {
		if _, ok := s.subs[f]; ok {
			delete(s.subs, f)
			c.b.subs.Remove(f, s)
			ack.ReasonCodes[i] = packet.Success
		} else {
			ack.ReasonCodes[i] = packet.NoSubscriptionExisted
		}
	}
	s.mu.Unlock()
	c.saveSession()
	c.sendControl(ack)
}
