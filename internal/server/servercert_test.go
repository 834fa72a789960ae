package server_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/moat-iot/moat/internal/config"
	"github.com/moat-iot/moat/internal/moattest"
	"github.com/moat-iot/moat/internal/pki/pkitest"
)

// TestServer_OperatorCertificate checks --server-cert/--server-key with an
// RSA chain root → intermediate → leaf: HTTPS and MQTT clients that trust
// only the operator's root accept the server, both listeners serve the
// given chain, and root-ca.pem holds that root (0644).
func TestServer_OperatorCertificate(t *testing.T) {
	chain := pkitest.NewChain(t, pkitest.ChainOptions{RSA: true, Hosts: []string{"localhost", "127.0.0.1"}})
	files := t.TempDir()
	certPath := pkitest.WriteFile(t, files, "server.pem", chain.FullChainPEM())
	keyPath := pkitest.WriteFile(t, files, "server.key", chain.KeyPEM(t))
	srv := moattest.Start(t, func(c *config.Config) {
		c.Hostnames = []string{"localhost", "127.0.0.1"}
		c.TLS = config.ServerCertFiles{Cert: certPath, Key: keyPath}
	})

	rootPath := filepath.Join(srv.Dir, "root-ca.pem")
	onDisk, err := os.ReadFile(rootPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(onDisk, pkitest.PEM(chain.Root)) {
		t.Fatalf("root-ca.pem does not hold the operator's root:\n%s", onDisk)
	}
	if fi, err := os.Stat(rootPath); err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("root-ca.pem mode = %v, %v; want 0644", fi.Mode().Perm(), err)
	}
	only := x509.NewCertPool()
	only.AddCert(chain.Root)

	// HTTPS, verified with the operator's root only.
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: only, MinVersion: tls.VersionTLS12}}}
	resp, err := hc.Get(srv.URL + "/health")
	if err != nil {
		t.Fatalf("GET /health with the operator's root: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /health = %d", resp.StatusCode)
	}
	if got := resp.TLS.PeerCertificates[0]; !got.Equal(chain.Leaf) {
		t.Fatalf("HTTPS served %s, want the operator's leaf", got.Subject)
	}

	// MQTT over TLS, a registered device, the operator's root only.
	dev := srv.NewDevice(t, "lamp-op", srv.DevicePolicy())
	var served *x509.Certificate
	cfg := &tls.Config{RootCAs: only, ServerName: "localhost", MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{dev.TLS},
		VerifyConnection: func(cs tls.ConnectionState) error { served = cs.PeerCertificates[0]; return nil }}
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker("ssl://" + srv.MQTTAddr).SetClientID("lamp-op").SetTLSConfig(cfg).
		SetConnectRetry(false).SetAutoReconnect(false).SetConnectTimeout(5 * time.Second))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("MQTT connect with the operator's root: %v", tok.Error())
	}
	c.Disconnect(100)
	if served == nil || !served.Equal(chain.Leaf) {
		t.Fatal("MQTT did not serve the operator's leaf")
	}

	// moat's own root no longer verifies the server.
	moatRoot, err := os.ReadFile(filepath.Join(srv.Dir, "root-ca.moat.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(moatRoot)
	hc2 := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	if resp, err := hc2.Get(srv.URL + "/health"); err == nil {
		resp.Body.Close()
		t.Fatal("moat's own root verified the operator's certificate")
	}
}
