// Package config is moat's configuration: one Config struct, its defaults,
// how it is loaded, and Validate.
//
// A Config is built in layers. Load starts from Default(), then applies, each
// layer overriding the one before it:
//
//  1. the YAML config file (--config PATH or MOAT_CONFIG), decoded strictly:
//     unknown keys, wrong types and a second YAML document are errors;
//  2. environment variables, MOAT_ plus the config-file key in upper case
//     with dashes and dots turned into underscores (MOAT_DATA_DIR,
//     MOAT_LIMITS_MAX_REQUEST_BODY); MOAT_HOSTNAME is comma-separated;
//  3. command-line flags (--data-dir, --max-request-body, ...).
//
// So the precedence is flags > environment > config file > defaults. A list
// setting (--hostname) set by a layer replaces the whole list of the layers
// below it; it is never merged.
//
// The MQTT limits add one rule (MQTTPrecedenceRule): the --limits profile
// gives every MQTT limit its value, and each --mqtt-* setting given at any
// layer replaces the profile's value for that limit, even when the profile
// comes from a higher layer. See MQTT.
//
// Load then normalises the result (see Config.Normalize) and validates it.
// Every validation error names the flag it is about, for example
// `--account-id: must be 12 digits, got "12"`, and several problems are
// reported together.
//
// The settings table in settings.go is the single list of settings: it
// drives the flags, the environment variables and the help text, and a test
// checks that it covers every field of Config.
package config

import (
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Values accepted for Config.LogLevel.
const (
	LogLevelDebug = "debug"
	LogLevelInfo  = "info"
	LogLevelWarn  = "warn"
	LogLevelError = "error"
)

// Values accepted for Config.LogFormat.
const (
	LogFormatText = "text"
	LogFormatJSON = "json"
)

// Key types accepted for Config.ServerKeyType (all three) and
// Config.DeviceKeyType (ecdsa and rsa2048).
const (
	KeyTypeECDSA   = "ecdsa"   // ECDSA on P-256
	KeyTypeRSA2048 = "rsa2048" // RSA, 2048-bit modulus
	KeyTypeRSA3072 = "rsa3072" // RSA, 3072-bit modulus (server keys only)
)

// Size units, in bytes.
const (
	KiB = 1 << 10
	MiB = 1 << 20
	GiB = 1 << 30
)

// Config is everything `moat serve` needs. The zero value is not valid; start
// from Default().
type Config struct {
	// ConfigFile is the config file this Config was loaded from; empty if
	// none. Informational only (for logs); it is not a file key.
	ConfigFile string `yaml:"-"`

	// DataDir holds the database, the PKI files and admin.credentials.
	// Created on first start if missing. Default "./moat-data".
	DataDir string `yaml:"data-dir"`
	// MQTTAddr is the MQTT-over-TLS listen address (mutual TLS), host:port.
	// An empty host listens on every interface; port 0 picks a free port.
	// Default ":8883".
	MQTTAddr string `yaml:"mqtt-addr"`
	// HTTPSAddr serves the control plane, data plane, /mqtt WebSocket,
	// identity API, console, /health and /metrics. host:port as MQTTAddr.
	// Default ":8443".
	HTTPSAddr string `yaml:"https-addr"`
	// MetricsAddr, if set, also serves /metrics in plain HTTP without
	// authentication (bind it to loopback or a private network). Empty (the
	// default) means no plain-HTTP metrics listener.
	MetricsAddr string `yaml:"metrics-addr"`
	// Hostnames go into the server certificate; 127.0.0.1 and ::1 are always
	// added by the server. The first is the endpoint address
	// DescribeEndpoint returns. At least one; each a DNS name or an IP
	// address (no wildcards). After Load they are lower-case, without a
	// trailing dot, IPs in canonical form, and without duplicates.
	// Default [localhost].
	Hostnames []string `yaml:"hostname"`
	// Region and AccountID appear in every ARN
	// (arn:aws:iot:REGION:ACCOUNT:...). Region has AWS syntax (us-east-1,
	// us-gov-west-1); AccountID is 12 digits. Defaults us-east-1 and
	// 000000000000.
	Region    string `yaml:"region"`
	AccountID string `yaml:"account-id"`
	// LogLevel is debug, info (default), warn or error; LogFormat is text
	// (default) or json.
	LogLevel  string `yaml:"log-level"`
	LogFormat string `yaml:"log-format"`
	// ServerKeyType is the key type of the server CA and certificate:
	// ecdsa (P-256, default), rsa2048 or rsa3072. It applies when they are
	// created (first start); existing files are reused as they are.
	ServerKeyType string `yaml:"server-key-type"`
	// DeviceKeyType is the key type CreateKeysAndCertificate generates:
	// ecdsa (P-256, default) or rsa2048.
	DeviceKeyType string `yaml:"device-key-type"`

	Limits Limits `yaml:"limits"`

	// MQTT are the broker's limits: a profile (--limits) and single
	// settings that override it (--mqtt-*). See MQTT and docs/mqtt.md.
	MQTT MQTT `yaml:"mqtt"`

	// DecisionLog is the policy decision log (--decision-log*).
	DecisionLog DecisionLog `yaml:"decision-log"`

	// ThingTypeDeleteDelay is how long a thing type must have been
	// deprecated before DeleteThingType deletes it, as AWS's "about 5
	// minutes". Default 5m; allowed 0 (no wait) to 24h.
	ThingTypeDeleteDelay time.Duration `yaml:"thing-type-delete-delay"`

	// Shadow are the Device Shadow service's limits (--shadow-*).
	Shadow Shadow `yaml:"shadow"`

	// Rules configure the rules engine (--rules-*).
	Rules Rules `yaml:"rules"`

	// CRLs are certificate revocation list files (--crl), one CRL each,
	// PEM or DER, each matched to a registered CA (or moat's device CA)
	// by its signature and reloaded when it changes. Empty (the default):
	// none.
	CRLs []string `yaml:"crl"`

	// TLS is the operator's server certificate (--server-cert,
	// --server-key, --server-ca); empty (the default): moat issues its own.
	// See ServerCertFiles and LoadServerCert.
	TLS ServerCertFiles `yaml:"tls"`

	// Identity configures Cognito-style identities and the IoT
	// credentials provider (--oidc-provider, --cognito-*,
	// --max-role-aliases).
	Identity Identity `yaml:"identity"`

	// CustomAuth configures custom authorizers (--authorizer-*).
	CustomAuth CustomAuth `yaml:"authorizers"`

	// WebSocket configures MQTT over WebSocket (--websocket-*).
	WebSocket WebSocket `yaml:"websocket"`
}

// Limits are the explicit bounds of the HTTPS surface. Every field has a
// default in Default() and an allowed range checked by Validate; zero is
// never valid.
type Limits struct {
	// MaxRequestBody is the largest accepted HTTP request body, in bytes.
	// Default 1 MiB; allowed 64 KiB to 64 MiB. The largest AWS IoT request
	// bodies are policy documents (up to 404,600 characters in the API
	// shape): even if every character needs a JSON escape (2 bytes), one
	// fits in 1 MiB with its JSON envelope. CSRs, HTTPS publishes (AWS
	// caps them at 128 KiB) and shadow documents are far smaller.
	MaxRequestBody int64 `yaml:"max-request-body"`
	// ReadHeaderTimeout bounds reading an HTTP request's headers
	// (http.Server.ReadHeaderTimeout). Default 10s; allowed 1s to 5m.
	ReadHeaderTimeout time.Duration `yaml:"read-header-timeout"`
	// ReadTimeout bounds reading a whole HTTP request, body included
	// (http.Server.ReadTimeout), so that a client cannot hold a request
	// open by trickling its body. Default 60s; allowed 1s to 1h.
	ReadTimeout time.Duration `yaml:"read-timeout"`
	// IdleTimeout closes a keep-alive HTTP connection idle this long
	// (http.Server.IdleTimeout). Default 120s; allowed 1s to 1h.
	IdleTimeout time.Duration `yaml:"idle-timeout"`
	// MaxHeaderBytes bounds an HTTP request's header size, in bytes
	// (http.Server.MaxHeaderBytes). Default 64 KiB; allowed 8 KiB to 1 MiB.
	MaxHeaderBytes int `yaml:"max-header-bytes"`
	// ShutdownTimeout bounds graceful stop after SIGINT/SIGTERM: in-flight
	// requests still running after it are cut off. Default 15s; allowed
	// 1s to 10m.
	ShutdownTimeout time.Duration `yaml:"shutdown-timeout"`
}

// Default returns the built-in defaults. They pass Validate.
func Default() Config {
	return Config{
		DataDir:       "./moat-data",
		MQTTAddr:      ":8883",
		HTTPSAddr:     ":8443",
		MetricsAddr:   "",
		Hostnames:     []string{"localhost"},
		Region:        "us-east-1",
		AccountID:     "000000000000",
		LogLevel:      LogLevelInfo,
		LogFormat:     LogFormatText,
		ServerKeyType: KeyTypeECDSA,
		DeviceKeyType: KeyTypeECDSA,
		Limits: Limits{
			MaxRequestBody:    1 * MiB,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       60 * time.Second,
			IdleTimeout:       120 * time.Second,
			MaxHeaderBytes:    64 * KiB,
			ShutdownTimeout:   15 * time.Second,
		},
		MQTT:                 MQTT{Limits: LimitsDefault},
		DecisionLog:          defaultDecisionLog(),
		ThingTypeDeleteDelay: 5 * time.Minute,
		Shadow:               defaultShadow(),
		Rules:                defaultRules(),
		Identity:             defaultIdentity(),
		CustomAuth:           defaultCustomAuth(),
		WebSocket:            defaultWebSocket(),
	}
}

// Normalize puts c into canonical form without judging it (Validate does
// that): hostnames are trimmed, lower-cased, lose a trailing dot, IP
// addresses take their canonical text form, and duplicates are dropped
// (first occurrence wins, so the endpoint hostname stays first). Load calls
// it; call it yourself if you build a Config by hand.
func (c *Config) Normalize() {
	out := make([]string, 0, len(c.Hostnames))
	for _, h := range c.Hostnames {
		h = normalizeHostname(h)
		if !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	c.Hostnames = out
}

func normalizeHostname(h string) string {
	h = strings.TrimSpace(h)
	if a, err := netip.ParseAddr(h); err == nil {
		return a.String()
	}
	return strings.ToLower(strings.TrimSuffix(h, "."))
}
