package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestConfig_Validate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(c *Config)
		// wantErr is empty for a valid config, else a substring of the error,
		// which must also name the flag.
		flag    string
		wantErr string
	}{
		// Valid variants.
		// Port 0 (any free port) and explicit IPv4/IPv6/DNS hosts are fine.
		{"port zero and hosts", func(c *Config) {
			c.MQTTAddr, c.HTTPSAddr, c.MetricsAddr = "127.0.0.1:0", "[::1]:0", "localhost:0"
		}, "", ""},
		// A different port on the same wildcard host does not clash.
		{"metrics on its own port", func(c *Config) { c.MetricsAddr = ":9090" }, "", ""},
		// The same port on two specific, different hosts does not clash.
		{"same port different hosts", func(c *Config) { c.MQTTAddr, c.HTTPSAddr = "10.0.0.1:8443", "10.0.0.2:8443" }, "", ""},
		// GovCloud and ISO regions have more dashes.
		{"gov region", func(c *Config) { c.Region = "us-gov-west-1" }, "", ""},
		{"iso region", func(c *Config) { c.Region = "us-isob-east-1" }, "", ""},
		// IP addresses and trailing-dot names are hostnames.
		{"ip hostnames", func(c *Config) { c.Hostnames = []string{"iot.example.com.", "192.0.2.1", "2001:db8::1"} }, "", ""},
		// Every enum value is accepted.
		{"enums", func(c *Config) {
			c.LogLevel, c.LogFormat, c.ServerKeyType, c.DeviceKeyType = "debug", "json", "rsa3072", "rsa2048"
		}, "", ""},
		// Limits at both ends of their ranges are accepted.
		{"limits low", func(c *Config) {
			c.Limits = Limits{MaxRequestBody: 64 * KiB, MaxHeaderBytes: 8 * KiB, ReadHeaderTimeout: time.Second, ReadTimeout: time.Second, IdleTimeout: time.Second, ShutdownTimeout: time.Second}
		}, "", ""},
		{"limits high", func(c *Config) {
			c.Limits = Limits{MaxRequestBody: 64 * MiB, MaxHeaderBytes: MiB, ReadHeaderTimeout: 5 * time.Minute, ReadTimeout: time.Hour, IdleTimeout: time.Hour, ShutdownTimeout: 10 * time.Minute}
		}, "", ""},

		// One bad input per rule.
		// A whole request must be read within the read timeout.
		{"read timeout zero", func(c *Config) { c.Limits.ReadTimeout = 0 }, "read-timeout", "must be between"},
		// An idle connection limit over an hour.
		{"idle timeout high", func(c *Config) { c.Limits.IdleTimeout = 2 * time.Hour }, "idle-timeout", "must be between"},
		// The data dir is required.
		{"empty data dir", func(c *Config) { c.DataDir = "" }, "data-dir", "must not be empty"},
		// A NUL byte cannot be in a path.
		{"nul data dir", func(c *Config) { c.DataDir = "a\x00b" }, "data-dir", "NUL"},
		// Addresses need host:port.
		{"mqtt no port", func(c *Config) { c.MQTTAddr = "8883" }, "mqtt-addr", "want host:port"},
		{"https empty", func(c *Config) { c.HTTPSAddr = "" }, "https-addr", "want host:port"},
		// Ports are numbers in range; service names are not accepted.
		{"port too big", func(c *Config) { c.HTTPSAddr = ":65536" }, "https-addr", "port must be a number"},
		{"port name", func(c *Config) { c.MQTTAddr = ":https" }, "mqtt-addr", "port must be a number"},
		// The host part must be an IP or a DNS name.
		{"bad host", func(c *Config) { c.MetricsAddr = "no_such host:9090" }, "metrics-addr", "host in"},
		// Two listeners on the same port and overlapping hosts clash.
		{"port clash", func(c *Config) { c.HTTPSAddr = "0.0.0.0:8883" }, "https-addr", "same port as --mqtt-addr"},
		{"metrics clash", func(c *Config) { c.MetricsAddr = "127.0.0.1:8443" }, "metrics-addr", "same port as --https-addr"},
		// At least one hostname.
		{"no hostnames", func(c *Config) { c.Hostnames = nil }, "hostname", "at least one"},
		// Hostnames are DNS names or IPs.
		{"hostname underscore", func(c *Config) { c.Hostnames = []string{"my_host"} }, "hostname", "not allowed"},
		{"hostname empty", func(c *Config) { c.Hostnames = []string{""} }, "hostname", "empty"},
		{"hostname dash", func(c *Config) { c.Hostnames = []string{"-a.example"} }, "hostname", "start or end"},
		{"hostname empty label", func(c *Config) { c.Hostnames = []string{"a..b"} }, "hostname", "1 to 63"},
		{"hostname long label", func(c *Config) { c.Hostnames = []string{strings.Repeat("a", 64) + ".com"} }, "hostname", "1 to 63"},
		{"hostname too long", func(c *Config) { c.Hostnames = []string{strings.Repeat("abcdefghi.", 26) + "com"} }, "hostname", "253"},
		{"hostname numeric tld", func(c *Config) { c.Hostnames = []string{"300.1.1.1"} }, "hostname", "all digits"},
		{"hostname wildcard", func(c *Config) { c.Hostnames = []string{"*.example.com"} }, "hostname", "wildcards"},
		{"hostname zone", func(c *Config) { c.Hostnames = []string{"fe80::1%eth0"} }, "hostname", "zone"},
		// Region has AWS syntax.
		{"bad region", func(c *Config) { c.Region = "US-EAST-1" }, "region", "AWS region"},
		{"region no number", func(c *Config) { c.Region = "us-east" }, "region", "AWS region"},
		// Account id is 12 digits.
		{"short account", func(c *Config) { c.AccountID = "12" }, "account-id", `must be 12 digits, got "12"`},
		{"alpha account", func(c *Config) { c.AccountID = "12345678901x" }, "account-id", "12 digits"},
		// Enums.
		{"log level", func(c *Config) { c.LogLevel = "verbose" }, "log-level", "must be one of"},
		{"log format", func(c *Config) { c.LogFormat = "xml" }, "log-format", "must be one of"},
		{"server key", func(c *Config) { c.ServerKeyType = "ed25519" }, "server-key-type", "must be one of"},
		{"device key rsa3072", func(c *Config) { c.DeviceKeyType = "rsa3072" }, "device-key-type", "must be one of"},
		// Limits below and above their ranges.
		{"body zero", func(c *Config) { c.Limits.MaxRequestBody = 0 }, "max-request-body", "between 64KiB and 64MiB"},
		{"body huge", func(c *Config) { c.Limits.MaxRequestBody = GiB }, "max-request-body", "between"},
		{"header bytes small", func(c *Config) { c.Limits.MaxHeaderBytes = 100 }, "max-header-bytes", "between 8KiB and 1MiB"},
		{"header bytes huge", func(c *Config) { c.Limits.MaxHeaderBytes = 2 * MiB }, "max-header-bytes", "between"},
		{"header timeout zero", func(c *Config) { c.Limits.ReadHeaderTimeout = 0 }, "read-header-timeout", "between 1s and 5m0s"},
		{"header timeout negative", func(c *Config) { c.Limits.ReadHeaderTimeout = -time.Second }, "read-header-timeout", "between"},
		{"shutdown zero", func(c *Config) { c.Limits.ShutdownTimeout = 0 }, "shutdown-timeout", "between 1s and 10m0s"},
		{"shutdown huge", func(c *Config) { c.Limits.ShutdownTimeout = time.Hour }, "shutdown-timeout", "between"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.modify(&c)
			err := c.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want an error containing %q", tt.wantErr)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "--"+tt.flag+": ") || !strings.Contains(msg, tt.wantErr) {
				t.Fatalf("Validate() = %q, want it to start with --%s: and contain %q", msg, tt.flag, tt.wantErr)
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Flag != tt.flag {
				t.Fatalf("errors.As(FieldError) = %v, want Flag %q", fe, tt.flag)
			}
		})
	}
}

func TestConfig_ValidateReportsAll(t *testing.T) {
	// Several problems are reported together, one FieldError each.
	c := Default()
	c.AccountID, c.Region, c.LogFormat = "1", "x", "yaml"
	err := c.Validate()
	if got := len(unjoin(err)); got != 3 {
		t.Fatalf("Validate() gave %d errors, want 3: %v", got, err)
	}
	for _, want := range []string{"--account-id:", "--region:", "--log-format:"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("Validate() = %q, missing %q", err, want)
		}
	}
}
