package config

import (
	"strings"
	"testing"
	"time"
)

// TestLoad_ThingTypeDeleteDelay checks the thing type delete delay: 5m by
// default, set by each layer with the usual precedence, 0 allowed.
func TestLoad_ThingTypeDeleteDelay(t *testing.T) {
	file := writeFile(t, "thing-type-delete-delay: 90s\n")
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want time.Duration
	}{
		// AWS's "about 5 minutes".
		{"default", nil, nil, 5 * time.Minute},
		// The flag; 0 turns the wait off.
		{"flag zero", []string{"--thing-type-delete-delay", "0s"}, nil, 0},
		// The environment variable.
		{"env", nil, map[string]string{"MOAT_THING_TYPE_DELETE_DELAY": "1h"}, time.Hour},
		// The config file, a Go duration.
		{"file", []string{"--config", file}, nil, 90 * time.Second},
		// A flag beats the file and the environment.
		{"flag beats file", []string{"--config", file, "--thing-type-delete-delay", "10s"}, map[string]string{"MOAT_THING_TYPE_DELETE_DELAY": "1h"}, 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(tt.args, envMap(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if c.ThingTypeDeleteDelay != tt.want {
				t.Fatalf("ThingTypeDeleteDelay = %v, want %v", c.ThingTypeDeleteDelay, tt.want)
			}
		})
	}
}

// TestLoad_ThingTypeDeleteDelayErrors checks negative, too long and
// malformed values are refused, named by their flag.
func TestLoad_ThingTypeDeleteDelayErrors(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"negative", []string{"--thing-type-delete-delay", "-1s"}, "--thing-type-delete-delay: must be between 0s and 24h0m0s"},
		{"too long", []string{"--thing-type-delete-delay", "25h"}, "--thing-type-delete-delay: must be between 0s and 24h0m0s"},
		{"not a duration", []string{"--thing-type-delete-delay", "5"}, `invalid duration "5"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.args, envMap(nil))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Load error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}
