package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/moat-iot/moat/internal/mqtt/packet"
)

// The shadow mode measures device shadow updates over MQTT, following AWS
// IoT's contract: a device publishes {"state":{"reported":...},
// "clientToken":...} on $aws/things/T/shadow/update and the shadow service
// answers on .../update/accepted or .../update/rejected with the same
// clientToken. See shadow.go.
const shadowUsage = `  moat-bench shadow  -broker HOST:PORT -cafile CA (-certdir DIR | -cert C -key K) [-conns 100 -things 1000 -updates 10 -window 10 -rate 0 -qos 1 -named NAME -v5]
`

// Limits of AWS IoT that the shadow mode's flags respect.
const (
	awsShadowWindow  = 10  // in-flight shadow requests per connection (429 beyond)
	awsThingNameMax  = 128 // bytes of a thing name
	awsShadowNameMax = 64  // bytes of a shadow name
)

// maxShadowRequests bounds -things x -updates: the mode keeps a state and
// a send time per request (12 bytes).
const maxShadowRequests = 10_000_000

// shadowConfig holds the shadow mode's flags.
type shadowConfig struct {
	endpoint
	clientIDPre string // client ids are <clientIDPre>-<i>
	thingPre    string // thing names are <thingPre><i, 5 digits>
	shadowName  string // named shadow; "" = the classic shadow
	subFilter   string // "each" (accepted + rejected per thing) or "wildcard" (update/+ per thing)

	conns       int
	things      int
	updates     int     // per thing
	window      int     // in-flight update requests per connection
	rate        float64 // updates/s over all connections; 0 = unpaced (closed loop on the window)
	qos         int
	v5          bool
	size        int // bytes of filler in each reported state
	keepAlive   int
	concurrency int // parallel connects
	srcAddrs    int

	replyTimeout time.Duration
	timeout      time.Duration

	allowRejects bool
	brokerPID    int
	json         bool
	cpuProfile   string
}

// protoVersion returns the MQTT version of the run.
func (c *shadowConfig) protoVersion() packet.Version {
	if c.v5 {
		return packet.V5
	}
	return packet.V311
}

// versionText names the MQTT version for the report.
func (c *shadowConfig) versionText() string {
	if c.v5 {
		return "5"
	}
	return "3.1.1"
}

// tlsConfig returns the subset of the benchmark config that
// newIdentities reads, so the shadow mode loads identities as pubsub does.
func (c *shadowConfig) tlsConfig() *config {
	return &config{endpoint: c.endpoint}
}

func parseShadowConfig(args []string, out io.Writer) (*shadowConfig, error) {
	c := &shadowConfig{}
	fs := flag.NewFlagSet("moat-bench shadow", flag.ContinueOnError)
	fs.SetOutput(out)
	c.endpoint.flags(fs, "connection")
	fs.StringVar(&c.clientIDPre, "clientid-prefix", "bench-shadow", "client ids are <prefix>-N, N = 0..conns-1")
	fs.StringVar(&c.thingPre, "prefix", "bench-thing-", "thing names are <prefix>NNNNN (5 digits)")
	fs.StringVar(&c.shadowName, "named", "", "update the named shadow `NAME` of each thing (default: the classic shadow)")
	fs.StringVar(&c.subFilter, "sub-filter", "each", "each: subscribe to update/accepted and update/rejected of each thing; wildcard: one filter update/+ per thing (also receives update/documents)")
	fs.IntVar(&c.conns, "conns", 100, "MQTT connections; the things are split evenly over them")
	fs.IntVar(&c.things, "things", 1000, "things (one shadow each)")
	fs.IntVar(&c.updates, "updates", 10, "updates per thing")
	fs.IntVar(&c.window, "window", awsShadowWindow, "max update requests in flight (no reply yet) per connection; AWS answers 429 beyond 10")
	fs.Float64Var(&c.rate, "rate", 0, "updates/s in total, spread over the connections; latency counts from each update's due time (0 = each connection as fast as its window allows)")
	fs.IntVar(&c.qos, "qos", 1, "QoS of the update requests and of the subscriptions: 0 or 1 (AWS IoT has no QoS 2)")
	fs.BoolVar(&c.v5, "v5", false, "MQTT 5 (default MQTT 3.1.1)")
	fs.IntVar(&c.size, "size", 32, "bytes of filler in each update's reported state, besides the counter")
	fs.IntVar(&c.keepAlive, "keepalive", 60, "MQTT keep alive, seconds (the client pings at half of it)")
	fs.IntVar(&c.concurrency, "c", 16, "concurrent workers opening connections")
	fs.IntVar(&c.srcAddrs, "src-addrs", 0, "loopback source addresses 127.1.x.y to spread connections over (0 = the kernel's choice)")
	fs.DurationVar(&c.replyTimeout, "reply-timeout", 5*time.Second, "an update with no accepted/rejected reply after this long counts as missing")
	fs.DurationVar(&c.timeout, "timeout", 5*time.Minute, "hard limit for the whole run; the process exits when it passes")
	fs.BoolVar(&c.allowRejects, "allow-rejects", false, "exit 0 even when updates were rejected (missing replies still fail the run)")
	fs.IntVar(&c.brokerPID, "broker-pid", 0, "broker `pid`: report its RSS (VmRSS) and CPU time from /proc")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write the load generator's CPU profile to `file`")
	fs.BoolVar(&c.json, "json", false, "print the result as one JSON line on stdout (the summary goes to stderr)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (flags only)", fs.Arg(0))
	}
	if c.label == "" {
		c.label = c.broker
	}
	return c, c.validate()
}

// validate checks the flags and returns every problem, each naming its flag.
func (c *shadowConfig) validate() error {
	var errs []error
	bad := func(flag, format string, args ...any) {
		errs = append(errs, fmt.Errorf("-%s: %s", flag, fmt.Sprintf(format, args...)))
	}
	c.endpoint.check(bad)
	if c.clientIDPre == "" || strings.ContainsAny(c.clientIDPre, "/+#\x00") {
		bad("clientid-prefix", "%q must be non-empty without / + # or NUL", c.clientIDPre)
	}
	if c.thingPre == "" || !validAWSName(c.thingPre, awsThingNameMax-5) {
		bad("prefix", "%q: thing names are 1..128 of [a-zA-Z0-9:_-]", c.thingPre)
	}
	if c.shadowName != "" && !validAWSName(c.shadowName, awsShadowNameMax) {
		bad("named", "%q: shadow names are 1..64 of [a-zA-Z0-9:_-]", c.shadowName)
	}
	if c.subFilter != "each" && c.subFilter != "wildcard" {
		bad("sub-filter", "%q: want each or wildcard", c.subFilter)
	}
	if c.conns < 1 || c.conns > 100000 {
		bad("conns", "%d: want 1..100000", c.conns)
	}
	if c.things < c.conns || c.things > 99999 {
		bad("things", "%d: want -conns (%d)..99999, so every connection has a thing", c.things, c.conns)
	}
	if c.updates < 1 || c.updates > 1000000 {
		bad("updates", "%d: want 1..1000000", c.updates)
	}
	if c.things > 0 && c.updates > 0 && c.things*c.updates > maxShadowRequests {
		bad("updates", "-things x -updates = %d: want at most %d", c.things*c.updates, maxShadowRequests)
	}
	if c.window < 1 || c.window > 65535 {
		bad("window", "%d: want 1..65535 (AWS allows 10)", c.window)
	}
	if c.rate < 0 || c.rate > 10_000_000 {
		bad("rate", "%g: want 0..10000000 updates/s (0 = unpaced)", c.rate)
	}
	if c.qos != 0 && c.qos != 1 {
		bad("qos", "%d: want 0 or 1", c.qos)
	}
	if c.size < 0 || c.size > 7000 {
		bad("size", "%d: want 0..7000 bytes (a shadow's state is at most 8 KB)", c.size)
	}
	if c.keepAlive < 0 || c.keepAlive > 65535 {
		bad("keepalive", "%d: want 0..65535 seconds", c.keepAlive)
	}
	if c.concurrency < 1 || c.concurrency > 10000 {
		bad("c", "%d: want 1..10000", c.concurrency)
	}
	if c.srcAddrs < 0 || c.srcAddrs > 250*250 {
		bad("src-addrs", "%d: want 0..62500", c.srcAddrs)
	}
	if c.replyTimeout <= 0 {
		bad("reply-timeout", "%v: want > 0", c.replyTimeout)
	}
	if c.timeout <= c.replyTimeout {
		bad("timeout", "%v: want more than -reply-timeout (%v)", c.timeout, c.replyTimeout)
	}
	if c.brokerPID < 0 {
		bad("broker-pid", "%d: want a process id", c.brokerPID)
	}
	return errors.Join(errs...)
}

// validAWSName reports whether s is 1..max bytes of [a-zA-Z0-9:_-], the
// characters AWS allows in thing and shadow names.
func validAWSName(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !('a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == ':' || b == '_' || b == '-') {
			return false
		}
	}
	return true
}

// shadowClientID returns the client id of connection i.
func shadowClientID(pre string, i int) string { return fmt.Sprintf("%s-%d", pre, i) }

// shadowThing returns the name of thing i.
func shadowThing(pre string, i int) string { return fmt.Sprintf("%s%05d", pre, i) }

// shadowTopic returns the shadow topic of thing (named shadow name, or the
// classic shadow when name is "") followed by suffix, e.g. "update" or
// "update/accepted".
func shadowTopic(thing, name, suffix string) string {
	if name == "" {
		return "$aws/things/" + thing + "/shadow/" + suffix
	}
	return "$aws/things/" + thing + "/shadow/name/" + name + "/" + suffix
}

// thingRange returns the things [lo, hi) of connection i of conns: an
// even split, the first things%conns connections taking one more.
func thingRange(things, conns, i int) (lo, hi int) {
	per, extra := things/conns, things%conns
	lo = i*per + min(i, extra)
	hi = lo + per
	if i < extra {
		hi++
	}
	return lo, hi
}
