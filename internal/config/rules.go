package config

import (
	"net/url"
	"strings"
	"time"
)

// Rules configure the rules engine (--rules-*).
type Rules struct {
	// HTTPDestinations are the URL prefixes http actions (and lambda
	// actions given a URL) may send to. Empty (the default): none.
	HTTPDestinations []string `yaml:"http-destinations"`
	// QueueLen is how many messages may wait for one rule; beyond, the
	// publisher is held back for up to a second, then the message is
	// dropped. Default 10000; allowed 1 to 1000000.
	QueueLen int `yaml:"queue-len"`
	// Workers is how many messages one rule works on at once. Default 8;
	// allowed 1 to 1024.
	Workers int `yaml:"workers"`
	// MaxAttempts is how many times a failing action is tried before the
	// errorAction. Default 3; allowed 1 to 20.
	MaxAttempts int `yaml:"max-attempts"`
	// ActionTimeout bounds one attempt. Default 10s; allowed 100ms to 5m.
	ActionTimeout time.Duration `yaml:"action-timeout"`
	// MaxHops is how many rule derivations deep a message may be and still
	// be given to rules. Default 8; allowed 1 to 64.
	MaxHops int `yaml:"max-hops"`
}

func defaultRules() Rules {
	return Rules{QueueLen: 10_000, Workers: 8, MaxAttempts: 3, ActionTimeout: 10 * time.Second, MaxHops: 8}
}

func (c Config) validateRules(bad func(flag, format string, args ...any)) {
	r := c.Rules
	for _, d := range r.HTTPDestinations {
		if _, err := ParseDestination(d); err != nil {
			bad("rules-http-destination", "%v", err)
		}
	}
	if r.QueueLen < 1 || r.QueueLen > 1_000_000 {
		bad("rules-queue-len", "must be between 1 and 1000000, got %d", r.QueueLen)
	}
	if r.Workers < 1 || r.Workers > 1024 {
		bad("rules-workers", "must be between 1 and 1024, got %d", r.Workers)
	}
	if r.MaxAttempts < 1 || r.MaxAttempts > 20 {
		bad("rules-max-attempts", "must be between 1 and 20, got %d", r.MaxAttempts)
	}
	if r.ActionTimeout < 100*time.Millisecond || r.ActionTimeout > 5*time.Minute {
		bad("rules-action-timeout", "must be between 100ms and 5m0s, got %v", r.ActionTimeout)
	}
	if r.MaxHops < 1 || r.MaxHops > 64 {
		bad("rules-max-hops", "must be between 1 and 64, got %d", r.MaxHops)
	}
}

// ParseDestination checks an allowed rule destination: an absolute http
// or https URL with a host, no query, no fragment, no credentials.
func ParseDestination(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, &url.Error{Op: "destination", URL: s, Err: errDestination}
	}
	return u, nil
}

var errDestination = destinationError("want an http(s) URL prefix with a host and without credentials, query or fragment")

type destinationError string

func (e destinationError) Error() string { return string(e) }

// AllowDestination reports whether u is under one of the allowed
// prefixes: same scheme and host (port included), and a path that starts
// with the prefix's path at a segment boundary.
func AllowDestination(allowed []*url.URL, u *url.URL) bool {
	for _, a := range allowed {
		if !strings.EqualFold(a.Scheme, u.Scheme) || !strings.EqualFold(a.Host, u.Host) {
			continue
		}
		p := a.Path
		if p == "" || p == "/" || u.Path == p || strings.HasPrefix(u.Path, strings.TrimSuffix(p, "/")+"/") {
			return true
		}
	}
	return false
}
