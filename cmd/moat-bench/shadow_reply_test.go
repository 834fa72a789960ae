package main

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/moat-iot/moat/internal/mqtt/packet"
)

func TestParseShadowReply(t *testing.T) {
	tok := string(appendToken(nil, 3, 41))
	cases := []struct {
		name    string
		topic   string
		payload string
		want    shadowReply
		err     error
	}{
		{"accepted classic", "$aws/things/lamp-1/shadow/update/accepted",
			`{"state":{"reported":{"counter":1}},"metadata":{},"version":2,"timestamp":1,"clientToken":"` + tok + `"}`,
			shadowReply{Thing: "lamp-1", Kind: replyAccepted, Suffix: "accepted", Token: tok}, nil},
		{"rejected named", "$aws/things/lamp-1/shadow/name/cfg/update/rejected",
			`{"code":429,"message":"Too Many Requests","clientToken":"abc"}`,
			shadowReply{Thing: "lamp-1", Name: "cfg", Kind: replyRejected, Suffix: "rejected", Token: "abc", Code: 429, Message: "Too Many Requests"}, nil},
		{"documents not read", "$aws/things/t/shadow/update/documents", `not json`,
			shadowReply{Thing: "t", Kind: replyOther, Suffix: "documents"}, nil},
		{"delta named", "$aws/things/t/shadow/name/n/update/delta", ``,
			shadowReply{Thing: "t", Name: "n", Kind: replyOther, Suffix: "delta"}, nil},
		{"empty token is a token", "$aws/things/t/shadow/update/accepted", `{"clientToken":""}`,
			shadowReply{Thing: "t", Kind: replyAccepted, Suffix: "accepted"}, nil},
		{"no token", "$aws/things/t/shadow/update/accepted", `{"state":{}}`, shadowReply{}, errReplyDocument},
		{"rejected without code", "$aws/things/t/shadow/update/rejected", `{"clientToken":"a"}`, shadowReply{}, errReplyDocument},
		{"rejected code not HTTP", "$aws/things/t/shadow/update/rejected", `{"code":42,"clientToken":"a"}`, shadowReply{}, errReplyDocument},
		{"bad JSON", "$aws/things/t/shadow/update/accepted", `{"clientToken":`, shadowReply{}, errReplyDocument},
		{"token not a string", "$aws/things/t/shadow/update/accepted", `{"clientToken":7}`, shadowReply{}, errReplyDocument},
		{"get, not update", "$aws/things/t/shadow/get/accepted", `{}`, shadowReply{}, errReplyTopic},
		{"not $aws", "things/t/shadow/update/accepted", `{}`, shadowReply{}, errReplyTopic},
		{"empty thing", "$aws/things//shadow/update/accepted", `{}`, shadowReply{}, errReplyTopic},
		{"bad thing", "$aws/things/a.b/shadow/update/accepted", `{}`, shadowReply{}, errReplyTopic},
		{"empty shadow name", "$aws/things/t/shadow/name//update/accepted", `{}`, shadowReply{}, errReplyTopic},
		{"deeper", "$aws/things/t/shadow/update/accepted/x", `{}`, shadowReply{}, errReplyTopic},
		{"nothing after update", "$aws/things/t/shadow/update/", `{}`, shadowReply{}, errReplyTopic},
		{"wildcard", "$aws/things/t/shadow/update/+", `{}`, shadowReply{}, errReplyTopic},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseShadowReply(c.topic, []byte(c.payload))
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("err = %v, want %v", err, c.err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, c.want)
			}
		})
	}
}

func TestToken(t *testing.T) {
	tok := string(appendToken(nil, 99, 123456))
	if len(tok) > 64 || !strings.HasPrefix(tok, tokenPrefix) {
		t.Fatalf("token %q: want <= 64 bytes with the run prefix", tok)
	}
	if conn, k, ok := parseToken(tok); !ok || conn != 99 || k != 123456 {
		t.Errorf("parseToken(%q) = %d, %d, %v", tok, conn, k, ok)
	}
	if long := string(appendToken(nil, 99999, maxShadowRequests)); len(long) > 64 {
		t.Errorf("largest token %q is over AWS's 64 bytes", long)
	}
	for _, bad := range []string{"", tokenPrefix, tokenPrefix + "1", tokenPrefix + "1-", tokenPrefix + "-1",
		tokenPrefix + "01-1", tokenPrefix + "1-+1", tokenPrefix + "1-2-3", tokenPrefix + "1-1234567890",
		"00000000-1-1", tokenPrefix[:8] + "_1-1"} {
		if _, _, ok := parseToken(bad); ok {
			t.Errorf("parseToken(%q) ok, want refused", bad)
		}
	}
}

func TestAppendUpdate(t *testing.T) {
	b := appendUpdate(nil, 7, "xyz", appendToken(nil, 1, 2))
	var doc struct {
		State struct {
			Reported map[string]any `json:"reported"`
		} `json:"state"`
		ClientToken string `json:"clientToken"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	if doc.State.Reported["counter"] != 7.0 || doc.State.Reported["data"] != "xyz" || doc.ClientToken != string(appendToken(nil, 1, 2)) {
		t.Errorf("document %s", b)
	}
}

// FuzzShadowReply checks that parseShadowReply never panics, that what it
// accepts has the shape of a reply topic it could have come from, and that
// a token parseToken accepts is one appendToken makes.
func FuzzShadowReply(f *testing.F) {
	f.Add("$aws/things/t/shadow/update/accepted", []byte(`{"clientToken":"`+string(appendToken(nil, 0, 1))+`"}`))
	f.Fuzz(func(t *testing.T, topic string, payload []byte) {
		r, err := parseShadowReply(topic, payload)
		if err != nil {
			return
		}
		if got := shadowTopic(r.Thing, r.Name, "update/"+r.Suffix); got != topic {
			t.Fatalf("parsed %q as %+v, which makes %q", topic, r, got)
		}
		if (r.Kind == replyAccepted) != (r.Suffix == "accepted") || (r.Kind == replyRejected) != (r.Suffix == "rejected") {
			t.Fatalf("kind %v for suffix %q", r.Kind, r.Suffix)
		}
		if r.Kind == replyRejected && (r.Code < 100 || r.Code > 599) {
			t.Fatalf("rejected with code %d", r.Code)
		}
		if conn, k, ok := parseToken(r.Token); ok {
			if again := string(appendToken(nil, conn, k)); again != r.Token {
				t.Fatalf("token %q parsed as %d, %d, which makes %q", r.Token, conn, k, again)
			}
		}
	})
}

func TestParseShadowConfig(t *testing.T) {
	ok := []string{"-cafile", "ca", "-cert", "c", "-key", "k"}
	c, err := parseShadowConfig(ok, &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	if c.conns != 100 || c.things != 1000 || c.updates != 10 || c.window != 10 || c.qos != 1 || c.v5 ||
		c.label != c.broker || c.protoVersion() != packet.V311 || shadowClientID(c.clientIDPre, 7) != "bench-shadow-7" ||
		shadowThing(c.thingPre, 42) != "bench-thing-00042" {
		t.Errorf("defaults %+v", c)
	}
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"-broker", "192.0.2.1:8883"}, "-broker: \"192.0.2.1\" is not a loopback address"},
		{[]string{"-cafile", ""}, "-cafile: required"},
		{[]string{"-certdir", "d"}, "-certdir: use either"},
		{[]string{"-qos", "2"}, "-qos: 2: want 0 or 1"},
		{[]string{"-window", "0"}, "-window: 0"},
		{[]string{"-conns", "10", "-things", "9"}, "-things: 9"},
		{[]string{"-things", "100000"}, "-things: 100000"},
		{[]string{"-updates", "0"}, "-updates: 0"},
		{[]string{"-things", "99999", "-updates", "1000"}, "-updates: -things x -updates"},
		{[]string{"-named", "a/b"}, "-named: \"a/b\""},
		{[]string{"-named", strings.Repeat("n", 65)}, "-named"},
		{[]string{"-prefix", "bench thing"}, "-prefix"},
		{[]string{"-clientid-prefix", "a+"}, "-clientid-prefix"},
		{[]string{"-sub-filter", "all"}, "-sub-filter: \"all\""},
		{[]string{"-size", "9000"}, "-size: 9000"},
		{[]string{"-reply-timeout", "0s"}, "-reply-timeout: 0s"},
		{[]string{"-reply-timeout", "10s", "-timeout", "5s"}, "-timeout: 5s"},
		{[]string{"extra"}, "unexpected argument"},
	} {
		_, err := parseShadowConfig(append(append([]string{}, ok...), bad.args...), &strings.Builder{})
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%v: err = %v, want it to contain %q", bad.args, err, bad.want)
		}
	}
}

func TestThingRange(t *testing.T) {
	for _, tc := range []struct{ things, conns int }{{1000, 100}, {8, 3}, {5, 5}, {7, 1}, {101, 10}} {
		next := 0
		for i := range tc.conns {
			lo, hi := thingRange(tc.things, tc.conns, i)
			if lo != next || hi-lo < tc.things/tc.conns || hi-lo > tc.things/tc.conns+1 {
				t.Fatalf("%d things over %d: connection %d gets [%d, %d) after %d", tc.things, tc.conns, i, lo, hi, next)
			}
			next = hi
		}
		if next != tc.things {
			t.Errorf("%d things over %d: %d assigned", tc.things, tc.conns, next)
		}
	}
}

func TestRun_ShadowUsage(t *testing.T) {
	var out, errb strings.Builder
	if code := run(t.Context(), []string{"shadow", "-qos", "2"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "-qos: 2") {
		t.Errorf("bad flag: code %d, stderr %q", code, errb.String())
	}
	errb.Reset()
	if code := run(t.Context(), []string{"help"}, &out, &errb); code != 0 || !strings.Contains(errb.String(), "moat-bench shadow  -broker") {
		t.Errorf("usage: code %d, stderr %q", code, errb.String())
	}
}
