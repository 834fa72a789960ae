package broker

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/moat-iot/moat/internal/mqtt/packet"
	"github.com/moat-iot/moat/internal/topic"
)

// Inbound is a published message as a moat service (the shadow service,
// later the rules engine and jobs) receives it. It shares the message's
// memory with the fan-out: a handler must treat every field as read-only
// and copy what it keeps.
type Inbound struct {
	Topic   string
	Payload []byte
	QoS     byte
	Retain  bool
	// ClientID is the publishing MQTT client; "" for a will and for a
	// message from moat itself (HTTPS publish, another service).
	ClientID string
	// Properties are the MQTT 5 publish properties as published (response
	// topic, correlation data, user properties, ...); the zero value for a
	// 3.1.1 publisher.
	Properties *packet.Properties
	// Principal names the publisher's identity as the broker's Gate named
	// it ("cert/<id>" for a device certificate); "" with ClientID.
	Principal string
	// Received is when the broker took the message.
	Received time.Time
	// Hops counts how many times in a row a moat service made this
	// message out of another (a rule's republish of a republish...):
	// 0 for a client's message. Services bound it to stop loops.
	Hops int
}

// Handler handles messages for a service. It runs in the publisher's
// goroutine after the publish was authorized, so it must not block for
// long: a service hands the work to its own goroutines, and may wait a
// bounded while when they are behind, holding that publisher back
// (backpressure) rather than losing its messages. A handler never sees a
// message its own publishes would deliver back to it unless its filters
// match them.
type Handler func(Inbound)

// services are the handlers moat's own services registered with Handle;
// they are matched against every routed message besides the clients'
// subscriptions.
type services struct {
	trie *topic.Trie[*serviceSub, struct{}]
	n    atomic.Int32 // registered handlers: publish skips the match when 0
	mu   sync.Mutex
}

type serviceSub struct{ h Handler }

var errSharedService = errors.New("broker: a service cannot use a shared subscription")

var serviceResults = sync.Pool{New: func() any { return new(topic.Result[*serviceSub, struct{}]) }}

// Handle registers h for messages whose topic matches filter (wildcards
// allowed, no shared subscriptions), whoever published them: clients over
// MQTT (after their iot:Publish check), HTTPS publish, and moat itself.
// Registering is how a service becomes a client of the broker: the
// replies it publishes with Publish go through the same fan-out and
// receive checks as anybody's. The returned function unregisters h.
func (b *Broker) Handle(filter string, h Handler) (unregister func(), err error) {
	if _, _, shared, err := topic.ParseShared(filter); err != nil {
		return nil, err
	} else if shared {
		return nil, errSharedService
	}
	sub := &serviceSub{h: h}
	b.svc.mu.Lock()
	defer b.svc.mu.Unlock()
	if _, err := b.svc.trie.Insert(filter, sub, struct{}{}); err != nil {
		return nil, err
	}
	b.svc.n.Add(1)
	var once sync.Once
	return func() {
		once.Do(func() {
			b.svc.mu.Lock()
			defer b.svc.mu.Unlock()
			if b.svc.trie.Remove(filter, sub) {
				b.svc.n.Add(-1)
			}
		})
	}, nil
}

// serve hands m to the services whose filters match its topic and returns
// how many there were.
func (b *Broker) serve(m *message) int {
	if b.svc.n.Load() == 0 {
		return 0
	}
	p := m.pub
	r := serviceResults.Get().(*topic.Result[*serviceSub, struct{}])
	b.svc.trie.Match(p.Topic, r)
	n := len(r.Subs)
	if n > 0 {
		in := Inbound{Topic: p.Topic, Payload: p.Payload, QoS: p.QoS, Retain: p.Retain,
			Properties: &p.Properties, Received: m.received}
		in.Hops = int(m.hops)
		if m.from != nil {
			in.ClientID = m.from.id
			m.from.mu.Lock()
			in.Principal = m.from.certID
			m.from.mu.Unlock()
		}
		for _, s := range r.Subs {
			s.Key.h(in)
		}
	}
	r.Reset()
	serviceResults.Put(r)
	return n
}

// PublishDerived is Publish for a message a service made out of another
// one (Inbound.Hops of that one, plus one): services see the count and
// stop loops. Like a client's publish, and unlike Publish, it waits (up to
// a second) while a subscriber it delivered to is over its queue's high
// water mark, so that a service relaying a client's messages (a rule's
// republish) passes the subscriber's pace back instead of overflowing it.
func (b *Broker) PublishDerived(p *packet.Publish, hops int) packet.ReasonCode {
	q := *p
	q.Dup, q.PacketID = false, 0
	m := newMessage(&q, nil)
	m.hops = uint8(min(max(hops, 0), 255))
	code := b.publish(m)
	if ch := m.congestion(); ch != nil {
		t := time.NewTimer(backpressureWait)
		select {
		case <-ch:
		case <-t.C:
		}
		t.Stop()
	}
	return code
}
