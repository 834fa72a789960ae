package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// shadowResult is what a shadow run reports: the human summary and the
// JSON line. RSS fields are -1 and BrokerCPU is -1 when unknown.
type shadowResult struct {
	Broker string       `json:"broker"`
	Addr   string       `json:"addr"`
	Mode   string       `json:"mode"`
	Params shadowParams `json:"params"`

	Planned        uint64            `json:"planned"`  // -things x -updates
	Sent           uint64            `json:"sent"`     // update requests published
	Accepted       uint64            `json:"accepted"` // update/accepted with the request's clientToken
	Rejected       uint64            `json:"rejected"` // update/rejected with the request's clientToken
	RejectedByCode map[string]uint64 `json:"rejected_by_code,omitempty"`
	FirstRejection string            `json:"first_rejection,omitempty"`
	Missing        uint64            `json:"missing"` // no reply within the reply timeout
	Refused        uint64            `json:"refused"` // MQTT 5 PUBACK with a failure code: no reply will come
	FirstRefusal   string            `json:"first_refusal,omitempty"`
	Late           uint64            `json:"late"`    // replies that came after their request counted missing
	Foreign        uint64            `json:"foreign"` // replies to other clients' or earlier runs' requests
	Other          uint64            `json:"other"`   // update/documents, update/delta (-sub-filter wildcard)

	UpdatesPerSec float64 `json:"updates_per_s"` // accepted / Seconds
	Latency       latency `json:"accepted_latency_us"`
	Seconds       float64 `json:"seconds"` // first send to last reply
	RunSeconds    float64 `json:"run_s"`   // first send to the end of the run (the CPU window): longer when replies are missing

	RSSBefore  int64   `json:"rss_before"`
	RSSAfter   int64   `json:"rss_after"`
	ClientCPU  float64 `json:"client_cpu_s"` // this process, first send to the end of the run
	BrokerCPU  float64 `json:"broker_cpu_s"` // -broker-pid, same window
	CPUs       int     `json:"cpus"`
	Errors     uint64  `json:"errors"`
	FirstError string  `json:"first_error,omitempty"`
	Time       string  `json:"time"`
}

type shadowParams struct {
	Version      int     `json:"v"`
	Conns        int     `json:"conns"`
	Things       int     `json:"things"`
	Updates      int     `json:"updates"`
	Window       int     `json:"window"`
	Rate         float64 `json:"rate"` // updates/s in total; 0 = unpaced
	QoS          int     `json:"qos"`
	Shadow       string  `json:"shadow,omitempty"` // named shadow; empty = classic
	SubFilter    string  `json:"sub_filter"`
	Size         int     `json:"size"`
	ReplyTimeout float64 `json:"reply_timeout_s"`
	PerClient    bool    `json:"per_client_certs"`
}

func newShadowResult(c *shadowConfig) *shadowResult {
	v := 311
	if c.v5 {
		v = 5
	}
	return &shadowResult{Broker: c.label, Addr: c.broker, Mode: "shadow", RSSBefore: -1, RSSAfter: -1, BrokerCPU: -1,
		CPUs: runtime.NumCPU(), Time: time.Now().UTC().Format(time.RFC3339), Planned: uint64(c.things * c.updates),
		Params: shadowParams{Version: v, Conns: c.conns, Things: c.things, Updates: c.updates, Window: c.window, Rate: c.rate,
			QoS: c.qos, Shadow: c.shadowName, SubFilter: c.subFilter, Size: c.size,
			ReplyTimeout: c.replyTimeout.Seconds(), PerClient: c.certDir != ""}}
}

// noteErr counts an error and keeps the first.
func (r *shadowResult) noteErr(err error) {
	r.Errors++
	if r.FirstError == "" {
		r.FirstError = err.Error()
	}
}

// collect adds up the clients' requests and readers' counts, after the
// readers returned. start is the first send, end the end of the run (both
// now() values).
func (r *shadowResult) collect(clients []*shadowClient, start, end int64) {
	var hist Histogram
	last := start
	byCode := map[int]uint64{}
	for _, s := range clients {
		r.Sent += uint64(s.sent.Load())
		for i := range s.state {
			switch s.state[i].Load() {
			case reqAccepted:
				r.Accepted++
			case reqRejected:
				r.Rejected++
			case reqRefused:
				r.Refused++
			case reqMissing, reqInFlight: // in flight: only if the run was cut short
				r.Missing++
			}
		}
		hist.Merge(&s.hist)
		for code, n := range s.rejected {
			byCode[code] += n
		}
		if r.FirstRejection == "" {
			r.FirstRejection = s.firstRej
		}
		if r.FirstRefusal == "" {
			r.FirstRefusal = s.firstRefus
		}
		r.Late += s.late
		r.Foreign += s.foreign
		r.Other += s.other
		if s.errs > 0 {
			if r.FirstError == "" {
				r.FirstError = s.firstErr.Error()
			}
			r.Errors += s.errs
		}
		last = max(last, s.lastReply.Load())
	}
	if len(byCode) > 0 {
		r.RejectedByCode = map[string]uint64{}
		for code, n := range byCode {
			r.RejectedByCode[strconv.Itoa(code)] = n
		}
	}
	if last == start { // no reply at all
		last = end
	}
	r.Seconds = time.Duration(last - start).Seconds()
	r.RunSeconds = time.Duration(end - start).Seconds()
	if r.Seconds > 0 {
		r.UpdatesPerSec = float64(r.Accepted) / r.Seconds
	}
	us := func(ns int64) float64 { return float64(ns/100) / 10 }
	r.Latency = latency{P50: us(hist.Quantile(0.50)), P99: us(hist.Quantile(0.99)), Max: us(hist.Max()), Mean: us(int64(hist.Mean()))}
}

// failure returns why the run failed, or "" when it did not: any update
// missing, refused or never sent, an error, or (unless allowRejects) a
// rejection.
func (r *shadowResult) failure(allowRejects bool) string {
	var why []string
	if n := r.Planned - r.Sent; n > 0 {
		why = append(why, fmt.Sprintf("%d updates not sent", n))
	}
	if r.Missing > 0 {
		why = append(why, fmt.Sprintf("%d missing replies", r.Missing))
	}
	if r.Refused > 0 {
		why = append(why, fmt.Sprintf("%d updates refused by the broker", r.Refused))
	}
	if r.Rejected > 0 && !allowRejects {
		why = append(why, fmt.Sprintf("%d updates rejected (-allow-rejects to accept that)", r.Rejected))
	}
	if r.Errors > 0 {
		why = append(why, fmt.Sprintf("%d errors", r.Errors))
	}
	return strings.Join(why, ", ")
}

// rejectedText lists the rejections by code: "400: 1, 429: 2".
func (r *shadowResult) rejectedText() string {
	codes := slices.Sorted(maps.Keys(r.RejectedByCode))
	parts := make([]string, len(codes))
	for i, code := range codes {
		parts[i] = fmt.Sprintf("%s: %d", code, r.RejectedByCode[code])
	}
	return strings.Join(parts, ", ")
}

// summary writes the human-readable report.
func (r *shadowResult) summary(w io.Writer) {
	p := r.Params
	v := "3.1.1"
	if p.Version == 5 {
		v = "5"
	}
	shadow := "classic shadow"
	if p.Shadow != "" {
		shadow = fmt.Sprintf("named shadow %q", p.Shadow)
	}
	fmt.Fprintf(w, "moat-bench shadow against %s (%s), MQTT v%s, %d CPUs shared by broker and load generator\n",
		r.Broker, r.Addr, v, r.CPUs)
	fmt.Fprintf(w, "  %d connections, %d things x %d updates (%s), window %d, rate %s, QoS %d, sub-filter %s, %d B filler\n",
		p.Conns, p.Things, p.Updates, shadow, p.Window, shadowRateText(p.Rate), p.QoS, p.SubFilter, p.Size)
	fmt.Fprintf(w, "  accepted %.0f updates/s: %d accepted of %d sent (%d planned) in %.2fs, first send to last reply\n",
		r.UpdatesPerSec, r.Accepted, r.Sent, r.Planned, r.Seconds)
	from := "send"
	if p.Rate > 0 {
		from = "due time"
	}
	fmt.Fprintf(w, "  accepted latency (from %s) p50 %.0f µs, p99 %.0f µs, max %.0f µs\n", from, r.Latency.P50, r.Latency.P99, r.Latency.Max)
	fmt.Fprintf(w, "  rejected %d", r.Rejected)
	if r.Rejected > 0 {
		fmt.Fprintf(w, " (%s; first: %s)", r.rejectedText(), r.FirstRejection)
	}
	fmt.Fprintf(w, ", missing %d (reply timeout %gs), refused %d", r.Missing, p.ReplyTimeout, r.Refused)
	if r.Refused > 0 {
		fmt.Fprintf(w, " (first: %s; check the IoT policy: iot:Publish)", r.FirstRefusal)
	}
	fmt.Fprintf(w, ", late %d, foreign %d, other %d\n", r.Late, r.Foreign, r.Other)
	if r.RSSBefore >= 0 {
		fmt.Fprintf(w, "  broker RSS %s -> %s\n", mib(r.RSSBefore), mib(r.RSSAfter))
	}
	fmt.Fprintf(w, "  CPU during the run: load generator %.1fs, broker %s (of %.0f core-seconds)\n",
		r.ClientCPU, cpuText(r.BrokerCPU), r.RunSeconds*float64(r.CPUs))
	if r.Errors > 0 {
		fmt.Fprintf(w, "  errors: %d; first: %s\n", r.Errors, r.FirstError)
	}
}

func shadowRateText(r float64) string {
	if r == 0 {
		return "unpaced (window x connections in flight)"
	}
	return fmt.Sprintf("%g/s in total", r)
}

// report writes the summary, and the JSON line when asked: with asJSON the
// summary goes to stderr and stdout holds only the JSON line.
func (r *shadowResult) report(asJSON bool, stdout, stderr io.Writer) error {
	if !asJSON {
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
