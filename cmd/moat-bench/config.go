package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/moat-iot/moat/internal/mqtt/packet"
)

// endpoint is the broker and the client identity, the flags every MQTT
// mode shares.
type endpoint struct {
	broker      string
	allowRemote bool
	label       string
	serverName  string
	caFile      string
	certFile    string
	keyFile     string
	certDir     string
}

// flags registers the endpoint flags; who names the clients in -cert's help.
func (e *endpoint) flags(fs *flag.FlagSet, who string) {
	fs.StringVar(&e.broker, "broker", "127.0.0.1:8883", "broker `host:port` (loopback only unless -allow-remote)")
	fs.BoolVar(&e.allowRemote, "allow-remote", false, "allow a non-loopback -broker (forbidden in this workplace)")
	fs.StringVar(&e.label, "label", "", "broker name for the report, e.g. mosquitto or moat (default: -broker)")
	fs.StringVar(&e.serverName, "servername", "", "TLS server name to verify (default: the -broker host)")
	fs.StringVar(&e.caFile, "cafile", "", "PEM file of the CA that signed the broker's certificate (required)")
	fs.StringVar(&e.certFile, "cert", "", "client certificate PEM, one identity for every "+who+" (with -key)")
	fs.StringVar(&e.keyFile, "key", "", "client private key PEM (with -cert)")
	fs.StringVar(&e.certDir, "certdir", "", "`dir` of per-client <clientid>.crt/<clientid>.key (from moat-bench gencerts)")
}

// check reports the endpoint flags' problems through bad.
func (e *endpoint) check(bad func(flag, format string, args ...any)) {
	if err := checkBroker(e.broker, e.allowRemote); err != nil {
		bad("broker", "%v", err)
	}
	if e.caFile == "" {
		bad("cafile", "required: the CA that signed the broker's certificate")
	}
	switch {
	case e.certDir != "" && (e.certFile != "" || e.keyFile != ""):
		bad("certdir", "use either -certdir or -cert/-key, not both")
	case e.certDir == "" && (e.certFile == "" || e.keyFile == ""):
		bad("cert", "mutual TLS needs a client identity: -cert and -key, or -certdir")
	}
}

// config holds the flags of the benchmark modes (pubsub, connect, idle).
type config struct {
	mode string
	endpoint

	clientIDPre string
	topicPrefix string
	// subTopicPrefix is where subscribers subscribe, when a broker-side
	// rule moves the messages there ("" = topicPrefix).
	subTopicPrefix string
	subFilter      string

	pubs, subs  int
	qos         int
	size        int
	rate        float64
	inflight    int
	version     int
	keepAlive   int
	conns       int // idle: connections to hold
	concurrency int // connect and idle: parallel workers
	srcAddrs    int // loopback source addresses; 0 = automatic

	duration, warmup, drain, timeout time.Duration

	brokerPID  int
	json       bool
	cpuProfile string
}

// protoVersion returns the packet.Version for -v.
func (c *config) protoVersion() packet.Version {
	if c.version == 311 {
		return packet.V311
	}
	return packet.V5
}

// newFlagSet registers every benchmark flag on a FlagSet for mode.
func newFlagSet(mode string, c *config, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("moat-bench "+mode, flag.ContinueOnError)
	fs.SetOutput(out)
	c.mode = mode
	c.endpoint.flags(fs, "client")
	fs.StringVar(&c.clientIDPre, "clientid-prefix", "bench-", "client id prefix: ids are <prefix>pub-N, sub-N, conn-N, idle-N")
	fs.StringVar(&c.topicPrefix, "topic-prefix", "", "topic prefix: publishers publish to [<prefix>/]<clientid>/data")
	fs.StringVar(&c.subTopicPrefix, "sub-topic-prefix", "", "pubsub: subscribers subscribe to <prefix>/<clientid>/data instead (a broker rule republishes there); default -topic-prefix")
	fs.StringVar(&c.subFilter, "sub-filter", "each", "each: subscribe to every publisher's topic (8 filters per SUBSCRIBE); wildcard: one filter [<prefix>/]+/data")
	fs.IntVar(&c.pubs, "pubs", 10, "publishers")
	fs.IntVar(&c.subs, "subs", 10, "subscribers (each receives every publisher's messages)")
	fs.IntVar(&c.qos, "qos", 0, "QoS of publications and subscriptions: 0, 1 or 2")
	fs.IntVar(&c.size, "size", 64, fmt.Sprintf("payload bytes (at least %d: send time, sequence, publisher)", payloadHeader))
	fs.Float64Var(&c.rate, "rate", 0, "messages/s per publisher; 0 = as fast as TCP and -inflight allow")
	fs.IntVar(&c.inflight, "inflight", 20, "max unacknowledged QoS 1/2 publications per publisher (also capped by the broker's v5 Receive Maximum)")
	fs.IntVar(&c.version, "v", 5, "MQTT version: 5 or 311")
	fs.IntVar(&c.keepAlive, "keepalive", 60, "MQTT keep alive, seconds (the client pings at half of it)")
	fs.IntVar(&c.conns, "conns", 10000, "idle: connections to open and hold")
	fs.IntVar(&c.concurrency, "c", 16, "connect/idle: concurrent workers opening connections")
	fs.IntVar(&c.srcAddrs, "src-addrs", 0, "loopback source addresses 127.1.x.y to spread connections over (0 = automatic)")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "measured time (idle: how long to hold the connections)")
	fs.DurationVar(&c.warmup, "warmup", 2*time.Second, "pubsub/connect: unmeasured time before -duration")
	fs.DurationVar(&c.drain, "drain", 5*time.Second, "pubsub: max wait for in-flight messages after publishing stops")
	fs.DurationVar(&c.timeout, "timeout", 0, "hard limit for the whole run; the process exits when it passes (0 = warmup+duration+drain+2m)")
	fs.IntVar(&c.brokerPID, "broker-pid", 0, "broker `pid`: report its RSS (VmRSS) and CPU time from /proc")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write the load generator's CPU profile to `file` (to check it is not the bottleneck)")
	fs.BoolVar(&c.json, "json", false, "print the result as one JSON line on stdout (the summary goes to stderr)")
	return fs
}

// parseConfig parses args for mode and validates them.
func parseConfig(mode string, args []string, out io.Writer) (*config, error) {
	c := &config{}
	fs := newFlagSet(mode, c, out)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (flags only)", fs.Arg(0))
	}
	if c.timeout == 0 {
		c.timeout = c.warmup + c.duration + c.drain + 2*time.Minute
	}
	if c.label == "" {
		c.label = c.broker
	}
	return c, c.validate()
}

// validate checks the flags and returns the first problem, naming the flag.
func (c *config) validate() error {
	var errs []error
	bad := func(flag, format string, args ...any) {
		errs = append(errs, fmt.Errorf("-%s: %s", flag, fmt.Sprintf(format, args...)))
	}
	c.endpoint.check(bad)
	if c.clientIDPre == "" || strings.ContainsAny(c.clientIDPre, "/+#\x00") {
		bad("clientid-prefix", "%q must be non-empty without / + # or NUL", c.clientIDPre)
	}
	if strings.ContainsAny(c.topicPrefix, "+#\x00") || strings.HasPrefix(c.topicPrefix, "/") || strings.HasSuffix(c.topicPrefix, "/") {
		bad("topic-prefix", "%q must have no wildcards and no leading or trailing /", c.topicPrefix)
	}
	if strings.ContainsAny(c.subTopicPrefix, "+#\x00") || strings.HasPrefix(c.subTopicPrefix, "/") || strings.HasSuffix(c.subTopicPrefix, "/") {
		bad("sub-topic-prefix", "%q must have no wildcards and no leading or trailing /", c.subTopicPrefix)
	}
	if c.subFilter != "each" && c.subFilter != "wildcard" {
		bad("sub-filter", "%q: want each or wildcard", c.subFilter)
	}
	if c.pubs < 1 || c.pubs > 100000 {
		bad("pubs", "%d: want 1..100000", c.pubs)
	}
	if c.subs < 1 || c.subs > 100000 {
		bad("subs", "%d: want 1..100000", c.subs)
	}
	if c.qos < 0 || c.qos > 2 {
		bad("qos", "%d: want 0, 1 or 2", c.qos)
	}
	if c.size < payloadHeader || c.size > 1<<20 {
		bad("size", "%d: want %d..%d bytes (the payload carries a %d-byte header)", c.size, payloadHeader, 1<<20, payloadHeader)
	}
	if c.rate < 0 {
		bad("rate", "%g: want >= 0 (0 = unlimited)", c.rate)
	}
	if c.inflight < 1 || c.inflight > 65535 {
		bad("inflight", "%d: want 1..65535", c.inflight)
	}
	if c.version != 5 && c.version != 311 {
		bad("v", "%d: want 5 or 311", c.version)
	}
	if c.keepAlive < 0 || c.keepAlive > 65535 {
		bad("keepalive", "%d: want 0..65535 seconds", c.keepAlive)
	}
	if c.conns < 1 || c.conns > 1000000 {
		bad("conns", "%d: want 1..1000000", c.conns)
	}
	if c.concurrency < 1 || c.concurrency > 10000 {
		bad("c", "%d: want 1..10000", c.concurrency)
	}
	if c.srcAddrs < 0 || c.srcAddrs > 250*250 {
		bad("src-addrs", "%d: want 0..62500", c.srcAddrs)
	}
	if c.duration <= 0 {
		bad("duration", "%v: want > 0", c.duration)
	}
	if c.warmup < 0 || c.drain < 0 || c.timeout < 0 {
		bad("warmup", "-warmup, -drain and -timeout must not be negative")
	}
	if c.timeout > 0 && c.timeout < c.warmup+c.duration {
		bad("timeout", "%v is shorter than -warmup + -duration", c.timeout)
	}
	if c.brokerPID < 0 {
		bad("broker-pid", "%d: want a process id", c.brokerPID)
	}
	return errors.Join(errs...)
}

// checkBroker accepts host:port where host is a loopback IP literal or
// "localhost", or anything with allowRemote. It resolves no names, so a
// typo cannot send traffic anywhere.
func checkBroker(addr string, allowRemote bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q: want host:port", addr)
	}
	if port == "" || strings.Trim(port, "0123456789") != "" {
		return fmt.Errorf("%q: port must be a number", addr)
	}
	if allowRemote {
		return nil
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%q is not a loopback address (127.0.0.0/8, ::1, localhost); only loopback targets are allowed without -allow-remote", host)
	}
	return nil
}

// Client ids, one scheme for the benchmark modes and gencerts.
func pubID(pre string, i int) string  { return fmt.Sprintf("%spub-%d", pre, i) }
func subID(pre string, i int) string  { return fmt.Sprintf("%ssub-%d", pre, i) }
func connID(pre string, i int) string { return fmt.Sprintf("%sconn-%d", pre, i) }
func idleID(pre string, i int) string { return fmt.Sprintf("%sidle-%d", pre, i) }

// pubTopic returns the topic publisher clientID publishes to: its own
// [<prefix>/]<clientid>/data, so an ACL can restrict each client to topics
// that start with its id.
func pubTopic(prefix, clientID string) string {
	if prefix == "" {
		return clientID + "/data"
	}
	return prefix + "/" + clientID + "/data"
}
