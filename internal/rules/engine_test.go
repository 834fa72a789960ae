package rules

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/moat-iot/moat/internal/broker"
	"github.com/moat-iot/moat/internal/mqtt/packet"
	"github.com/moat-iot/moat/internal/rules/action"
	"github.com/moat-iot/moat/internal/rules/iotsql"
	"github.com/moat-iot/moat/internal/store/sqlite"
)

// nopBroker satisfies Broker for engine tests that feed messages directly.
type nopBroker struct{}

func (nopBroker) Handle(string, broker.Handler) (func(), error)         { return func() {}, nil }
func (nopBroker) Publish(*packet.Publish) packet.ReasonCode             { return packet.Success }
func (nopBroker) PublishDerived(*packet.Publish, int) packet.ReasonCode { return packet.Success }

// gateAction blocks every Do until the gate opens, recording payloads.
type gateAction struct {
	gate chan struct{}
	mu   sync.Mutex
	got  []string
	fail error
}

func (a *gateAction) Do(ctx context.Context, m *action.Message) error {
	select {
	case <-a.gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	a.mu.Lock()
	a.got = append(a.got, string(m.Payload))
	a.mu.Unlock()
	return a.fail
}

func newEngine(t *testing.T, lim Limits) (*Service, *prometheus.Registry) {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "moat.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	reg := prometheus.NewRegistry()
	s, err := New(Options{Store: st, Broker: nopBroker{}, Limits: lim, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s, reg
}

func compiledWith(t *testing.T, s *Service, a action.Action) *compiled {
	t.Helper()
	q, err := iotsql.Parse("SELECT * FROM 'in/#'", "")
	if err != nil {
		t.Fatal(err)
	}
	return &compiled{rule: Rule{Name: "r"}, query: q, actions: []action.Action{a}, svc: s, queue: make(chan *job, s.lim.QueueLen)}
}

// A full queue holds the publisher back for QueueWait, then drops the
// message and counts it; a queue that frees up in time loses nothing.
func TestQueueBackpressure(t *testing.T) {
	s, _ := newEngine(t, Limits{QueueLen: 1, WorkersPerRule: 1, QueueWait: 200 * time.Millisecond})
	a := &gateAction{gate: make(chan struct{})}
	c := compiledWith(t, s, a)
	in := func(p string) broker.Inbound {
		return broker.Inbound{Topic: "in/x", Payload: []byte(p), Received: time.Now()}
	}
	c.offer(in("1"), "in/x") // taken by the worker, which blocks in the action
	deadline := time.Now().Add(5 * time.Second)
	for len(c.queue) != 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	c.offer(in("2"), "in/x") // queued
	start := time.Now()
	c.offer(in("3"), "in/x") // full: waits, then dropped
	if waited := time.Since(start); waited < 200*time.Millisecond {
		t.Errorf("a full queue returned after %v, want the publisher held back for 200ms", waited)
	}
	if n := testutil.ToFloat64(s.m.dropped.WithLabelValues("r", "queue_full")); n != 1 {
		t.Errorf("dropped %v, want 1", n)
	}
	// Free the worker while a fourth message waits: it gets in.
	go func() {
		time.Sleep(50 * time.Millisecond)
		close(a.gate)
	}()
	c.offer(in("4"), "in/x")
	if n := testutil.ToFloat64(s.m.dropped.WithLabelValues("r", "queue_full")); n != 1 {
		t.Errorf("dropped %v after the queue freed up, want still 1", n)
	}
	for time.Now().Before(deadline) {
		a.mu.Lock()
		n := len(a.got)
		a.mu.Unlock()
		if n == 3 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.got) != 3 || a.got[0] != "1" || a.got[1] != "2" || a.got[2] != "4" {
		t.Errorf("actions ran on %v, want [1 2 4]", a.got)
	}
}

// Messages MaxHops derivations deep are not given to rules.
func TestMaxHops(t *testing.T) {
	s, _ := newEngine(t, Limits{MaxHops: 2})
	a := &gateAction{gate: make(chan struct{})}
	close(a.gate)
	c := compiledWith(t, s, a)
	for hops := range 4 {
		c.offer(broker.Inbound{Topic: "in/x", Payload: []byte{byte('0' + hops)}, Hops: hops}, "in/x")
	}
	if n := testutil.ToFloat64(s.m.dropped.WithLabelValues("r", "loop")); n != 2 {
		t.Errorf("dropped as loops: %v, want 2 (hops 2 and 3)", n)
	}
}

// A failing action is retried MaxAttempts times; a Permanent failure is
// not retried.
func TestRetries(t *testing.T) {
	s, _ := newEngine(t, Limits{MaxAttempts: 3, RetryBackoff: time.Millisecond})
	open := make(chan struct{})
	close(open)
	transient := &gateAction{gate: open, fail: errors.New("503")}
	c := compiledWith(t, s, transient)
	c.run(&job{in: iotsql.Input{Topic: "in/x", Payload: []byte(`{}`)}}, nil)
	if len(transient.got) != 3 {
		t.Errorf("transient failure tried %d times, want 3", len(transient.got))
	}
	permanent := &gateAction{gate: open, fail: &action.Permanent{Err: errors.New("404")}}
	c = compiledWith(t, s, permanent)
	c.run(&job{in: iotsql.Input{Topic: "in/x", Payload: []byte(`{}`)}}, nil)
	if len(permanent.got) != 1 {
		t.Errorf("permanent failure tried %d times, want 1", len(permanent.got))
	}
}
