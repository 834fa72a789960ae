package config

import (
	"strings"
	"testing"
)

func TestNewLogger(t *testing.T) {
	tests := []struct {
		name, level, format string
		wantOut             []string // substrings of the output; nil for no output
		wantErr             string
	}{
		// Text format at info logs info and skips debug.
		{"text info", "info", "text", []string{"level=INFO msg=hello"}, ""},
		// JSON format writes JSON objects.
		{"json", "info", "json", []string{`"level":"INFO"`, `"msg":"hello"`}, ""},
		// Debug level lets debug records through.
		{"debug", "debug", "text", []string{"level=DEBUG msg=detail", "msg=hello"}, ""},
		// Error level drops info.
		{"error", "error", "text", nil, ""},
		// Warn level drops info too.
		{"warn", "warn", "json", nil, ""},
		// Unknown level or format is an error naming the flag.
		{"bad level", "trace", "text", nil, "--log-level"},
		{"bad format", "info", "logfmt", nil, "--log-format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			c.LogLevel, c.LogFormat = tt.level, tt.format
			var b strings.Builder
			log, err := NewLogger(c, &b)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("NewLogger error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewLogger: %v", err)
			}
			log.Debug("detail")
			log.Info("hello")
			if tt.wantOut == nil && b.Len() != 0 {
				t.Fatalf("want no output, got %q", b.String())
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(b.String(), w) {
					t.Fatalf("output %q does not contain %q", b.String(), w)
				}
			}
		})
	}
}
