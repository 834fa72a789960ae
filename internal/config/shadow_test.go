package config

import (
	"strings"
	"testing"
	"time"
)

// TestLoad_Shadow checks the shadow limits: AWS's by default, each set by
// its flag, environment variable or config-file key.
func TestLoad_Shadow(t *testing.T) {
	c, err := Load(nil, envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Shadow{MaxStateBytes: 8192, MaxDepth: 6, MaxClientToken: 64, MaxInFlight: 10, TombstoneTTL: 48 * time.Hour}
	if c.Shadow != want {
		t.Fatalf("default Shadow = %+v, want %+v", c.Shadow, want)
	}
	file := writeFile(t, "shadow:\n  max-depth: 8\n  tombstone-ttl: 1h\n")
	c, err = Load([]string{"--config", file, "--shadow-max-state-bytes", "16KiB", "--shadow-max-depth", "7"},
		envMap(map[string]string{"MOAT_SHADOW_MAX_IN_FLIGHT": "20", "MOAT_SHADOW_MAX_CLIENT_TOKEN": "128"}))
	if err != nil {
		t.Fatal(err)
	}
	want = Shadow{MaxStateBytes: 16384, MaxDepth: 7, MaxClientToken: 128, MaxInFlight: 20, TombstoneTTL: time.Hour}
	if c.Shadow != want {
		t.Fatalf("Shadow = %+v, want %+v (a flag beats the file)", c.Shadow, want)
	}
}

// TestLoad_ShadowErrors checks out-of-range values are refused, named by
// their flag.
func TestLoad_ShadowErrors(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"--shadow-max-state-bytes", "512"}, "--shadow-max-state-bytes: must be between 1KiB and 1MiB"},
		{[]string{"--shadow-max-depth", "0"}, "--shadow-max-depth: must be between 1 and 32"},
		{[]string{"--shadow-max-client-token", "2000"}, "--shadow-max-client-token: must be between 1 and 1024"},
		{[]string{"--shadow-max-in-flight", "-1"}, "--shadow-max-in-flight: must be between 1 and 10000"},
		{[]string{"--shadow-tombstone-ttl", "10s"}, "--shadow-tombstone-ttl: must be between 1m0s and 720h0m0s"},
		{[]string{"--shadow-max-depth", "six"}, `invalid number "six"`},
	}
	for _, tt := range tests {
		_, err := Load(tt.args, envMap(nil))
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("Load(%v) error = %v, want it to contain %q", tt.args, err, tt.wantErr)
		}
	}
}
