// Package shadow is the Device Shadow service: classic and named shadows
// per thing, over MQTT (the reserved $aws/things/{thing}/shadow/... topics)
// and over HTTPS (the iot-data API calls Get, Update and Delete). The
// documents themselves (merge, delta, metadata, versions, every reply's
// JSON) are internal/shadow/document; this package is the service around
// them, over the store and the broker.
//
// # A client of the broker
//
// As in AWS IoT, the service is a party on the broker like any other: it
// registers for the request topics (broker.Broker.Handle), so a device's
// request has already passed the device's iot:Publish check, and it
// publishes its replies (accepted, rejected, delta, documents) through the
// broker's ordinary fan-out, so a device receives a reply only where it
// subscribed and its policy allows iot:Receive.
//
// # Ordering, batching, durability
//
// Requests are spread over shards by shadow; each shard is one goroutine
// that takes every request waiting for it as a batch, applies them in
// order to its cached documents, writes the changed shadows in one store
// update (the store group-commits the shards' updates together), and only
// then publishes the replies, in order. So a reply that says "accepted" is
// durable (it survives kill -9), requests to one shadow are applied in the
// order they arrived, and a get sees every update accepted before it.
//
// The shard caches are the only writers of the shadows of this node: the
// HTTPS calls go through the same shards. (Several nodes sharing a store
// will need a versioned write; that comes with the cluster.)
package shadow

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/moat-iot/moat/internal/broker"
	"github.com/moat-iot/moat/internal/mqtt/packet"
	"github.com/moat-iot/moat/internal/shadow/document"
	"github.com/moat-iot/moat/internal/store"
)

// Broker is what the service needs of the MQTT broker; *broker.Broker
// implements it.
type Broker interface {
	Handle(filter string, h broker.Handler) (unregister func(), err error)
	Publish(p *packet.Publish) packet.ReasonCode
}

var _ Broker = (*broker.Broker)(nil)

// Limits bound the service. Zero values take the defaults of
// DefaultLimits.
type Limits struct {
	// Document are the document limits (state size, depth, client token).
	Document document.Limits
	// MaxInFlight is how many MQTT requests one client connection may
	// have waiting for their reply (AWS 10); more get 429 on /rejected.
	MaxInFlight int
	// TombstoneTTL is how long a deleted shadow's version is remembered:
	// re-created within it, a shadow continues from the old version (AWS
	// 48 hours).
	TombstoneTTL time.Duration
	// CacheSize is how many shadow documents the service keeps in memory.
	CacheSize int
}

// DefaultLimits are AWS IoT's.
func DefaultLimits() Limits {
	return Limits{Document: document.DefaultLimits(), MaxInFlight: 10, TombstoneTTL: 48 * time.Hour, CacheSize: 100_000}
}

// Options configure a Service.
type Options struct {
	Store  store.Store
	Broker Broker
	Limits Limits
	Logger *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Shards is the number of shard goroutines (0: 4 per CPU, at least 8).
	Shards int
	// Registerer receives the service's metrics; nil means none.
	Registerer prometheus.Registerer
}

// Service is the Device Shadow service of one node.
type Service struct {
	st     store.Store
	b      Broker
	lim    Limits
	log    *slog.Logger
	now    func() time.Time
	seed   maphash.Seed
	shards []*shard
	m      *metrics

	inflightMu sync.Mutex
	inflight   map[string]int // client id → MQTT requests waiting for a reply

	unregister []func()
	stop       chan struct{}
	wg         sync.WaitGroup
	closeOnce  sync.Once
}

// New returns a service; Start connects it to the broker.
func New(opts Options) (*Service, error) {
	if opts.Store == nil || opts.Broker == nil {
		return nil, errors.New("shadow: a store and a broker are required")
	}
	lim := opts.Limits
	def := DefaultLimits()
	if lim.Document == (document.Limits{}) {
		lim.Document = def.Document
	}
	if lim.MaxInFlight <= 0 {
		lim.MaxInFlight = def.MaxInFlight
	}
	if lim.TombstoneTTL <= 0 {
		lim.TombstoneTTL = def.TombstoneTTL
	}
	if lim.CacheSize <= 0 {
		lim.CacheSize = def.CacheSize
	}
	n := opts.Shards
	if n <= 0 {
		// Enough to keep the cores busy while some shards wait for their
		// commit; more only adds wake-ups and smaller store batches (on 2
		// cores 8 shards gave a lower p99 than 64: BENCHMARKS.md).
		n = max(8, 4*runtime.GOMAXPROCS(0))
	}
	s := &Service{
		st: opts.Store, b: opts.Broker, lim: lim, log: opts.Logger, now: opts.Now,
		seed: maphash.MakeSeed(), inflight: map[string]int{}, stop: make(chan struct{}),
		m: newMetrics(opts.Registerer),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	perShard := max(lim.CacheSize/n, 16)
	for range n {
		s.shards = append(s.shards, newShard(s, perShard))
	}
	return s, nil
}

// Start runs the shards and registers for the request topics.
func (s *Service) Start() error {
	for _, sh := range s.shards {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			sh.run()
		}()
	}
	for _, f := range requestFilters {
		un, err := s.b.Handle(f, s.onMessage)
		if err != nil {
			s.Close()
			return fmt.Errorf("shadow: handle %s: %w", f, err)
		}
		s.unregister = append(s.unregister, un)
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.purgeLoop()
	}()
	return nil
}

// Close stops taking requests, lets the shards finish what they hold and
// waits for them.
func (s *Service) Close() {
	s.closeOnce.Do(func() {
		for _, un := range s.unregister {
			un()
		}
		close(s.stop)
		s.wg.Wait()
	})
}

// shardOf returns the shard that owns k: every shadow of a thing is in
// the same shard, so that deleting the thing is one shard's work.
func (s *Service) shardOf(k Key) *shard {
	return s.shards[maphash.String(s.seed, k.Thing)%uint64(len(s.shards))]
}

// onMessage takes one MQTT request (a broker.Handler: it must not block).
func (s *Service) onMessage(in broker.Inbound) {
	k, o, ok := parseTopic(in.Topic)
	if !ok {
		return
	}
	s.m.requests.WithLabelValues("mqtt", o.String()).Inc()
	req := &request{op: o, key: k, clientID: in.ClientID, received: in.Received}
	if len(in.Payload) > 0 {
		req.payload = append([]byte(nil), in.Payload...)
	}
	if in.ClientID != "" && !s.acquire(in.ClientID) {
		s.rejectNow(req, &document.Error{Code: 429, Message: "Too many requests"})
		return
	}
	if !s.shardOf(k).offer(req) {
		s.release(in.ClientID)
		s.rejectNow(req, &document.Error{Code: 429, Message: "Too many requests"})
	}
}

// rejectNow answers a request that was not queued.
func (s *Service) rejectNow(req *request, e *document.Error) {
	s.m.rejected.WithLabelValues(req.op.String(), fmt.Sprint(e.Code)).Inc()
	token, _ := document.ClientToken(req.payload, s.lim.Document)
	s.publish(req.key.prefix()+"/"+req.op.String()+"/rejected", document.ErrorDocument(e, s.now().Unix(), token))
}

// acquire counts one MQTT request of the client; false when it has
// MaxInFlight waiting already.
func (s *Service) acquire(clientID string) bool {
	s.inflightMu.Lock()
	defer s.inflightMu.Unlock()
	if s.inflight[clientID] >= s.lim.MaxInFlight {
		return false
	}
	s.inflight[clientID]++
	return true
}

func (s *Service) release(clientID string) {
	if clientID == "" {
		return
	}
	s.inflightMu.Lock()
	defer s.inflightMu.Unlock()
	if n := s.inflight[clientID]; n > 1 {
		s.inflight[clientID] = n - 1
	} else {
		delete(s.inflight, clientID)
	}
}

// publish sends one reply at QoS 1 (so a persistent session gets its
// deltas after a reconnect, as on AWS).
func (s *Service) publish(topic string, payload []byte) {
	s.b.Publish(&packet.Publish{Topic: topic, Payload: payload, QoS: 1})
}

// purgeLoop forgets deleted shadows' versions after TombstoneTTL, hourly.
func (s *Service) purgeLoop() {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.purge()
		}
	}
}

func (s *Service) purge() {
	var n int
	err := s.st.Update(context.Background(), func(tx store.Tx) error {
		var err error
		n, err = tx.PurgeShadowTombstones(s.now().Add(-s.lim.TombstoneTTL))
		return err
	})
	if err != nil {
		s.log.Error("shadow tombstones not purged", "err", err)
	} else if n > 0 {
		s.log.Debug("shadow tombstones purged", "count", n)
	}
}
