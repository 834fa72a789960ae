package config

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// DecisionLogOff as --decision-log turns the decision log off.
const DecisionLogOff = "off"

// DecisionLogFile is the decision log's file name in the data dir when
// --decision-log is not given.
const DecisionLogFile = "decisions.log"

// Allowed ranges of the decision log settings (inclusive).
const (
	minDecisionLogSize   = 64 * KiB
	maxDecisionLogSize   = 1 * GiB
	maxDecisionLogFiles  = 100
	minDecisionLogBuffer = 16
	maxDecisionLogBuffer = 1 << 20
)

// DecisionLog configures the policy decision log: one JSON line per
// device authorization decision (every deny; allows when Allows), with
// size-based rotation. See internal/decisionlog and README "Device
// policies".
type DecisionLog struct {
	// Path is the file written. Empty (the default) means
	// DATA/decisions.log; "off" turns the log off. A relative path is
	// relative to the working directory.
	Path string `yaml:"path"`
	// Allows also logs allowed decisions. Default false: denies only.
	// Every decision is counted in moat_policy_decisions_total either way.
	Allows bool `yaml:"allows"`
	// MaxSize is the size, in bytes, at which the file is rotated to
	// PATH.1. Default 10 MiB; allowed 64 KiB to 1 GiB.
	MaxSize int64 `yaml:"max-size"`
	// MaxFiles is how many rotated files are kept (PATH.1 ... PATH.N).
	// Default 5; allowed 1 to 100.
	MaxFiles int `yaml:"max-files"`
	// Buffer is how many entries may wait for the writer; when it is full
	// entries are dropped and counted (moat_decision_log_dropped_total),
	// never waited for. Default 4096; allowed 16 to 1048576.
	Buffer int `yaml:"buffer"`
}

func defaultDecisionLog() DecisionLog {
	return DecisionLog{MaxSize: 10 * MiB, MaxFiles: 5, Buffer: 4096}
}

// DecisionLogPath is the decision log file to open, or "" when the log
// is off.
func (c Config) DecisionLogPath() string {
	switch c.DecisionLog.Path {
	case DecisionLogOff:
		return ""
	case "":
		return filepath.Join(c.DataDir, DecisionLogFile)
	}
	return c.DecisionLog.Path
}

func (c Config) validateDecisionLog(bad func(flag, format string, args ...any)) {
	d := c.DecisionLog
	if strings.ContainsRune(d.Path, 0) {
		bad("decision-log", "must not contain a NUL byte")
	}
	if d.MaxSize < minDecisionLogSize || d.MaxSize > maxDecisionLogSize {
		bad("decision-log-max-size", "must be between %s and %s, got %s",
			FormatSize(minDecisionLogSize), FormatSize(maxDecisionLogSize), FormatSize(d.MaxSize))
	}
	if d.MaxFiles < 1 || d.MaxFiles > maxDecisionLogFiles {
		bad("decision-log-max-files", "must be between 1 and %d, got %d", maxDecisionLogFiles, d.MaxFiles)
	}
	if d.Buffer < minDecisionLogBuffer || d.Buffer > maxDecisionLogBuffer {
		bad("decision-log-buffer", "must be between %d and %d, got %d", minDecisionLogBuffer, maxDecisionLogBuffer, d.Buffer)
	}
}

// decisionLogFile is the file form of DecisionLog: sizes may carry units.
type decisionLogFile struct {
	Path     string   `yaml:"path"`
	Allows   bool     `yaml:"allows"`
	MaxSize  byteSize `yaml:"max-size"`
	MaxFiles int      `yaml:"max-files"`
	Buffer   int      `yaml:"buffer"`
}

// UnmarshalYAML decodes the decision-log: mapping of a config file,
// accepting a size with a unit ("10MiB"). Keys absent keep their value.
func (d *DecisionLog) UnmarshalYAML(unmarshal func(any) error) error {
	f := decisionLogFile{Path: d.Path, Allows: d.Allows, MaxSize: byteSize(d.MaxSize), MaxFiles: d.MaxFiles, Buffer: d.Buffer}
	if err := unmarshal(&f); err != nil {
		return err
	}
	*d = DecisionLog{Path: f.Path, Allows: f.Allows, MaxSize: int64(f.MaxSize), MaxFiles: f.MaxFiles, Buffer: f.Buffer}
	return nil
}

func boolean(s setting, field func(c *Config) *bool) setting {
	s.arg = "BOOL"
	s.get, s.set = func(c *Config) string { return strconv.FormatBool(*field(c)) },
		func(c *Config, v string) error {
			b, err := strconv.ParseBool(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("invalid value %q: want true or false", v)
			}
			*field(c) = b
			return nil
		}
	return s
}

func count(s setting, field func(c *Config) *int) setting {
	s.arg = "N"
	s.get, s.set = func(c *Config) string { return strconv.Itoa(*field(c)) },
		func(c *Config, v string) error {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("invalid number %q: want a whole number", v)
			}
			*field(c) = n
			return nil
		}
	return s
}
