package broker

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/moat-iot/moat/internal/mqtt/packet"
	"github.com/moat-iot/moat/internal/store"
	"github.com/moat-iot/moat/internal/topic"
)

// RetainedStore persists retained messages. The store package's
// implementations satisfy it through StoreRetained.
type RetainedStore interface {
	// LoadRetained calls fn for every stored retained message.
	LoadRetained(fn func(store.Retained) error) error
	// PutRetained stores r durably before returning.
	PutRetained(r store.Retained) error
	// DeleteRetained removes the message of a topic; a missing one is not
	// an error.
	DeleteRetained(topic string) error
}

// retainedSet is the retained messages of the node, in memory, written
// through to the store.
type retainedSet struct {
	st RetainedStore // nil: memory only

	mu sync.RWMutex
	m  map[string]*message // guarded by mu
}

func newRetainedSet(st RetainedStore) (*retainedSet, error) {
	rs := &retainedSet{st: st, m: map[string]*message{}}
	if st == nil {
		return rs, nil
	}
	now := time.Now()
	err := st.LoadRetained(func(r store.Retained) error {
		if !r.ExpiresAt.IsZero() && !r.ExpiresAt.After(now) {
			return nil
		}
		p, _, err := packet.Decode(r.Properties, packet.V5)
		if err != nil {
			return fmt.Errorf("retained message of %q: %w", r.Topic, err)
		}
		pub, ok := p.(*packet.Publish)
		if !ok {
			return fmt.Errorf("retained message of %q is not a PUBLISH", r.Topic)
		}
		m := newMessage(pub, nil)
		m.received = r.UpdatedAt
		rs.m[r.Topic] = m
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("broker: load retained messages: %w", err)
	}
	return rs, nil
}

// set stores or (for an empty payload) deletes the retained message of
// m's topic; the store write is durable before set returns.
func (rs *retainedSet) set(m *message) error {
	t := m.pub.Topic
	if len(m.pub.Payload) == 0 {
		// [MQTT-3.3.1-6]: an empty retained message deletes.
		if rs.st != nil {
			if err := rs.st.DeleteRetained(t); err != nil {
				return err
			}
		}
		rs.mu.Lock()
		delete(rs.m, t)
		rs.mu.Unlock()
		return nil
	}
	if rs.st != nil {
		enc, err := m.encoded(packet.V5)
		if err != nil {
			return err
		}
		r := store.Retained{Topic: t, Payload: m.pub.Payload, QoS: m.pub.QoS, Properties: enc.Bytes(), UpdatedAt: m.received}
		if exp := m.pub.Properties.MessageExpiry; exp > 0 {
			r.ExpiresAt = m.received.Add(time.Duration(exp) * time.Second)
		}
		if err := rs.st.PutRetained(r); err != nil {
			return err
		}
	}
	rs.mu.Lock()
	rs.m[t] = m
	rs.mu.Unlock()
	return nil
}

// matching returns the retained messages whose topic matches filter (an
// ordinary filter, not $share).
func (rs *retainedSet) matching(filter string, parentMatch bool) []*message {
	rs.mu.RLock()
	defer rs.mu.RUnlock()
	if !strings.ContainsAny(filter, "+#") {
		if m := rs.m[filter]; m != nil {
			return []*message{m}
		}
		return nil
	}
	opts := topic.Options{ParentMatch: parentMatch}
	var out []*message
	for t, m := range rs.m {
		if opts.Match(filter, t) {
			out = append(out, m)
		}
	}
	return out
}

// get returns the retained message of a topic, or nil.
func (rs *retainedSet) get(t string) *message {
	rs.mu.RLock()
	defer rs.mu.RUnlock()
	return rs.m[t]
}

func (rs *retainedSet) len() int {
	rs.mu.RLock()
	defer rs.mu.RUnlock()
	return len(rs.m)
}

func (rs *retainedSet) close() {}

// StoreRetained adapts a store.Store to RetainedStore.
type StoreRetained struct{ Store store.Store }

// LoadRetained reads every retained message, page by page.
func (s StoreRetained) LoadRetained(fn func(store.Retained) error) error {
	ctx := bgctx()
	after := ""
	for {
		var page []store.Retained
		var next string
		err := s.Store.View(ctx, func(tx store.Tx) error {
			var err error
			page, next, err = tx.ListRetained(store.Page{After: after, Limit: 1000})
			return err
		})
		if err != nil {
			return err
		}
		for _, r := range page {
			if err := fn(r); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		after = next
	}
}

// PutRetained stores r in one durable transaction.
func (s StoreRetained) PutRetained(r store.Retained) error {
	return s.Store.Update(bgctx(), func(tx store.Tx) error { return tx.PutRetained(r) })
}

// DeleteRetained removes a topic's retained message.
func (s StoreRetained) DeleteRetained(t string) error {
	return s.Store.Update(bgctx(), func(tx store.Tx) error {
		if err := tx.DeleteRetained(t); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return nil
	})
}
