package server_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"

	"github.com/moat-iot/moat/internal/config"
	"github.com/moat-iot/moat/internal/moattest"
	"github.com/moat-iot/moat/internal/server"
)

func readFiles(t *testing.T, dir string, names ...string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		out[n] = b
	}
	return out
}

// TestServer_Restart checks that a second start on the same data dir keeps
// the root CA, the server certificate, the admin key and the data.
func TestServer_Restart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	cfg := config.Default()
	cfg.DataDir, cfg.HTTPSAddr, cfg.MQTTAddr = dir, "127.0.0.1:0", "127.0.0.1:0"
	files := []string{"root-ca.pem", "root-ca.key", "server.pem", "server.key", server.AdminCredentialsFile}

	srv1 := moattest.StartConfig(t, cfg)
	if _, err := srv1.IoT().CreateThing(context.Background(), &iot.CreateThingInput{ThingName: aws.String("kept")}); err != nil {
		t.Fatal(err)
	}
	before := readFiles(t, dir, files...)
	if err := srv1.Stop(); err != nil {
		t.Fatal(err)
	}

	srv2 := moattest.StartConfig(t, cfg)
	after := readFiles(t, dir, files...)
	for _, n := range files {
		if !bytes.Equal(before[n], after[n]) {
			t.Errorf("%s changed across a restart", n)
		}
	}
	if _, err := srv2.IoT().DescribeThing(context.Background(), &iot.DescribeThingInput{ThingName: aws.String("kept")}); err != nil {
		t.Fatalf("thing lost across a restart: %v", err)
	}
	// secrets are 0600, the data dir 0700
	for _, n := range []string{"root-ca.key", "server.key", server.AdminCredentialsFile, server.DatabaseFile} {
		fi, err := os.Stat(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode = %v, want 0600", n, fi.Mode().Perm())
		}
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("data dir mode = %v, %v; want 0700", fi.Mode().Perm(), err)
	}
}

// TestServer_Health checks /health answers 200 with the server's
// certificate trusted through root-ca.pem.
func TestServer_Health(t *testing.T) {
	srv := moattest.Start(t)
	resp, err := srv.HTTPClient().Get(srv.URL + "/health")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte(`"ok"`)) {
		t.Fatalf("/health = %d %s", resp.StatusCode, b)
	}
}

// TestServer_Metrics checks /metrics needs the admin's signature on the
// HTTPS port and shows the API and store metrics.
func TestServer_Metrics(t *testing.T) {
	srv := moattest.Start(t, func(c *config.Config) { c.MetricsAddr = "127.0.0.1:0" })
	if _, err := srv.IoT().ListThings(context.Background(), &iot.ListThingsInput{}); err != nil {
		t.Fatal(err)
	}
	resp, err := srv.HTTPClient().Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("unsigned /metrics = %d, want 403", resp.StatusCode)
	}
	resp2, body := srv.Do(t, "GET", "/metrics", nil, "iot", nil)
	if resp2.StatusCode != 200 {
		t.Fatalf("signed /metrics = %d %s", resp2.StatusCode, body)
	}
	for _, want := range []string{`moat_api_requests_total{code="200",operation="ListThings"}`, "moat_store_transaction_duration_seconds", "moat_api_request_duration_seconds"} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	plain, err := http.Get("http://" + srv.MetricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	plain.Body.Close()
	if plain.StatusCode != 200 {
		t.Fatalf("--metrics-addr /metrics = %d", plain.StatusCode)
	}
}

// TestServer_SlowBody checks the read timeout: a client that sends its
// headers and then trickles (here: withholds) its body is cut off instead
// of holding the request open.
func TestServer_SlowBody(t *testing.T) {
	srv := moattest.Start(t, func(c *config.Config) { c.Limits.ReadTimeout = time.Second })
	conn, err := tls.Dial("tcp", srv.HTTPSAddr, &tls.Config{RootCAs: srv.RootCAs, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "POST /things/slow HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = io.ReadAll(conn)
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Fatalf("the server held a withheld body for %v (read timeout 1s); read error %v", elapsed, err)
	}
}
