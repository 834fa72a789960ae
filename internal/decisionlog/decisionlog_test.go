package decisionlog

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/moat-iot/moat/internal/policy"
)

func deny(i int) Entry {
	return Entry{
		Time: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Principal: "abc", Thing: "lamp-1", ClientID: "lamp-1",
		SourceIP: "192.0.2.7", Action: "iot:Publish", Resource: "arn:aws:iot:us-east-1:000000000000:topic/lamp-1/secret",
		Result: policy.ExplicitDeny, Policy: "lamp-policy", PolicyVersion: "2", Statement: i, Sid: "NoSecrets",
		Vars: []policy.ResolvedVar{{Name: "iot:ClientId", Value: "lamp-1"}},
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// TestEntry_MarshalJSON checks the line format: field names and order, the
// deciding statement for a deny, and no statement for an implicit deny.
func TestEntry_MarshalJSON(t *testing.T) {
	tests := []struct {
		name string
		e    Entry
		want string
	}{
		{"explicit deny names the statement", deny(3),
			`{"time":"2025-01-02T03:04:05Z","principal":"abc","thing":"lamp-1","clientId":"lamp-1","sourceIp":"192.0.2.7",` +
				`"action":"iot:Publish","resource":"arn:aws:iot:us-east-1:000000000000:topic/lamp-1/secret","decision":"EXPLICIT_DENY",` +
				`"policy":"lamp-policy","policyVersion":"2","statement":3,"sid":"NoSecrets","variables":{"iot:ClientId":"lamp-1"}}`},
		{"implicit deny has no statement", Entry{Time: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Principal: "abc", ClientID: "c",
			Action: "iot:Connect", Resource: "arn:aws:iot:us-east-1:000000000000:client/c", Statement: -1,
			Unresolved: []string{"iot:Connection.Thing.ThingName"}},
			`{"time":"2025-01-02T03:04:05Z","principal":"abc","clientId":"c","action":"iot:Connect",` +
				`"resource":"arn:aws:iot:us-east-1:000000000000:client/c","decision":"IMPLICIT_DENY","unresolved":["iot:Connection.Thing.ThingName"]}`},
		{"statement 0 is kept", Entry{Result: policy.Allowed, Statement: 0, Policy: "p", PolicyVersion: "1"},
			`{"time":"0001-01-01T00:00:00Z","principal":"","clientId":"","action":"","resource":"","decision":"ALLOWED","policy":"p","policyVersion":"1","statement":0}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.e)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Fatalf("got  %s\nwant %s", b, tt.want)
			}
		})
	}
}

// TestEntryFromDecision checks the decision fields are copied and the
// unresolved variables listed once each.
func TestEntryFromDecision(t *testing.T) {
	d := policy.Decision{Result: policy.ImplicitDeny, Statement: -1, Unresolved: []policy.Unresolved{
		{Policy: "a", Variable: "iot:Connection.Thing.ThingName"}, {Policy: "b", Variable: "iot:Connection.Thing.ThingName"},
		{Policy: "b", Variable: "iot:ClientId"}}}
	e := EntryFromDecision(Entry{ClientID: "c"}, d)
	if e.ClientID != "c" || e.Statement != -1 || strings.Join(e.Unresolved, ",") != "iot:Connection.Thing.ThingName,iot:ClientId" {
		t.Fatalf("got %+v", e)
	}
}

// TestLog_Rotation checks lines land in the file, the file rotates by size
// into PATH.1..PATH.N, the oldest goes, and every file is mode 0600.
func TestLog_Rotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	one, _ := json.Marshal(deny(0))
	lineLen := int64(len(one) + 1)
	l, err := Open(path, Options{MaxSize: 3 * lineLen, MaxFiles: 2})
	if err != nil {
		t.Fatal(err)
	}
	const n = 12 // 4 files' worth: the current, .1, .2 kept, one dropped
	for i := range n {
		l.Decision(deny(i % 10))
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if l.Dropped() != 0 {
		t.Fatalf("dropped %d", l.Dropped())
	}
	for file, want := range map[string][]int{path: {9, 0, 1}, path + ".1": {6, 7, 8}, path + ".2": {3, 4, 5}} {
		lines := readLines(t, file)
		if len(lines) != len(want) {
			t.Fatalf("%s: %d lines, want %d:\n%s", file, len(lines), len(want), strings.Join(lines, "\n"))
		}
		for i, ln := range lines {
			var got struct{ Statement int }
			if err := json.Unmarshal([]byte(ln), &got); err != nil {
				t.Fatalf("%s line %d: %v", file, i, err)
			}
			if got.Statement != want[i] {
				t.Fatalf("%s line %d: statement %d, want %d", file, i, got.Statement, want[i])
			}
		}
		st, err := os.Stat(file)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: mode %v, want 0600", file, st.Mode().Perm())
		}
	}
	if _, err := os.Stat(path + ".3"); !os.IsNotExist(err) {
		t.Fatalf("%s.3 exists: %v", path, err)
	}
}

// TestLog_AppendsAndAllows checks a reopened log appends, and allows are
// written only when asked for.
func TestLog_AppendsAndAllows(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	allow := deny(1)
	allow.Result = policy.Allowed
	for _, allows := range []bool{false, true} {
		l, err := Open(path, Options{Allows: allows})
		if err != nil {
			t.Fatal(err)
		}
		if l.Allows() != allows {
			t.Fatalf("Allows() = %v", l.Allows())
		}
		l.Decision(allow)
		l.Decision(deny(2))
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, ln := range readLines(t, path) {
		var e struct{ Decision string }
		json.Unmarshal([]byte(ln), &e)
		got = append(got, e.Decision)
	}
	if want := "EXPLICIT_DENY,ALLOWED,EXPLICIT_DENY"; strings.Join(got, ",") != want {
		t.Fatalf("decisions %v, want %s", got, want)
	}
}

// TestLog_DropsWhenFull checks a full buffer drops (never blocks) and
// counts the drops, that Close writes what was queued, and that entries
// after Close are dropped too.
func TestLog_DropsWhenFull(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	reg := prometheus.NewRegistry()
	l, err := newLog(path, Options{Buffer: 4, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 { // no writer yet: 4 fit, 6 are dropped
		l.Decision(deny(i))
	}
	if l.Dropped() != 6 {
		t.Fatalf("dropped %d, want 6", l.Dropped())
	}
	go l.run()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(readLines(t, path)); n != 4 {
		t.Fatalf("%d lines written, want 4", n)
	}
	l.Decision(deny(0))
	if got := value(l.drops); got != 7 {
		t.Fatalf("moat_decision_log_dropped_total = %v, want 7", got)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestLog_Count checks decisions are counted by action and decision,
// known actions and others.
func TestLog_Count(t *testing.T) {
	reg := prometheus.NewRegistry()
	l, err := Open(filepath.Join(t.TempDir(), FileName), Options{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Count("iot:Publish", policy.Allowed)
	l.Count("iot:Publish", policy.Allowed)
	l.Count("iot:Publish", policy.ExplicitDeny)
	l.Count("iot:UpdateThingShadow", policy.ImplicitDeny)
	for _, c := range []struct {
		action, decision string
		want             float64
	}{{"iot:Publish", "ALLOWED", 2}, {"iot:Publish", "EXPLICIT_DENY", 1}, {"iot:Publish", "IMPLICIT_DENY", 0},
		{"iot:UpdateThingShadow", "IMPLICIT_DENY", 1}} {
		if got := value(l.decisions.WithLabelValues(c.action, c.decision)); got != c.want {
			t.Fatalf("%s %s = %v, want %v", c.action, c.decision, got, c.want)
		}
	}
	mfs, err := reg.Gather()
	if err != nil || len(mfs) == 0 || mfs[len(mfs)-1].GetName() != "moat_policy_decisions_total" {
		t.Fatalf("moat_policy_decisions_total not registered: %v", err)
	}
}

// BenchmarkLog_Count measures the per-decision counter on the hot path.
func BenchmarkLog_Count(b *testing.B) {
	l, err := Open(filepath.Join(b.TempDir(), FileName), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	b.ReportAllocs()
	for b.Loop() {
		l.Count("iot:Receive", policy.Allowed)
	}
}

// value reads a counter.
func value(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}
