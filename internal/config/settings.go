package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// setting is one configurable value: its flag, its config-file key, its
// environment variable (derived from the key), its help, and how to read and
// write it as text. The table below is the one list of settings; flags,
// environment variables and help are all generated from it.
type setting struct {
	flag  string // flag name without dashes: "max-request-body"
	key   string // config-file key path, dot-separated: "limits.max-request-body"
	arg   string // placeholder in help: "SIZE"
	group string // help section
	usage string // one or two sentences for help
	list  bool   // repeatable flag; the environment variable is comma-separated

	// get formats the current value for help ("" shows as "off" or "none").
	get func(c *Config) string
	// set parses one value from a flag or the environment and stores it;
	// for a list setting it appends.
	set func(c *Config, v string) error
}

// env is the setting's environment variable: MOAT_ plus the key in upper
// case, dashes and dots turned into underscores.
func (s *setting) env() string { return envName(s.key) }

func envName(key string) string {
	return "MOAT_" + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(key))
}

// Config-file flag: not a Config field, handled by Load before the others.
const (
	configFlag = "config"
	configEnv  = "MOAT_CONFIG"
)

// Help sections, in the order they are printed.
var groups = []string{"Listeners and storage", "Names in certificates and ARNs", "Keys", "Logging", "Limits (HTTPS)"}

func str(s setting, field func(c *Config) *string) setting {
	s.get, s.set = func(c *Config) string { return *field(c) },
		func(c *Config, v string) error { *field(c) = v; return nil }
	return s
}

func size(s setting, field func(c *Config) *int64) setting {
	s.get, s.set = func(c *Config) string { return FormatSize(*field(c)) },
		func(c *Config, v string) error {
			n, err := ParseSize(v)
			if err != nil {
				return err
			}
			*field(c) = n
			return nil
		}
	return s
}

func intSize(s setting, field func(c *Config) *int) setting {
	s.get, s.set = func(c *Config) string { return FormatSize(int64(*field(c))) },
		func(c *Config, v string) error {
			n, err := ParseSize(v)
			if err != nil {
				return err
			}
			if int64(int(n)) != n {
				return fmt.Errorf("invalid size %q: %w", v, errSizeTooLarge)
			}
			*field(c) = int(n)
			return nil
		}
	return s
}

func duration(s setting, field func(c *Config) *time.Duration) setting {
	s.get, s.set = func(c *Config) string { return field(c).String() },
		func(c *Config, v string) error {
			d, err := time.ParseDuration(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("invalid duration %q: want a Go duration such as 10s, 1m30s or 500ms", v)
			}
			*field(c) = d
			return nil
		}
	return s
}

var settings = []setting{
	str(setting{flag: "data-dir", key: "data-dir", arg: "DIR", group: groups[0],
		usage: "Directory for the database, the server CA (root-ca.pem), the server certificate and admin.credentials; created on first start."},
		func(c *Config) *string { return &c.DataDir }),
	str(setting{flag: "mqtt-addr", key: "mqtt-addr", arg: "ADDR", group: groups[0],
		usage: "MQTT over TLS listen address, host:port (devices authenticate with client certificates). Port 0 picks a free port."},
		func(c *Config) *string { return &c.MQTTAddr }),
	str(setting{flag: "https-addr", key: "https-addr", arg: "ADDR", group: groups[0],
		usage: "HTTPS listen address: AWS IoT control and data plane APIs, MQTT over WebSocket (/mqtt), identity API, console (/console), /health."},
		func(c *Config) *string { return &c.HTTPSAddr }),
	str(setting{flag: "metrics-addr", key: "metrics-addr", arg: "ADDR", group: groups[0],
		usage: "If set, also serve /metrics over plain HTTP without authentication at this address; bind it to loopback or a private network."},
		func(c *Config) *string { return &c.MetricsAddr }),

	{flag: "hostname", key: "hostname", arg: "NAME", group: groups[1], list: true,
		usage: "DNS name or IP address put in the server certificate; repeat for several. The first is the endpoint DescribeEndpoint returns. 127.0.0.1 and ::1 are always included.",
		get:   func(c *Config) string { return strings.Join(c.Hostnames, ",") },
		set:   func(c *Config, v string) error { c.Hostnames = append(c.Hostnames, v); return nil }},
	str(setting{flag: "region", key: "region", arg: "REGION", group: groups[1],
		usage: "AWS region name used in ARNs and expected in SigV4 signatures."},
		func(c *Config) *string { return &c.Region }),
	str(setting{flag: "account-id", key: "account-id", arg: "ID", group: groups[1],
		usage: "12-digit AWS account id used in ARNs."},
		func(c *Config) *string { return &c.AccountID }),

	str(setting{flag: "server-key-type", key: "server-key-type", arg: "TYPE", group: groups[2],
		usage: "Key type of the server CA and certificate when first created: ecdsa (P-256), rsa2048 or rsa3072."},
		func(c *Config) *string { return &c.ServerKeyType }),
	str(setting{flag: "device-key-type", key: "device-key-type", arg: "TYPE", group: groups[2],
		usage: "Key type CreateKeysAndCertificate generates for devices: ecdsa (P-256) or rsa2048."},
		func(c *Config) *string { return &c.DeviceKeyType }),

	str(setting{flag: "log-level", key: "log-level", arg: "LEVEL", group: groups[3],
		usage: "Least severe level logged: debug, info, warn or error."},
		func(c *Config) *string { return &c.LogLevel }),
	str(setting{flag: "log-format", key: "log-format", arg: "FORMAT", group: groups[3],
		usage: "Log format on stderr: text or json."},
		func(c *Config) *string { return &c.LogFormat }),

	size(setting{flag: "max-request-body", key: "limits.max-request-body", arg: "SIZE", group: groups[4],
		usage: "Largest HTTP request body accepted, 64KiB to 64MiB (the default fits the largest policy document the API allows)."},
		func(c *Config) *int64 { return &c.Limits.MaxRequestBody }),
	intSize(setting{flag: "max-header-bytes", key: "limits.max-header-bytes", arg: "SIZE", group: groups[4],
		usage: "Largest HTTP request header block accepted, 8KiB to 1MiB."},
		func(c *Config) *int { return &c.Limits.MaxHeaderBytes }),
	duration(setting{flag: "read-header-timeout", key: "limits.read-header-timeout", arg: "DURATION", group: groups[4],
		usage: "Time allowed to read an HTTP request's headers, 1s to 5m."},
		func(c *Config) *time.Duration { return &c.Limits.ReadHeaderTimeout }),
	duration(setting{flag: "shutdown-timeout", key: "limits.shutdown-timeout", arg: "DURATION", group: groups[4],
		usage: "Time allowed for a graceful stop after SIGINT/SIGTERM before in-flight work is cut off, 1s to 10m."},
		func(c *Config) *time.Duration { return &c.Limits.ShutdownTimeout }),
}

// quoteDefault formats a default for help.
func quoteDefault(s *setting, v string) string {
	switch {
	case v == "" && s.flag == "metrics-addr":
		return "off"
	case v == "":
		return `""`
	case s.arg == "SIZE" || s.arg == "DURATION" || s.list:
		return v
	}
	return strconv.Quote(v)
}
