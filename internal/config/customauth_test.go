package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestLoad_CustomAuth checks the custom authorizer and WebSocket settings:
// defaults (no function URL allowed), then each set by flag, environment
// or file.
func TestLoad_CustomAuth(t *testing.T) {
	c, err := Load(nil, envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := CustomAuth{URLs: []string{}, Timeout: 5 * time.Second, MaxInFlight: 64}
	if !reflect.DeepEqual(c.CustomAuth, want) || c.WebSocket.ReplayCache != 100_000 {
		t.Fatalf("defaults: %+v %+v", c.CustomAuth, c.WebSocket)
	}
	file := writeFile(t, "authorizers:\n  timeout: 2s\n  ca-file: /etc/fn-ca.pem\nwebsocket:\n  replay-cache: 5000\n")
	c, err = Load([]string{"--config", file, "--authorizer-url", "https://auth.example.com/iot/", "--authorizer-url", "http://localhost:9001/",
		"--authorizer-max-in-flight", "8"}, envMap(map[string]string{"MOAT_AUTHORIZERS_TIMEOUT": "750ms"}))
	if err != nil {
		t.Fatal(err)
	}
	want = CustomAuth{URLs: []string{"https://auth.example.com/iot/", "http://localhost:9001/"}, Timeout: 750 * time.Millisecond, MaxInFlight: 8,
		CAFile: "/etc/fn-ca.pem"}
	if !reflect.DeepEqual(c.CustomAuth, want) || c.WebSocket.ReplayCache != 5000 {
		t.Fatalf("got %+v %+v, want %+v and replay cache 5000", c.CustomAuth, c.WebSocket, want)
	}
}

func TestLoad_CustomAuthErrors(t *testing.T) {
	for _, tt := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"--authorizer-url", "ftp://x/"}, "--authorizer-url:"},
		{[]string{"--authorizer-url", "https://"}, "--authorizer-url:"},
		{[]string{"--authorizer-timeout", "10ms"}, "--authorizer-timeout: must be between 100ms and 30s"},
		{[]string{"--authorizer-timeout", "1m"}, "--authorizer-timeout: must be between 100ms and 30s"},
		{[]string{"--authorizer-max-in-flight", "0"}, "--authorizer-max-in-flight: must be between 1 and 100000"},
		{[]string{"--websocket-replay-cache", "10"}, "--websocket-replay-cache: must be between 1000 and 10000000"},
	} {
		_, err := Load(tt.args, envMap(nil))
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("Load(%v) error = %v, want it to contain %q", tt.args, err, tt.wantErr)
		}
	}
}
