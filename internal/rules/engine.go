package rules

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/moat-iot/moat/internal/broker"
	"github.com/moat-iot/moat/internal/rules/action"
	"github.com/moat-iot/moat/internal/rules/iotsql"
	"github.com/moat-iot/moat/internal/topic"
)

// compiled is a rule ready to run: its query, its actions and its
// delivery queue.
type compiled struct {
	rule        Rule
	query       *iotsql.Query
	actions     []action.Action
	errorAction action.Action // nil: none

	svc        *Service
	queue      chan *job
	active     atomic.Int32 // workers running
	unregister func()       // its topic handler; nil while disabled
}

// job is one message for one rule.
type job struct {
	in   iotsql.Input
	hops int // how many rule actions produced this message (loop protection)
}

// onMessage is a rule's broker handler: it copies the message and queues
// it for the rule's workers; it never blocks the publisher.
func (c *compiled) onMessage(in broker.Inbound) {
	c.offer(in, in.Topic)
}

// offer queues one message (topicName is what topic() sees: the topic
// without the Basic Ingest prefix).
func (c *compiled) offer(in broker.Inbound, topicName string) {
	s := c.svc
	if in.Hops >= s.lim.MaxHops {
		s.m.dropped.WithLabelValues(c.rule.Name, "loop").Inc()
		s.log.Warn("rule not run: the message was produced by too many rule actions in a row", "rule", c.rule.Name, "topic", in.Topic, "hops", in.Hops)
		return
	}
	j := &job{hops: in.Hops, in: iotsql.Input{
		Topic:     topicName,
		Payload:   append([]byte(nil), in.Payload...),
		ClientID:  in.ClientID,
		Principal: principalID(in.Principal),
		Timestamp: in.Received.UnixMilli(),
		TraceID:   uuid.NewString(),
		AccountID: s.arns.Account,
		Context:   s.ctx,
		Env:       s.env,
	}}
	select {
	case c.queue <- j:
	default:
		// Full: push back on the publisher (this runs on its connection's
		// reader, or on the goroutine of moat's own publish) for a while,
		// as a slow subscriber does, before dropping.
		c.spawn()
		t := time.NewTimer(s.lim.QueueWait)
		select {
		case c.queue <- j:
			t.Stop()
		case <-t.C:
			s.m.dropped.WithLabelValues(c.rule.Name, "queue_full").Inc()
			return
		}
	}
	c.spawn()
}

// spawn starts a worker if the rule has fewer than its maximum.
func (c *compiled) spawn() {
	max := int32(c.svc.lim.WorkersPerRule)
	for {
		n := c.active.Load()
		if n >= max {
			return
		}
		if c.active.CompareAndSwap(n, n+1) {
			c.svc.wg.Add(1)
			go c.work()
			return
		}
	}
}

// work runs queued jobs until the queue is empty.
func (c *compiled) work() {
	defer c.svc.wg.Done()
	buf := make([]byte, 0, 512)
	for {
		select {
		case j := <-c.queue:
			buf = c.run(j, buf)
			continue
		default:
		}
		c.active.Add(-1)
		// A job may have been queued after the check above while this
		// worker still counted as active: take it back up if so.
		if len(c.queue) == 0 || !c.reacquire() {
			return
		}
	}
}

func (c *compiled) reacquire() bool {
	max := int32(c.svc.lim.WorkersPerRule)
	for {
		n := c.active.Load()
		if n >= max {
			return false
		}
		if c.active.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// run evaluates the rule on one message and performs its actions.
func (c *compiled) run(j *job, buf []byte) []byte {
	s := c.svc
	out, matched, err := c.query.Eval(&j.in, buf)
	if err != nil {
		s.m.messages.WithLabelValues(c.rule.Name, "error").Inc()
		s.log.Warn("rule evaluation failed", "rule", c.rule.Name, "topic", j.in.Topic, "err", err)
		return buf
	}
	if !matched {
		s.m.messages.WithLabelValues(c.rule.Name, "not_matched").Inc()
		return buf[:0]
	}
	s.m.messages.WithLabelValues(c.rule.Name, "matched").Inc()
	m := &action.Message{Payload: out, In: &j.in, Hops: j.hops + 1}
	var failures []failure
	for _, a := range c.actions {
		if err := s.attempt(c, a, m); err != nil {
			failures = append(failures, failure{Action: action.Name(a), Resource: action.Resource(a), Message: err.Error()})
		}
	}
	if len(failures) > 0 && c.errorAction != nil {
		s.runErrorAction(c, j, failures)
	}
	return out[:0]
}

// attempt performs one action with retries and backoff: Permanent errors
// and the last attempt's error are returned.
func (s *Service) attempt(c *compiled, a action.Action, m *action.Message) error {
	name := action.Name(a)
	wait := s.lim.RetryBackoff
	var err error
	for try := 1; ; try++ {
		ctx, cancel := context.WithTimeout(s.ctx, s.lim.ActionTimeout)
		err = a.Do(ctx, m)
		cancel()
		if err == nil {
			s.m.actions.WithLabelValues(c.rule.Name, name, "success").Inc()
			return nil
		}
		var perm *action.Permanent
		if errors.As(err, &perm) || try >= s.lim.MaxAttempts || s.ctx.Err() != nil {
			break
		}
		s.m.actions.WithLabelValues(c.rule.Name, name, "retry").Inc()
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-s.ctx.Done():
			t.Stop()
		}
		wait = min(wait*4, s.lim.MaxBackoff)
	}
	s.m.actions.WithLabelValues(c.rule.Name, name, "failure").Inc()
	s.log.Warn("rule action failed", "rule", c.rule.Name, "action", name, "resource", action.Resource(a), "err", err)
	return err
}

// failure is one failed action in an error action's payload.
type failure struct {
	Action   string `json:"failedAction"`
	Resource string `json:"failedResource"`
	Message  string `json:"errorMessage"`
}

// errorPayload is what an error action receives, in AWS's shape.
type errorPayload struct {
	RuleName              string    `json:"ruleName"`
	Topic                 string    `json:"topic"`
	CloudwatchTraceID     string    `json:"cloudwatchTraceId"`
	ClientID              string    `json:"clientId"`
	Base64OriginalPayload string    `json:"base64OriginalPayload"`
	Failures              []failure `json:"failures"`
}

func (s *Service) runErrorAction(c *compiled, j *job, failures []failure) {
	p, err := json.Marshal(errorPayload{
		RuleName: c.rule.Name, Topic: j.in.Topic, CloudwatchTraceID: j.in.TraceID, ClientID: clientIDOrNA(j.in.ClientID),
		Base64OriginalPayload: base64.StdEncoding.EncodeToString(j.in.Payload), Failures: failures,
	})
	if err != nil {
		return
	}
	m := &action.Message{Payload: p, In: &j.in, Hops: j.hops + 1}
	if err := s.attempt(c, c.errorAction, m); err != nil {
		s.log.Error("rule error action failed", "rule", c.rule.Name, "err", err)
	}
}

// clientIDOrNA is AWS's clientId for a message without one.
func clientIDOrNA(id string) string {
	if id == "" {
		return "n/a"
	}
	return id
}

// ingest is the Basic Ingest handler: $aws/rules/{rule}/{topic} runs the
// rule named, whatever its FROM filter, with topic() seeing {topic}.
func (s *Service) ingest(in broker.Inbound) {
	name, rest, ok := topic.SplitBasicIngest(in.Topic)
	if !ok {
		return
	}
	s.mu.RLock()
	c := s.rules[name]
	s.mu.RUnlock()
	if c == nil || c.rule.Payload.RuleDisabled {
		s.m.dropped.WithLabelValues(name, "rule_not_found").Inc()
		s.log.Debug("basic ingest for a missing or disabled rule", "rule", name, "client_id", in.ClientID)
		return
	}
	c.offer(in, rest)
}

// principalID is principal() of a publisher: AWS gives the certificate id
// for a device certificate; the broker names it "cert/<id>".
func principalID(p string) string {
	if id, ok := strings.CutPrefix(p, "cert/"); ok {
		return id
	}
	return p
}
