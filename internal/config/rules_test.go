package config

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestLoad_Rules checks the rules engine settings: defaults, a list of
// destinations from flags (replacing the file's), bounds refused.
func TestLoad_Rules(t *testing.T) {
	c, err := Load(nil, envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Rules.HTTPDestinations) != 0 || c.Rules.QueueLen != 10000 || c.Rules.Workers != 8 ||
		c.Rules.MaxAttempts != 3 || c.Rules.ActionTimeout != 10*time.Second || c.Rules.MaxHops != 8 {
		t.Fatalf("defaults: %+v", c.Rules)
	}
	file := writeFile(t, "rules:\n  http-destinations: [\"https://file.example/\"]\n  max-hops: 4\n")
	c, err = Load([]string{"--config", file, "--rules-http-destination", "https://a.example/hooks/",
		"--rules-http-destination", "http://127.0.0.1:9000"}, envMap(map[string]string{"MOAT_RULES_WORKERS": "2"}))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.Rules.HTTPDestinations, " ") != "https://a.example/hooks/ http://127.0.0.1:9000" || c.Rules.MaxHops != 4 || c.Rules.Workers != 2 {
		t.Fatalf("layers: %+v", c.Rules)
	}
	for _, bad := range [][]string{
		{"--rules-http-destination", "ftp://x.example/"},
		{"--rules-http-destination", "https://user:pw@x.example/"},
		{"--rules-http-destination", "https://x.example/?q=1"},
		{"--rules-http-destination", "/relative"},
		{"--rules-queue-len", "0"},
		{"--rules-workers", "2000"},
		{"--rules-max-attempts", "0"},
		{"--rules-action-timeout", "1ms"},
		{"--rules-max-hops", "65"},
	} {
		if _, err := Load(bad, envMap(nil)); err == nil || !strings.Contains(err.Error(), bad[0]) {
			t.Errorf("Load(%v) = %v, want an error naming %s", bad, err, bad[0])
		}
	}
}

// TestAllowDestination: scheme, host and port must match, and the path
// must be under the prefix at a segment boundary.
func TestAllowDestination(t *testing.T) {
	var allowed []*url.URL
	for _, s := range []string{"https://hooks.example/iot/", "http://127.0.0.1:9000"} {
		u, err := ParseDestination(s)
		if err != nil {
			t.Fatal(err)
		}
		allowed = append(allowed, u)
	}
	for s, want := range map[string]bool{
		"https://hooks.example/iot/":         true,
		"https://hooks.example/iot/a/b?x=1":  true,
		"https://hooks.example/iot":          false, // the prefix is /iot/
		"https://HOOKS.example/iot/x":        true,
		"https://hooks.example/iotx":         false,
		"https://hooks.example/other":        false,
		"http://hooks.example/iot/":          false,
		"https://hooks.example:444/iot/":     false,
		"http://127.0.0.1:9000/anything":     true,
		"http://127.0.0.1:9001/":             false,
		"https://evil.example/hooks.example": false,
	} {
		u, _ := url.Parse(s)
		if got := AllowDestination(allowed, u); got != want {
			t.Errorf("AllowDestination(%s) = %v, want %v", s, got, want)
		}
	}
}
