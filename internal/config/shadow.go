package config

import "time"

// Allowed ranges of the shadow settings (inclusive).
const (
	minShadowState    = 1 * KiB
	maxShadowState    = 1 * MiB
	maxShadowDepth    = 32
	maxShadowToken    = 1024
	maxShadowInFlight = 10000
	maxShadowTTL      = 30 * 24 * time.Hour
)

// Shadow are the Device Shadow service's limits (--shadow-*). The
// defaults are AWS IoT's.
type Shadow struct {
	// MaxStateBytes bounds a shadow's state document (desired and
	// reported, metadata excluded), in bytes. Default 8 KiB (AWS); allowed
	// 1 KiB to 1 MiB.
	MaxStateBytes int `yaml:"max-state-bytes"`
	// MaxDepth bounds the levels of nesting under desired and reported.
	// Default 6 (AWS); allowed 1 to 32.
	MaxDepth int `yaml:"max-depth"`
	// MaxClientToken bounds a request's clientToken, in bytes. Default 64
	// (AWS); allowed 1 to 1024.
	MaxClientToken int `yaml:"max-client-token"`
	// MaxInFlight is how many shadow requests one MQTT connection may
	// have waiting for their reply; more are rejected with 429. Default 10
	// (AWS); allowed 1 to 10000.
	MaxInFlight int `yaml:"max-in-flight"`
	// TombstoneTTL is how long a deleted shadow's version is remembered,
	// so that a shadow re-created within it continues from the old
	// version. Default 48h (AWS); allowed 1m to 720h.
	TombstoneTTL time.Duration `yaml:"tombstone-ttl"`
}

func defaultShadow() Shadow {
	return Shadow{MaxStateBytes: 8 * KiB, MaxDepth: 6, MaxClientToken: 64, MaxInFlight: 10, TombstoneTTL: 48 * time.Hour}
}

func (c Config) validateShadow(bad func(flag, format string, args ...any)) {
	s := c.Shadow
	if s.MaxStateBytes < minShadowState || s.MaxStateBytes > maxShadowState {
		bad("shadow-max-state-bytes", "must be between %s and %s, got %s",
			FormatSize(minShadowState), FormatSize(maxShadowState), FormatSize(int64(s.MaxStateBytes)))
	}
	if s.MaxDepth < 1 || s.MaxDepth > maxShadowDepth {
		bad("shadow-max-depth", "must be between 1 and %d, got %d", maxShadowDepth, s.MaxDepth)
	}
	if s.MaxClientToken < 1 || s.MaxClientToken > maxShadowToken {
		bad("shadow-max-client-token", "must be between 1 and %d, got %d", maxShadowToken, s.MaxClientToken)
	}
	if s.MaxInFlight < 1 || s.MaxInFlight > maxShadowInFlight {
		bad("shadow-max-in-flight", "must be between 1 and %d, got %d", maxShadowInFlight, s.MaxInFlight)
	}
	if s.TombstoneTTL < time.Minute || s.TombstoneTTL > maxShadowTTL {
		bad("shadow-tombstone-ttl", "must be between %v and %v, got %v", time.Minute, maxShadowTTL, s.TombstoneTTL)
	}
}
