package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
	"github.com/google/uuid"

	"github.com/moat-iot/moat/internal/pki"
	"github.com/moat-iot/moat/internal/store"
	"github.com/moat-iot/moat/internal/store/sqlite"
)

// The registry mode measures moat's control plane (the AWS `iot` API)
// with aws-sdk-go-v2, signed requests over HTTPS, as an operator's tools
// call it:
//
//	moat-bench registry -endpoint https://127.0.0.1:PORT -data-dir DIR -create 20000 -c 64
//	moat-bench registry -seed-store DIR/moat.db -seed 1000000      (moat stopped)
//	moat-bench registry -endpoint https://127.0.0.1:PORT -data-dir DIR -things 1000000 -read-seconds 30 -c 16
//
// Things are named <prefix>NNNNNNN (bench-thing-0000042) and carry three
// attributes: room r<i%100>, floor f<i%10>, serial s<i>. So at 1,000,000
// things each room value matches 10,000 things.

const registryUsage = `  moat-bench registry -endpoint https://127.0.0.1:PORT -data-dir DIR [-create N -c 64] [-read-seconds D -things N -c 16]
  moat-bench registry -seed-store DIR/moat.db -seed N   (writes the store directly; moat must not be running)
`

// regConfig holds the registry mode's flags.
type regConfig struct {
	endpoint    string
	allowRemote bool
	dataDir     string
	caBundle    string
	credentials string
	region      string

	create      int
	concurrency int
	readSeconds float64
	things      int
	prefix      string
	pageSize    int
	describePct int
	rate        float64

	seedStore string
	seed      int
	seedStart int
	seedBatch int

	brokerPID  int
	timeout    time.Duration
	json       bool
	cpuProfile string
}

func parseRegConfig(args []string, out io.Writer) (*regConfig, error) {
	c := &regConfig{}
	fs := flag.NewFlagSet("moat-bench registry", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&c.endpoint, "endpoint", "", "moat's HTTPS API `URL`, e.g. https://127.0.0.1:8443 (loopback only unless -allow-remote)")
	fs.BoolVar(&c.allowRemote, "allow-remote", false, "allow a non-loopback -endpoint (forbidden in this workplace)")
	fs.StringVar(&c.dataDir, "data-dir", "", "moat's data dir: default for -ca-bundle (root-ca.pem) and -credentials (admin.credentials)")
	fs.StringVar(&c.caBundle, "ca-bundle", "", "PEM `file` of the CA that signed moat's HTTPS certificate (default DATA_DIR/root-ca.pem)")
	fs.StringVar(&c.credentials, "credentials", "", "shared credentials `file` with the access key (default DATA_DIR/admin.credentials)")
	fs.StringVar(&c.region, "region", "us-east-1", "SigV4 region: moat's --region")
	fs.IntVar(&c.create, "create", 0, "things to create through the API (CreateThing), numbered from 0")
	fs.IntVar(&c.concurrency, "c", 16, "concurrent workers (each with its own keep-alive HTTPS connection)")
	fs.Float64Var(&c.readSeconds, "read-seconds", 0, "then, for this many `seconds`, random DescribeThing and ListThings by attribute")
	fs.IntVar(&c.things, "things", 0, "things 0..N-1 that exist for the read test (default: -create)")
	fs.StringVar(&c.prefix, "prefix", "bench-thing-", "thing name prefix")
	fs.IntVar(&c.pageSize, "page", 50, "ListThings maxResults (AWS's default page is 100; 50 is a realistic console/CLI page)")
	fs.Float64Var(&c.rate, "rate", 0, "read test: total operations/s, spread over the workers (0 = each worker as fast as it can); latency counts from each operation's scheduled time, so a late start counts")
	fs.IntVar(&c.describePct, "describe-pct", 50, "percentage of read operations that are DescribeThing (the rest ListThings)")
	fs.StringVar(&c.seedStore, "seed-store", "", "seed this SQLite store `file` (DATA_DIR/moat.db) directly, without the API; moat must not be running")
	fs.IntVar(&c.seed, "seed", 0, "with -seed-store: make things -seed-start..N-1 exist")
	fs.IntVar(&c.seedStart, "seed-start", 0, "with -seed-store: first thing number to insert (things below it exist already)")
	fs.IntVar(&c.seedBatch, "seed-batch", 10000, "with -seed-store: things per store transaction")
	fs.IntVar(&c.brokerPID, "broker-pid", 0, "moat's `pid`: report its CPU time and RSS from /proc")
	fs.DurationVar(&c.timeout, "timeout", time.Hour, "hard limit for the whole run; the process exits when it passes")
	fs.BoolVar(&c.json, "json", false, "print the result as one JSON line on stdout (the summary goes to stderr)")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write the load generator's CPU profile to `file`")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (flags only)", fs.Arg(0))
	}
	if c.things == 0 {
		c.things = c.create
	}
	if c.caBundle == "" && c.dataDir != "" {
		c.caBundle = filepath.Join(c.dataDir, pki.RootCertFile)
	}
	if c.credentials == "" && c.dataDir != "" {
		c.credentials = filepath.Join(c.dataDir, "admin.credentials")
	}
	return c, c.validate()
}

func (c *regConfig) validate() error {
	var errs []error
	bad := func(flag, format string, args ...any) {
		errs = append(errs, fmt.Errorf("-%s: %s", flag, fmt.Sprintf(format, args...)))
	}
	if c.seedStore != "" {
		if c.seed < 1 || c.seed > 100_000_000 {
			bad("seed", "%d: want 1..100000000", c.seed)
		}
		if c.seedStart < 0 || c.seedStart >= c.seed {
			bad("seed-start", "%d: want 0..%d", c.seedStart, c.seed-1)
		}
		if c.seedBatch < 1 || c.seedBatch > 1_000_000 {
			bad("seed-batch", "%d: want 1..1000000", c.seedBatch)
		}
		if c.create > 0 || c.readSeconds > 0 {
			bad("seed-store", "seeding writes the store while moat is stopped: run -create/-read-seconds separately")
		}
		return errors.Join(errs...)
	}
	if c.create <= 0 && c.readSeconds <= 0 {
		bad("create", "nothing to do: give -create N and/or -read-seconds D (or -seed-store)")
	}
	u, err := url.Parse(c.endpoint)
	switch {
	case c.endpoint == "":
		bad("endpoint", "required: moat's HTTPS API, https://127.0.0.1:PORT")
	case err != nil || u.Scheme != "https" || u.Host == "" || (u.Path != "" && u.Path != "/"):
		bad("endpoint", "%q: want https://HOST:PORT", c.endpoint)
	default:
		hp := u.Host
		if u.Port() == "" {
			hp = net.JoinHostPort(u.Hostname(), "443")
		}
		if err := checkBroker(hp, c.allowRemote); err != nil {
			bad("endpoint", "%v", err)
		}
	}
	if c.caBundle == "" {
		bad("ca-bundle", "required (or -data-dir)")
	}
	if c.credentials == "" {
		bad("credentials", "required (or -data-dir)")
	}
	if c.create < 0 || c.create > 100_000_000 {
		bad("create", "%d: want 0..100000000", c.create)
	}
	if c.concurrency < 1 || c.concurrency > 10000 {
		bad("c", "%d: want 1..10000", c.concurrency)
	}
	if c.readSeconds < 0 {
		bad("read-seconds", "%g: want >= 0", c.readSeconds)
	}
	if c.readSeconds > 0 && c.things < 1 {
		bad("things", "the read test needs existing things: -things N (or -create N)")
	}
	if c.pageSize < 1 || c.pageSize > 250 {
		bad("page", "%d: want 1..250 (AWS's maximum)", c.pageSize)
	}
	if c.rate < 0 {
		bad("rate", "%g: want >= 0 (0 = unlimited)", c.rate)
	}
	if c.describePct < 0 || c.describePct > 100 {
		bad("describe-pct", "%d: want 0..100", c.describePct)
	}
	if c.timeout <= 0 {
		bad("timeout", "%v: want > 0", c.timeout)
	}
	if c.brokerPID < 0 {
		bad("broker-pid", "%d: want a process id", c.brokerPID)
	}
	return errors.Join(errs...)
}

// benchThingName and benchAttrs define thing number i, the same for the
// API creates and the seed.
func benchThingName(prefix string, i int) string { return fmt.Sprintf("%s%07d", prefix, i) }

func benchAttrs(i int) map[string]string {
	return map[string]string{
		"room":   fmt.Sprintf("r%d", i%100),
		"floor":  fmt.Sprintf("f%d", i%10),
		"serial": fmt.Sprintf("s%d", i),
	}
}

// opStats is one operation's result.
type opStats struct {
	Count      uint64  `json:"count"`
	PerSec     float64 `json:"per_s"`
	Latency    latency `json:"latency_us"`
	Errors     uint64  `json:"errors"`
	FirstError string  `json:"first_error,omitempty"`

	hist Histogram
}

func (o *opStats) finish(secs float64) {
	o.Count = o.hist.Count()
	if secs > 0 {
		o.PerSec = float64(o.Count) / secs
	}
	us := func(ns int64) float64 { return float64(ns/100) / 10 }
	h := &o.hist
	o.Latency = latency{P50: us(h.Quantile(0.50)), P99: us(h.Quantile(0.99)), Max: us(h.Max()), Mean: us(int64(h.Mean()))}
}

// merge adds a worker's numbers (under the caller's lock).
func (o *opStats) merge(h *Histogram, errs uint64, first error) {
	o.hist.Merge(h)
	o.Errors += errs
	if o.FirstError == "" && first != nil {
		o.FirstError = first.Error()
	}
}

// regResult is what the registry mode reports.
type regResult struct {
	Mode        string `json:"mode"`
	Endpoint    string `json:"endpoint,omitempty"`
	Concurrency int    `json:"concurrency,omitempty"`

	Create        *opStats `json:"create,omitempty"`
	CreateSeconds float64  `json:"create_s,omitempty"`

	Things      int      `json:"things,omitempty"`
	Rate        float64  `json:"rate,omitempty"`
	PageSize    int      `json:"page,omitempty"`
	ReadSeconds float64  `json:"read_s,omitempty"`
	Describe    *opStats `json:"describe,omitempty"`
	List        *opStats `json:"list_by_attribute,omitempty"`
	ListEmpty   uint64   `json:"list_empty_pages,omitempty"` // pages with no thing: a wrong -things

	Seeded      int     `json:"seeded,omitempty"`
	SeedSeconds float64 `json:"seed_s,omitempty"`
	DBBytes     int64   `json:"db_bytes,omitempty"`

	ClientCPU float64 `json:"client_cpu_s"`
	BrokerCPU float64 `json:"broker_cpu_s"` // -1 unknown
	BrokerRSS int64   `json:"broker_rss"`   // -1 unknown
	CPUs      int     `json:"cpus"`
	Time      string  `json:"time"`
}

// runRegistry is the registry subcommand; it returns the exit code.
func runRegistry(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, err := parseRegConfig(args, stderr)
	if err != nil {
		return usageErr(stderr, "registry", err)
	}
	watchdog := time.AfterFunc(c.timeout, func() {
		fmt.Fprintf(stderr, "moat-bench registry: hard timeout %v reached; exiting\n", c.timeout)
		os.Exit(3)
	})
	defer watchdog.Stop()
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	if c.cpuProfile != "" {
		f, err := os.Create(c.cpuProfile)
		if err != nil {
			return usageErr(stderr, "registry", fmt.Errorf("-cpuprofile: %w", err))
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return usageErr(stderr, "registry", fmt.Errorf("-cpuprofile: %w", err))
		}
		defer pprof.StopCPUProfile()
	}
	r := &regResult{Mode: "registry", CPUs: runtime.NumCPU(), BrokerCPU: -1, BrokerRSS: -1,
		Time: time.Now().UTC().Format(time.RFC3339)}
	cpu := startCPU(c.brokerPID)
	if c.seedStore != "" {
		err = seedStore(ctx, c, r, stderr)
	} else {
		err = runRegistryAPI(ctx, c, r, stderr)
	}
	cpu.stop2(r)
	if err != nil {
		fmt.Fprintf(stderr, "moat-bench registry: %v\n", err)
		return 1
	}
	out := stdout
	if c.json {
		out = stderr
	}
	r.summary(out)
	if c.json {
		b, err := json.Marshal(r)
		if err != nil {
			fmt.Fprintf(stderr, "moat-bench registry: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "%s\n", b)
	}
	if (r.Create != nil && r.Create.Errors > 0) || (r.Describe != nil && r.Describe.Errors > 0) || (r.List != nil && r.List.Errors > 0) {
		return 1
	}
	return 0
}

func (m cpuMeter) stop2(r *regResult) {
	r.ClientCPU = selfCPU() - m.self
	if b := procCPU(m.pid); b >= 0 && m.broker >= 0 {
		r.BrokerCPU = b - m.broker
	}
	r.BrokerRSS = procRSS(m.pid)
}

// seedStore inserts things seedStart..seed-1 straight into the SQLite
// store, seedBatch per transaction: the quick way to a large fleet for the
// read test. moat must be stopped (the store has one writer).
func seedStore(ctx context.Context, c *regConfig, r *regResult, log io.Writer) error {
	st, err := sqlite.Open(c.seedStore, sqlite.Options{MaxBatch: 1})
	if err != nil {
		return err
	}
	start := time.Now()
	fmt.Fprintf(log, "seed: things %d..%d into %s, %d per transaction...\n", c.seedStart, c.seed-1, c.seedStore, c.seedBatch)
	last := start
	for lo := c.seedStart; lo < c.seed; lo += c.seedBatch {
		hi := min(lo+c.seedBatch, c.seed)
		now := time.Now().UTC()
		err := st.Update(ctx, func(tx store.Tx) error {
			for i := lo; i < hi; i++ {
				th := store.Thing{Name: benchThingName(c.prefix, i), ID: uuid.NewString(), Attributes: benchAttrs(i),
					Version: 1, CreatedAt: now, UpdatedAt: now}
				if err := tx.InsertThing(th); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			st.Close()
			return fmt.Errorf("seed things %d..%d: %w", lo, hi-1, err)
		}
		if time.Since(last) > 10*time.Second {
			last = time.Now()
			fmt.Fprintf(log, "seed: %d things, %.0f/s\n", hi, float64(hi-c.seedStart)/time.Since(start).Seconds())
		}
	}
	if err := st.Close(); err != nil {
		return err
	}
	r.Seeded, r.SeedSeconds = c.seed-c.seedStart, time.Since(start).Seconds()
	if fi, err := os.Stat(c.seedStore); err == nil {
		r.DBBytes = fi.Size()
	}
	return nil
}

// newIoTClient returns an iot client with the shared credentials, trusting
// the CA bundle, with one keep-alive connection per worker and no retries
// (an error counts as an error).
func newIoTClient(c *regConfig) (*iot.Client, *http.Client, error) {
	pem, err := os.ReadFile(c.caBundle)
	if err != nil {
		return nil, nil, fmt.Errorf("-ca-bundle: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, nil, fmt.Errorf("-ca-bundle %s: no certificate", c.caBundle)
	}
	id, secret, err := pki.ReadSharedCredentials(c.credentials)
	if err != nil {
		return nil, nil, fmt.Errorf("-credentials: %w", err)
	}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		MaxIdleConns:        c.concurrency + 16,
		MaxIdleConnsPerHost: c.concurrency + 16,
		IdleConnTimeout:     90 * time.Second,
	}}
	cfg := aws.Config{Region: c.region, Credentials: credentials.NewStaticCredentialsProvider(id, secret, ""), HTTPClient: hc}
	return iot.NewFromConfig(cfg, func(o *iot.Options) {
		o.BaseEndpoint = aws.String(c.endpoint)
		o.RetryMaxAttempts = 1
	}), hc, nil
}

func runRegistryAPI(ctx context.Context, c *regConfig, r *regResult, log io.Writer) error {
	cl, hc, err := newIoTClient(c)
	if err != nil {
		return err
	}
	// Close the keep-alive connections when done: a server's graceful
	// shutdown waits up to 5 s for a connection that was opened (by a
	// parallel dial) but never carried a request.
	defer hc.CloseIdleConnections()
	r.Endpoint, r.Concurrency = c.endpoint, c.concurrency
	// One call first, so a wrong endpoint, CA or key fails fast and clearly.
	if _, err := cl.ListThings(ctx, &iot.ListThingsInput{MaxResults: aws.Int32(1)}); err != nil {
		return fmt.Errorf("first call (ListThings): %w", err)
	}
	if c.create > 0 {
		if err := runCreates(ctx, c, cl, r, log); err != nil {
			return err
		}
	}
	if c.readSeconds > 0 {
		return runReads(ctx, c, cl, r, log)
	}
	return nil
}

// runCreates creates things 0..create-1 with CreateThing from c workers
// taking the next number from a shared counter.
func runCreates(ctx context.Context, c *regConfig, cl *iot.Client, r *regResult, log io.Writer) error {
	fmt.Fprintf(log, "registry: creating %d things through the API with %d workers...\n", c.create, c.concurrency)
	var (
		next  atomic.Int64
		mu    sync.Mutex
		stats opStats
		wg    sync.WaitGroup
	)
	start := time.Now()
	for range c.concurrency {
		wg.Go(func() {
			var h Histogram
			var errs uint64
			var first error
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= c.create {
					break
				}
				in := &iot.CreateThingInput{ThingName: aws.String(benchThingName(c.prefix, i)),
					AttributePayload: &types.AttributePayload{Attributes: benchAttrs(i)}}
				t0 := time.Now()
				_, err := cl.CreateThing(ctx, in)
				if err != nil {
					errs++
					if first == nil {
						first = err
					}
					continue
				}
				h.Record(int64(time.Since(t0)))
			}
			mu.Lock()
			stats.merge(&h, errs, first)
			mu.Unlock()
		})
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	stats.finish(secs)
	r.Create, r.CreateSeconds = &stats, secs
	return ctx.Err()
}

// runReads runs DescribeThing on random existing things and ListThings by
// a random room (one page of -page) for -read-seconds, from c workers.
func runReads(ctx context.Context, c *regConfig, cl *iot.Client, r *regResult, log io.Writer) error {
	fmt.Fprintf(log, "registry: %d workers, DescribeThing (%d%%) and ListThings room=rK maxResults %d over %d things for %gs, rate %s...\n",
		c.concurrency, c.describePct, c.pageSize, c.things, c.readSeconds, regRateText(c.rate))
	// With -rate, worker w's operations are scheduled every interval,
	// staggered by w; an operation's latency counts from its scheduled
	// time (no coordinated omission: a worker that falls behind reports it).
	var interval time.Duration
	if c.rate > 0 {
		interval = time.Duration(float64(c.concurrency) / c.rate * float64(time.Second))
	}
	rooms := min(c.things, 100)
	var (
		mu         sync.Mutex
		desc, list opStats
		empty      atomic.Uint64
		wg         sync.WaitGroup
		stop             = make(chan struct{})
		dur              = time.Duration(c.readSeconds * float64(time.Second))
		pageSize   int32 = int32(c.pageSize)
	)
	start := time.Now()
	for w := range c.concurrency {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), uint64(start.UnixNano())))
			var hd, hl Histogram
			var ed, el uint64
			var fd, fl error
			next := start.Add(interval * time.Duration(w) / time.Duration(c.concurrency))
			for {
				select {
				case <-stop:
					mu.Lock()
					desc.merge(&hd, ed, fd)
					list.merge(&hl, el, fl)
					mu.Unlock()
					return
				default:
				}
				var sched time.Time // zero: unpaced
				if interval > 0 {
					sched, next = next, next.Add(interval)
					if d := time.Until(sched); d > 0 {
						select {
						case <-time.After(d):
						case <-stop:
							continue
						}
					}
				}
				since := func(t0 time.Time) time.Duration {
					if !sched.IsZero() {
						t0 = sched
					}
					return time.Since(t0)
				}
				if rng.IntN(100) < c.describePct {
					name := benchThingName(c.prefix, rng.IntN(c.things))
					t0 := time.Now()
					_, err := cl.DescribeThing(ctx, &iot.DescribeThingInput{ThingName: aws.String(name)})
					d := since(t0)
					if err != nil {
						ed++
						if fd == nil {
							fd = err
						}
						continue
					}
					hd.Record(int64(d))
				} else {
					room := fmt.Sprintf("r%d", rng.IntN(rooms))
					t0 := time.Now()
					out, err := cl.ListThings(ctx, &iot.ListThingsInput{AttributeName: aws.String("room"),
						AttributeValue: aws.String(room), MaxResults: aws.Int32(pageSize)})
					d := since(t0)
					if err != nil {
						el++
						if fl == nil {
							fl = err
						}
						continue
					}
					if len(out.Things) == 0 {
						empty.Add(1)
					}
					hl.Record(int64(d))
				}
			}
		})
	}
	select {
	case <-time.After(dur):
	case <-ctx.Done():
	}
	close(stop)
	wg.Wait()
	secs := time.Since(start).Seconds()
	desc.finish(secs)
	list.finish(secs)
	r.Things, r.PageSize, r.ReadSeconds, r.Rate = c.things, c.pageSize, secs, c.rate
	r.Describe, r.List, r.ListEmpty = &desc, &list, empty.Load()
	return ctx.Err()
}

func (r *regResult) summary(w io.Writer) {
	if r.Seeded > 0 {
		fmt.Fprintf(w, "moat-bench registry seed: %d things in %.1fs (%.0f/s) straight into the store; database file %s\n",
			r.Seeded, r.SeedSeconds, float64(r.Seeded)/r.SeedSeconds, mib(r.DBBytes))
		return
	}
	fmt.Fprintf(w, "moat-bench registry against %s (aws-sdk-go-v2 iot client, SigV4, HTTPS), %d workers, %d CPUs shared by moat and the load generator\n",
		r.Endpoint, r.Concurrency, r.CPUs)
	op := func(name string, o *opStats, secs float64) {
		fmt.Fprintf(w, "  %-24s %8.0f/s (%d in %.1fs)  p50 %.0f µs, p99 %.0f µs, max %.0f µs",
			name, o.PerSec, o.Count, secs, o.Latency.P50, o.Latency.P99, o.Latency.Max)
		if o.Errors > 0 {
			fmt.Fprintf(w, "; %d errors, first: %s", o.Errors, o.FirstError)
		}
		fmt.Fprintln(w)
	}
	if r.Create != nil {
		op("CreateThing", r.Create, r.CreateSeconds)
	}
	if r.Describe != nil {
		fmt.Fprintf(w, "  reads over %d things, ListThings page %d, rate %s:\n", r.Things, r.PageSize, regRateText(r.Rate))
		op("DescribeThing", r.Describe, r.ReadSeconds)
		op("ListThings by attribute", r.List, r.ReadSeconds)
		if r.ListEmpty > 0 {
			fmt.Fprintf(w, "  WARNING: %d ListThings pages were empty (does -things match the store?)\n", r.ListEmpty)
		}
	}
	fmt.Fprintf(w, "  CPU: load generator %.1fs, moat %s; moat RSS %s\n", r.ClientCPU, cpuText(r.BrokerCPU), mib(r.BrokerRSS))
}

func regRateText(r float64) string {
	if r == 0 {
		return "unlimited (each worker back to back)"
	}
	return fmt.Sprintf("%g ops/s in total", r)
}
