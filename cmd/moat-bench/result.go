package main

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"time"
)

// result is what a run reports: the human summary and the JSON line. Fields
// that a mode does not measure stay zero; RSS fields are -1 when unknown.
type result struct {
	Broker string `json:"broker"`
	Addr   string `json:"addr"`
	Mode   string `json:"mode"`
	Params params `json:"params"`

	DeliveredPerSec float64 `json:"delivered_msgs_per_s"`
	PublishedPerSec float64 `json:"published_msgs_per_s"`
	Delivered       uint64  `json:"delivered"`
	Published       uint64  `json:"published"`
	Latency         latency `json:"latency_us"`
	Lost            int64   `json:"lost"`
	Dup             uint64  `json:"dup"`
	Refused         uint64  `json:"refused"`
	Stale           uint64  `json:"stale"` // messages of an earlier run delivered during this one

	HandshakesPerSec float64 `json:"handshakes_per_s"`
	Connections      int     `json:"connections"`
	Failed           int     `json:"failed"`
	Alive            int     `json:"alive,omitempty"`

	RSSBefore    int64   `json:"rss_before"`
	RSSAfter     int64   `json:"rss_after"`
	BytesPerConn float64 `json:"bytes_per_conn"`

	Seconds    float64 `json:"seconds"`      // measured window
	ClientCPU  float64 `json:"client_cpu_s"` // this process, during the window
	BrokerCPU  float64 `json:"broker_cpu_s"` // -broker-pid, during the window; -1 unknown
	CPUs       int     `json:"cpus"`
	Errors     uint64  `json:"errors"`
	FirstError string  `json:"first_error,omitempty"`
	Time       string  `json:"time"`
}

type params struct {
	Version     int     `json:"v"`
	Pubs        int     `json:"pubs,omitempty"`
	Subs        int     `json:"subs,omitempty"`
	QoS         int     `json:"qos"`
	Size        int     `json:"size,omitempty"`
	Rate        float64 `json:"rate"`
	Inflight    int     `json:"inflight,omitempty"`
	Conns       int     `json:"conns,omitempty"`
	Concurrency int     `json:"concurrency,omitempty"`
	Duration    float64 `json:"duration_s"`
	Warmup      float64 `json:"warmup_s"`
	PerClient   bool    `json:"per_client_certs"`
	SubFilter   string  `json:"sub_filter,omitempty"`
}

type latency struct {
	P50  float64 `json:"p50"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

func newResult(c *config) *result {
	r := &result{Broker: c.label, Addr: c.broker, Mode: c.mode, RSSBefore: -1, RSSAfter: -1, BrokerCPU: -1,
		CPUs: runtime.NumCPU(), Time: time.Now().UTC().Format(time.RFC3339)}
	r.Params = params{Version: c.version, QoS: c.qos, Rate: c.rate, Duration: c.duration.Seconds(),
		Warmup: c.warmup.Seconds(), PerClient: c.certDir != ""}
	switch c.mode {
	case "pubsub":
		r.Params.Pubs, r.Params.Subs, r.Params.Size, r.Params.SubFilter = c.pubs, c.subs, c.size, c.subFilter
		if c.qos > 0 {
			r.Params.Inflight = c.inflight
		}
	case "connect":
		r.Params.Concurrency = c.concurrency
	case "idle":
		r.Params.Conns, r.Params.Concurrency = c.conns, c.concurrency
	}
	return r
}

// setLatency fills Latency from h (nanoseconds) in microseconds.
func (r *result) setLatency(h *Histogram) {
	us := func(ns int64) float64 { return float64(ns/100) / 10 }
	r.Latency = latency{P50: us(h.Quantile(0.50)), P99: us(h.Quantile(0.99)), Max: us(h.Max()), Mean: us(int64(h.Mean()))}
}

// noteErr counts an error and keeps the first.
func (r *result) noteErr(err error) {
	r.Errors++
	if r.FirstError == "" {
		r.FirstError = err.Error()
	}
}

// cpuMeter measures CPU time of this process and the broker over a window.
type cpuMeter struct {
	pid          int
	self, broker float64
}

func startCPU(pid int) cpuMeter { return cpuMeter{pid: pid, self: selfCPU(), broker: procCPU(pid)} }

func (m cpuMeter) stop(r *result) {
	r.ClientCPU = selfCPU() - m.self
	if b := procCPU(m.pid); b >= 0 && m.broker >= 0 {
		r.BrokerCPU = b - m.broker
	}
}

func mib(b int64) string {
	if b < 0 {
		return "unknown"
	}
	return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
}

// summary writes the human-readable report.
func (r *result) summary(w io.Writer) {
	p := r.Params
	fmt.Fprintf(w, "moat-bench %s against %s (%s), MQTT v%d, %d CPUs shared by broker and load generator\n",
		r.Mode, r.Broker, r.Addr, p.Version, r.CPUs)
	switch r.Mode {
	case "pubsub":
		fmt.Fprintf(w, "  %d pubs -> %d subs, QoS %d, %d B, rate %s, %.0fs (+%.0fs warmup)\n",
			p.Pubs, p.Subs, p.QoS, p.Size, rateText(p.Rate), p.Duration, p.Warmup)
		fmt.Fprintf(w, "  delivered %.0f msgs/s (%d), published %.0f msgs/s (%d)\n",
			r.DeliveredPerSec, r.Delivered, r.PublishedPerSec, r.Published)
		fmt.Fprintf(w, "  latency p50 %.0f µs, p99 %.0f µs, max %.0f µs; lost %d, dup %d, refused %d, stale %d\n",
			r.Latency.P50, r.Latency.P99, r.Latency.Max, r.Lost, r.Dup, r.Refused, r.Stale)
	case "connect":
		fmt.Fprintf(w, "  %.0f handshakes/s (mTLS + CONNECT/CONNACK, full handshakes), %d workers, %d ok, %d failed\n",
			r.HandshakesPerSec, p.Concurrency, r.Connections, r.Failed)
		fmt.Fprintf(w, "  connect time p50 %.0f µs, p99 %.0f µs, max %.0f µs\n", r.Latency.P50, r.Latency.P99, r.Latency.Max)
	case "idle":
		fmt.Fprintf(w, "  %d of %d connections open (%d failed), %d alive after %.0fs idle; opened at %.0f/s\n",
			r.Connections, p.Conns, r.Failed, r.Alive, p.Duration, r.HandshakesPerSec)
		per := "unknown (give -broker-pid)"
		if r.BytesPerConn != 0 {
			per = fmt.Sprintf("%.0f B (%.1f KiB)", r.BytesPerConn, r.BytesPerConn/1024)
		}
		fmt.Fprintf(w, "  broker RSS %s -> %s, per connection %s\n", mib(r.RSSBefore), mib(r.RSSAfter), per)
	}
	if r.Mode != "idle" && r.RSSBefore >= 0 {
		fmt.Fprintf(w, "  broker RSS %s -> %s\n", mib(r.RSSBefore), mib(r.RSSAfter))
	}
	fmt.Fprintf(w, "  CPU during the window: load generator %.1fs, broker %s (of %.0f core-seconds)\n",
		r.ClientCPU, cpuText(r.BrokerCPU), r.Seconds*float64(r.CPUs))
	if r.Errors > 0 {
		fmt.Fprintf(w, "  errors: %d; first: %s\n", r.Errors, r.FirstError)
	}
}

func rateText(r float64) string {
	if r == 0 {
		return "unlimited"
	}
	return fmt.Sprintf("%g/s per publisher", r)
}

func cpuText(s float64) string {
	if s < 0 {
		return "unknown (give -broker-pid)"
	}
	return fmt.Sprintf("%.1fs", s)
}

// report writes the summary, and the JSON line when asked: with -json the
// summary goes to stderr and stdout holds only the JSON line.
func (r *result) report(c *config, stdout, stderr io.Writer) error {
	if !c.json {
		r.summary(stdout)
		return nil
	}
	r.summary(stderr)
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s\n", b)
	return err
}
