// Package moattest runs a complete moat server for tests: random loopback
// ports, a data dir in t.TempDir(), and clients that trust its root CA and
// sign with its admin key (aws-sdk-go-v2's iot client, and a SigV4-signing
// net/http client for paths the SDK does not cover).
package moattest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iot"

	"github.com/moat-iot/moat/internal/config"
	"github.com/moat-iot/moat/internal/pki"
	"github.com/moat-iot/moat/internal/server"
)

// Server is a running moat for one test.
type Server struct {
	*server.Server
	Config    config.Config
	Dir       string
	URL       string // https://127.0.0.1:PORT
	AccessKey string
	Secret    string
	RootCAs   *x509.CertPool
}

// Start runs a server until the test ends. mod may adjust the config.
func Start(t testing.TB, mod ...func(*config.Config)) *Server {
	t.Helper()
	dir := t.TempDir()
	cfg := config.Default()
	cfg.DataDir = filepath.Join(dir, "data")
	cfg.HTTPSAddr = "127.0.0.1:0"
	cfg.MQTTAddr = "127.0.0.1:0"
	cfg.Limits.ShutdownTimeout = 5 * time.Second
	for _, m := range mod {
		m(&cfg)
	}
	return StartConfig(t, cfg)
}

// StartConfig runs a server with exactly cfg until the test ends.
func StartConfig(t testing.TB, cfg config.Config) *Server {
	t.Helper()
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := server.New(cfg, log)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	srv.SetOutput(io.Discard)
	if err := srv.Start(context.Background()); err != nil {
		t.Fatalf("server.Start: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Errorf("server.Stop: %v", err)
		}
	})
	s := &Server{Server: srv, Config: cfg, Dir: cfg.DataDir, URL: "https://" + srv.HTTPSAddr}
	id, secret, err := pki.ReadSharedCredentials(filepath.Join(cfg.DataDir, server.AdminCredentialsFile))
	if err != nil {
		t.Fatalf("admin credentials: %v", err)
	}
	s.AccessKey, s.Secret = id, secret
	rootPEM, err := os.ReadFile(filepath.Join(cfg.DataDir, "root-ca.pem"))
	if err != nil {
		t.Fatalf("root CA: %v", err)
	}
	s.RootCAs = x509.NewCertPool()
	if !s.RootCAs.AppendCertsFromPEM(rootPEM) {
		t.Fatal("root-ca.pem holds no certificate")
	}
	return s
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

// HTTPClient trusts the server's root CA and presents certs, if any.
func (s *Server) HTTPClient(certs ...tls.Certificate) *http.Client {
	return &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.RootCAs, Certificates: certs, MinVersion: tls.VersionTLS12}},
	}
}

// Credentials are the admin's static credentials.
func (s *Server) Credentials() aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(s.AccessKey, s.Secret, "")
}

// IoT returns an aws-sdk-go-v2 iot client for the admin, pointed at the
// server. opts may change it (other credentials, retries).
func (s *Server) IoT(opts ...func(*iot.Options)) *iot.Client {
	cfg := aws.Config{Region: s.Config.Region, Credentials: s.Credentials(), HTTPClient: s.HTTPClient()}
	all := append([]func(*iot.Options){func(o *iot.Options) {
		o.BaseEndpoint = aws.String(s.URL)
		o.RetryMaxAttempts = 1
	}}, opts...)
	return iot.NewFromConfig(cfg, all...)
}

// Do sends a request signed with the admin key for service (e.g. "iot",
// "iotdata") and returns the response with its body read.
func (s *Server) Do(t testing.TB, method, path string, body []byte, service string, hdr http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	s.Sign(t, req, body, service, s.AccessKey, s.Secret, time.Now())
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// Sign signs req with the SDK's SigV4 signer.
func (s *Server) Sign(t testing.TB, req *http.Request, body []byte, service, key, secret string, at time.Time) {
	t.Helper()
	sum := sha256.Sum256(body)
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key, SecretAccessKey: secret},
		req, hex.EncodeToString(sum[:]), service, s.Config.Region, at)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
}
