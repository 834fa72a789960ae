// Package broker is moat's MQTT 3.1.1/5 broker: sessions, QoS 0/1/2 with
// in-flight windows, retained messages, wills, keep-alive, client-id
// takeover, topic aliases, shared subscriptions, and a bounded outbound
// queue per client. Authentication and authorization are not its own: every
// CONNECT goes through a Gate and every publish, subscribe and delivery is
// checked against the connection's Permissions.
//
// # Goroutines and memory
//
// A connection has one goroutine, its reader, while idle. The TLS handshake
// and the CONNECT run in a short-lived goroutine of their own, so that the
// reader starts with a small stack, and the reader borrows its read buffer
// only while a packet is being read (packet.NewPooledReader). After a burst
// of connections the broker returns the handshakes' garbage to the OS
// (memory.go). Writes go through the connection's queue; a writer goroutine
// is started when the queue goes from empty to non-empty and exits when it
// has drained it, taking its write buffer from a pool and giving it back,
// so an idle connection holds no write buffer and no second goroutine. A
// PUBLISH is encoded once per protocol version and the encoding is shared
// by every subscriber (packet.SharedPublish).
//
// # Transports
//
// Serve runs the broker's own MQTT-over-TLS listener (TransportTLS), whose
// idle connections park without a goroutine (idle.go). ServeConn takes a
// connection another server established: MQTT over WebSocket
// (internal/wsmqtt) and MQTT on the HTTPS port by ALPN. Such a connection
// keeps its reader goroutine while idle; everything else (admission
// control, limits, keep-alive, takeover, rechecks, expiry, shutdown) is
// the same, and the Gate is told the transport (ConnInfo.Transport) and
// any principal the transport already authenticated.
//
// # Locks
//
// Lock order: Broker.mu, then session.mu, then conn.mu. conn.mu is a leaf
// (nothing is called under it but appends to the queue). The subscription
// trie and the retained store have their own locks and call nothing while
// holding them. Fan-out holds no broker lock: it matches the trie, then
// takes each subscriber's session.mu in turn.
package broker

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/moat-iot/moat/internal/mqtt/packet"
	"github.com/moat-iot/moat/internal/store"
	"github.com/moat-iot/moat/internal/topic"
)

// Options configure a Broker.
type Options struct {
	Limits Limits
	Gate   Gate
	Logger *slog.Logger
	// Retained persists retained messages; nil keeps them in memory only.
	Retained RetainedStore
	// Sessions persists persistent sessions and the QoS 1/2 messages owed
	// to them; nil keeps them in memory only.
	Sessions store.Store
	// Registerer receives the broker's metrics; nil means none.
	Registerer prometheus.Registerer
}

// Broker is one node's MQTT broker.
type Broker struct {
	lim  Limits
	gate Gate
	log  *slog.Logger

	subs     *topic.Trie[*session, subOpts]
	retained *retainedSet
	svc      services
	persist  *sessionStore // nil: sessions in memory only
	plocks   [256]sync.Mutex
	m        *metrics

	mu       sync.Mutex
	sessions map[string]*session // guarded by mu
	conns    map[*conn]struct{}  // guarded by mu
	closing  bool                // guarded by mu

	handshakes chan struct{} // admission: one token per handshake in progress
	mem        memRelease    // memory release after connection bursts (memory.go)
	wg         sync.WaitGroup
	listeners  []net.Listener // guarded by mu
	stopped    atomic.Bool
}

// New returns a broker. It loads retained messages from the store.
func New(opts Options) (*Broker, error) {
	if err := opts.Limits.Validate(); err != nil {
		return nil, err
	}
	if opts.Gate == nil {
		return nil, errors.New("broker: a Gate is required")
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	b := &Broker{
		lim: opts.Limits, gate: opts.Gate, log: log,
		subs:       topic.NewTrie[*session, subOpts](&topic.Options{ParentMatch: opts.Limits.ParentMatch}),
		sessions:   map[string]*session{},
		conns:      map[*conn]struct{}{},
		handshakes: make(chan struct{}, opts.Limits.MaxConcurrentHandshakes),
		m:          newMetrics(opts.Registerer),
	}
	b.svc.trie = topic.NewTrie[*serviceSub, struct{}](&topic.Options{ParentMatch: opts.Limits.ParentMatch})
	rs, err := newRetainedSet(opts.Retained)
	if err != nil {
		return nil, err
	}
	b.retained = rs
	if opts.Sessions != nil {
		b.persist = &sessionStore{st: opts.Sessions}
		if err := b.loadSessions(); err != nil {
			return nil, fmt.Errorf("broker: load sessions: %w", err)
		}
	}
	return b, nil
}

// Serve accepts MQTT-over-TLS connections on ln until the broker is shut
// down. ln is a plain TCP listener; cfg is the TLS configuration (client
// certificates required). Serve returns nil after Shutdown.
func (b *Broker) Serve(ln net.Listener, cfg *tls.Config) error {
	b.mu.Lock()
	if b.closing {
		b.mu.Unlock()
		return errors.New("broker: shut down")
	}
	b.listeners = append(b.listeners, ln)
	b.mu.Unlock()

	var limiter *time.Ticker
	if b.lim.AcceptRate > 0 {
		limiter = time.NewTicker(time.Second / time.Duration(b.lim.AcceptRate))
		defer limiter.Stop()
	}
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if b.stopped.Load() {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		if limiter != nil {
			<-limiter.C
		}
		// Admission control: at most MaxConcurrentHandshakes connections
		// are between accept and CONNACK; the accept loop waits for a token
		// rather than piling up handshakes (reconnect storms).
		b.handshakes <- struct{}{}
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			b.handle(tls.Server(newIdleConn(nc), cfg))
		}()
	}
}

// Shutdown stops accepting, sends every client DISCONNECT (MQTT 5: server
// shutting down), closes the connections and waits for their goroutines,
// bounded by ctx. Persistent sessions are kept.
func (b *Broker) Shutdown(ctx context.Context) error {
	b.stopped.Store(true)
	b.mu.Lock()
	b.closing = true
	for _, ln := range b.listeners {
		_ = ln.Close()
	}
	conns := make([]*conn, 0, len(b.conns))
	for c := range b.conns {
		conns = append(conns, c)
	}
	b.mu.Unlock()
	// Kick in parallel: a client that does not read can hold its kick for
	// up to the write deadline.
	var kicks sync.WaitGroup
	for _, c := range conns {
		kicks.Go(func() { c.kick(packet.ServerShuttingDown, "server shutting down") })
	}
	kicks.Wait()
	done := make(chan struct{})
	go func() { b.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	b.retained.close()
	return nil
}

// Stats are the broker's current counts.
type Stats struct {
	Connections   int
	Sessions      int
	Subscriptions int
	Retained      int
}

// Stats returns the current counts.
func (b *Broker) Stats() Stats {
	b.mu.Lock()
	st := Stats{Connections: len(b.conns), Sessions: len(b.sessions)}
	b.mu.Unlock()
	st.Subscriptions = b.subs.Len()
	st.Retained = b.retained.len()
	return st
}

// Disconnect closes the connection of clientID, if any, with the reason
// code (MQTT 5) and reason. It reports whether a connection was closed.
func (b *Broker) Disconnect(clientID string, code packet.ReasonCode, reason string) bool {
	b.mu.Lock()
	s := b.sessions[clientID]
	b.mu.Unlock()
	if s == nil {
		return false
	}
	s.mu.Lock()
	c := s.conn
	s.mu.Unlock()
	if c == nil {
		return false
	}
	c.kick(code, reason)
	return true
}

func bgctx() context.Context { return context.Background() }
