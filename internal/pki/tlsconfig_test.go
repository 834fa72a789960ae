package pki

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"strings"
	"sync"
	"testing"
)

// serveTLS accepts connections on 127.0.0.1:0 and completes each handshake;
// the listener and its goroutines end with the test.
func serveTLS(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				if c.(*tls.Conn).Handshake() == nil {
					c.Write([]byte("ok"))
				}
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln.Addr().String()
}

func TestAuthority_BaseTLSConfig(t *testing.T) {
	a := newTestAuthority(t, Options{})
	addr := serveTLS(t, a.BaseTLSConfig())
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(a.RootPEM())

	tests := map[string]struct {
		cfg    *tls.Config
		wantOK bool
	}{
		// A default client negotiates TLS 1.3 and trusts root-ca.pem.
		"tls13": {&tls.Config{}, true},
		// TLS 1.2 with an AEAD suite works.
		"tls12 gcm": {&tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}}, true},
		// TLS 1.2 with ChaCha20-Poly1305 works.
		"tls12 chacha": {&tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256}}, true},
		// A TLS 1.1 client is refused.
		"tls11": {&tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}, false},
		// A TLS 1.2 client offering only CBC suites is refused.
		"tls12 cbc only": {&tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA}}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := tc.cfg.Clone()
			cfg.RootCAs, cfg.ServerName = pool, "localhost"
			conn, err := tls.Dial("tcp", addr, cfg)
			if tc.wantOK != (err == nil) {
				t.Fatalf("dial err = %v, want ok=%v", err, tc.wantOK)
			}
			if err == nil {
				conn.Close()
			} else {
				t.Logf("refused as expected: %v", err)
			}
		})
	}
	// The server certificate verifies for 127.0.0.1 as the server name too.
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool})
	if err != nil {
		t.Fatalf("dial by IP: %v", err)
	}
	conn.Close()
}

func TestAuthority_ServerTLSConfig(t *testing.T) {
	a := newTestAuthority(t, Options{})
	// Only the client-auth modes that leave the decision to verify are allowed.
	if _, err := a.ServerTLSConfig(tls.RequireAndVerifyClientCert, nil); err == nil {
		t.Fatalf("RequireAndVerifyClientCert accepted")
	}
	known, err := a.CreateKeysAndCertificate()
	if err != nil {
		t.Fatalf("CreateKeysAndCertificate: %v", err)
	}
	stranger, _ := a.CreateKeysAndCertificate()
	errUnknown := errors.New("certificate not registered")
	cfg, err := a.ServerTLSConfig(tls.RequireAnyClientCert, func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 || CertificateID(cs.PeerCertificates[0].Raw) != known.ID {
			return errUnknown
		}
		return nil
	})
	if err != nil {
		t.Fatalf("ServerTLSConfig: %v", err)
	}
	addr := serveTLS(t, cfg)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(a.RootPEM())
	tests := map[string]struct {
		iss    *Issued
		wantOK bool
	}{
		// The registered certificate is accepted.
		"registered": {&known, true},
		// Another certificate from the same device CA is not: trust is by registration.
		"unregistered": {&stranger, false},
		// No client certificate at all is refused.
		"none": {nil, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cc := &tls.Config{RootCAs: pool, ServerName: "localhost"}
			if tc.iss != nil {
				kp, err := tls.X509KeyPair([]byte(tc.iss.CertificatePEM), []byte(tc.iss.PrivateKeyPEM))
				if err != nil {
					t.Fatalf("key pair: %v", err)
				}
				cc.Certificates = []tls.Certificate{kp}
			}
			conn, err := tls.Dial("tcp", addr, cc)
			if err == nil {
				// With TLS 1.3 the client learns of a refusal on its first read.
				buf := make([]byte, 2)
				_, err = conn.Read(buf)
				conn.Close()
			}
			if tc.wantOK != (err == nil) {
				t.Fatalf("err = %v, want ok=%v", err, tc.wantOK)
			}
			if err != nil && !strings.Contains(err.Error(), "certificate") && !strings.Contains(err.Error(), "EOF") {
				t.Fatalf("unexpected error %v", err)
			}
		})
	}
}
