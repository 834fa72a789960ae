package config

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// envMap returns a lookupEnv over m.
func envMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// writeFile writes a config file into a temp dir and returns its path.
func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "moat.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatalf("write config: %v", err)
	}
	return p
}

func TestLoad_Precedence(t *testing.T) {
	const file = `
region: eu-west-1
hostname: [file.example.com, file2.example.com]
limits:
  max-request-body: 2MiB
  shutdown-timeout: 20s
`
	tests := []struct {
		name  string
		file  string // config file content; "" means no file
		env   map[string]string
		args  []string
		check func(t *testing.T, c Config)
	}{
		// With nothing given, Load returns the defaults.
		{"defaults", "", nil, nil, func(t *testing.T, c Config) {
			want := Default()
			if !slices.Equal(c.Hostnames, want.Hostnames) || c.Region != want.Region || c.Limits != want.Limits || c.DataDir != want.DataDir {
				t.Fatalf("got %+v, want defaults %+v", c, want)
			}
		}},
		// The file overrides defaults for scalars, lists and limits, and
		// leaves keys it does not mention at their defaults.
		{"file over default", file, nil, nil, func(t *testing.T, c Config) {
			if c.Region != "eu-west-1" || c.Limits.MaxRequestBody != 2*MiB || c.Limits.ShutdownTimeout != 20*time.Second {
				t.Fatalf("file values not applied: %+v", c)
			}
			if !slices.Equal(c.Hostnames, []string{"file.example.com", "file2.example.com"}) {
				t.Fatalf("hostnames = %q", c.Hostnames)
			}
			if c.AccountID != "000000000000" || c.Limits.ReadHeaderTimeout != 10*time.Second {
				t.Fatalf("unmentioned keys changed: %+v", c)
			}
			if c.ConfigFile == "" {
				t.Fatalf("ConfigFile not recorded")
			}
		}},
		// The environment overrides the file; a list variable replaces the
		// file's list and is comma-separated.
		{"env over file", file, map[string]string{
			"MOAT_REGION": "ap-south-1", "MOAT_HOSTNAME": "env.example.com, 10.0.0.9,",
			"MOAT_LIMITS_MAX_REQUEST_BODY": "4MiB", "MOAT_LIMITS_SHUTDOWN_TIMEOUT": "30s",
		}, nil, func(t *testing.T, c Config) {
			if c.Region != "ap-south-1" || c.Limits.MaxRequestBody != 4*MiB || c.Limits.ShutdownTimeout != 30*time.Second {
				t.Fatalf("env values not applied: %+v", c)
			}
			if !slices.Equal(c.Hostnames, []string{"env.example.com", "10.0.0.9"}) {
				t.Fatalf("hostnames = %q", c.Hostnames)
			}
		}},
		// Flags override the environment; repeated --hostname flags replace
		// the environment's list, in order.
		{"flag over env", file, map[string]string{
			"MOAT_REGION": "ap-south-1", "MOAT_HOSTNAME": "env.example.com", "MOAT_LIMITS_MAX_REQUEST_BODY": "4MiB",
		}, []string{"--region", "ca-central-1", "--hostname", "a.example.com", "--hostname=b.example.com", "--max-request-body=512KiB"},
			func(t *testing.T, c Config) {
				if c.Region != "ca-central-1" || c.Limits.MaxRequestBody != 512*KiB {
					t.Fatalf("flag values not applied: %+v", c)
				}
				if !slices.Equal(c.Hostnames, []string{"a.example.com", "b.example.com"}) {
					t.Fatalf("hostnames = %q", c.Hostnames)
				}
				if c.Limits.ShutdownTimeout != 20*time.Second {
					t.Fatalf("file value lost under unrelated flags: %v", c.Limits.ShutdownTimeout)
				}
			}},
		// A flag overrides the file directly when the environment is silent.
		{"flag over file", file, nil, []string{"--shutdown-timeout", "1m"}, func(t *testing.T, c Config) {
			if c.Limits.ShutdownTimeout != time.Minute || c.Region != "eu-west-1" {
				t.Fatalf("got %+v", c)
			}
		}},
		// A set-but-empty variable counts: it turns metrics off.
		{"empty env var is set", "metrics-addr: 127.0.0.1:9090\n", map[string]string{"MOAT_METRICS_ADDR": ""}, nil,
			func(t *testing.T, c Config) {
				if c.MetricsAddr != "" {
					t.Fatalf("metrics-addr = %q, want off", c.MetricsAddr)
				}
			}},
		// The last of a repeated scalar flag wins.
		{"repeated scalar flag", "", nil, []string{"--log-level", "debug", "--log-level", "warn"}, func(t *testing.T, c Config) {
			if c.LogLevel != "warn" {
				t.Fatalf("log-level = %q", c.LogLevel)
			}
		}},
		// Every other flag reaches its field.
		{"all flags", "", nil, []string{
			"--data-dir", "/tmp/d", "--mqtt-addr", "127.0.0.1:1883", "--https-addr", ":0", "--metrics-addr", "localhost:9100",
			"--account-id", "123456789012", "--log-format", "json", "--server-key-type", "rsa3072", "--device-key-type", "rsa2048",
			"--max-header-bytes", "32KiB", "--read-header-timeout", "3s",
		}, func(t *testing.T, c Config) {
			if c.DataDir != "/tmp/d" || c.MQTTAddr != "127.0.0.1:1883" || c.HTTPSAddr != ":0" || c.MetricsAddr != "localhost:9100" ||
				c.AccountID != "123456789012" || c.LogFormat != "json" || c.ServerKeyType != "rsa3072" || c.DeviceKeyType != "rsa2048" ||
				c.Limits.MaxHeaderBytes != 32*KiB || c.Limits.ReadHeaderTimeout != 3*time.Second {
				t.Fatalf("got %+v", c)
			}
		}},
		// Hostnames come back normalised.
		{"normalised hostnames", "", nil, []string{"--hostname", "IoT.Example.com.", "--hostname", "iot.example.com"}, func(t *testing.T, c Config) {
			if !slices.Equal(c.Hostnames, []string{"iot.example.com"}) {
				t.Fatalf("hostnames = %q", c.Hostnames)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range tt.env {
				env[k] = v
			}
			if tt.file != "" {
				env["MOAT_CONFIG"] = writeFile(t, tt.file)
			}
			c, err := Load(tt.args, envMap(env))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			tt.check(t, c)
		})
	}
}

func TestLoad_ConfigFlagOverEnv(t *testing.T) {
	// --config wins over MOAT_CONFIG.
	flagFile := writeFile(t, "region: eu-north-1\n")
	envFile := writeFile(t, "region: eu-south-1\n")
	c, err := Load([]string{"--config", flagFile}, envMap(map[string]string{"MOAT_CONFIG": envFile}))
	if err != nil || c.Region != "eu-north-1" || c.ConfigFile != flagFile {
		t.Fatalf("Load = %+v, %v; want region from --config", c, err)
	}
}

func TestLoad_ConfigFile(t *testing.T) {
	tests := []struct {
		name    string
		content string
		wantErr []string // substrings; none for success
	}{
		// An empty file or one with only comments changes nothing.
		{"empty", "", nil},
		{"comments only", "# nothing here\n", nil},
		// A single explicit document start is fine.
		{"document marker", "---\nregion: eu-west-1\n", nil},
		// Sizes take plain integers or units; durations take Go syntax.
		{"sizes and durations", "limits:\n  max-request-body: 524288\n  max-header-bytes: 16KiB\n  read-header-timeout: 1m\n", nil},
		// A key with no value leaves the default (metrics stays off, limits stay).
		{"null values", "region:\nlimits:\n", nil},
		// An unknown key is an error naming the key and its line.
		{"unknown key", "region: eu-west-1\nregoin: x\n", []string{`line 2: unknown key "regoin"`}},
		// An unknown key under limits is named with its path.
		{"unknown limits key", "limits:\n  max-body: 1MiB\n", []string{`line 2: unknown key "limits.max-body"`}},
		// Flag names that are not file keys are unknown, like the config path itself.
		{"config key", "config: other.yaml\n", []string{`unknown key "config"`}},
		// Several problems are reported together.
		{"two unknown keys", "a: 1\nb: 2\n", []string{`"a"`, `"b"`}},
		// Values of the wrong type are errors.
		{"list for string", "region: [a, b]\n", []string{"line 1", "!!seq"}},
		{"string for list", "hostname: localhost\n", []string{"line 1", "[]string"}},
		{"scalar for limits", "limits: 5\n", []string{"line 1"}},
		{"int duration", "limits:\n  shutdown-timeout: 15\n", []string{"line 2", "time.Duration"}},
		{"bad duration", "limits:\n  shutdown-timeout: soon\n", []string{"line 2"}},
		{"bad size", "limits:\n  max-request-body: lots\n", []string{"line 2", "invalid size"}},
		{"list size", "limits:\n  max-request-body: [1]\n", []string{"line 2", "want a size"}},
		{"top-level list", "- a\n- b\n", []string{"line 1"}},
		// A second YAML document is an error.
		{"two documents", "region: eu-west-1\n---\nregion: eu-west-2\n", []string{"line 2", "second YAML document"}},
		// A duplicate key is an error.
		{"duplicate key", "region: eu-west-1\nregion: eu-west-2\n", []string{"already defined"}},
		// Syntax errors are reported.
		{"syntax", "region: [\n", []string{"yaml"}},
		// Values from the file are validated, and the error says where they came from.
		{"invalid value", "account-id: \"12\"\n", []string{`--account-id (set by config file`, `got "12"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, tt.content)
			_, err := Load([]string{"--config", path}, envMap(nil))
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Load succeeded, want an error containing %q", tt.wantErr)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Fatalf("error %q does not contain %q", err, want)
				}
			}
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("error %q does not name the file", err)
			}
		})
	}
}

func TestLoad_Errors(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
	}{
		// Unknown flags are named with two dashes.
		{"unknown flag", []string{"--nope"}, nil, "unknown flag --nope"},
		// A flag without its value.
		{"missing value", []string{"--data-dir"}, nil, "flag needs an argument: --data-dir"},
		// A malformed size or duration flag is rejected while parsing.
		{"bad size flag", []string{"--max-request-body", "big"}, nil, `invalid value "big" for flag --max-request-body`},
		{"bad duration flag", []string{"--shutdown-timeout", "15"}, nil, "invalid duration"},
		// Positional arguments are not accepted.
		{"positional", []string{"extra"}, nil, `unexpected argument "extra"`},
		// A malformed environment variable is named.
		{"bad env size", nil, map[string]string{"MOAT_LIMITS_MAX_HEADER_BYTES": "x"}, "MOAT_LIMITS_MAX_HEADER_BYTES: invalid size"},
		// Invalid values from the environment say which variable set them.
		{"invalid env value", nil, map[string]string{"MOAT_ACCOUNT_ID": "1"}, "--account-id (set by MOAT_ACCOUNT_ID): must be 12 digits"},
		// An empty MOAT_HOSTNAME leaves no hostname.
		{"empty hostname env", nil, map[string]string{"MOAT_HOSTNAME": " , "}, "--hostname (set by MOAT_HOSTNAME): at least one"},
		// Invalid flag values are named by the flag only.
		{"invalid flag value", []string{"--region", "mars"}, nil, `--region: must be an AWS region name like us-east-1, got "mars"`},
		// A missing config file is an error.
		{"missing file", []string{"--config", "/nonexistent/moat.yaml"}, nil, "config file: open /nonexistent/moat.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.args, envMap(tt.env))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Load error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestLoad_Help(t *testing.T) {
	// -h and --help return flag.ErrHelp, whatever else is on the line.
	for _, arg := range []string{"-h", "--help", "-help"} {
		t.Run(arg, func(t *testing.T) {
			if _, err := Load([]string{"--region", "eu-west-1", arg}, envMap(nil)); !errors.Is(err, flag.ErrHelp) {
				t.Fatalf("Load(%s) = %v, want flag.ErrHelp", arg, err)
			}
		})
	}
}

func TestWriteHelp(t *testing.T) {
	// Help lists every flag with its env var and default, and states the
	// precedence rule and the file format.
	var b strings.Builder
	if err := WriteHelp(&b); err != nil {
		t.Fatalf("WriteHelp: %v", err)
	}
	help := b.String()
	flat := strings.Join(strings.Fields(help), " ") // wrapping may split a phrase
	def := Default()
	want := []string{"--config PATH", "MOAT_CONFIG", PrecedenceRule, "limits:", "max-request-body: 1MiB"}
	for _, s := range settings {
		want = append(want, "--"+s.flag+" "+s.arg, s.env(), "(default: "+quoteDefault(&s, s.get(&def)))
	}
	for _, w := range want {
		if !strings.Contains(flat, w) {
			t.Fatalf("help does not mention %q:\n%s", w, help)
		}
	}
	for line := range strings.Lines(help) {
		if len(line) > 81 {
			t.Fatalf("help line longer than 80 columns: %q", line)
		}
	}
}

func TestWriteHelp_ExampleLoads(t *testing.T) {
	// The config-file example in the help is itself a valid config file.
	var b strings.Builder
	WriteHelp(&b)
	_, example, ok := strings.Cut(b.String(), "Example:\n")
	if !ok {
		t.Fatalf("no example in help")
	}
	path := writeFile(t, example)
	c, err := Load([]string{"--config", path}, envMap(nil))
	if err != nil || c.Region != "eu-west-1" || c.Limits.ShutdownTimeout != 30*time.Second {
		t.Fatalf("example: %+v, %v", c, err)
	}
}
