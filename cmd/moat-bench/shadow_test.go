package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/mqtt/packet"
)

// runShadowAgainst runs `moat-bench shadow -json` against f with extra
// flags and returns the exit code, the JSON result and stderr (the summary
// and any FAIL line). perClient selects -certdir (per-client certificates)
// over one shared -cert/-key.
func runShadowAgainst(t *testing.T, f *shadowFake, perClient bool, updates int, extra ...string) (int, shadowResult, string) {
	t.Helper()
	args := []string{"shadow", "-broker", f.ln.Addr().String(), "-cafile", filepath.Join(f.dir, "ca.crt"),
		"-clientid-prefix", f.prefix, "-conns", strconv.Itoa(f.conns), "-things", strconv.Itoa(f.things),
		"-updates", strconv.Itoa(updates), "-window", strconv.Itoa(f.window), "-timeout", "60s", "-json"}
	if perClient {
		f.checkCN = true
		args = append(args, "-certdir", f.dir)
	} else {
		args = append(args, "-cert", filepath.Join(f.dir, "t-pub-0.crt"), "-key", filepath.Join(f.dir, "t-pub-0.key"))
	}
	if f.named != "" {
		args = append(args, "-named", f.named)
	}
	var out, errb bytes.Buffer
	code := run(t.Context(), append(args, extra...), &out, &errb)
	var r shadowResult
	if out.Len() > 0 {
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			t.Fatalf("JSON line %q: %v", out.String(), err)
		}
	}
	return code, r, errb.String()
}

// checkFake checks what the fake saw: every thing's counters 1..updates
// in order, each connection's window filled but never exceeded, and
// every reply at QoS 1 acknowledged.
func checkFake(t *testing.T, f *shadowFake, updates int) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	want := make([]int, updates)
	for i := range want {
		want[i] = i + 1
	}
	for i := range f.things {
		th := shadowThing("bench-thing-", i)
		if got := f.counters[th]; !slices.Equal(got, want) {
			t.Errorf("%s: counters %v, want %v", th, got, want)
		}
	}
	if f.maxOut != f.window {
		t.Errorf("at most %d requests in flight on a connection; want the window, %d", f.maxOut, f.window)
	}
	if f.replies != f.clientAcks {
		t.Errorf("%d replies at QoS 1, %d PUBACKs from the client", f.replies, f.clientAcks)
	}
}

func TestShadow_Run(t *testing.T) {
	// Every update accepted, MQTT 3.1.1 at QoS 1, per-client certificates,
	// 8 things split 3/3/2 over 3 connections.
	t.Run("accepted", func(t *testing.T) {
		f := newShadowFake(t, 3, 8, 4)
		code, r, stderr := runShadowAgainst(t, f, true, 5)
		if code != 0 || r.Planned != 40 || r.Sent != 40 || r.Accepted != 40 || r.Rejected != 0 || r.Missing != 0 || r.Errors != 0 {
			t.Fatalf("code %d, result %+v\n%s", code, r, stderr)
		}
		if r.Latency.P50 <= 0 || r.Latency.P99 < r.Latency.P50 || r.Latency.Max < r.Latency.P99 || r.UpdatesPerSec <= 0 || r.Seconds <= 0 {
			t.Errorf("latency %+v, %.0f updates/s over %gs", r.Latency, r.UpdatesPerSec, r.Seconds)
		}
		if r.Params.Version != 311 || r.Params.QoS != 1 || !r.Params.PerClient || f.replies != 40 {
			t.Errorf("params %+v, %d replies at QoS 1", r.Params, f.replies)
		}
		if !strings.Contains(stderr, "accepted latency (from send) p50") || strings.Contains(stderr, "FAIL") {
			t.Errorf("summary:\n%s", stderr)
		}
		checkFake(t, f, 5)
	})
	// QoS 0 requests and subscriptions: no packet identifiers, no PUBACKs.
	t.Run("qos0", func(t *testing.T) {
		f := newShadowFake(t, 2, 4, 2)
		code, r, stderr := runShadowAgainst(t, f, false, 3, "-qos", "0")
		if code != 0 || r.Accepted != 12 || r.Errors != 0 || f.replies != 0 {
			t.Fatalf("code %d, result %+v, %d replies at QoS 1\n%s", code, r, f.replies, stderr)
		}
		checkFake(t, f, 3)
	})
	// -rate paces the updates: 20 updates at 100/s over 2 connections
	// (one every 20 ms on each, staggered by 10 ms) take at least 190 ms.
	t.Run("rate", func(t *testing.T) {
		f := newShadowFake(t, 2, 4, 4)
		code, r, stderr := runShadowAgainst(t, f, false, 5, "-rate", "100")
		if code != 0 || r.Accepted != 20 || r.Params.Rate != 100 || r.Seconds < 0.19 || r.UpdatesPerSec > 106 {
			t.Fatalf("code %d, result %+v\n%s", code, r, stderr)
		}
		if !strings.Contains(stderr, "rate 100/s in total") || !strings.Contains(stderr, "accepted latency (from due time)") {
			t.Errorf("summary:\n%s", stderr)
		}
		checkFake(t, f, 5)
	})
	// Rejections are counted by code and fail the run, unless
	// -allow-rejects; the other updates still complete.
	for _, allow := range []bool{false, true} {
		t.Run("rejected/allow="+strconv.FormatBool(allow), func(t *testing.T) {
			f := newShadowFake(t, 2, 4, 3)
			f.script = func(thing string, counter int) shadowAction {
				switch {
				case thing == "bench-thing-00001" && counter == 2:
					return shadowAction{reject: 400}
				case thing == "bench-thing-00003" && counter == 1:
					return shadowAction{reject: 429}
				}
				return shadowAction{}
			}
			var extra []string
			if allow {
				extra = append(extra, "-allow-rejects")
			}
			code, r, stderr := runShadowAgainst(t, f, false, 4, extra...)
			wantCode := 1
			if allow {
				wantCode = 0
			}
			if code != wantCode || r.Accepted != 14 || r.Rejected != 2 || r.Missing != 0 || r.Errors != 0 ||
				r.RejectedByCode["400"] != 1 || r.RejectedByCode["429"] != 1 || len(r.RejectedByCode) != 2 {
				t.Fatalf("code %d (want %d), result %+v\n%s", code, wantCode, r, stderr)
			}
			if !strings.Contains(stderr, "rejected 2 (400: 1, 429: 1; first: ") || strings.Contains(stderr, "FAIL") == allow {
				t.Errorf("summary:\n%s", stderr)
			}
			checkFake(t, f, 4)
		})
	}
	// A reply that never comes counts as missing after -reply-timeout,
	// frees its window slot (the other updates complete) and fails the run.
	t.Run("missing", func(t *testing.T) {
		f := newShadowFake(t, 2, 4, 3)
		f.script = func(thing string, counter int) shadowAction {
			return shadowAction{drop: thing == "bench-thing-00002" && counter == 3}
		}
		code, r, stderr := runShadowAgainst(t, f, false, 4, "-reply-timeout", "300ms")
		if code != 1 || r.Sent != 16 || r.Accepted != 15 || r.Missing != 1 || r.Rejected != 0 || r.Errors != 0 {
			t.Fatalf("code %d, result %+v\n%s", code, r, stderr)
		}
		if !strings.Contains(stderr, "FAIL: 1 missing replies") || r.RunSeconds < 0.3 {
			t.Errorf("run %gs; stderr:\n%s", r.RunSeconds, stderr)
		}
		checkFake(t, f, 4)
	})
	// MQTT 5, a named shadow, one update/+ filter per thing (the client also
	// receives update/documents), one shared identity, and a broker
	// Receive Maximum below twice the window.
	t.Run("v5", func(t *testing.T) {
		f := newShadowFake(t, 2, 5, 4)
		f.named, f.recvMax = "cfg", 3
		code, r, stderr := runShadowAgainst(t, f, false, 3, "-v5", "-sub-filter", "wildcard")
		if code != 0 || r.Accepted != 15 || r.Other != 15 || r.Errors != 0 || r.Params.Version != 5 || r.Params.Shadow != "cfg" {
			t.Fatalf("code %d, result %+v\n%s", code, r, stderr)
		}
		if f.replies != 30 { // accepted + documents
			t.Errorf("%d replies at QoS 1, want 30", f.replies)
		}
		checkFake(t, f, 3)
	})
	// MQTT 5 PUBACK Not authorized: the update is refused, no reply is
	// awaited, the run fails without waiting for the reply timeout.
	t.Run("v5/refused", func(t *testing.T) {
		f := newShadowFake(t, 1, 2, 2)
		f.script = func(thing string, counter int) shadowAction {
			return shadowAction{refuse: thing == "bench-thing-00000" && counter == 1}
		}
		code, r, stderr := runShadowAgainst(t, f, false, 3, "-v5", "-reply-timeout", "30s")
		if code != 1 || r.Accepted != 5 || r.Refused != 1 || r.Missing != 0 || r.FirstRefusal != "PUBACK not authorized" {
			t.Fatalf("code %d, result %+v\n%s", code, r, stderr)
		}
		if r.RunSeconds > 20 {
			t.Errorf("the run took %gs: it waited for a refused update's reply", r.RunSeconds)
		}
		checkFake(t, f, 3)
	})
}

func TestShadowClient_Subscribe(t *testing.T) {
	for _, refuse := range []bool{false, true} {
		t.Run("refuse="+strconv.FormatBool(refuse), func(t *testing.T) {
			// The client subscribes to its thing's accepted and rejected
			// topics; a reply to an earlier run's request that comes before
			// the SUBACK is acknowledged and counted as foreign; a refused
			// filter stops the run before any update.
			b := newFakeBroker(t)
			c := b.dial(packet.V311, "t-pub-0", &packet.Connack{})
			s := newShadowClient(c, 0, 0, 1, &shadowConfig{thingPre: "bench-thing-", window: 10, qos: 1, updates: 1})
			done := make(chan error, 1)
			go func() { done <- s.subscribe(s.filters(false), 1, 5*time.Second) }()
			sub := b.expect(packet.TypeSubscribe).(*packet.Subscribe)
			if len(sub.Subscriptions) != 2 || sub.Subscriptions[0].Filter != "$aws/things/bench-thing-00000/shadow/update/accepted" ||
				sub.Subscriptions[1].Filter != "$aws/things/bench-thing-00000/shadow/update/rejected" || sub.Subscriptions[0].QoS != 1 {
				t.Fatalf("SUBSCRIBE %+v", sub)
			}
			stale := "earlier-run-0-1" // not this run's token prefix
			b.send(&packet.Publish{QoS: 1, PacketID: 9, Topic: "$aws/things/bench-thing-00000/shadow/update/accepted",
				Payload: []byte(`{"state":{},"clientToken":"` + stale + `"}`)})
			if a := b.expect(packet.TypePuback).(*packet.Puback); a.PacketID != 9 {
				t.Fatalf("PUBACK %d, want 9", a.PacketID)
			}
			codes := []packet.ReasonCode{1, 1}
			if refuse {
				codes[1] = 0x80
			}
			b.send(&packet.Suback{PacketID: sub.PacketID, ReasonCodes: codes})
			err := <-done
			if refuse && (!errors.Is(err, errRefused) || !strings.Contains(err.Error(), "update/rejected")) {
				t.Errorf("err = %v, want a refusal of update/rejected", err)
			}
			if !refuse && err != nil {
				t.Errorf("err = %v", err)
			}
			if s.foreign != 1 || s.errs != 0 {
				t.Errorf("foreign %d, errors %d (%v); want 1, 0", s.foreign, s.errs, s.firstErr)
			}
		})
	}
}

// The packet identifiers of updates: twice the window, capped by the
// broker's MQTT 5 Receive Maximum.
func TestNewShadowClient_PacketIDs(t *testing.T) {
	c := &shadowConfig{thingPre: "bench-thing-", window: 10, qos: 1, updates: 2}
	for _, tc := range []struct {
		recvMax uint16
		want    int
	}{{0, 20}, {65535, 20}, {3, 3}} {
		ack := &packet.Connack{}
		ack.Properties.ReceiveMaximum = tc.recvMax
		s := newShadowClient(&conn{id: "x", ack: ack}, 0, 5, 8, c)
		if cap(s.ids) != tc.want || len(s.ids) != tc.want || s.total != 6 || s.things[0] != "bench-thing-00005" {
			t.Errorf("Receive Maximum %d: %d identifiers, total %d, things %v; want %d identifiers",
				tc.recvMax, cap(s.ids), s.total, s.things, tc.want)
		}
	}
}
