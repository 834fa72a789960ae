package document

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
)

func mustParse(t *testing.T, payload string) *Update {
	t.Helper()
	u, err := ParseUpdate([]byte(payload), Limits{})
	if err != nil {
		t.Fatalf("ParseUpdate(%s): %v", payload, err)
	}
	return u
}

func mustApply(t *testing.T, s *Shadow, payload string, now int64) *Result {
	t.Helper()
	res, err := s.Apply(mustParse(t, payload), now, Limits{})
	if err != nil {
		t.Fatalf("Apply(%s): %v", payload, err)
	}
	return res
}

// TestShadow_Apply_VersionQuirk pins AWS's versions: update/accepted and
// update/delta carry the same, new, version (a device that drops messages
// whose version it has already seen misses the delta: see
// aws-iot-device-sdk-embedded-C issues 32 and 90, where AWS called this
// expected), and update/documents has the old version in previous and the
// new one in current.
func TestShadow_Apply_VersionQuirk(t *testing.T) {
	s := mustApply(t, &Shadow{}, `{"state":{"reported":{"on":false}}}`, 100).Shadow
	s = mustApply(t, s, `{"state":{"reported":{"level":1}}}`, 101).Shadow // version 2
	res := mustApply(t, s, `{"state":{"desired":{"on":true}}}`, 102)

	var accepted, delta struct{ Version int64 }
	var docs struct {
		Previous, Current struct{ Version int64 }
	}
	for _, d := range []struct {
		doc []byte
		v   any
	}{{res.Accepted, &accepted}, {res.Delta, &delta}, {res.Documents, &docs}} {
		if err := json.Unmarshal(d.doc, d.v); err != nil {
			t.Fatalf("%s: %v", d.doc, err)
		}
	}
	if accepted.Version != 3 || delta.Version != 3 {
		t.Errorf("accepted version %d, delta version %d; want both 3", accepted.Version, delta.Version)
	}
	if docs.Previous.Version != 2 || docs.Current.Version != 3 {
		t.Errorf("documents previous %d current %d; want 2 and 3", docs.Previous.Version, docs.Current.Version)
	}
	if res.Shadow.Version != 3 || s.Version != 2 {
		t.Errorf("shadow versions %d (new) %d (old); want 3 and 2", res.Shadow.Version, s.Version)
	}
}

// TestShadow_Apply_StateNull checks that {"state":null} empties the
// shadow without deleting it: the version goes on, previous is not null.
func TestShadow_Apply_StateNull(t *testing.T) {
	s := mustApply(t, &Shadow{}, `{"state":{"reported":{"a":1}}}`, 100).Shadow
	u := mustParse(t, `{"state":null}`)
	if !u.ClearsState() {
		t.Fatal("ClearsState is false for state null")
	}
	res, err := s.Apply(u, 101, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Shadow.Exists() || res.Shadow.Version != 2 || res.Shadow.StateSize() != 0 {
		t.Errorf("after state null: exists %v version %d size %d", res.Shadow.Exists(), res.Shadow.Version, res.Shadow.StateSize())
	}
	next := mustApply(t, res.Shadow, `{"state":{"reported":{"b":1}}}`, 102)
	if !strings.HasPrefix(string(next.Documents), `{"previous":{"state":{},"metadata":{},"version":2}`) {
		t.Errorf("documents after an emptied shadow: %s", next.Documents)
	}
}

// TestShadow_Apply_VersionOverflow checks that the last version is not wrapped.
func TestShadow_Apply_VersionOverflow(t *testing.T) {
	s := &Shadow{Version: math.MaxInt64}
	_, err := s.Apply(mustParse(t, `{"state":{"reported":{"a":1}}}`), 1, Limits{})
	if !errors.Is(err, ErrInternal) {
		t.Errorf("Apply at MaxInt64: %v, want %v", err, ErrInternal)
	}
}

// TestShadow_Exists checks which shadows exist: only those made by
// Unmarshal and Apply.
func TestShadow_Exists(t *testing.T) {
	if (&Shadow{}).Exists() || (&Shadow{Version: 9}).Exists() {
		t.Error("a Shadow literal exists")
	}
	res := mustApply(t, &Shadow{Version: 9}, `{"state":{}}`, 1)
	if !res.Shadow.Exists() || res.Shadow.Version != 10 {
		t.Errorf("after Apply: exists %v version %d", res.Shadow.Exists(), res.Shadow.Version)
	}
	if !strings.HasPrefix(string(res.Documents), `{"previous":null,`) {
		t.Errorf("documents of a re-created shadow: %s", res.Documents)
	}
	back, err := Unmarshal(res.Shadow.Marshal())
	if err != nil || !back.Exists() || back.Version != 10 {
		t.Errorf("Unmarshal: %v exists %v version %d", err, back != nil && back.Exists(), back.Version)
	}
}

// TestShadow_StateSize checks how the limit counts: compact desired plus
// compact reported, escapes included, metadata excluded.
func TestShadow_StateSize(t *testing.T) {
	s := mustApply(t, &Shadow{}, `{"state":{"desired":{"a" : "x\ny"},"reported":{"b":[1, 2]}}}`, 1).Shadow
	want := len(`{"a":"x\ny"}`) + len(`{"b":[1,2]}`)
	if got := s.StateSize(); got != want {
		t.Errorf("StateSize = %d, want %d", got, want)
	}
}

// TestShadow_Apply_RetentionBounded checks that a shadow kept in memory through
// many updates does not keep every request's strings alive.
func TestShadow_Apply_RetentionBounded(t *testing.T) {
	s := &Shadow{}
	big := strings.Repeat("x", 4000)
	for i := 0; i < 200; i++ {
		// Each update replaces a 4 KB string; only the last one is live.
		s = mustApply(t, s, `{"state":{"reported":{"blob":"`+big+`","n":`+strconv.Itoa(i)+`}}}`, int64(i)).Shadow
	}
	live := stringBytes(&s.desired) + stringBytes(&s.reported)
	if s.retained > 4*live+compactSlack {
		t.Errorf("retained %d bytes for %d live", s.retained, live)
	}
}

// TestUnmarshal_RoundTrip checks that what Marshal writes Unmarshal reads
// back to the same shadow, and that member order and numbers survive.
func TestUnmarshal_RoundTrip(t *testing.T) {
	stored := `{"state":{"desired":{"z":1.50,"a":[{"k":"é"},[]],"e":{}},"reported":{"n":-0.0e+5}},` +
		`"metadata":{"desired":{"z":{"timestamp":5},"a":[{"k":{"timestamp":6}},[]],"e":{}},"reported":{"n":{"timestamp":-7}}},"version":3}`
	s, err := Unmarshal([]byte(stored))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(s.Marshal()); got != stored {
		t.Errorf("Marshal:\n got %s\nwant %s", got, stored)
	}
	// Members of the metadata may come in another order.
	reordered := `{"version":3,"metadata":{"reported":{"n":{"timestamp":-7}},"desired":{"e":{},"a":[{"k":{"timestamp":6}},[]],"z":{"timestamp":5}}},` +
		`"state":{"desired":{"z":1.50,"a":[{"k":"é"},[]],"e":{}},"reported":{"n":-0.0e+5}}}`
	s, err = Unmarshal([]byte(reordered))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(s.Marshal()); got != stored {
		t.Errorf("Marshal of reordered:\n got %s\nwant %s", got, stored)
	}
}

// TestUnmarshal_Invalid checks that Unmarshal refuses what Marshal cannot
// have written.
func TestUnmarshal_Invalid(t *testing.T) {
	for _, b := range []string{
		``,
		`[]`,
		`{"state":{},"metadata":{}}`,
		`{"state":{},"metadata":{},"version":0}`,
		`{"state":{},"metadata":{},"version":1.5}`,
		`{"state":{},"metadata":{},"version":"1"}`,
		`{"state":{},"metadata":{},"version":1,"extra":1}`,
		`{"state":{},"state":{},"metadata":{},"version":1}`,
		`{"state":{},"metadata":{},"version":1} x`,
		`{"state":[],"metadata":{},"version":1}`,
		`{"state":{"delta":{}},"metadata":{},"version":1}`,
		`{"state":{"desired":5},"metadata":{},"version":1}`,
		`{"state":{"desired":{"a":null}},"metadata":{"desired":{"a":{"timestamp":1}}},"version":1}`,
		`{"state":{"desired":{"a":1}},"metadata":{},"version":1}`,
		`{"state":{"desired":{"a":1}},"metadata":{"desired":{}},"version":1}`,
		`{"state":{"desired":{"a":1}},"metadata":{"desired":{"a":1}},"version":1}`,
		`{"state":{"desired":{"a":1}},"metadata":{"desired":{"a":{"timestamp":1.5}}},"version":1}`,
		`{"state":{"desired":{"a":1}},"metadata":{"desired":{"a":{"time":1}}},"version":1}`,
		`{"state":{"desired":{"a":1}},"metadata":{"desired":{"a":{"timestamp":1,"x":2}}},"version":1}`,
		`{"state":{"desired":{"a":1}},"metadata":{"desired":{"a":{"timestamp":1},"b":{"timestamp":1}}},"version":1}`,
		`{"state":{"desired":{"a":1,"b":2}},"metadata":{"desired":{"a":{"timestamp":1},"a":{"timestamp":1}}},"version":1}`,
		`{"state":{"desired":{"a":[1,2]}},"metadata":{"desired":{"a":[{"timestamp":1}]}},"version":1}`,
		`{"state":{"desired":{"a":[1]}},"metadata":{"desired":{"a":[{"timestamp":1},{"timestamp":1}]}},"version":1}`,
		`{"state":{"desired":{"a":{"b":1}}},"metadata":{"desired":{"a":{"timestamp":1}}},"version":1}`,
		`{"state":{"desired":{"a":[null]}},"metadata":{"desired":{"a":[{"timestamp":1}]}},"version":1}`,
		`{"state":{},"metadata":{"reported":{}},"version":1}`,
	} {
		if _, err := Unmarshal([]byte(b)); err == nil {
			t.Errorf("Unmarshal(%s) succeeded", b)
		} else if !errors.Is(err, errStored) {
			t.Errorf("Unmarshal(%s): %v is not errStored", b, err)
		}
	}
}

// TestUnmarshal_ManyKeys checks the large-object paths (map index, seen set
// beyond 64 members) of Unmarshal and Apply.
func TestUnmarshal_ManyKeys(t *testing.T) {
	var req strings.Builder
	req.WriteString(`{"state":{"reported":{`)
	for i := 0; i < 100; i++ {
		if i > 0 {
			req.WriteByte(',')
		}
		req.WriteString(`"k` + strconv.Itoa(i) + `":` + strconv.Itoa(i))
	}
	req.WriteString(`}}}`)
	s := mustApply(t, &Shadow{}, req.String(), 1).Shadow
	s = mustApply(t, s, `{"state":{"reported":{"k99":null,"k0":"zero","new":true}}}`, 2).Shadow
	back, err := Unmarshal(s.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	got := string(back.Marshal())
	for _, want := range []string{`{"state":{"reported":{"k0":"zero","k1":1,`, `"k98":98,"new":true}}`, `"k0":{"timestamp":2}`, `"k1":{"timestamp":1}`} {
		if !strings.Contains(got, want) {
			t.Errorf("stored shadow lacks %s:\n%s", want, got)
		}
	}
	if strings.Contains(got, `"k99"`) {
		t.Errorf("k99 was not deleted: %s", got)
	}
	dup := strings.Replace(string(back.Marshal()), `"k1":{"timestamp":1}`, `"k2":{"timestamp":1}`, 1)
	if _, err := Unmarshal([]byte(dup)); err == nil {
		t.Error("Unmarshal accepted metadata with a repeated key among 100")
	}
}

// TestClientToken checks the token of get and delete requests.
func TestClientToken(t *testing.T) {
	long := strings.Repeat("t", 65)
	tests := []struct {
		payload string
		want    string
		err     error
	}{
		{``, "", nil},
		{`not json`, "", nil},
		{`[1]`, "", nil},
		{`{}`, "", nil},
		{`{"clientToken":null}`, "", nil},
		{`{"clientToken":"abc","other":[1]}`, "abc", nil},
		{`{"clientToken":"a\u00e9"}`, "aé", nil},
		{`{"clientToken":"` + long[:64] + `"}`, long[:64], nil},
		{`{"clientToken":"` + long + `"}`, "", ErrInvalidClientToken},
		{`{"clientToken":7}`, "", ErrInvalidClientToken},
		{`{"clientToken":"a","clientToken":"b"}`, "b", nil},
		{"\xff\xfe{\x00}\x00", "", nil},
		{`{"clientToken":"x","state":{"a":]}}`, "", nil},
	}
	for _, tt := range tests {
		got, err := ClientToken([]byte(tt.payload), Limits{})
		if got != tt.want || !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
			t.Errorf("ClientToken(%q) = %q, %v; want %q, %v", tt.payload, got, err, tt.want, tt.err)
		}
	}
	if got, err := ClientToken([]byte(`{"clientToken":"abcd"}`), Limits{MaxClientTokenBytes: 3}); err == nil {
		t.Errorf("ClientToken over a limit of 3 = %q, want an error", got)
	}
}

// TestParseUpdate_Nesting checks that any nesting beyond maxNesting, even
// outside the state, is Invalid JSON rather than a stack overflow.
func TestParseUpdate_Nesting(t *testing.T) {
	deep := strings.Repeat("[", maxNesting+1) + strings.Repeat("]", maxNesting+1)
	_, err := ParseUpdate([]byte(`{"state":{},"junk":`+deep+`}`), Limits{})
	if !errors.Is(err, ErrInvalidJSON) {
		t.Errorf("deep junk: %v, want %v", err, ErrInvalidJSON)
	}
	ok := strings.Repeat("[", maxNesting-1) + strings.Repeat("]", maxNesting-1)
	if _, err := ParseUpdate([]byte(`{"state":{},"junk":`+ok+`}`), Limits{}); err != nil {
		t.Errorf("junk nested %d deep: %v", maxNesting-1, err)
	}
}

// TestParseUpdate_Syntax checks JSON syntax the golden cases do not.
func TestParseUpdate_Syntax(t *testing.T) {
	for _, p := range []string{
		`{"state":{"desired":{"a":01}}}`,
		`{"state":{"desired":{"a":1.}}}`,
		`{"state":{"desired":{"a":.5}}}`,
		`{"state":{"desired":{"a":1e}}}`,
		`{"state":{"desired":{"a":+1}}}`,
		`{"state":{"desired":{"a":tru}}}`,
		`{"state":{"desired":{"a":"\x"}}}`,
		`{"state":{"desired":{"a":"\u12"}}}`,
		"{\"state\":{\"desired\":{\"a\":\"tab\there\"}}}",
		`{"state":{"desired":{"a":1,}}}`,
		`{"state":{"desired":{,}}}`,
		`{"state":{"desired":{"a" 1}}}`,
		`{"state":{"desired":{a:1}}}`,
		`{"state":{"desired":[1 2]}}`,
		`{"state":{}`,
		`{"state":{}}}`,
		`{'state':{}}`,
		`{"state":{"desired":{"a":"\ud800\u12"}}}`,
		`null`,
		`"state"`,
		`{"state":{"desired":{"a":1]}},"state":{}}`,
		`{"state":{"desired":nul},"state":{}}`,
		`{"state":{"desired":{"a":12x}}}`,
		`{"state":12x}`,
		`{"state":{"desired":{"a":"unterminated}}}`,
	} {
		if _, err := ParseUpdate([]byte(p), Limits{}); !errors.Is(err, ErrInvalidJSON) {
			t.Errorf("ParseUpdate(%s): %v, want %v", p, err, ErrInvalidJSON)
		}
	}
}

// TestParseUpdate_Strings checks string decoding: every escape, surrogate
// pairs and lone surrogates (U+FFFD, as encoding/json does).
func TestParseUpdate_Strings(t *testing.T) {
	res := mustApply(t, &Shadow{}, `{"state":{"reported":{"s":"\"\\\/\b\f\n\r\t\u0041\u00e9\ud83d\ude00\udc00\ud800\u0041"}}}`, 1)
	want := `{"state":{"reported":{"s":"\"\\/\b\f\n\r\tAé😀` + "\uFFFD\uFFFD" + `A"}}`
	if !strings.HasPrefix(string(res.Shadow.Marshal()), want) {
		t.Errorf("decoded string:\n got %s\nwant prefix %s", res.Shadow.Marshal(), want)
	}
	if s := string(res.Shadow.Marshal()); !json.Valid([]byte(s)) {
		t.Errorf("not valid JSON: %s", s)
	}
}

// TestNumberEqual checks that the delta compares numbers by decimal value.
func TestNumberEqual(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"1", "1", true},
		{"1", "1.0", true},
		{"1", "1e0", true},
		{"1", "10E-1", true},
		{"100", "1e2", true},
		{"100", "1E+2", true},
		{"0.0100", "1e-2", true},
		{"-0", "0", true},
		{"0", "0.000e7", true},
		{"-1.5", "-15e-1", true},
		{"2.50", "25e-1", true},
		{"1", "-1", false},
		{"1", "2", false},
		{"1", "10", false},
		{"1", "1.01", false},
		{"9007199254740993", "9007199254740992", false},
		{"12345678901234567890", "1.2345678901234567890e19", true},
		{"12345678901234567890", "1.2345678901234567891e19", false},
		{"1e400", "10e399", true},
		{"1e400", "1e401", false},
		{"1e99999999999999999999", "1e99999999999999999999", true}, // same text
		{"1e99999999999999999999", "10e99999999999999999998", false},
	}
	for _, tt := range tests {
		if got := numberEqual(tt.a, tt.b); got != tt.want {
			t.Errorf("numberEqual(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
		if got := numberEqual(tt.b, tt.a); got != tt.want {
			t.Errorf("numberEqual(%s, %s) = %v, want %v", tt.b, tt.a, got, tt.want)
		}
	}
}

// TestParseInt checks the integer parser of versions and timestamps at the
// edges of int64.
func TestParseInt(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"-0", 0, true},
		{"42", 42, true},
		{"9223372036854775807", math.MaxInt64, true},
		{"9223372036854775808", 0, false},
		{"-9223372036854775808", math.MinInt64, true},
		{"-9223372036854775809", 0, false},
		{"99999999999999999999", 0, false},
		{"", 0, false},
		{"-", 0, false},
		{"1.0", 0, false},
		{"1e3", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseInt([]byte(tt.in))
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseInt(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// TestErrorDocument checks the error document and the fixed texts.
func TestErrorDocument(t *testing.T) {
	tests := []struct {
		e     *Error
		token string
		want  string
	}{
		{ErrVersionConflict, "tok", `{"code":409,"message":"Version conflict","timestamp":5,"clientToken":"tok"}`},
		{ErrInvalidJSON, "", `{"code":400,"message":"Invalid JSON","timestamp":5}`},
		{NoShadowError("lamp-1"), "", `{"code":404,"message":"No shadow exists with name: 'lamp-1'","timestamp":5}`},
		{&Error{500, `a "quoted" text`}, "é", `{"code":500,"message":"a \"quoted\" text","timestamp":5,"clientToken":"é"}`},
	}
	for _, tt := range tests {
		if got := string(ErrorDocument(tt.e, 5, tt.token)); got != tt.want {
			t.Errorf("ErrorDocument:\n got %s\nwant %s", got, tt.want)
		}
	}
	if got := ErrForbidden.Error(); got != "shadow: 403 Forbidden" {
		t.Errorf("Error() = %q", got)
	}
}

// TestError_Is checks that errors compare by code and message.
func TestError_Is(t *testing.T) {
	if !errors.Is(&Error{409, "Version conflict"}, ErrVersionConflict) {
		t.Error("a copy of ErrVersionConflict is not ErrVersionConflict")
	}
	if errors.Is(&Error{400, "Version conflict"}, ErrVersionConflict) || errors.Is(ErrInvalidJSON, ErrInvalidVersion) {
		t.Error("different errors match")
	}
	if !errors.Is(tooDeep(6), ErrTooDeep) || errors.Is(tooDeep(8), ErrTooDeep) {
		t.Error("tooDeep does not name its limit")
	}
}

// TestDeleted checks the delete/accepted document.
func TestDeleted(t *testing.T) {
	if got, want := string(Deleted(13, 1719858420, "14e3c6d4")), `{"version":13,"timestamp":1719858420,"clientToken":"14e3c6d4"}`; got != want {
		t.Errorf("Deleted = %s, want %s", got, want)
	}
	if got, want := string(Deleted(4, 1591057529, "")), `{"version":4,"timestamp":1591057529}`; got != want {
		t.Errorf("Deleted = %s, want %s", got, want)
	}
}

// TestLimits_Validate checks defaults and validation.
func TestLimits_Validate(t *testing.T) {
	d := DefaultLimits()
	if d != (Limits{8192, 6, 64}) {
		t.Errorf("DefaultLimits = %+v", d)
	}
	if (Limits{}).withDefaults() != d {
		t.Error("zero Limits are not AWS's")
	}
	if err := d.Validate(); err != nil {
		t.Errorf("Validate(default): %v", err)
	}
	if err := (Limits{}).Validate(); err != nil {
		t.Errorf("Validate(zero): %v", err)
	}
	if err := (Limits{MaxDepth: -1}).Validate(); err == nil || !strings.Contains(err.Error(), "MaxDepth") {
		t.Errorf("Validate(MaxDepth -1) = %v", err)
	}
}
