package broker

import (
	"context"
	"time"
)

// Refresher is implemented by Permissions that can be recomputed from the
// current state (certificate status, attached policies, thing). The server
// calls Broker.Recheck after a change that may alter them.
type Refresher interface {
	// Refresh recomputes the permissions for the same principal and client
	// id. A refusal means the connection may not go on (its certificate is
	// no longer ACTIVE, or iot:Connect no longer holds).
	Refresh(ctx context.Context) (Permissions, *Refusal)
}

// Recheck re-evaluates every connection whose permissions match: each gets
// fresh permissions, loses the subscriptions it may no longer hold, or is
// closed with the refusal's reason code (MQTT 5 DISCONNECT) when it may not
// stay connected. It returns the number of connections rechecked.
func (b *Broker) Recheck(ctx context.Context, match func(Permissions) bool) int {
	b.mu.Lock()
	var conns []*conn
	for c := range b.conns {
		if p := c.permsV.Load(); p != nil && match(p.p) {
			conns = append(conns, c)
		}
	}
	b.mu.Unlock()
	for _, c := range conns {
		c.recheck(ctx)
	}
	return len(conns)
}

func (c *conn) recheck(ctx context.Context) {
	r, ok := c.permissions().(Refresher)
	if !ok {
		return
	}
	np, ref := r.Refresh(ctx)
	if ref != nil {
		c.b.m.rechecks.WithLabelValues("closed").Inc()
		c.kick(ref.Code, ref.Reason)
		return
	}
	c.setPermissions(np)
	c.b.m.rechecks.WithLabelValues("kept").Inc()
	if n := c.pruneSubscriptions(np); n > 0 {
		c.log().Info("mqtt subscriptions removed after a policy change", "count", n)
	}
}

// pruneSubscriptions removes the session's subscriptions that p no longer
// allows (iot:Subscribe on the filter) and stores the session; it returns
// how many were removed.
func (c *conn) pruneSubscriptions(p Permissions) int {
	s := c.sess
	n := 0
	s.mu.Lock()
	for f := range s.subs {
		if !p.Allow(ActSubscribe, f) {
			delete(s.subs, f)
			c.b.subs.Remove(f, s)
			n++
		}
	}
	s.mu.Unlock()
	if n > 0 {
		if err := s.save(time.Time{}); err != nil {
			c.log().Error("mqtt session not stored", "err", err)
		}
	}
	return n
}
