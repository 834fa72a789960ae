package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// ok is a valid set of flags; each case below appends a bad one (the last
// occurrence of a flag wins).
var okFlags = []string{"-broker", "127.0.0.1:8883", "-cafile", "ca.crt", "-certdir", "certs"}

func TestParseConfigErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"-broker", "192.0.2.1:8883"}, "-broker: \"192.0.2.1\" is not a loopback address"},
		{[]string{"-broker", "example.com:8883"}, "not a loopback address"},
		{[]string{"-broker", "127.0.0.1"}, "want host:port"},
		{[]string{"-broker", "127.0.0.1:mqtt"}, "port must be a number"},
		{[]string{"-cafile", ""}, "-cafile: required"},
		{[]string{"-cert", "c.pem", "-key", "k.pem"}, "-certdir: use either -certdir or -cert/-key"},
		{[]string{"-qos", "3"}, "-qos: 3: want 0, 1 or 2"},
		{[]string{"-size", "8"}, "-size: 8: want 20..1048576"},
		{[]string{"-v", "3"}, "-v: 3: want 5 or 311"},
		{[]string{"-pubs", "0"}, "-pubs: 0"},
		{[]string{"-subs", "-1"}, "-subs: -1"},
		{[]string{"-rate", "-5"}, "-rate: -5"},
		{[]string{"-inflight", "0"}, "-inflight: 0"},
		{[]string{"-inflight", "70000"}, "-inflight: 70000"},
		{[]string{"-duration", "0s"}, "-duration: 0s: want > 0"},
		{[]string{"-timeout", "1s"}, "-timeout: 1s is shorter"},
		{[]string{"-topic-prefix", "a/#"}, "-topic-prefix"},
		{[]string{"-topic-prefix", "a/"}, "-topic-prefix"},
		{[]string{"-clientid-prefix", "a/b"}, "-clientid-prefix"},
		{[]string{"-sub-filter", "some"}, "-sub-filter: \"some\""},
		{[]string{"-conns", "0"}, "-conns: 0"},
		{[]string{"-c", "0"}, "-c: 0"},
		{[]string{"-broker-pid", "-2"}, "-broker-pid"},
		{[]string{"extra"}, "unexpected argument \"extra\""},
		{[]string{"-nosuchflag"}, "flag provided but not defined"},
	}
	for _, c := range cases {
		args := append(append([]string{}, okFlags...), c.args...)
		_, err := parseConfig("pubsub", args, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err = %v, want it to contain %q", c.args, err, c.want)
		}
	}
	// Without -cert/-key or -certdir.
	if _, err := parseConfig("pubsub", []string{"-cafile", "x"}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "-cert: mutual TLS needs a client identity") {
		t.Errorf("no identity: err = %v", err)
	}
}

func TestParseConfigOK(t *testing.T) {
	for _, args := range [][]string{
		okFlags,
		append(okFlags[:2:2], "-cafile", "ca", "-cert", "c", "-key", "k", "-v", "311", "-qos", "2", "-rate", "100"),
		append(okFlags[:0:0], "-broker", "[::1]:1883", "-cafile", "ca", "-certdir", "d"),
		append(okFlags[:0:0], "-broker", "localhost:1883", "-cafile", "ca", "-certdir", "d"),
		append(okFlags[:0:0], "-broker", "198.51.100.7:8883", "-allow-remote", "-cafile", "ca", "-certdir", "d"),
	} {
		c, err := parseConfig("pubsub", args, &bytes.Buffer{})
		if err != nil {
			t.Errorf("%v: %v", args, err)
			continue
		}
		if c.timeout != c.warmup+c.duration+c.drain+2*time.Minute || c.label != c.broker {
			t.Errorf("%v: defaults timeout %v label %q", args, c.timeout, c.label)
		}
	}
}

func TestRunUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(t.Context(), []string{"nosuchmode"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "unknown mode") {
		t.Errorf("unknown mode: code %d, stderr %q", code, errb.String())
	}
	errb.Reset()
	if code := run(t.Context(), []string{"pubsub", "-qos", "9"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "-qos: 9") {
		t.Errorf("bad flag: code %d, stderr %q", code, errb.String())
	}
	errb.Reset()
	if code := run(t.Context(), []string{"gencerts"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "-out: required") {
		t.Errorf("gencerts without -out: code %d, stderr %q", code, errb.String())
	}
}

func TestTopicsAndIDs(t *testing.T) {
	if got := pubTopic("", pubID("b-", 3)); got != "b-pub-3/data" {
		t.Errorf("pubTopic = %q", got)
	}
	if got := pubTopic("fleet", "+"); got != "fleet/+/data" {
		t.Errorf("pubTopic wildcard = %q", got)
	}
}
