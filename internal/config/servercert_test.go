package config

import (
	"crypto/x509"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/pki/pkitest"
)

// TestConfig_LoadServerCert checks --server-cert/--server-key/--server-ca:
// each problem is refused with an error naming the flag at fault, and a
// good chain loads with the operator's root as the trust anchor.
func TestConfig_LoadServerCert(t *testing.T) {
	good := pkitest.NewChain(t, pkitest.ChainOptions{})
	other := pkitest.NewChain(t, pkitest.ChainOptions{})
	expired := pkitest.NewChain(t, pkitest.ChainOptions{NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-time.Hour)})
	clientOnly := pkitest.NewChain(t, pkitest.ChainOptions{EKU: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	elsewhere := pkitest.NewChain(t, pkitest.ChainOptions{Hosts: []string{"iot.example.com"}})

	type files struct{ cert, key, ca []byte } // nil: flag not set
	cases := map[string]struct {
		files    files
		noFile   string // flag whose file is set to a missing path
		wantFlag string // "" means success
		wantErr  string
	}{
		// Cert without key, key without cert, CA alone.
		"cert without key": {files: files{cert: good.FullChainPEM()}, wantFlag: "server-key", wantErr: "required with --server-cert"},
		"key without cert": {files: files{key: good.KeyPEM(t)}, wantFlag: "server-cert", wantErr: "required with --server-key"},
		"ca alone":         {files: files{ca: pkitest.PEM(good.Root)}, wantFlag: "server-ca", wantErr: "needs --server-cert"},
		// Missing files are named by their flag.
		"missing cert": {files: files{cert: good.FullChainPEM(), key: good.KeyPEM(t)}, noFile: "server-cert", wantFlag: "server-cert", wantErr: "no such file"},
		"missing key":  {files: files{cert: good.FullChainPEM(), key: good.KeyPEM(t)}, noFile: "server-key", wantFlag: "server-key", wantErr: "no such file"},
		"missing ca":   {files: files{cert: good.ChainPEM(), key: good.KeyPEM(t), ca: pkitest.PEM(good.Root)}, noFile: "server-ca", wantFlag: "server-ca", wantErr: "no such file"},
		// Files that are not PEM, or hold the wrong blocks.
		"cert not PEM": {files: files{cert: []byte("hello"), key: good.KeyPEM(t)}, wantFlag: "server-cert", wantErr: "outside PEM"},
		"key not PEM":  {files: files{cert: good.FullChainPEM(), key: []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n")}, wantFlag: "server-key", wantErr: "not a usable private key"},
		"key in cert":  {files: files{cert: good.KeyPEM(t), key: good.KeyPEM(t)}, wantFlag: "server-cert", wantErr: "want CERTIFICATE"},
		// The key of another chain.
		"key mismatch": {files: files{cert: good.FullChainPEM(), key: other.KeyPEM(t)}, wantFlag: "server-key", wantErr: "does not match"},
		// An expired leaf.
		"expired": {files: files{cert: expired.FullChainPEM(), key: expired.KeyPEM(t)}, wantFlag: "server-cert", wantErr: "expired"},
		// A leaf for client authentication only.
		"wrong EKU": {files: files{cert: clientOnly.FullChainPEM(), key: clientOnly.KeyPEM(t)}, wantFlag: "server-cert", wantErr: "serverAuth"},
		// Without the root in the file and without --server-ca there is no anchor.
		"no root": {files: files{cert: good.ChainPEM(), key: good.KeyPEM(t)}, wantFlag: "server-cert", wantErr: "not a self-signed root"},
		// A --server-ca the chain does not lead to.
		"wrong ca": {files: files{cert: good.ChainPEM(), key: good.KeyPEM(t), ca: pkitest.PEM(other.Root)}, wantFlag: "server-ca", wantErr: "does not verify"},
		// A certificate for none of the configured host names.
		"covers none": {files: files{cert: elsewhere.FullChainPEM(), key: elsewhere.KeyPEM(t)}, wantFlag: "server-cert", wantErr: "covers none"},
		// The good cases: root in the file, or given with --server-ca.
		"root in file":        {files: files{cert: good.FullChainPEM(), key: good.KeyPEM(t)}},
		"root in --server-ca": {files: files{cert: good.ChainPEM(), key: good.KeyPEM(t), ca: pkitest.PEM(good.Root)}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			c := Default()
			c.Hostnames = []string{"localhost", "moat.example.net"}
			set := func(flag string, data []byte, dst *string) {
				if data == nil {
					return
				}
				*dst = pkitest.WriteFile(t, dir, flag+".pem", data)
				if tc.noFile == flag {
					*dst += ".missing"
				}
			}
			set("server-cert", tc.files.cert, &c.TLS.Cert)
			set("server-key", tc.files.key, &c.TLS.Key)
			set("server-ca", tc.files.ca, &c.TLS.CA)

			op, uncovered, err := c.LoadServerCert(time.Now())
			if tc.wantFlag == "" {
				if err != nil {
					t.Fatalf("LoadServerCert: %v", err)
				}
				if !op.Root.Equal(good.Root) || !op.Leaf().Equal(good.Leaf) {
					t.Fatalf("root %s, leaf %s; want the chain's", op.Root.Subject, op.Leaf().Subject)
				}
				if !slices.Equal(uncovered, []string{"moat.example.net"}) {
					t.Fatalf("uncovered = %q, want [moat.example.net]", uncovered)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("LoadServerCert = %v, want a *FieldError", err)
			}
			if fe.Flag != tc.wantFlag || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("LoadServerCert = %q; want --%s: ...%s...", err, tc.wantFlag, tc.wantErr)
			}
			if op != nil {
				t.Fatal("a certificate returned with an error")
			}
		})
	}
}

// TestConfig_LoadServerCertNone checks that without --server-cert nothing
// is loaded and nothing fails.
func TestConfig_LoadServerCertNone(t *testing.T) {
	op, uncovered, err := Default().LoadServerCert(time.Now())
	if op != nil || uncovered != nil || err != nil {
		t.Fatalf("LoadServerCert = %v, %v, %v; want nil, nil, nil", op, uncovered, err)
	}
}

// TestLoad_ServerCertFlags checks that the flags and environment variables
// reach Config.TLS.
func TestLoad_ServerCertFlags(t *testing.T) {
	c, err := Load([]string{"--server-cert", "/etc/moat/cert.pem", "--server-key", "/etc/moat/key.pem"},
		envMap(map[string]string{"MOAT_TLS_SERVER_CA": "/etc/moat/ca.pem"}))
	if err != nil {
		t.Fatal(err)
	}
	want := ServerCertFiles{Cert: "/etc/moat/cert.pem", Key: "/etc/moat/key.pem", CA: "/etc/moat/ca.pem"}
	if c.TLS != want {
		t.Fatalf("TLS = %+v, want %+v", c.TLS, want)
	}
}
