package action

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// kafkaDef is the KafkaAction shape.
type kafkaDef struct {
	DestinationARN   *string           `json:"destinationArn"`
	Topic            *string           `json:"topic"`
	Key              *string           `json:"key"`
	Partition        *string           `json:"partition"`
	ClientProperties map[string]string `json:"clientProperties"`
	Headers          []keyValueDef     `json:"headers"`
}

// Limits of the KafkaAction shape (botocore model: KafkaHeaders,
// KafkaHeaderKey, KafkaHeaderValue) and of Kafka topic names.
const (
	maxKafkaHeaders     = 100
	maxKafkaHeaderLen   = 16384 // bytes of a header key or value, as written
	maxKafkaTopicLen    = 249
	kafkaTopicNameChars = "a-z, A-Z, 0-9, '.', '_' and '-'"
)

// kafkaAction produces the rule's result as one record to a Kafka topic.
// topic, key, partition and header keys and values may be substitution
// templates. destinationArn (AWS's VPC destination) is required by the
// model and not used: moat reaches bootstrap.servers from its own network.
type kafkaAction struct {
	clients   *KafkaClients
	cfg       *kafkaConfig
	log       *slog.Logger
	raw       string // topic as written
	topic     text
	key       text
	partition text
	headers   []kafkaHeader

	mu     sync.Mutex
	cl     *kafkaClient // acquired at the first Do; nil before and after Close
	closed bool
}

type kafkaHeader struct{ key, value text }

func newKafka(def json.RawMessage, deps *Deps) (Action, error) {
	var d kafkaDef
	if err := decode(kindKafka, def, &d); err != nil {
		return nil, err
	}
	switch {
	case d.DestinationARN == nil:
		return nil, errors.New("kafka: destinationArn is required (moat does not use it)")
	case d.Topic == nil || *d.Topic == "":
		return nil, errors.New("kafka: topic is required")
	case d.ClientProperties == nil:
		return nil, errors.New("kafka: clientProperties is required, with bootstrap.servers at least")
	case deps.Kafka == nil:
		return nil, errors.New("kafka: no Kafka producers available")
	}
	cfg, err := parseKafkaConfig(d.ClientProperties)
	if err != nil {
		return nil, err
	}
	a := &kafkaAction{clients: deps.Kafka, cfg: cfg, log: deps.Log, raw: *d.Topic}
	if a.topic, err = parseText(deps, "kafka: topic", *d.Topic); err != nil {
		return nil, err
	}
	if a.topic.constant() {
		if err := checkKafkaTopic(a.topic.raw); err != nil {
			return nil, fmt.Errorf("kafka: topic %q: %w", a.raw, err)
		}
	}
	if d.Key != nil {
		if a.key, err = parseText(deps, "kafka: key", *d.Key); err != nil {
			return nil, err
		}
	}
	if d.Partition != nil {
		if a.partition, err = parseText(deps, "kafka: partition", *d.Partition); err != nil {
			return nil, err
		}
		if a.partition.constant() {
			if _, _, err := parsePartition(a.partition.raw); err != nil {
				return nil, fmt.Errorf("kafka: partition: %w", err)
			}
		}
	}
	if len(d.Headers) > maxKafkaHeaders {
		return nil, fmt.Errorf("kafka: headers: more than %d", maxKafkaHeaders)
	}
	for i, h := range d.Headers {
		field := fmt.Sprintf("kafka: headers[%d]", i)
		if h.Key == nil || h.Value == nil {
			return nil, fmt.Errorf("%s: key and value are required", field)
		}
		if len(*h.Key) > maxKafkaHeaderLen || len(*h.Value) > maxKafkaHeaderLen {
			return nil, fmt.Errorf("%s: key and value must be at most %d bytes", field, maxKafkaHeaderLen)
		}
		var kh kafkaHeader
		if kh.key, err = parseText(deps, field+".key", *h.Key); err != nil {
			return nil, err
		}
		if kh.value, err = parseText(deps, field+".value", *h.Value); err != nil {
			return nil, err
		}
		a.headers = append(a.headers, kh)
	}
	return a, nil
}

func (a *kafkaAction) name() string     { return NameKafka }
func (a *kafkaAction) resource() string { return a.raw }

// Do produces one record (value: m.Payload; key, partition and headers
// rendered) and waits for the cluster's acknowledgement, as acks asks, or
// for ctx. A rendered topic or partition that is invalid, and an error
// the cluster marks as not retriable (record too large, not authorized,
// ...), are *Permanent; a cluster that is down or slow is a retryable
// error when ctx ends. When ctx ends first the record may still be
// delivered later: a retry can duplicate it (Kafka actions are
// at-least-once, as in AWS).
func (a *kafkaAction) Do(ctx context.Context, m *Message) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("kafka: %w", err)
	}
	rec, err := a.record(m)
	if err != nil {
		return err
	}
	cl, err := a.client()
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	cl.cl.Produce(ctx, rec, func(_ *kgo.Record, err error) { done <- err })
	select {
	case err = <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err == nil {
		return nil
	}
	if cerr := cl.conn.lastErr(); cerr != nil && ctx.Err() != nil {
		return fmt.Errorf("kafka: produce to topic %q: %w (last connection attempt: %v)", rec.Topic, err, cerr)
	}
	err = fmt.Errorf("kafka: produce to topic %q: %w", rec.Topic, err)
	if ke := (*kerr.Error)(nil); errors.As(err, &ke) && !ke.Retriable {
		return &Permanent{Err: err}
	}
	return err
}

// record renders the record for m.
func (a *kafkaAction) record(m *Message) (*kgo.Record, error) {
	topic, err := a.topic.render("kafka: topic", m.In)
	if err != nil {
		return nil, err
	}
	if err := checkKafkaTopic(topic); err != nil {
		return nil, permanent("kafka: topic %q: %w", topic, err)
	}
	// The producer may hold the value after Do returns (a record sent
	// when ctx ended), and the engine reuses m.Payload: copy it.
	rec := &kgo.Record{Topic: topic, Value: bytes.Clone(m.Payload)}
	key, err := a.key.render("kafka: key", m.In)
	if err != nil {
		return nil, err
	}
	if key != "" {
		rec.Key = []byte(key)
	}
	part, err := a.partition.render("kafka: partition", m.In)
	if err != nil {
		return nil, err
	}
	n, manual, err := parsePartition(part)
	if err != nil {
		return nil, permanent("kafka: partition: %w", err)
	}
	if manual {
		rec.Partition = n
		rec.Context = context.WithValue(context.Background(), manualPartition{}, true)
	}
	for i, h := range a.headers {
		field := fmt.Sprintf("kafka: headers[%d]", i)
		k, err := h.key.render(field+".key", m.In)
		if err != nil {
			return nil, err
		}
		v, err := h.value.render(field+".value", m.In)
		if err != nil {
			return nil, err
		}
		rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: k, Value: []byte(v)})
	}
	return rec, nil
}

// client returns the action's producer, acquiring it at the first call.
func (a *kafkaAction) client() (*kafkaClient, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil, errors.New("kafka: the action is closed")
	}
	if a.cl == nil {
		cl, err := a.clients.acquire(a.cfg, a.log)
		if err != nil {
			return nil, err
		}
		a.cl = cl
	}
	return a.cl, nil
}

// Close releases the action's hold on its shared producer, which closes
// when no other action holds it. Call it after the action's last Do (a
// rule replaced or deleted); a Do still running may fail.
func (a *kafkaAction) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cl != nil {
		a.clients.release(a.cfg)
		a.cl = nil
	}
	a.closed = true
	return nil
}

// checkKafkaTopic checks a Kafka topic name: 1 to 249 of a-z, A-Z, 0-9,
// '.', '_' and '-', and not "." or "..", as Kafka's Topic.validate.
func checkKafkaTopic(t string) error {
	if t == "" || len(t) > maxKafkaTopicLen {
		return fmt.Errorf("a Kafka topic name has 1 to %d characters", maxKafkaTopicLen)
	}
	if t == "." || t == ".." {
		return errors.New(`a Kafka topic name cannot be "." or ".."`)
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return errors.New("a Kafka topic name has only " + kafkaTopicNameChars)
		}
	}
	return nil
}

// parsePartition parses a rendered partition: "" is none (the
// partitioner chooses: by key hash when there is a key, as Kafka's
// default partitioner), else a partition number.
func parsePartition(s string) (n int32, manual bool, err error) {
	if s == "" {
		return 0, false, nil
	}
	v, err := strconv.ParseInt(s, 10, 32)
	if err != nil || v < 0 || v > math.MaxInt32 {
		return 0, false, fmt.Errorf("%q is not a partition number", s)
	}
	return int32(v), true, nil
}

// manualPartition marks, in kgo.Record.Context, a record whose Partition
// the action chose.
type manualPartition struct{}

func isManual(r *kgo.Record) bool {
	return r.Context != nil && r.Context.Value(manualPartition{}) != nil
}

// partitioner sends a record marked manualPartition to its Partition (a
// partition that does not exist fails the record) and any other record as
// kgo's StickyKeyPartitioner does: by the murmur2 hash of its key, as the
// Java client, or to a sticky partition when it has no key.
type partitioner struct{ def kgo.Partitioner }

func newPartitioner() kgo.Partitioner {
	return partitioner{kgo.StickyKeyPartitioner(nil)}
}

func (p partitioner) ForTopic(t string) kgo.TopicPartitioner {
	return &topicPartitioner{p.def.ForTopic(t)}
}

type topicPartitioner struct{ def kgo.TopicPartitioner }

func (p *topicPartitioner) RequiresConsistency(r *kgo.Record) bool {
	return isManual(r) || p.def.RequiresConsistency(r)
}

func (p *topicPartitioner) Partition(r *kgo.Record, n int) int {
	if isManual(r) {
		return int(r.Partition)
	}
	return p.def.Partition(r, n)
}

// OnNewBatch lets the sticky partitioner move on (kgo.TopicPartitionerOnNewBatch).
func (p *topicPartitioner) OnNewBatch() {
	if o, ok := p.def.(kgo.TopicPartitionerOnNewBatch); ok {
		o.OnNewBatch()
	}
}
