package config

import (
	"time"
)

// Allowed ranges of the custom authorizer and WebSocket settings.
const (
	minAuthorizerTimeout     = 100 * time.Millisecond
	maxAuthorizerTimeout     = 30 * time.Second
	maxAuthorizerInFlight    = 100_000
	minWebSocketReplayCache  = 1_000
	maxWebSocketReplayCache  = 10_000_000
	defaultAuthorizerTimeout = 5 * time.Second
)

// CustomAuth configures custom authorizers (--authorizer-*): the functions
// moat calls are HTTP(S) endpoints the operator runs, so, as for rule
// actions, moat calls only the URLs the operator allowed.
type CustomAuth struct {
	// URLs are the URL prefixes an authorizer's function (its
	// authorizerFunctionArn given as a URL) may be under. None by default:
	// CreateAuthorizer refuses every URL until the operator names some.
	URLs []string `yaml:"urls"`
	// Timeout bounds one call of a function (AWS: the Lambda's 5 s).
	Timeout time.Duration `yaml:"timeout"`
	// MaxInFlight bounds the function calls in progress at once; beyond,
	// connections are refused at once rather than queued.
	MaxInFlight int `yaml:"max-in-flight"`
	// CAFile is a PEM file of CA certificates trusted for https://
	// functions besides the system roots.
	CAFile string `yaml:"ca-file"`
}

// WebSocket configures MQTT over WebSocket (--websocket-*).
type WebSocket struct {
	// ReplayCache is how many presigned URLs are remembered (each is
	// accepted once, until it expires); when it is full of unexpired
	// URLs, new ones are refused (503) rather than an old one forgotten.
	ReplayCache int `yaml:"replay-cache"`
}

func defaultCustomAuth() CustomAuth {
	return CustomAuth{URLs: []string{}, Timeout: defaultAuthorizerTimeout, MaxInFlight: 64}
}

func defaultWebSocket() WebSocket { return WebSocket{ReplayCache: 100_000} }

func (c Config) validateCustomAuth(bad func(flag, format string, args ...any)) {
	a := c.CustomAuth
	for _, u := range a.URLs {
		if _, err := ParseDestination(u); err != nil {
			bad("authorizer-url", "%v", err)
		}
	}
	if a.Timeout < minAuthorizerTimeout || a.Timeout > maxAuthorizerTimeout {
		bad("authorizer-timeout", "must be between %v and %v, got %v", minAuthorizerTimeout, maxAuthorizerTimeout, a.Timeout)
	}
	if a.MaxInFlight < 1 || a.MaxInFlight > maxAuthorizerInFlight {
		bad("authorizer-max-in-flight", "must be between 1 and %d, got %d", maxAuthorizerInFlight, a.MaxInFlight)
	}
	if r := c.WebSocket.ReplayCache; r < minWebSocketReplayCache || r > maxWebSocketReplayCache {
		bad("websocket-replay-cache", "must be between %d and %d, got %d", minWebSocketReplayCache, maxWebSocketReplayCache, r)
	}
}
