package config

import (
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestDecisionLog_FileMirror checks the file form has the same keys as
// DecisionLog.
func TestDecisionLog_FileMirror(t *testing.T) {
	a := yamlKeys(reflect.TypeFor[DecisionLog](), "")
	b := yamlKeys(reflect.TypeFor[decisionLogFile](), "")
	if !slices.Equal(a, b) {
		t.Fatalf("DecisionLog keys %v, decisionLogFile keys %v", a, b)
	}
}

// TestLoad_DecisionLog checks each layer sets the decision log settings,
// with the usual precedence, and DecisionLogPath resolves the default and
// "off".
func TestLoad_DecisionLog(t *testing.T) {
	file := writeFile(t, "decision-log:\n  path: /var/log/moat/d.log\n  allows: true\n  max-size: 1MiB\n  max-files: 3\n  buffer: 64\n")
	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		check func(c Config) bool
	}{
		// Defaults: denies only, DATA/decisions.log, 10 MiB x 5, 4096 entries.
		{"defaults", nil, nil, func(c Config) bool {
			return c.DecisionLog == DecisionLog{MaxSize: 10 * MiB, MaxFiles: 5, Buffer: 4096} &&
				c.DecisionLogPath() == filepath.Join("./moat-data", "decisions.log")
		}},
		// Flags.
		{"flags", []string{"--decision-log", "d.log", "--decision-log-allows=true", "--decision-log-max-size", "128KiB",
			"--decision-log-max-files", "1", "--decision-log-buffer", "16"}, nil, func(c Config) bool {
			return c.DecisionLog == DecisionLog{Path: "d.log", Allows: true, MaxSize: 128 * KiB, MaxFiles: 1, Buffer: 16} && c.DecisionLogPath() == "d.log"
		}},
		// Environment variables.
		{"env", nil, map[string]string{"MOAT_DECISION_LOG_PATH": "off", "MOAT_DECISION_LOG_ALLOWS": "true", "MOAT_DECISION_LOG_MAX_FILES": "9"}, func(c Config) bool {
			return c.DecisionLog.Allows && c.DecisionLog.MaxFiles == 9 && c.DecisionLogPath() == ""
		}},
		// The config file, sizes with units; a flag beats it.
		{"file", []string{"--config", file, "--decision-log-max-files", "4"}, nil, func(c Config) bool {
			return c.DecisionLog == DecisionLog{Path: "/var/log/moat/d.log", Allows: true, MaxSize: MiB, MaxFiles: 4, Buffer: 64}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(tt.args, envMap(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c) {
				t.Fatalf("got %+v (path %q)", c.DecisionLog, c.DecisionLogPath())
			}
		})
	}
}

// TestLoad_DecisionLogErrors checks out-of-range and malformed values are
// refused, named by their flag or key.
func TestLoad_DecisionLogErrors(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		file    string
		wantErr string
	}{
		{"size too small", []string{"--decision-log-max-size", "1KiB"}, "", "--decision-log-max-size: must be between 64KiB and 1GiB"},
		{"no rotated files", []string{"--decision-log-max-files", "0"}, "", "--decision-log-max-files: must be between 1 and 100"},
		{"buffer too large", []string{"--decision-log-buffer", "2000000"}, "", "--decision-log-buffer: must be between 16 and 1048576"},
		{"not a bool", []string{"--decision-log-allows", "maybe"}, "", `invalid value "maybe"`},
		{"not a number", []string{"--decision-log-buffer", "lots"}, "", `invalid number "lots"`},
		{"unknown file key", nil, "decision-log:\n  rotate: daily\n", `unknown key "decision-log.rotate"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if tt.file != "" {
				args = append(args, "--config", writeFile(t, tt.file))
			}
			_, err := Load(args, envMap(nil))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Load error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}
