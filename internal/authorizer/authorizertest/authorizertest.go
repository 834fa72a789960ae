// Package authorizertest has test helpers for custom authorizers: RSA
// keys to sign tokens with (made once per test binary, since RSA key
// generation is slow), their public halves in the PEM form that
// CreateAuthorizer's tokenSigningPublicKeys take, and token signatures.
package authorizertest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"sync"
	"testing"
)

var keys sync.Map // bits -> *rsa.PrivateKey

// Key returns an RSA key of this size, the same one for every call of
// the test binary.
func Key(t testing.TB, bits int) *rsa.PrivateKey {
	t.Helper()
	if k, ok := keys.Load(bits); ok {
		return k.(*rsa.PrivateKey)
	}
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	actual, _ := keys.LoadOrStore(bits, k)
	return actual.(*rsa.PrivateKey)
}

// PublicKeyPEM is the PKIX PEM of a public key (of any type).
func PublicKeyPEM(t testing.TB, pub any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// KeyPEM is the PEM of the public half of Key(t, bits).
func KeyPEM(t testing.TB, bits int) string {
	t.Helper()
	return PublicKeyPEM(t, &Key(t, bits).PublicKey)
}

// Sign is the base64 RSA-SHA256 signature of token with Key(t, 2048), as
// a device sends it; KeyPEM(t, 2048) verifies it.
func Sign(t testing.TB, token string) string {
	t.Helper()
	d := sha256.Sum256([]byte(token))
	sig, err := rsa.SignPKCS1v15(rand.Reader, Key(t, 2048), crypto.SHA256, d[:])
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}
