package document

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"unicode/utf8"
)

// fuzzLimits are small limits, so that the fuzzer reaches them easily.
var fuzzLimits = Limits{MaxStateBytes: 300, MaxDepth: 3, MaxClientTokenBytes: 8}

// FuzzParseUpdate checks the update parser on any payload, with AWS's and
// with small limits: it never panics; it fails only with the errors it
// documents; what it accepts is JSON, within the limits, and its state
// re-encodes to a request that parses to the same state.
// Seeds: testdata/fuzz/FuzzParseUpdate.
func FuzzParseUpdate(f *testing.F) {
	f.Add([]byte(`{"state":{"desired":{"a":1},"reported":{"b":[1,{"c":null}]}},"version":3,"clientToken":"t"}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		for _, lim := range []Limits{{}, fuzzLimits} {
			u, err := ParseUpdate(payload, lim)
			if err != nil {
				var e *Error
				if !errors.As(err, &e) || (e.Code != 400 && e.Code != 413 && e.Code != 415) {
					t.Fatalf("ParseUpdate(%q): %v", payload, err)
				}
				if errors.Is(err, ErrInvalidJSON) && !invalidForAWS(payload) {
					t.Fatalf("ParseUpdate(%q): Invalid JSON for a valid request", payload)
				}
				continue
			}
			lim = lim.withDefaults()
			if !json.Valid(bytes.TrimPrefix(payload, []byte("\xEF\xBB\xBF"))) {
				t.Fatalf("accepted invalid JSON %q", payload)
			}
			if len(u.ClientToken) > lim.MaxClientTokenBytes {
				t.Fatalf("accepted a clientToken of %d bytes", len(u.ClientToken))
			}
			if tok, err := ClientToken(payload, lim); tok != u.ClientToken || err != nil {
				t.Fatalf("ClientToken = %q, %v; ParseUpdate found %q", tok, err, u.ClientToken)
			}
			size := 0
			for _, sec := range []*value{u.desired, u.reported} {
				if sec == nil {
					continue
				}
				size += encodedLen(sec)
				if sec.kind == kindObject && depth(sec) > lim.MaxDepth {
					t.Fatalf("accepted depth %d", depth(sec))
				}
			}
			if size > lim.MaxStateBytes {
				t.Fatalf("accepted a state of %d bytes", size)
			}
			state := appendValue(nil, &u.state)
			if len(state) != encodedLen(&u.state) {
				t.Fatalf("encodedLen %d, encoded %d bytes: %s", encodedLen(&u.state), len(state), state)
			}
			again, err := ParseUpdate([]byte(`{"state":`+string(state)+`}`), lim)
			if err != nil {
				t.Fatalf("re-encoded state %s: %v", state, err)
			}
			if s2 := appendValue(nil, &again.state); !bytes.Equal(s2, state) {
				t.Fatalf("state %s re-encodes to %s", state, s2)
			}
		}
	})
}

// FuzzApply checks Apply on any prior shadow and update. The prior is a
// stored shadow when it unmarshals, else the shadow that applying it as an
// update to a new shadow gives. It checks that Apply never panics, never
// modifies its shadow, fails only with its documented errors, and that an
// accepted result holds its limits, has metadata mirroring its state
// (Unmarshal checks that), valid JSON documents, the versions of AWS, and
// the state that a simple map-based model of AWS's merge rules computes.
// Seeds: testdata/fuzz/FuzzApply.
func FuzzApply(f *testing.F) {
	f.Add([]byte(`{"state":{"desired":{"a":{"b":1},"c":[1]},"reported":{"a":{"b":2}}},"metadata":{"desired":{"a":{"b":{"timestamp":1}},"c":[{"timestamp":1}]},"reported":{"a":{"b":{"timestamp":2}}}},"version":4}`),
		[]byte(`{"state":{"reported":{"a":{"b":1,"d":null},"c":{}}},"version":4}`), int64(1700000000))
	f.Fuzz(func(t *testing.T, prior, payload []byte, now int64) {
		for _, lim := range []Limits{{}, fuzzLimits} {
			s := priorShadow(prior, now, lim)
			u, err := ParseUpdate(payload, lim)
			if err != nil {
				continue
			}
			before := string(s.Marshal())
			res, err := s.Apply(u, now, lim)
			if after := string(s.Marshal()); after != before {
				t.Fatalf("Apply changed its shadow:\n%s\n%s", before, after)
			}
			if err != nil {
				var e *Error
				switch {
				case !errors.As(err, &e):
					t.Fatalf("Apply: %v is not an *Error", err)
				case e.Code == 409 && !(u.HasVersion && u.Version != s.Version):
					t.Fatalf("409 for version %d (%v) on %d", u.Version, u.HasVersion, s.Version)
				case e.Code != 409 && e.Code != 400 && e.Code != 413:
					t.Fatalf("Apply: %v", err)
				}
				continue
			}
			checkResult(t, s, u, res, now, lim)
			checkModel(t, s, payload, res.Shadow)
		}
	})
}

// invalidForAWS reports whether payload has a reason to be Invalid JSON that
// encoding/json agrees with: not valid UTF-8 JSON, not an object, nested
// deeper than the parser allows, or an array holding a null in the state.
func invalidForAWS(payload []byte) bool {
	payload = bytes.TrimPrefix(payload, []byte("\xEF\xBB\xBF"))
	if len(payload) == 0 || !utf8.Valid(payload) || !json.Valid(payload) ||
		bytes.Count(payload, []byte("[")) >= maxNesting || bytes.Count(payload, []byte("{")) >= maxNesting {
		return true
	}
	var top any
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if dec.Decode(&top) != nil {
		return true
	}
	m, ok := top.(map[string]any)
	if !ok {
		return true
	}
	var hasNull func(v any, inArray bool) bool
	hasNull = func(v any, inArray bool) bool {
		switch v := v.(type) {
		case nil:
			return inArray
		case []any:
			for _, e := range v {
				if hasNull(e, true) {
					return true
				}
			}
		case map[string]any:
			for _, e := range v {
				if hasNull(e, inArray) {
					return true
				}
			}
		}
		return false
	}
	return hasNull(m["state"], false)
}

// priorShadow builds the prior shadow of FuzzApply.
func priorShadow(prior []byte, now int64, lim Limits) *Shadow {
	if s, err := Unmarshal(prior); err == nil {
		return s
	}
	if u, err := ParseUpdate(prior, lim); err == nil {
		if res, err := (&Shadow{}).Apply(u, now-1, lim); err == nil {
			return res.Shadow
		}
	}
	return &Shadow{}
}

// checkResult checks the invariants of an accepted update.
func checkResult(t *testing.T, s *Shadow, u *Update, res *Result, now int64, lim Limits) {
	t.Helper()
	lim = lim.withDefaults()
	n := res.Shadow
	if !n.Exists() || n.Version != s.Version+1 {
		t.Fatalf("new shadow: exists %v, version %d after %d", n.Exists(), n.Version, s.Version)
	}
	if depth(&n.desired) > lim.MaxDepth || depth(&n.reported) > lim.MaxDepth || n.StateSize() > lim.MaxStateBytes {
		t.Fatalf("accepted beyond the limits: depth %d/%d, size %d",
			depth(&n.desired), depth(&n.reported), n.StateSize())
	}
	for _, sec := range []*value{&n.desired, &n.reported} {
		if sec.kind != kindNone && (sec.kind != kindObject || len(sec.kids) == 0) {
			t.Fatalf("stored section of kind %d with %d members", sec.kind, len(sec.kids))
		}
	}
	stored := n.Marshal()
	back, err := Unmarshal(stored)
	if err != nil {
		t.Fatalf("Unmarshal(Marshal()) of %s: %v", stored, err)
	}
	if again := back.Marshal(); !bytes.Equal(again, stored) {
		t.Fatalf("round trip:\n%s\n%s", stored, again)
	}
	get := n.Get(now, u.ClientToken)
	for name, doc := range map[string][]byte{"accepted": res.Accepted, "delta": res.Delta, "documents": res.Documents, "get": get} {
		if doc != nil && !json.Valid(doc) {
			t.Fatalf("%s is not JSON: %s", name, doc)
		}
	}
	var acc, delta struct{ Version int64 }
	var docs struct{ Previous, Current *struct{ Version int64 } }
	var g struct {
		State map[string]json.RawMessage
	}
	_ = json.Unmarshal(res.Accepted, &acc)
	_ = json.Unmarshal(res.Documents, &docs)
	_ = json.Unmarshal(get, &g)
	if acc.Version != n.Version || docs.Current == nil || docs.Current.Version != n.Version {
		t.Fatalf("versions: accepted %d, documents %s, shadow %d", acc.Version, res.Documents, n.Version)
	}
	if (docs.Previous != nil) != s.Exists() || (docs.Previous != nil && docs.Previous.Version != s.Version) {
		t.Fatalf("previous of %s for a prior that exists=%v version %d", res.Documents, s.Exists(), s.Version)
	}
	if _, hasDelta := g.State["delta"]; hasDelta != (res.Delta != nil) {
		t.Fatalf("get has delta %v, update/delta %s", hasDelta, res.Delta)
	}
	if res.Delta != nil {
		if err := json.Unmarshal(res.Delta, &delta); err != nil || delta.Version != n.Version {
			t.Fatalf("delta version %d (%v), shadow %d", delta.Version, err, n.Version)
		}
	}
}

// checkModel compares the new state with a map-based model of the merge:
// null deletes, objects merge, anything else replaces (a new object without
// its nulls, none if it was only nulls), empty sections disappear.
func checkModel(t *testing.T, s *Shadow, payload []byte, n *Shadow) {
	t.Helper()
	var req map[string]any
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		return // a UTF-8 BOM: not modelled
	}
	patch, _ := req["state"].(map[string]any)
	want, _ := decodeUseNumber(t, s.Marshal())["state"].(map[string]any)
	if patch == nil { // state null
		want = map[string]any{}
	}
	for _, name := range []string{"desired", "reported"} {
		p, present := patch[name]
		switch {
		case !present:
			continue
		case p == nil:
			delete(want, name)
			continue
		}
		old, _ := want[name].(map[string]any)
		if old == nil {
			old = map[string]any{}
		}
		merged := modelMerge(old, p.(map[string]any))
		if len(merged) == 0 {
			delete(want, name)
		} else {
			want[name] = merged
		}
	}
	got, _ := decodeUseNumber(t, n.Marshal())["state"].(map[string]any)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("state after %s:\n got %v\nwant %v", payload, got, want)
	}
}

func modelMerge(old, patch map[string]any) map[string]any {
	for k, v := range patch {
		pv, pIsObj := v.(map[string]any)
		ov, oIsObj := old[k].(map[string]any)
		switch {
		case v == nil:
			delete(old, k)
		case pIsObj && oIsObj:
			old[k] = modelMerge(ov, pv)
		case pIsObj:
			if c, ok := modelStrip(pv); ok {
				old[k] = c
			}
		default:
			old[k] = v
		}
	}
	return old
}

// modelStrip drops nulls from a new object; ok is false when it had members
// and all were nulls (or such objects).
func modelStrip(m map[string]any) (map[string]any, bool) {
	if len(m) == 0 {
		return m, true
	}
	out := map[string]any{}
	for k, v := range m {
		if v == nil {
			continue
		}
		if o, isObj := v.(map[string]any); isObj {
			if c, ok := modelStrip(o); ok {
				out[k] = c
			}
			continue
		}
		out[k] = v
	}
	return out, len(out) > 0
}

func decodeUseNumber(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return m
}
