package auth

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/moat-iot/moat/internal/pki"
	"github.com/moat-iot/moat/internal/store"
)

// Device certificate refusals, matched with errors.Is. Their messages are
// safe to send to the client (they name the certificate's state, nothing
// else).
var (
	// ErrNoCertificate: the TLS peer sent no certificate.
	ErrNoCertificate = errors.New("no client certificate")
	// ErrUnknownCertificate: the certificate is not registered.
	ErrUnknownCertificate = errors.New("certificate is not registered")
	// ErrCertificateNotActive: registered, but not ACTIVE.
	ErrCertificateNotActive = errors.New("certificate is not active")
	// ErrCertificateExpired: outside its validity period.
	ErrCertificateExpired = errors.New("certificate is outside its validity period")
)

// Certificate authenticates a device by its TLS client certificate: the
// certificate must be registered (its id is the SHA-256 of its DER, as in
// AWS), ACTIVE, and inside its validity period. Trust comes from the
// registration, never from the chain alone: moat does not accept a
// certificate because some CA signed it.
func (a *Authenticator) Certificate(ctx context.Context, chain []*x509.Certificate) (Principal, error) {
	if len(chain) == 0 {
		return Principal{}, ErrNoCertificate
	}
	leaf := chain[0]
	id := pki.CertificateID(leaf.Raw)
	var rec store.Certificate
	err := a.st.View(ctx, func(tx store.Tx) error {
		var err error
		rec, err = tx.Certificate(id)
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Principal{}, fmt.Errorf("certificate %s: %w", id, ErrUnknownCertificate)
	case err != nil:
		return Principal{}, err
	case rec.Status != "ACTIVE":
		return Principal{}, fmt.Errorf("certificate %s is %s: %w", id, rec.Status, ErrCertificateNotActive)
	}
	now := time.Now()
	if now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
		return Principal{}, fmt.Errorf("certificate %s: %w", id, ErrCertificateExpired)
	}
	return Principal{Kind: KindCertificate, CertificateID: id, CertificateARN: a.arnOf(id), Certificate: leaf}, nil
}
