package shadow

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/broker"
	"github.com/moat-iot/moat/internal/mqtt/packet"
	"github.com/moat-iot/moat/internal/shadow/document"
	"github.com/moat-iot/moat/internal/store"
	"github.com/moat-iot/moat/internal/store/sqlite"
	"github.com/moat-iot/moat/internal/topic"
)

const wait = 5 * time.Second

// fakeBroker records what the service publishes and delivers requests to
// its handlers as the broker would.
type fakeBroker struct {
	mu       sync.Mutex
	handlers map[string]broker.Handler
	out      chan *packet.Publish
}

func newFakeBroker() *fakeBroker {
	return &fakeBroker{handlers: map[string]broker.Handler{}, out: make(chan *packet.Publish, 1024)}
}

func (b *fakeBroker) Handle(filter string, h broker.Handler) (func(), error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.handlers[filter] = h
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(b.handlers, filter)
	}, nil
}

func (b *fakeBroker) Publish(p *packet.Publish) packet.ReasonCode {
	b.out <- p
	return packet.Success
}

// send delivers a request from clientID to the handler whose filter
// matches, as the broker's fan-out does.
func (b *fakeBroker) send(t *testing.T, clientID, topicName, payload string) {
	t.Helper()
	b.mu.Lock()
	var hs []broker.Handler
	for f, h := range b.handlers {
		if topic.Match(f, topicName) {
			hs = append(hs, h)
		}
	}
	b.mu.Unlock()
	if len(hs) != 1 {
		t.Fatalf("%d handlers for %s, want 1", len(hs), topicName)
	}
	hs[0](broker.Inbound{Topic: topicName, Payload: []byte(payload), ClientID: clientID, Received: time.Now()})
}

// next returns the next publication, failing after wait.
func (b *fakeBroker) next(t *testing.T) *packet.Publish {
	t.Helper()
	select {
	case p := <-b.out:
		return p
	case <-time.After(wait):
		t.Fatal("nothing published")
		return nil
	}
}

// expect returns the next publication, which must be on topicName, as
// decoded JSON.
func (b *fakeBroker) expect(t *testing.T, topicName string) map[string]any {
	t.Helper()
	p := b.next(t)
	if p.Topic != topicName {
		t.Fatalf("published on %s (%s), want %s", p.Topic, p.Payload, topicName)
	}
	var m map[string]any
	if err := json.Unmarshal(p.Payload, &m); err != nil {
		t.Fatalf("%s payload %q: %v", p.Topic, p.Payload, err)
	}
	return m
}

// gatedStore holds every Update until the test opens the gate.
type gatedStore struct {
	store.Store
	gate chan struct{}
}

func (g *gatedStore) Update(ctx context.Context, fn func(tx store.Tx) error) error {
	select {
	case <-g.gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	return g.Store.Update(ctx, fn)
}

// failingStore fails every Update.
type failingStore struct{ store.Store }

func (failingStore) Update(context.Context, func(tx store.Tx) error) error {
	return errors.New("disk on fire")
}

func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "moat.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func start(t *testing.T, st store.Store, lim Limits, now func() time.Time) (*Service, *fakeBroker) {
	t.Helper()
	b := newFakeBroker()
	s, err := New(Options{Store: st, Broker: b, Limits: lim, Now: now, Shards: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s, b
}

// A client with MaxInFlight requests waiting gets 429 for the next one,
// with its clientToken, and may send again once answered.
func TestInFlightLimit(t *testing.T) {
	gs := &gatedStore{Store: openStore(t), gate: make(chan struct{})}
	lim := DefaultLimits()
	lim.MaxInFlight = 2
	_, b := start(t, gs, lim, nil)
	const tp = "$aws/things/lamp/shadow/update"
	b.send(t, "dev", tp, `{"state":{"reported":{"n":1}},"clientToken":"a"}`)
	b.send(t, "dev", tp, `{"state":{"reported":{"n":2}},"clientToken":"b"}`)
	b.send(t, "dev", tp, `{"state":{"reported":{"n":3}},"clientToken":"c"}`)
	rej := b.expect(t, tp+"/rejected")
	if rej["code"] != 429.0 || rej["clientToken"] != "c" {
		t.Fatalf("third request: %v, want 429 with clientToken c", rej)
	}
	// Another client is not limited by the first.
	b.send(t, "other", tp, `{"state":{"reported":{"n":4}},"clientToken":"d"}`)
	close(gs.gate)
	versions := map[string]float64{}
	for len(versions) < 3 {
		p := b.next(t)
		if p.Topic != tp+"/accepted" {
			continue
		}
		var m map[string]any
		_ = json.Unmarshal(p.Payload, &m)
		versions[m["clientToken"].(string)] = m["version"].(float64)
	}
	if versions["a"] != 1 || versions["b"] != 2 || versions["d"] != 3 {
		t.Errorf("versions %v, want a=1 b=2 d=3 (in arrival order)", versions)
	}
	// Answered: the client may send again.
	b.send(t, "dev", tp, `{"state":{"reported":{"n":5}},"clientToken":"e"}`)
	for {
		p := b.next(t)
		if p.Topic == tp+"/accepted" {
			break
		}
		if p.Topic == tp+"/rejected" {
			t.Fatalf("rejected after the window freed: %s", p.Payload)
		}
	}
}

// A batch that cannot be stored is answered 500 and leaves nothing
// behind: not in the store, not in the cache.
func TestStoreFailure(t *testing.T) {
	st := openStore(t)
	fs := &switchStore{Store: st}
	s, b := start(t, fs, DefaultLimits(), nil)
	k := Key{Thing: "lamp"}
	if _, err := s.Update(context.Background(), k, []byte(`{"state":{"desired":{"on":true}}}`)); err != nil {
		t.Fatal(err)
	}
	drain(b)
	fs.fail(true)
	_, err := s.Update(context.Background(), k, []byte(`{"state":{"desired":{"on":false}}}`))
	var de *document.Error
	if !errors.As(err, &de) || de.Code != 500 {
		t.Fatalf("update with a failing store: %v, want a 500", err)
	}
	fs.fail(false)
	doc, err := s.Get(context.Background(), k)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		State   map[string]map[string]any
		Version int
	}
	if err := json.Unmarshal(doc, &m); err != nil {
		t.Fatal(err)
	}
	if m.State["desired"]["on"] != true || m.Version != 1 {
		t.Errorf("after a failed update: %s, want desired.on true at version 1", doc)
	}
}

// switchStore fails Updates while failing is set.
type switchStore struct {
	store.Store
	mu      sync.Mutex
	failing bool
}

func (s *switchStore) fail(on bool) {
	s.mu.Lock()
	s.failing = on
	s.mu.Unlock()
}

func (s *switchStore) Update(ctx context.Context, fn func(tx store.Tx) error) error {
	s.mu.Lock()
	f := s.failing
	s.mu.Unlock()
	if f {
		return failingStore{}.Update(ctx, fn)
	}
	return s.Store.Update(ctx, fn)
}

func drain(b *fakeBroker) {
	for {
		select {
		case <-b.out:
		case <-time.After(50 * time.Millisecond):
			return
		}
	}
}

// A deleted shadow keeps counting versions within the tombstone TTL and
// starts over after it; the service restarted on the same store agrees.
func TestTombstone(t *testing.T) {
	st := openStore(t)
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s, _ := start(t, st, DefaultLimits(), clock)
	ctx := context.Background()
	k := Key{Thing: "lamp", Name: "cfg"}
	for range 3 {
		if _, err := s.Update(ctx, k, []byte(`{"state":{"reported":{"x":1}}}`)); err != nil {
			t.Fatal(err)
		}
	}
	del, err := s.Delete(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	if v := version(t, del); v != 3 {
		t.Errorf("delete/accepted version %d, want 3", v)
	}
	if _, err := s.Get(ctx, k); !isCode(err, 404) {
		t.Fatalf("get after delete: %v, want 404", err)
	}
	if _, err := s.Delete(ctx, k); !isCode(err, 404) {
		t.Fatalf("second delete: %v, want 404", err)
	}
	acc, err := s.Update(ctx, k, []byte(`{"state":{"reported":{"x":2}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if v := version(t, acc); v != 4 {
		t.Errorf("re-created within the TTL: version %d, want 4", v)
	}

	// A second service over the same store (a restart) reads the
	// tombstone; past the TTL the version starts over.
	if _, err := s.Delete(ctx, k); err != nil {
		t.Fatal(err)
	}
	s.Close()
	mu.Lock()
	now = now.Add(49 * time.Hour)
	mu.Unlock()
	s2, _ := start(t, st, DefaultLimits(), clock)
	acc, err = s2.Update(ctx, k, []byte(`{"state":{"reported":{"x":3}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if v := version(t, acc); v != 1 {
		t.Errorf("re-created after the TTL: version %d, want 1", v)
	}
}

// Deleting a thing deletes its shadows, classic and named, and nothing of
// other things.
func TestDeleteThing(t *testing.T) {
	st := openStore(t)
	s, _ := start(t, st, DefaultLimits(), nil)
	ctx := context.Background()
	keys := []Key{{Thing: "a"}, {Thing: "a", Name: "n1"}, {Thing: "b"}}
	for _, k := range keys {
		if _, err := s.Update(ctx, k, []byte(`{"state":{"desired":{"v":1}}}`)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteThing(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys[:2] {
		if _, err := s.Get(ctx, k); !isCode(err, 404) {
			t.Errorf("get %v after its thing was deleted: %v, want 404", k, err)
		}
	}
	if _, err := s.Get(ctx, keys[2]); err != nil {
		t.Errorf("other thing's shadow: %v", err)
	}
	// Gone from the store too, tombstones included: a new shadow starts at 1.
	acc, err := s.Update(ctx, keys[1], []byte(`{"state":{"desired":{"v":2}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if v := version(t, acc); v != 1 {
		t.Errorf("version %d after the thing was deleted, want 1", v)
	}
	names, _, err := s.NamedShadows(ctx, "a", store.Page{})
	if err != nil || len(names) != 1 || names[0] != "n1" {
		t.Errorf("NamedShadows(a) = %v, %v; want [n1]", names, err)
	}
}

// Requests on topics that are not shadow requests, or that name an
// invalid thing, are ignored; a request with a bad name over HTTPS is a
// 400.
func TestTopics(t *testing.T) {
	for _, tc := range []struct {
		topic string
		key   Key
		op    op
		ok    bool
	}{
		{"$aws/things/lamp/shadow/get", Key{Thing: "lamp"}, opGet, true},
		{"$aws/things/lamp/shadow/update", Key{Thing: "lamp"}, opUpdate, true},
		{"$aws/things/lamp/shadow/delete", Key{Thing: "lamp"}, opDelete, true},
		{"$aws/things/lamp/shadow/name/cfg-1/update", Key{Thing: "lamp", Name: "cfg-1"}, opUpdate, true},
		{"$aws/things/lamp/shadow/name/$x/get", Key{Thing: "lamp", Name: "$x"}, opGet, true},
		{"$aws/things/lamp/shadow/update/accepted", Key{}, 0, false},
		{"$aws/things/la mp/shadow/get", Key{}, 0, false},
		{"$aws/things/lamp/shadow/name//get", Key{}, 0, false},
		{"$aws/things/lamp/shadow/name/a.b/get", Key{}, 0, false},
		{"$aws/things/lamp/shadow/list", Key{}, 0, false},
	} {
		k, o, ok := parseTopic(tc.topic)
		if ok != tc.ok || k != tc.key || o != tc.op {
			t.Errorf("parseTopic(%q) = %v, %v, %v; want %v, %v, %v", tc.topic, k, o, ok, tc.key, tc.op, tc.ok)
		}
	}
	s, _ := start(t, openStore(t), DefaultLimits(), nil)
	if _, err := s.Get(context.Background(), Key{Thing: "bad name"}); !isCode(err, 400) {
		t.Errorf("Get with a bad thing name: %v, want 400", err)
	}
}

func version(t *testing.T, doc []byte) int64 {
	t.Helper()
	var m struct{ Version int64 }
	if err := json.Unmarshal(doc, &m); err != nil {
		t.Fatalf("%s: %v", doc, err)
	}
	return m.Version
}

func isCode(err error, code int) bool {
	var de *document.Error
	return errors.As(err, &de) && de.Code == code
}
