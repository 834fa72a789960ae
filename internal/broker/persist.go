package broker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/moat-iot/moat/internal/mqtt/packet"
	"github.com/moat-iot/moat/internal/store"
)

// Persistence of MQTT sessions. A persistent session (3.1.1 Clean Session
// 0; MQTT 5 Session Expiry > 0) is written to the store when it is created,
// when its subscriptions change (before SUBACK/UNSUBACK) and when its
// connection ends; it is deleted when it is discarded. QoS 1/2 messages
// owed to a persistent session are written before the publisher's
// PUBACK/PUBREC, in one store transaction per publish; acknowledgements
// delete them in the background (a crash before that redelivers them, which
// QoS 1 and 2 allow: they are sent again with DUP set). On start, stored
// sessions are loaded, their subscriptions restored and their messages
// queued; sessions whose expiry passed while the broker was down are
// deleted.
//
// Ordering: the store operations of one client id (save, delete, ack) run
// under its plock, so they reach the store in the order the broker made
// them; other sessions do not wait, and the store's group commit batches
// their transactions.

// sessionStore is what persistence needs of the store.
type sessionStore struct{ st store.Store }

func (p sessionStore) update(fn func(tx store.Tx) error) error {
	return p.st.Update(context.Background(), fn)
}

// snapshotLocked is the stored form of s. The caller holds s.mu.
func (s *session) snapshotLocked(disconnectedAt time.Time) store.Session {
	ss := store.Session{
		ClientID: s.id, ProtocolVersion: byte(s.version), ExpiryInterval: uint32(s.expiry / time.Second),
		DisconnectedAt: disconnectedAt, CertificateID: s.certID, CreatedAt: s.created, UpdatedAt: time.Now().UTC(),
	}
	for f, o := range s.subs {
		ss.Subscriptions = append(ss.Subscriptions, store.Subscription{Filter: f, QoS: o.qos, NoLocal: o.noLocal,
			RetainAsPublished: o.rap, RetainHandling: o.rh, Identifier: o.id})
	}
	return ss
}

// save writes the session's state, or deletes it when it is no longer
// persistent or was discarded.
func (s *session) save(disconnectedAt time.Time) error {
	b := s.b
	if b.persist == nil {
		return nil
	}
	l := b.plock(s.id)
	l.Lock()
	defer l.Unlock()
	s.mu.Lock()
	keep := s.persistent && !s.discarded
	ss := s.snapshotLocked(disconnectedAt)
	s.mu.Unlock()
	if !keep {
		if !s.stored {
			return nil // nothing stored: a clean session costs no write
		}
		err := b.persist.update(func(tx store.Tx) error {
			if err := tx.DeleteSession(s.id); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			return nil
		})
		if err == nil {
			s.stored = false
		}
		return err
	}
	err := b.persist.update(func(tx store.Tx) error { return tx.PutSession(ss) })
	if err == nil {
		s.stored = true
	}
	return err
}

// forget deletes a discarded session's stored state. Callers call it after
// releasing their locks and before anything else is stored for the client
// id, so the delete cannot overtake a later save.
func (s *session) forget() {
	if s.b.persist == nil {
		return
	}
	if err := s.save(time.Time{}); err != nil {
		s.b.log.Error("mqtt session not deleted from the store", "client_id", s.id, "err", err)
	}
}

// plock is the lock that orders the store operations of one client id.
// Striped: client ids share 256 locks, which bounds memory and still lets
// unrelated sessions' writes be batched by the store.
func (b *Broker) plock(clientID string) *sync.Mutex {
	h := uint32(2166136261)
	for i := 0; i < len(clientID); i++ {
		h = (h ^ uint32(clientID[i])) * 16777619
	}
	return &b.plocks[h%uint32(len(b.plocks))]
}

// pendingStore is a message owed to a persistent session that must be
// written before it is queued.
type pendingStore struct {
	s  *session
	om *outMsg
}

// enqueueDurably writes messages owed to persistent sessions in one
// transaction, then hands them to their sessions. A session deleted
// meanwhile loses its message.
func (b *Broker) enqueueDurably(ps []pendingStore) {
	msgs := make([]store.QueuedMessage, len(ps))
	now := time.Now().UTC()
	for i, p := range ps {
		enc, err := p.om.m.encoded(packet.V5)
		if err != nil {
			b.log.Error("mqtt encode failed", "topic", p.om.m.pub.Topic, "err", err)
			continue
		}
		q := store.QueuedMessage{ClientID: p.s.id, Topic: p.om.m.pub.Topic, Payload: p.om.m.pub.Payload, QoS: p.om.qos,
			Retain: p.om.retain, Properties: enc.Bytes(), CreatedAt: now}
		if exp := p.om.m.pub.Properties.MessageExpiry; exp > 0 {
			q.ExpiresAt = p.om.m.received.Add(time.Duration(exp) * time.Second)
		}
		msgs[i] = q
	}
	var out []store.QueuedMessage
	err := b.persist.update(func(tx store.Tx) error {
		var err error
		out, err = tx.EnqueueMessages(msgs)
		return err
	})
	if errors.Is(err, store.ErrNotFound) && len(ps) > 1 {
		// A session went away meanwhile: write the others one by one.
		for i := range ps {
			b.enqueueDurably(ps[i : i+1])
		}
		return
	}
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			b.log.Error("mqtt queued messages not stored", "err", err)
		}
		b.m.dropped.WithLabelValues("store").Add(float64(len(ps)))
		return
	}
	for i, p := range ps {
		p.om.seq = out[i].Seq
		p.s.admit(p.om)
	}
}

// ackStored deletes acknowledged messages of a persistent session, batched
// in the background.
func (s *session) ackStored(seq int64) {
	if s.b.persist == nil || seq == 0 {
		return
	}
	s.ackMu.Lock()
	s.acks = append(s.acks, seq)
	start := !s.acking
	s.acking = true
	s.ackMu.Unlock()
	if start {
		go s.flushAcks()
	}
}

func (s *session) flushAcks() {
	for {
		s.ackMu.Lock()
		seqs := s.acks
		s.acks = nil
		if len(seqs) == 0 {
			s.acking = false
			s.ackMu.Unlock()
			return
		}
		s.ackMu.Unlock()
		l := s.b.plock(s.id)
		l.Lock()
		err := s.b.persist.update(func(tx store.Tx) error { return tx.DeleteQueuedMessages(s.id, seqs) })
		l.Unlock()
		if err != nil {
			s.b.log.Error("mqtt acknowledged messages not deleted from the store", "client_id", s.id, "err", err)
		}
	}
}

// loadSessions restores stored sessions: subscriptions into the trie,
// queued messages into their queues; expired sessions are deleted.
func (b *Broker) loadSessions() error {
	ctx := context.Background()
	now := time.Now()
	after := ""
	var expired []string
	for {
		var page []store.Session
		var next string
		err := b.persist.st.View(ctx, func(tx store.Tx) error {
			var err error
			page, next, err = tx.ListSessions(store.Page{After: after, Limit: 500})
			return err
		})
		if err != nil {
			return err
		}
		for _, ss := range page {
			exp := time.Duration(ss.ExpiryInterval) * time.Second
			discAt := ss.DisconnectedAt
			if discAt.IsZero() {
				discAt = ss.UpdatedAt // the broker stopped while it was connected
			}
			if !now.Before(discAt.Add(exp)) {
				expired = append(expired, ss.ClientID)
				continue
			}
			if err := b.restore(ss, discAt.Add(exp).Sub(now)); err != nil {
				return fmt.Errorf("session %q: %w", ss.ClientID, err)
			}
		}
		if next == "" {
			break
		}
		after = next
	}
	for _, id := range expired {
		err := b.persist.update(func(tx store.Tx) error {
			if err := tx.DeleteSession(id); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if len(expired) > 0 {
		b.log.Info("mqtt expired sessions deleted", "count", len(expired))
	}
	return nil
}

// restore rebuilds one stored session, offline, expiring after left.
func (b *Broker) restore(ss store.Session, left time.Duration) error {
	s := newSession(b, ss.ClientID)
	s.version = packet.Version(ss.ProtocolVersion)
	s.persistent, s.expiry = true, time.Duration(ss.ExpiryInterval)*time.Second
	s.certID, s.created = ss.CertificateID, ss.CreatedAt
	s.stored = true
	s.sendQuota = int(b.lim.ReceiveMaximum)
	for _, sub := range ss.Subscriptions {
		o := subOpts{qos: sub.QoS, noLocal: sub.NoLocal, rap: sub.RetainAsPublished, rh: sub.RetainHandling, id: sub.Identifier}
		if _, err := b.subs.Insert(sub.Filter, s, o); err != nil {
			return err
		}
		if s.subs == nil {
			s.subs = map[string]subOpts{}
		}
		s.subs[sub.Filter] = o
	}
	after := int64(0)
	for {
		var qs []store.QueuedMessage
		err := b.persist.st.View(context.Background(), func(tx store.Tx) error {
			var err error
			qs, err = tx.QueuedMessages(ss.ClientID, after, 1000)
			return err
		})
		if err != nil {
			return err
		}
		for _, q := range qs {
			after = q.Seq
			p, _, err := packet.Decode(q.Properties, packet.V5)
			if err != nil {
				return fmt.Errorf("queued message %d: %w", q.Seq, err)
			}
			pub, ok := p.(*packet.Publish)
			if !ok {
				return fmt.Errorf("queued message %d is not a PUBLISH", q.Seq)
			}
			m := newMessage(pub, nil)
			m.received = q.CreatedAt
			s.pending = append(s.pending, &outMsg{m: m, qos: q.QoS, retain: q.Retain, seq: q.Seq})
		}
		if len(qs) < 1000 {
			break
		}
	}
	s.expTimer = time.AfterFunc(left, func() { b.expire(s) })
	b.mu.Lock()
	b.sessions[s.id] = s
	b.mu.Unlock()
	return nil
}
