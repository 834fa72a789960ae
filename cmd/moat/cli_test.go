package main

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/moat-iot/moat/internal/config"
)

// fakeServe records the config it was given and returns err.
type fakeServe struct {
	called bool
	cfg    config.Config
	err    error
}

func (f *fakeServe) serve(_ context.Context, cfg config.Config, _ *slog.Logger) error {
	f.called, f.cfg = true, cfg
	return f.err
}

// runT runs the CLI with an environment of env and returns the exit code,
// stdout and stderr.
func runT(t *testing.T, args []string, env map[string]string, serve serveFunc) (int, string, string) {
	t.Helper()
	var stdout, stderr strings.Builder
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	code := run(context.Background(), args, lookup, &stdout, &stderr, serve)
	return code, stdout.String(), stderr.String()
}

func TestRun(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		serveErr   error
		wantCode   int
		wantServe  bool
		wantStdout []string
		wantStderr []string
	}{
		// No arguments: the usage on stderr, exit 2.
		{"no args", nil, nil, nil, 2, false, nil, []string{"Usage:", "serve", "version"}},
		// help, -h and --help print the usage on stdout and exit 0.
		{"help", []string{"help"}, nil, nil, 0, false, []string{"AWS IoT Core", "moat serve --data-dir ./moat-data", "README.md", "serve", "version"}, nil},
		{"-h", []string{"-h"}, nil, nil, 0, false, []string{"Usage:"}, nil},
		{"--help", []string{"--help"}, nil, nil, 0, false, []string{"Usage:"}, nil},
		// help COMMAND shows the command's help.
		{"help serve", []string{"help", "serve"}, nil, nil, 0, false, []string{"Usage: moat serve", config.PrecedenceRule}, nil},
		// help with an unknown command is a usage error.
		{"help unknown", []string{"help", "nope"}, nil, nil, 2, false, nil, []string{`unknown command "nope"`}},
		// An unknown command exits 2 with a hint.
		{"unknown command", []string{"start"}, nil, nil, 2, false, nil, []string{`unknown command "start"`, "moat help"}},
		// A near miss gets a suggestion.
		{"near miss", []string{"server"}, nil, nil, 2, false, nil, []string{`did you mean "serve"?`}},
		// A flag before the command exits 2 and says where flags go.
		{"flag before command", []string{"--data-dir", "x"}, nil, nil, 2, false, nil, []string{"unknown flag --data-dir", "moat serve --data-dir"}},
		// serve --help prints every flag and the rules, exit 0, no server.
		{"serve help", []string{"serve", "--help"}, nil, nil, 0, false, []string{"Usage: moat serve [flags]", "Exit status"}, nil},
		// An unknown serve flag exits 2 with a hint.
		{"serve unknown flag", []string{"serve", "--nope"}, nil, nil, 2, false, nil, []string{"unknown flag --nope", "moat serve --help"}},
		// An invalid value exits 2 and names the flag.
		{"serve invalid value", []string{"serve", "--account-id", "12"}, nil, nil, 2, false, nil, []string{`moat serve: --account-id: must be 12 digits, got "12"`}},
		// An invalid environment variable exits 2 and names it.
		{"serve invalid env", []string{"serve"}, map[string]string{"MOAT_LOG_FORMAT": "xml"}, nil, 2, false, nil, []string{"--log-format (set by MOAT_LOG_FORMAT)"}},
		// A valid config runs the server; a clean stop exits 0.
		{"serve ok", []string{"serve", "--mqtt-addr", ":0", "--https-addr", ":0"}, nil, nil, 0, true, nil, []string{"moat starting"}},
		// Server failure exits 1 with one line on stderr.
		{"serve fails", []string{"serve"}, nil, errors.Join(errors.New("listen tcp :8883: address in use"), errors.New("second")), 1, true, nil,
			[]string{"moat serve: listen tcp :8883: address in use; second\n"}},
		// version prints to stdout.
		{"version", []string{"version"}, nil, nil, 0, false, []string{"moat dev", runtime.Version()}, nil},
		{"--version", []string{"--version"}, nil, nil, 0, false, []string{"moat dev"}, nil},
		// version takes no arguments.
		{"version extra", []string{"version", "x"}, nil, nil, 2, false, nil, []string{`unexpected argument "x"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeServe{err: tt.serveErr}
			code, stdout, stderr := runT(t, tt.args, tt.env, fake.serve)
			if code != tt.wantCode {
				t.Fatalf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, stdout, stderr)
			}
			if fake.called != tt.wantServe {
				t.Fatalf("serve called = %v, want %v", fake.called, tt.wantServe)
			}
			for _, w := range tt.wantStdout {
				if !strings.Contains(stdout, w) {
					t.Fatalf("stdout does not contain %q:\n%s", w, stdout)
				}
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(stderr, w) {
					t.Fatalf("stderr does not contain %q:\n%s", w, stderr)
				}
			}
		})
	}
}

func TestRun_ServeConfig(t *testing.T) {
	// serve hands the server the merged config: flag over env over default.
	fake := &fakeServe{}
	env := map[string]string{"MOAT_REGION": "eu-west-1", "MOAT_DATA_DIR": "/env"}
	code, _, stderr := runT(t, []string{"serve", "--data-dir", "/flag", "--hostname", "IoT.Example.com"}, env, fake.serve)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if fake.cfg.DataDir != "/flag" || fake.cfg.Region != "eu-west-1" || fake.cfg.Hostnames[0] != "iot.example.com" {
		t.Fatalf("serve got %+v", fake.cfg)
	}
}

func TestRun_CancelledIsClean(t *testing.T) {
	// A server returning context.Canceled after a signal is a clean stop.
	ctx, cancel := context.WithCancel(context.Background())
	serve := func(ctx context.Context, _ config.Config, _ *slog.Logger) error {
		cancel()
		<-ctx.Done()
		return ctx.Err()
	}
	var out, errOut strings.Builder
	if code := run(ctx, []string{"serve"}, func(string) (string, bool) { return "", false }, &out, &errOut, serve); code != 0 {
		t.Fatalf("exit %d, want 0: %s", code, errOut.String())
	}
}

func TestServeHelp_MentionsEveryFlag(t *testing.T) {
	// moat serve --help lists every documented flag and the precedence rule.
	_, stdout, _ := runT(t, []string{"serve", "--help"}, nil, nil)
	for _, f := range []string{
		"--config", "--data-dir", "--mqtt-addr", "--https-addr", "--metrics-addr", "--hostname", "--region",
		"--account-id", "--log-level", "--log-format", "--server-key-type", "--device-key-type",
		"--max-request-body", "--read-header-timeout", "--max-header-bytes", "--shutdown-timeout",
		config.PrecedenceRule, "MOAT_DATA_DIR", "MOAT_LIMITS_MAX_REQUEST_BODY",
	} {
		if !strings.Contains(stdout, f) {
			t.Fatalf("serve --help does not mention %q", f)
		}
	}
}

func TestRunVersion(t *testing.T) {
	tests := []struct {
		name    string
		version string
		info    *debug.BuildInfo
		want    []string
	}{
		// Without build info: the ldflags version and an unknown commit.
		{"no build info", "dev", nil, []string{"moat dev\n", "commit: unknown\n", "go: " + runtime.Version()}},
		// The VCS revision is shown, marked when the tree was dirty.
		{"vcs", "v1.2.3", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: "true"},
		}}, []string{"moat v1.2.3\n", "commit: abc123 (modified)\n"}},
		// go install module@version fills the version when ldflags did not.
		{"module version", "dev", &debug.BuildInfo{Main: debug.Module{Version: "v0.4.0"}}, []string{"moat v0.4.0\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			oldV, oldR := version, readBuildInfo
			t.Cleanup(func() { version, readBuildInfo = oldV, oldR })
			version = tt.version
			readBuildInfo = func() (*debug.BuildInfo, bool) { return tt.info, tt.info != nil }
			code, stdout, _ := runT(t, []string{"version"}, nil, nil)
			if code != 0 {
				t.Fatalf("exit %d", code)
			}
			for _, w := range tt.want {
				if !strings.Contains(stdout, w) {
					t.Fatalf("version output %q does not contain %q", stdout, w)
				}
			}
		})
	}
}
