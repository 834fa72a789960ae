package pki

import (
	"crypto"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAuthority_CreateKeysAndCertificate(t *testing.T) {
	tests := map[string]struct {
		keyType  KeyType
		keyBlock string
	}{
		// Default device keys: ECDSA P-256, private key as SEC 1 "EC PRIVATE KEY".
		"ecdsa": {ECDSAP256, "EC PRIVATE KEY"},
		// RSA device keys: private key as PKCS#1 "RSA PRIVATE KEY", like AWS.
		"rsa": {RSA2048, "RSA PRIVATE KEY"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			a := newTestAuthority(t, Options{DeviceKeyType: tc.keyType})
			iss, err := a.CreateKeysAndCertificate()
			if err != nil {
				t.Fatalf("CreateKeysAndCertificate: %v", err)
			}
			if !strings.HasPrefix(iss.PrivateKeyPEM, "-----BEGIN "+tc.keyBlock+"-----\n") ||
				!strings.HasPrefix(iss.PublicKeyPEM, "-----BEGIN PUBLIC KEY-----\n") ||
				!strings.HasPrefix(iss.CertificatePEM, "-----BEGIN CERTIFICATE-----\n") || !strings.HasSuffix(iss.CertificatePEM, "-----\n") {
				t.Fatalf("PEM formats:\n%s\n%s\n%s", iss.PrivateKeyPEM[:40], iss.PublicKeyPEM[:40], iss.CertificatePEM[:40])
			}
			// The key pair loads in crypto/tls, which checks key and cert match.
			if _, err := tls.X509KeyPair([]byte(iss.CertificatePEM), []byte(iss.PrivateKeyPEM)); err != nil {
				t.Fatalf("X509KeyPair: %v", err)
			}
			cert, err := ParseCertificatePEM(iss.CertificatePEM)
			if err != nil {
				t.Fatalf("ParseCertificatePEM: %v", err)
			}
			sum := sha256.Sum256(cert.Raw)
			if iss.ID != hex.EncodeToString(sum[:]) || len(iss.ID) != 64 || iss.ID != CertificateID(iss.Certificate.Raw) {
				t.Fatalf("ID = %q, want SHA-256 of DER", iss.ID)
			}
			b, _ := pem.Decode([]byte(iss.PublicKeyPEM))
			pub, err := x509.ParsePKIXPublicKey(b.Bytes)
			if err != nil || !publicKeysEqual(pub, cert.PublicKey) {
				t.Fatalf("PublicKeyPEM does not match the certificate: %v", err)
			}
			checkDeviceCert(t, a, cert)
			if cert.Subject.String() != "CN="+DeviceCommonName {
				t.Fatalf("subject = %q", cert.Subject)
			}
			openSSLReads(t, a, iss)
		})
	}
}

// checkDeviceCert checks the fields every device certificate shares.
func checkDeviceCert(t *testing.T, a *Authority, cert *x509.Certificate) {
	t.Helper()
	if !cert.NotAfter.Equal(time.Date(2049, 12, 31, 23, 59, 59, 0, time.UTC)) {
		t.Fatalf("NotAfter = %v", cert.NotAfter)
	}
	if len(cert.ExtKeyUsage) != 1 || cert.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth || cert.IsCA || !cert.BasicConstraintsValid {
		t.Fatalf("ExtKeyUsage %v IsCA %v", cert.ExtKeyUsage, cert.IsCA)
	}
	if cert.SerialNumber.BitLen() < 128 {
		t.Fatalf("serial has %d bits", cert.SerialNumber.BitLen())
	}
	if err := cert.CheckSignatureFrom(a.device); err != nil {
		t.Fatalf("not signed by the device CA: %v", err)
	}
	if cert.CheckSignatureFrom(a.RootCertificate()) == nil {
		t.Fatalf("device certificate verifies against the root CA")
	}
}

// openSSLReads checks that openssl loads the key and certificate, that they
// match, and that the certificate chains to device-ca.pem.
func openSSLReads(t *testing.T, a *Authority, iss Issued) {
	t.Helper()
	bin := requireOpenSSL(t)
	dir := t.TempDir()
	keyPath, certPath := filepath.Join(dir, "key.pem"), filepath.Join(dir, "cert.pem")
	os.WriteFile(keyPath, []byte(iss.PrivateKeyPEM), 0o600)
	os.WriteFile(certPath, []byte(iss.CertificatePEM), 0o600)
	fromKey := runOpenSSL(t, bin, "pkey", "-in", keyPath, "-pubout")
	fromCert := runOpenSSL(t, bin, "x509", "-in", certPath, "-noout", "-pubkey")
	if fromKey != fromCert || fromKey != iss.PublicKeyPEM {
		t.Fatalf("openssl public keys differ:\n%s\n%s\n%s", fromKey, fromCert, iss.PublicKeyPEM)
	}
	if subj := runOpenSSL(t, bin, "x509", "-in", certPath, "-noout", "-subject"); !strings.Contains(subj, "AWS IoT Certificate") {
		t.Fatalf("openssl subject = %q", subj)
	}
	runOpenSSL(t, bin, "verify", "-purpose", "sslclient", "-CAfile", filepath.Join(a.opts.Dir, DeviceCertFile), certPath)
}

func TestAuthority_SignCSR(t *testing.T) {
	a := newTestAuthority(t, Options{})
	caTrue, _ := asn1.Marshal(struct {
		IsCA bool `asn1:"optional"`
	}{true})
	caFalse, _ := asn1.Marshal(struct {
		IsCA bool `asn1:"optional"`
	}{false})
	certSign, _ := asn1.Marshal(asn1.BitString{Bytes: []byte{0x04}, BitLength: 6}) // bit 5: keyCertSign
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatalf("rsa 1024: %v", err)
	}
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	good := makeCSR(t, ecKey(t, elliptic.P256()), "dev-1")

	tests := map[string]struct {
		csr     func(t *testing.T) string
		wantErr string // substring of the *CSRError; "" = success
	}{
		// An ECDSA P-256 CSR is signed.
		"p256": {csr: func(t *testing.T) string { return good }},
		// An ECDSA P-384 CSR is signed.
		"p384": {csr: func(t *testing.T) string { return makeCSR(t, ecKey(t, elliptic.P384()), "dev-384") }},
		// An RSA-2048 CSR is signed.
		"rsa2048": {csr: func(t *testing.T) string { return makeCSR(t, rsa2048(), "dev-rsa") }},
		// Without the trailing newline and with CRLF line ends it is still one CSR.
		"no trailing newline": {csr: func(t *testing.T) string { return strings.TrimSpace(good) }},
		"crlf":                {csr: func(t *testing.T) string { return strings.ReplaceAll(good, "\n", "\r\n") }},
		// Asking for CA:FALSE is harmless.
		"ca false": {csr: func(t *testing.T) string {
			return makeCSR(t, ecKey(t, elliptic.P256()), "x", pkix.Extension{Id: oidBasicConstraints, Value: caFalse})
		}},
		// RSA-1024 is too weak.
		"rsa1024": {csr: func(t *testing.T) string { return makeCSR(t, rsa1024, "weak") }, wantErr: "too small"},
		// Ed25519 is not accepted by AWS IoT.
		"ed25519": {csr: func(t *testing.T) string { return makeCSR(t, edKey, "ed") }, wantErr: "not allowed"},
		// P-224 is not an allowed curve.
		"p224": {csr: func(t *testing.T) string { return makeCSR(t, ecKey(t, elliptic.P224()), "p224") }, wantErr: "curve"},
		// A flipped byte in the signature breaks proof of possession.
		"bad signature": {csr: func(t *testing.T) string { return tamper(t, good) }, wantErr: "signature"},
		// Garbage is not a CSR.
		"garbage": {csr: func(t *testing.T) string { return "hello world" }, wantErr: "outside PEM"},
		// Base64 garbage in a CSR block is refused.
		"garbage pem": {csr: func(t *testing.T) string {
			return "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"
		}, wantErr: "invalid CSR"},
		// Text before the block is refused.
		"leading text": {csr: func(t *testing.T) string { return "subject=foo\n" + good }, wantErr: "outside PEM"},
		// Two CSRs in one input are refused.
		"two blocks": {csr: func(t *testing.T) string { return good + good }, wantErr: "found 2"},
		// A malformed block before a good one is not skipped.
		"malformed then good": {csr: func(t *testing.T) string {
			return "-----BEGIN CERTIFICATE REQUEST-----\n!!\n-----END CERTIFICATE REQUEST-----\n" + good
		}, wantErr: "malformed"},
		// A certificate is not a CSR.
		"certificate": {csr: func(t *testing.T) string { return string(a.RootPEM()) }, wantErr: "want CERTIFICATE REQUEST"},
		// Empty input.
		"empty": {csr: func(t *testing.T) string { return "" }, wantErr: "empty"},
		// Over the AWS length limit.
		"too long": {csr: func(t *testing.T) string { return good + strings.Repeat(" ", MaxCSRPEMBytes) }, wantErr: "longer"},
		// A CSR asking for CA:TRUE is refused.
		"ca true": {csr: func(t *testing.T) string {
			return makeCSR(t, ecKey(t, elliptic.P256()), "ca", pkix.Extension{Id: oidBasicConstraints, Critical: true, Value: caTrue})
		}, wantErr: "CA:TRUE"},
		// A CSR asking for keyCertSign is refused.
		"key cert sign": {csr: func(t *testing.T) string {
			return makeCSR(t, ecKey(t, elliptic.P256()), "ca", pkix.Extension{Id: oidKeyUsage, Value: certSign})
		}, wantErr: "keyCertSign"},
		// A control character in the subject is refused.
		"control char": {csr: func(t *testing.T) string { return makeCSR(t, ecKey(t, elliptic.P256()), "a\nb") }, wantErr: "control"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			in := tc.csr(t)
			iss, err := a.SignCSR(in)
			if tc.wantErr != "" {
				var ce *CSRError
				if !errors.As(err, &ce) {
					t.Fatalf("SignCSR error = %v, want *CSRError", err)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %q does not contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("SignCSR: %v", err)
			}
			csr, _ := ParseCSRPEM(in)
			checkDeviceCert(t, a, iss.Certificate)
			if string(iss.Certificate.RawSubject) != string(csr.RawSubject) {
				t.Fatalf("subject %q not copied from CSR %q", iss.Certificate.Subject, csr.Subject)
			}
			if !publicKeysEqual(iss.Certificate.PublicKey, csr.PublicKey) || iss.PrivateKeyPEM != "" || iss.ID != CertificateID(iss.Certificate.Raw) {
				t.Fatalf("issued certificate does not carry the CSR key, or has a private key")
			}
			for _, ext := range iss.Certificate.Extensions {
				if ext.Id.Equal(oidBasicConstraints) && iss.Certificate.IsCA {
					t.Fatalf("issued a CA")
				}
			}
		})
	}
}

// tamper flips a byte of the CSR's signature.
func tamper(t *testing.T, csrPEM string) string {
	t.Helper()
	b, _ := pem.Decode([]byte(csrPEM))
	der := append([]byte(nil), b.Bytes...)
	der[len(der)-5] ^= 0x01
	return string(pem.EncodeToMemory(&pem.Block{Type: b.Type, Bytes: der}))
}

func TestParseCertificatePEM(t *testing.T) {
	a := newTestAuthority(t, Options{})
	root := string(a.RootPEM())
	tests := map[string]struct {
		in string
		ok bool
	}{
		// One certificate, as written.
		"one": {root, true},
		// Surrounding white space is fine.
		"whitespace": {"\n  " + strings.TrimSpace(root) + "\r\n", true},
		// Two certificates are refused.
		"two": {root + root, false},
		// A private key is not a certificate.
		"key": {mustKeyPEM(t, ecKey(t, elliptic.P256())), false},
		// Trailing text is refused.
		"trailing text": {root + "junk", false},
		// Empty input is refused.
		"empty": {"", false},
		// PEM headers are refused.
		"headers": {strings.Replace(root, "-----\n", "-----\nProc-Type: 4,ENCRYPTED\n\n", 1), false},
		// Bytes after the DER inside the block are refused.
		"trailing der": {string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: append(a.RootCertificate().Raw, 0)})), false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c, err := ParseCertificatePEM(tc.in)
			if tc.ok != (err == nil) {
				t.Fatalf("ParseCertificatePEM err = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidCertificate) {
				t.Fatalf("error %v does not wrap ErrInvalidCertificate", err)
			}
			if err == nil && !c.Equal(a.RootCertificate()) {
				t.Fatalf("parsed a different certificate")
			}
		})
	}
}

func TestValidatePublicKey(t *testing.T) {
	weird := &rsa.PublicKey{N: rsa2048().N, E: 3}
	tests := map[string]struct {
		key crypto.PublicKey
		ok  bool
	}{
		// P-521 is accepted (moat's choice; AWS: unconfirmed).
		"p521": {ecKey(t, elliptic.P521()).Public(), true},
		// RSA with exponent 3 is refused.
		"rsa e=3": {weird, false},
		// A key type moat does not know is refused.
		"nil": {nil, false},
		// ECDSA P-256 is accepted.
		"p256": {&ecKey(t, elliptic.P256()).PublicKey, true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := ValidatePublicKey(tc.key)
			var ke *KeyError
			if tc.ok != (err == nil) || (err != nil && !errors.As(err, &ke)) {
				t.Fatalf("ValidatePublicKey = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func mustKeyPEM(t *testing.T, k crypto.Signer) string {
	t.Helper()
	b, err := privateKeyPEM(k)
	if err != nil {
		t.Fatalf("privateKeyPEM: %v", err)
	}
	return string(b)
}
