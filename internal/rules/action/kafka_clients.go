package action

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// KafkaClients are the Kafka producers of an engine's kafka actions: one
// per distinct set of client properties, shared by every action with the
// same properties (a producer batches and keeps its connections whatever
// the topic). A producer is created at the first Do of an action that
// needs it, and closed when the last such action is closed or when the
// engine stops and calls Close. The zero value is not usable; use
// NewKafkaClients. Its methods are safe for concurrent use.
type KafkaClients struct {
	mu      sync.Mutex
	clients map[string]*kafkaClient // by kafkaConfig.id
	closed  bool
}

// kafkaClient is one shared producer.
type kafkaClient struct {
	cl   *kgo.Client
	conn *connState
	refs int // actions holding it
}

// connState remembers why the producer's last connection attempt failed,
// so that a produce that times out can say why (the producer itself
// retries connections until the record's context ends). It implements
// kgo.HookBrokerConnect.
type connState struct {
	mu  sync.Mutex
	err error // nil once a connection succeeds
}

// OnBrokerConnect records the outcome of a connection attempt: dial, TLS
// handshake and SASL authentication.
func (s *connState) OnBrokerConnect(_ kgo.BrokerMetadata, _ time.Duration, _ net.Conn, err error) {
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
}

// lastErr returns the error of the last connection attempt, if it failed.
func (s *connState) lastErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// errKafkaClosed is returned once Close has been called.
var errKafkaClosed = errors.New("kafka: the rules engine is stopping")

// NewKafkaClients returns an empty set of producers.
func NewKafkaClients() *KafkaClients {
	return &KafkaClients{clients: map[string]*kafkaClient{}}
}

// acquire returns the producer for cfg, creating it if needed, and counts
// one more action holding it. Creating a producer does not connect: it
// connects when it first produces.
func (k *KafkaClients) acquire(cfg *kafkaConfig, log *slog.Logger) (*kafkaClient, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return nil, errKafkaClosed
	}
	if c := k.clients[cfg.id]; c != nil {
		c.refs++
		return c, nil
	}
	conn := &connState{}
	opts := append(cfg.opts[:len(cfg.opts):len(cfg.opts)], kgo.WithLogger(kgoLogger{log}), kgo.WithHooks(conn))
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, err
	}
	c := &kafkaClient{cl: cl, conn: conn, refs: 1}
	k.clients[cfg.id] = c
	return c, nil
}

// release undoes one acquire of cfg's producer and closes the producer
// when no action holds it any more.
func (k *KafkaClients) release(cfg *kafkaConfig) {
	k.mu.Lock()
	c := k.clients[cfg.id]
	if c == nil {
		k.mu.Unlock()
		return
	}
	c.refs--
	if c.refs > 0 {
		k.mu.Unlock()
		return
	}
	delete(k.clients, cfg.id)
	k.mu.Unlock()
	c.cl.Close()
}

// Close closes every producer; records not yet acknowledged fail, and
// kafka actions fail from then on. It is safe to call more than once.
func (k *KafkaClients) Close() {
	k.mu.Lock()
	clients := k.clients
	k.clients, k.closed = map[string]*kafkaClient{}, true
	k.mu.Unlock()
	for _, c := range clients {
		c.cl.Close()
	}
}

// len returns how many producers are open.
func (k *KafkaClients) len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.clients)
}

// kgoLogger passes the Kafka client's errors to slog. Warnings (such as
// each failed connection attempt to a broker that is down) are left out:
// the failing action reports them to the engine.
type kgoLogger struct{ l *slog.Logger }

func (kgoLogger) Level() kgo.LogLevel { return kgo.LogLevelError }

func (g kgoLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	if level == kgo.LogLevelError {
		g.l.Log(context.Background(), slog.LevelError, "kafka client: "+msg, keyvals...)
	}
}
