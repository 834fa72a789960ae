package shadow

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/moat-iot/moat/internal/shadow/document"
	"github.com/moat-iot/moat/internal/store"
)

// request is one shadow request, from MQTT or HTTPS.
type request struct {
	op       op
	key      Key
	payload  []byte
	clientID string    // MQTT publisher; "" over HTTPS
	received time.Time // MQTT: when the broker took it
	// reply is set for HTTPS requests: the result goes there instead of
	// to the /accepted or /rejected topic.
	reply chan result
	// forget is set for a deleted thing: the shard deletes every shadow
	// of key.Thing (the store's rows and its cache).
	forget bool
}

// result is a request's outcome.
type result struct {
	doc []byte // the accepted document
	err *document.Error
}

// outcome is what a request produces: its result and the messages to
// publish once the batch is durable.
type outcome struct {
	req  *request
	res  result
	msgs []message
}

type message struct {
	topic   string
	payload []byte
}

// entry is a cached shadow: the document while it exists, and the last
// version it had (kept after a delete, for a re-creation within the
// tombstone TTL).
type entry struct {
	doc       *document.Shadow // nil: no live shadow
	version   int64
	deletedAt time.Time
}

// shard owns the shadows of the things that hash to it: their cache, and
// the order of their requests.
type shard struct {
	s        *Service
	mu       sync.Mutex
	queue    []*request
	closed   bool
	wake     chan struct{}
	maxQueue int

	cache    map[Key]*entry // only the shard's goroutine touches it
	cacheMax int
}

// maxShardQueue bounds the requests waiting for one shard; more are
// refused with 429.
const maxShardQueue = 4096

func newShard(s *Service, cacheMax int) *shard {
	return &shard{s: s, wake: make(chan struct{}, 1), maxQueue: maxShardQueue, cache: map[Key]*entry{}, cacheMax: cacheMax}
}

// offer queues r; false when the shard is full or closed.
func (sh *shard) offer(r *request) bool {
	sh.mu.Lock()
	if sh.closed || len(sh.queue) >= sh.maxQueue {
		sh.mu.Unlock()
		return false
	}
	sh.queue = append(sh.queue, r)
	sh.mu.Unlock()
	select {
	case sh.wake <- struct{}{}:
	default:
	}
	return true
}

// take returns every queued request.
func (sh *shard) take() []*request {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	q := sh.queue
	sh.queue = nil
	return q
}

// run processes batches until the service stops, then what is left.
func (sh *shard) run() {
	for {
		select {
		case <-sh.wake:
			if b := sh.take(); len(b) > 0 {
				sh.process(b)
			}
		case <-sh.s.stop:
			sh.mu.Lock()
			sh.closed = true
			sh.mu.Unlock()
			if b := sh.take(); len(b) > 0 {
				sh.process(b)
			}
			return
		}
	}
}

// process applies a batch: load what is not cached, apply in order, write
// the changed shadows in one store update, then answer in order.
func (sh *shard) process(batch []*request) {
	s := sh.s
	s.m.batch.Observe(float64(len(batch)))
	now := s.now()
	loadErr := sh.load(batch)

	outs := make([]outcome, len(batch))
	writes := map[Key]*entry{}
	var forgets []string
	for i, r := range batch {
		outs[i].req = r
		if r.forget {
			forgets = append(forgets, r.key.Thing)
			for k := range sh.cache {
				if k.Thing == r.key.Thing {
					delete(sh.cache, k)
					delete(writes, k)
				}
			}
			continue
		}
		if loadErr != nil {
			if _, ok := sh.cache[r.key]; !ok {
				outs[i].res.err = internalError
				continue
			}
		}
		sh.apply(&outs[i], now, writes)
	}

	if len(writes) > 0 || len(forgets) > 0 {
		if err := sh.commit(writes, forgets, now); err != nil {
			s.log.Error("shadow update not stored", "err", err)
			// Nothing of the batch is durable: forget the cached results
			// and fail every request that touched them, reads included
			// (they may have seen them).
			for k := range writes {
				delete(sh.cache, k)
			}
			for i := range outs {
				if _, ok := writes[outs[i].req.key]; ok || outs[i].req.forget {
					outs[i].res, outs[i].msgs = result{err: internalError}, nil
				}
			}
		}
	}
	sh.trim()

	for i := range outs {
		sh.answer(&outs[i], now)
	}
}

var internalError = document.ErrInternal

// load reads the shadows the batch needs that are not cached.
func (sh *shard) load(batch []*request) error {
	var missing []Key
	seen := map[Key]bool{}
	for _, r := range batch {
		if r.forget {
			continue
		}
		if _, ok := sh.cache[r.key]; !ok && !seen[r.key] {
			seen[r.key] = true
			missing = append(missing, r.key)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	loaded := make(map[Key]*entry, len(missing))
	err := sh.s.st.View(context.Background(), func(tx store.Tx) error {
		for _, k := range missing {
			row, err := tx.Shadow(k.Thing, k.Name)
			if errors.Is(err, store.ErrNotFound) {
				loaded[k] = &entry{}
				continue
			}
			if err != nil {
				return err
			}
			e := &entry{version: row.Version, deletedAt: row.DeletedAt}
			if row.Document != nil && row.DeletedAt.IsZero() {
				d, err := document.Unmarshal(row.Document)
				if err != nil {
					return err
				}
				e.doc = d
			}
			loaded[k] = e
		}
		return nil
	})
	if err != nil {
		sh.s.log.Error("shadows not loaded", "err", err)
		return err
	}
	for k, e := range loaded {
		sh.cache[k] = e
	}
	return nil
}

// apply decides one request against the cache, recording the write and
// the messages it makes.
func (sh *shard) apply(o *outcome, now time.Time, writes map[Key]*entry) {
	s := sh.s
	r := o.req
	lim := s.lim.Document
	sec := now.Unix()
	e := sh.cache[r.key]
	if e == nil {
		// Dropped by a deleted thing earlier in the batch: the store will
		// hold nothing for it.
		e = &entry{}
		sh.cache[r.key] = e
	}
	prefix := r.key.prefix()
	var token string
	if r.op != opUpdate {
		// An update's token is parsed with the update itself.
		var err error
		if token, err = document.ClientToken(r.payload, lim); err != nil {
			o.res.err = asError(err)
			return
		}
	}
	switch r.op {
	case opGet:
		if e.doc == nil {
			o.res.err = notFound(r.key)
			return
		}
		o.res.doc = e.doc.Get(sec, token)
	case opUpdate:
		u, err := document.ParseUpdate(r.payload, lim)
		if err != nil {
			o.res.err = asError(err)
			return
		}
		base := e.doc
		if base == nil {
			v := e.version
			if !e.deletedAt.IsZero() && now.Sub(e.deletedAt) >= s.lim.TombstoneTTL {
				v = 0 // a tombstone past its time: the version starts over
			}
			base = &document.Shadow{Version: v}
		}
		res, err := base.Apply(u, sec, lim)
		if err != nil {
			o.res.err = asError(err)
			return
		}
		ne := &entry{doc: res.Shadow, version: res.Shadow.Version}
		sh.cache[r.key] = ne
		writes[r.key] = ne
		o.res.doc = res.Accepted
		o.msgs = append(o.msgs, message{prefix + "/update/accepted", res.Accepted})
		if res.Delta != nil {
			o.msgs = append(o.msgs, message{prefix + "/update/delta", res.Delta})
		}
		o.msgs = append(o.msgs, message{prefix + "/update/documents", res.Documents})
	case opDelete:
		if e.doc == nil {
			o.res.err = notFound(r.key)
			return
		}
		ne := &entry{version: e.doc.Version, deletedAt: now}
		sh.cache[r.key] = ne
		writes[r.key] = ne
		o.res.doc = document.Deleted(e.doc.Version, sec, token)
		o.msgs = append(o.msgs, message{prefix + "/delete/accepted", o.res.doc})
	}
}

// commit writes the batch's changed shadows and deleted things in one
// store update.
func (sh *shard) commit(writes map[Key]*entry, forgets []string, now time.Time) error {
	rows := make([]store.Shadow, 0, len(writes))
	for k, e := range writes {
		row := store.Shadow{ThingName: k.Thing, ShadowName: k.Name, Version: e.version, UpdatedAt: now, DeletedAt: e.deletedAt}
		if e.doc != nil {
			row.Document = e.doc.Marshal()
		}
		rows = append(rows, row)
	}
	return sh.s.st.Update(context.Background(), func(tx store.Tx) error {
		for _, t := range forgets {
			if err := tx.DeleteThingShadows(t); err != nil {
				return err
			}
		}
		for _, row := range rows {
			if err := tx.PutShadow(row); err != nil {
				return err
			}
		}
		return nil
	})
}

// trim keeps the cache within its size, dropping arbitrary entries.
func (sh *shard) trim() {
	for k := range sh.cache {
		if len(sh.cache) <= sh.cacheMax {
			return
		}
		delete(sh.cache, k)
	}
}

// answer delivers one outcome: to the HTTPS caller, or as MQTT replies.
// Accepted updates and deletes are published either way, so devices see
// what an app changed over HTTPS.
func (sh *shard) answer(o *outcome, now time.Time) {
	s := sh.s
	r := o.req
	if r.reply != nil {
		r.reply <- o.res
	} else if !r.forget {
		s.release(r.clientID)
		if o.res.err != nil {
			token, _ := document.ClientToken(r.payload, s.lim.Document)
			s.publish(r.key.prefix()+"/"+r.op.String()+"/rejected", document.ErrorDocument(o.res.err, now.Unix(), token))
		} else if r.op == opGet {
			s.publish(r.key.prefix()+"/get/accepted", o.res.doc)
		}
	}
	if o.res.err != nil {
		s.m.rejected.WithLabelValues(r.op.String(), strconv.Itoa(o.res.err.Code)).Inc()
	}
	for _, m := range o.msgs {
		s.publish(m.topic, m.payload)
	}
	if !r.received.IsZero() && o.res.err == nil && r.op == opUpdate {
		s.m.latency.Observe(time.Since(r.received).Seconds())
	}
}

// notFound is AWS's 404 for a missing shadow.
func notFound(k Key) *document.Error { return document.NoShadowError(k.String()) }

// asError turns a document error into the reply error; anything else is
// an internal failure.
func asError(err error) *document.Error {
	var de *document.Error
	if errors.As(err, &de) {
		return de
	}
	return internalError
}
