// Package rules is the rules engine: topic rules written in AWS IoT SQL
// (internal/rules/iotsql) that select from the messages published on a
// topic filter and hand the result to actions (internal/rules/action), as
// AWS IoT's rules engine does.
//
// # Where rules sit
//
// A rule is a client of the broker (broker.Broker.Handle on its FROM
// filter, and on $aws/rules/# for Basic Ingest), so it sees a message after
// the publisher's iot:Publish check, and acts as moat itself: its republish
// goes to any topic, through the ordinary fan-out and receive checks. A
// republished message is a message like any other and may trigger rules
// in turn; each derivation counts a hop (broker.Inbound.Hops) and a
// message that is MaxHops derivations deep is not given to rules: loops
// end there, counted in moat_rules_dropped_total{reason="loop"}.
//
// # Delivery
//
// The handler copies the message into the rule's bounded queue and returns:
// the SQL and the actions run on the rule's own workers (at most
// WorkersPerRule at a time, started when work arrives, gone when idle), so
// a slow HTTP target stalls its own rule and nothing else. A full queue
// holds the publisher back for up to QueueWait (backpressure, as a slow
// subscriber does), then drops the message and counts it. An action that fails is retried with
// exponential backoff up to MaxAttempts times (not when the failure is
// permanent, such as an HTTP 4xx), then the rule's errorAction gets AWS's
// error payload.
package rules

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/moat-iot/moat/internal/arn"
	"github.com/moat-iot/moat/internal/broker"
	"github.com/moat-iot/moat/internal/mqtt/packet"
	"github.com/moat-iot/moat/internal/rules/action"
	"github.com/moat-iot/moat/internal/rules/iotsql"
	"github.com/moat-iot/moat/internal/store"
	"github.com/moat-iot/moat/internal/topic"
)

// Broker is what the engine needs of the MQTT broker; *broker.Broker
// implements it.
type Broker interface {
	Handle(filter string, h broker.Handler) (unregister func(), err error)
	Publish(p *packet.Publish) packet.ReasonCode
	PublishDerived(p *packet.Publish, hops int) packet.ReasonCode
}

var _ Broker = (*broker.Broker)(nil)

// Limits bound the engine. Zero fields take DefaultLimits' values.
type Limits struct {
	// QueueLen is how many messages may wait for one rule's workers.
	QueueLen int
	// QueueWait is how long a publisher is held back when its message
	// finds a rule's queue full; after it the message is dropped and
	// counted.
	QueueWait time.Duration
	// WorkersPerRule is how many messages one rule works on at once.
	WorkersPerRule int
	// MaxAttempts is how many times an action is tried before the
	// errorAction runs.
	MaxAttempts int
	// RetryBackoff is the wait before the first retry; each next wait is
	// four times longer, up to MaxBackoff.
	RetryBackoff, MaxBackoff time.Duration
	// ActionTimeout bounds one attempt of one action.
	ActionTimeout time.Duration
	// MaxHops is how many rule derivations deep a message may be and
	// still be given to rules (loop protection).
	MaxHops int
	// MaxRules bounds the number of rules (AWS: 1000 per account and
	// region).
	MaxRules int
}

// DefaultLimits are moat's defaults.
func DefaultLimits() Limits {
	return Limits{QueueLen: 10_000, QueueWait: time.Second, WorkersPerRule: 8, MaxAttempts: 3, RetryBackoff: 100 * time.Millisecond,
		MaxBackoff: 5 * time.Second, ActionTimeout: 10 * time.Second, MaxHops: 8, MaxRules: 1000}
}

// Options configure a Service.
type Options struct {
	Store  store.Store
	Broker Broker
	ARNs   arn.Builder
	// Shadows serves get_thing_shadow; nil makes it fail.
	Shadows iotsql.Env
	// HTTPClient is for http and lambda actions; nil: a default one.
	HTTPClient *http.Client
	// AllowURL decides the HTTP(S) destinations of http and lambda
	// actions; nil allows none.
	AllowURL func(*url.URL) error
	Limits   Limits
	Logger   *slog.Logger
	// Registerer receives the engine's metrics; nil means none.
	Registerer prometheus.Registerer
}

// Service is the rules engine of one node and the store of its rules.
type Service struct {
	st    store.Store
	b     Broker
	arns  arn.Builder
	env   iotsql.Env
	lim   Limits
	log   *slog.Logger
	m     *metrics
	kafka *action.KafkaClients
	http  *http.Client
	allow func(*url.URL) error

	mu       sync.RWMutex
	rules    map[string]*compiled // by name, enabled or not
	unIngest func()               // unregisters the Basic Ingest handler

	ctx    context.Context // ends on Close: retries and actions stop
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New returns an engine; Start loads the stored rules and runs them.
func New(opts Options) (*Service, error) {
	if opts.Store == nil || opts.Broker == nil {
		return nil, errors.New("rules: a store and a broker are required")
	}
	lim := withDefaults(opts.Limits)
	s := &Service{
		st: opts.Store, b: opts.Broker, arns: opts.ARNs, env: opts.Shadows, lim: lim, log: opts.Logger,
		m: newMetrics(opts.Registerer), kafka: action.NewKafkaClients(), http: opts.HTTPClient, allow: opts.AllowURL,
		rules: map[string]*compiled{},
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

func withDefaults(l Limits) Limits {
	d := DefaultLimits()
	if l.QueueLen <= 0 {
		l.QueueLen = d.QueueLen
	}
	if l.QueueWait <= 0 {
		l.QueueWait = d.QueueWait
	}
	if l.WorkersPerRule <= 0 {
		l.WorkersPerRule = d.WorkersPerRule
	}
	if l.MaxAttempts <= 0 {
		l.MaxAttempts = d.MaxAttempts
	}
	if l.RetryBackoff <= 0 {
		l.RetryBackoff = d.RetryBackoff
	}
	if l.MaxBackoff <= 0 {
		l.MaxBackoff = d.MaxBackoff
	}
	if l.ActionTimeout <= 0 {
		l.ActionTimeout = d.ActionTimeout
	}
	if l.MaxHops <= 0 {
		l.MaxHops = d.MaxHops
	}
	if l.MaxRules <= 0 {
		l.MaxRules = d.MaxRules
	}
	return l
}

// Start compiles the stored rules and registers the enabled ones. A
// stored rule that no longer compiles (a newer moat wrote it, or an
// allowed destination was removed) is logged and left stopped.
func (s *Service) Start(ctx context.Context) error {
	var rows []store.TopicRule
	if err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		rows, err = tx.AllTopicRules()
		return err
	}); err != nil {
		return err
	}
	for _, row := range rows {
		r, err := fromRow(row, s.arns)
		if err != nil {
			s.log.Error("stored rule not loaded", "rule", row.Name, "err", err)
			continue
		}
		c, err := s.compile(r)
		if err != nil {
			s.log.Error("stored rule does not compile; it stays stopped until replaced", "rule", row.Name, "err", err)
			continue
		}
		s.mu.Lock()
		s.install(c)
		s.mu.Unlock()
	}
	un, err := s.b.Handle(topic.BasicIngestPrefix+"#", s.ingest)
	if err != nil {
		return err
	}
	s.unIngest = un
	return nil
}

// Close stops the handlers, lets queued messages run within the action
// timeout, and closes the Kafka producers.
func (s *Service) Close() {
	s.mu.Lock()
	if s.unIngest != nil {
		s.unIngest()
		s.unIngest = nil
	}
	for _, c := range s.rules {
		s.uninstall(c)
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(s.lim.ActionTimeout):
		s.cancel() // stop retries and in-flight actions
		<-done
	}
	s.cancel()
	s.kafka.Close()
}

// compile builds a rule's query and actions.
func (s *Service) compile(r Rule) (*compiled, error) {
	version := r.Payload.AWSIoTSQLVersion
	q, err := iotsql.Parse(r.Payload.SQL, version)
	if err != nil {
		return nil, sqlError(err)
	}
	deps := s.deps(version)
	c := &compiled{rule: r, query: q, svc: s, queue: make(chan *job, s.lim.QueueLen)}
	for i, def := range r.Payload.Actions {
		a, err := action.New(def, deps)
		if err != nil {
			return nil, invalid("actions[%d]: %v", i, err)
		}
		c.actions = append(c.actions, a)
	}
	if len(r.Payload.ErrorAction) > 0 && string(r.Payload.ErrorAction) != "null" {
		a, err := action.New(r.Payload.ErrorAction, deps)
		if err != nil {
			return nil, invalid("errorAction: %v", err)
		}
		c.errorAction = a
	}
	return c, nil
}

func (s *Service) deps(version string) action.Deps {
	return action.Deps{
		Publisher:  publisher{s.b},
		HTTPClient: s.http,
		AllowURL:   s.allow,
		Template: func(t string) (action.Template, error) {
			return iotsql.ParseTemplate(t, version)
		},
		Kafka: s.kafka,
		Log:   s.log,
	}
}

// publisher gives actions the broker, counting the derivation of each
// message they publish.
type publisher struct{ b Broker }

func (p publisher) Publish(pub *packet.Publish) packet.ReasonCode { return p.b.Publish(pub) }

func (p publisher) PublishDerived(pub *packet.Publish, hops int) packet.ReasonCode {
	return p.b.PublishDerived(pub, hops)
}

// install makes c the rule of its name, replacing and stopping the
// previous one, and registers its handler when enabled. The caller holds
// s.mu.
func (s *Service) install(c *compiled) {
	if old := s.rules[c.rule.Name]; old != nil {
		s.uninstall(old)
		s.release(old)
	}
	s.rules[c.rule.Name] = c
	if c.rule.Payload.RuleDisabled || c.query.Topic() == "" {
		return // disabled, or without FROM: Basic Ingest only
	}
	un, err := s.b.Handle(c.query.Topic(), c.onMessage)
	if err != nil {
		s.log.Error("rule not started", "rule", c.rule.Name, "err", err)
		return
	}
	c.unregister = un
}

// uninstall stops c's handler; queued messages still run. The caller
// holds s.mu.
func (s *Service) uninstall(c *compiled) {
	if c.unregister != nil {
		c.unregister()
		c.unregister = nil
	}
}

// release frees what c's actions hold (shared Kafka producers) once its
// queued messages have run.
func (s *Service) release(c *compiled) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for c.active.Load() > 0 || len(c.queue) > 0 {
			select {
			case <-s.ctx.Done():
			case <-time.After(50 * time.Millisecond):
				continue
			}
			break
		}
		for _, a := range append(c.actions, c.errorAction) {
			if cl, ok := a.(io.Closer); ok {
				_ = cl.Close()
			}
		}
	}()
}
