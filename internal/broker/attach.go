package broker

import (
	"time"

	"github.com/moat-iot/moat/internal/mqtt/packet"
)

// attach binds c to the session of its client id: it closes a connection
// that holds the id (takeover, as AWS IoT does), discards the old session on
// Clean Start, and returns the session and whether it was present. The
// session's stored state is brought in line before attach returns.
func (b *Broker) attach(c *conn, cp *packet.Connect, expiry time.Duration, persistent bool) (*session, bool) {
	s, present, old := b.bind(c, cp, expiry, persistent)
	if old != nil {
		old.forget()
	}
	s.mu.Lock()
	s.certID = c.permissions().Principal()
	s.mu.Unlock()
	if err := s.save(time.Time{}); err != nil {
		c.log().Error("mqtt session not stored", "err", err)
	}
	return s, present
}

// bind does attach's work under the locks; it returns the discarded
// session, whose stored state the caller deletes.
func (b *Broker) bind(c *conn, cp *packet.Connect, expiry time.Duration, persistent bool) (*session, bool, *session) {
	for {
		b.mu.Lock()
		s := b.sessions[c.clientID]
		var old *conn
		if s != nil {
			s.mu.Lock()
			old = s.conn
			if old == nil {
				// The session is free: take it (or replace it).
				present := true
				var discarded *session
				if cp.CleanStart {
					b.discardLocked(s)
					discarded, s = s, nil
				}
				if s == nil {
					s = newSession(b, c.clientID)
					s.mu.Lock()
					b.sessions[c.clientID] = s
					present = false
				}
				b.bindLocked(s, c, cp, expiry, persistent)
				b.conns[c] = struct{}{}
				s.mu.Unlock()
				b.mu.Unlock()
				return s, present, discarded
			}
			s.mu.Unlock()
		} else {
			s = newSession(b, c.clientID)
			s.mu.Lock()
			b.sessions[c.clientID] = s
			b.bindLocked(s, c, cp, expiry, persistent)
			b.conns[c] = struct{}{}
			s.mu.Unlock()
			b.mu.Unlock()
			return s, false, nil
		}
		b.mu.Unlock()
		// Another connection holds the client id: close it and wait until it
		// has let go of the session, then try again.
		old.kick(packet.SessionTakenOver, "another connection with the same client id connected")
		<-old.done
	}
}

// bindLocked attaches c to s. The caller holds b.mu and s.mu.
func (b *Broker) bindLocked(s *session, c *conn, cp *packet.Connect, expiry time.Duration, persistent bool) {
	if s.expTimer != nil {
		s.expTimer.Stop()
		s.expTimer = nil
	}
	s.conn = c
	s.version = c.version
	s.expiry, s.persistent = expiry, persistent
	// The in-flight window towards the client: its Receive Maximum
	// [MQTT-3.3.4-7], capped by the broker's own.
	s.sendQuota = int(b.lim.ReceiveMaximum)
	if c.version == packet.V5 && cp.Properties.ReceiveMaximum > 0 {
		s.sendQuota = min(s.sendQuota, int(cp.Properties.ReceiveMaximum))
	}
	s.will = cp.Will
	s.willDelay = 0
	if cp.Will != nil {
		s.willDelay = time.Duration(cp.Will.Properties.WillDelay) * time.Second
	}
	if s.willTimer != nil {
		// [MQTT-3.1.3-9]: a new connection before the will delay passed
		// cancels the old will.
		s.willTimer.Stop()
		s.willTimer = nil
	}
	c.sess = s
}

// discardLocked removes a session and its subscriptions. The caller holds
// b.mu and s.mu.
func (b *Broker) discardLocked(s *session) {
	for f := range s.subs {
		b.subs.Remove(f, s)
	}
	s.clearLocked()
	s.discarded = true
	if b.sessions[s.id] == s {
		delete(b.sessions, s.id)
	}
	if s.expTimer != nil {
		s.expTimer.Stop()
		s.expTimer = nil
	}
}

// teardown detaches a finished connection from its session: the will is
// published (now or after its delay) unless the client said DISCONNECT, and
// a session that is not persistent is discarded; a persistent one starts
// its expiry timer.
func (c *conn) teardown() {
	c.close()
	b := c.b
	c.mu.Lock()
	graceful := c.graceful
	shutdown := c.kicked && c.kickCode == packet.ServerShuttingDown
	c.mu.Unlock()

	b.mu.Lock()
	delete(b.conns, c)
	s := c.sess
	s.mu.Lock()
	mine := false
	if s.conn == c {
		mine = true
		s.conn = nil
		s.releaseLocked()
		will, delay := s.will, s.willDelay
		s.will = nil
		if will != nil && !graceful && !shutdown {
			if delay > 0 && s.persistent {
				s.willTimer = time.AfterFunc(min(delay, s.expiry), func() { b.publishWill(s, will, c.permissions()) })
			} else {
				go b.publishWill(nil, will, c.permissions())
			}
		}
		if !s.persistent {
			b.discardLocked(s)
		} else if !shutdown {
			exp := s.expiry
			s.expTimer = time.AfterFunc(exp, func() { b.expire(s) })
		}
	}
	persistent, discarded := s.persistent, s.discarded
	s.mu.Unlock()
	b.mu.Unlock()
	if mine {
		// Store what outlives the connection (or delete what does not)
		// before a takeover waiting on c.done goes on.
		if persistent && !discarded {
			if err := s.save(time.Now().UTC()); err != nil {
				c.log().Error("mqtt session not stored", "err", err)
			}
		} else {
			s.forget()
		}
	}
	b.m.connections.Dec()
	close(c.done)
}

// expire discards a persistent session whose expiry passed while offline.
func (b *Broker) expire(s *session) {
	b.mu.Lock()
	s.mu.Lock()
	if s.conn != nil || s.discarded {
		s.mu.Unlock()
		b.mu.Unlock()
		return
	}
	b.log.Debug("mqtt session expired", "client_id", s.id)
	b.discardLocked(s)
	s.mu.Unlock()
	b.mu.Unlock()
	s.forget()
}

// publishWill publishes a will message, checking the connection's
// permissions again (a policy may have changed since CONNECT). s, when set,
// is the session whose will timer fired: it is skipped if a connection came
// back.
func (b *Broker) publishWill(s *session, w *packet.Will, perms Permissions) {
	if s != nil {
		s.mu.Lock()
		back := s.conn != nil
		s.willTimer = nil
		s.mu.Unlock()
		if back {
			return
		}
	}
	if !perms.Allow(ActPublish, w.Topic) || (w.Retain && !perms.Allow(ActRetainPublish, w.Topic)) {
		b.m.denied.WithLabelValues(ActPublish.String()).Inc()
		b.log.Info("mqtt will not published: denied", "topic", w.Topic, "principal", perms.Principal())
		return
	}
	p := &packet.Publish{QoS: w.QoS, Retain: w.Retain, Topic: w.Topic, Payload: w.Payload}
	p.Properties = w.Properties
	p.Properties.WillDelay = 0
	b.publish(newMessage(p, nil))
}
