package iotsql

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// A golden case is one line of testdata/eval/*.jsonl (blank lines and lines
// starting with # are skipped): a statement, a message, and what Parse and
// Eval must give.
type goldenCase struct {
	Name    string `json:"name"`
	SQL     string `json:"sql"`
	Version string `json:"version"`

	Topic       string          `json:"topic"` // default "t/1"
	Payload     json.RawMessage `json:"payload"`
	PayloadText *string         `json:"payload_text"` // a payload that is not JSON
	PayloadB64  string          `json:"payload_b64"`
	ClientID    string          `json:"clientid"`
	Principal   string          `json:"principal"`
	TraceID     string          `json:"traceid"`
	AccountID   string          `json:"accountid"`
	Timestamp   int64           `json:"timestamp"`
	Shadows     map[string]any  `json:"shadows"` // "thing" or "thing/name" → document
	NoEnv       bool            `json:"no_env"`
	Want        json.RawMessage `json:"want"`      // output, compared as JSON (key order ignored, numbers exact)
	WantText    *string         `json:"want_text"` // output, compared byte for byte
	WantB64     string          `json:"want_b64"`  // output in base64, compared byte for byte
	Matched     *bool           `json:"matched"`   // default true
	Error       string          `json:"error"`     // Parse fails with this substring
	EvalError   string          `json:"eval_error"`

	where string // file:line, for messages
}

func (g *goldenCase) input() *Input {
	in := &Input{Topic: "t/1", ClientID: g.ClientID, Principal: g.Principal, TraceID: g.TraceID,
		AccountID: g.AccountID, Timestamp: g.Timestamp}
	if g.Topic != "" {
		in.Topic = g.Topic
	}
	switch {
	case g.PayloadText != nil:
		in.Payload = []byte(*g.PayloadText)
	case g.PayloadB64 != "":
		in.Payload, _ = base64.StdEncoding.DecodeString(g.PayloadB64)
	case g.Payload != nil:
		in.Payload = g.Payload
	default:
		in.Payload = []byte("{}")
	}
	if !g.NoEnv {
		in.Env = fakeEnv(g.Shadows)
	}
	return in
}

// fakeEnv serves shadows from a map; a missing one is an error.
type fakeEnv map[string]any

func (e fakeEnv) GetThingShadow(_ context.Context, thing, shadow string) ([]byte, error) {
	key := thing
	if shadow != "" {
		key += "/" + shadow
	}
	doc, ok := e[key]
	if !ok {
		return nil, errors.New("no shadow")
	}
	return json.Marshal(doc)
}

func loadGolden(t *testing.T, pattern string) map[string][]goldenCase {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files %s: %v", pattern, err)
	}
	out := map[string][]goldenCase{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<20)
		for line := 1; sc.Scan(); line++ {
			text := strings.TrimSpace(sc.Text())
			if text == "" || strings.HasPrefix(text, "#") {
				continue
			}
			var g goldenCase
			dec := json.NewDecoder(strings.NewReader(text))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&g); err != nil {
				t.Fatalf("%s:%d: %v", f, line, err)
			}
			if g.Name == "" {
				g.Name = g.SQL
			}
			g.where = f + ":" + itoa(line)
			out[filepath.Base(f)] = append(out[filepath.Base(f)], g)
		}
	}
	return out
}

func itoa(i int) string { return string(appendPadded(nil, i, 1)) }

// TestGolden runs every case of testdata/eval.
func TestGolden(t *testing.T) {
	for file, cases := range loadGolden(t, "testdata/eval/*.jsonl") {
		t.Run(strings.TrimSuffix(file, ".jsonl"), func(t *testing.T) {
			for _, g := range cases {
				t.Run(g.Name, func(t *testing.T) { runGolden(t, g) })
			}
		})
	}
}

func runGolden(t *testing.T, g goldenCase) {
	t.Helper()
	where := g.where
	q, err := Parse(g.SQL, g.Version)
	if g.Error != "" {
		if err == nil || !strings.Contains(err.Error(), g.Error) {
			t.Fatalf("%s: Parse(%q) error = %v, want one containing %q", where, g.SQL, err, g.Error)
		}
		return
	}
	if err != nil {
		t.Fatalf("%s: Parse(%q): %v", where, g.SQL, err)
	}
	out, matched, err := q.Eval(g.input(), nil)
	if g.EvalError != "" {
		if err == nil || !strings.Contains(err.Error(), g.EvalError) {
			t.Fatalf("%s: Eval error = %v, want one containing %q", where, err, g.EvalError)
		}
		return
	}
	if err != nil {
		t.Fatalf("%s: Eval: %v", where, err)
	}
	wantMatched := g.Matched == nil || *g.Matched
	if matched != wantMatched {
		t.Fatalf("%s: matched = %v, want %v (output %s)", where, matched, wantMatched, out)
	}
	if !matched {
		if out != nil {
			t.Fatalf("%s: output %q for an unmatched message, want nil", where, out)
		}
		return
	}
	switch {
	case g.WantB64 != "":
		if got := base64.StdEncoding.EncodeToString(out); got != g.WantB64 {
			t.Fatalf("%s: output (base64) %s, want %s", where, got, g.WantB64)
		}
	case g.WantText != nil:
		if string(out) != *g.WantText {
			t.Fatalf("%s: output %q, want %q", where, out, *g.WantText)
		}
	case g.Want != nil:
		if !jsonEqual(out, g.Want) {
			t.Fatalf("%s: output %s, want %s", where, out, g.Want)
		}
	default:
		t.Fatalf("%s: case has no expectation", where)
	}
}

// jsonEqual compares JSON documents ignoring key order and white space;
// numbers must be written the same way (10 and 10.0 differ).
func jsonEqual(a, b []byte) bool {
	va, ok := decodeExact(a)
	if !ok {
		return false
	}
	vb, ok := decodeExact(b)
	return ok && reflect.DeepEqual(va, vb)
}

func decodeExact(b []byte) (any, bool) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil || d.More() {
		return nil, false
	}
	return v, true
}
