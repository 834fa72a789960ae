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
	// ErrCertificateAutoRegistered: the certificate was just registered
	// as PENDING_ACTIVATION by JITR (or still is); it wraps
	// ErrCertificateNotActive, so refusals treat it alike.
	ErrCertificateAutoRegistered = fmt.Errorf("certificate is pending activation (just-in-time registration): %w", ErrCertificateNotActive)
	// ErrCertificateRevokedByCRL: the certificate is on a certificate
	// revocation list of its CA (--crl); it wraps ErrCertificateNotActive,
	// so refusals treat it alike.
	ErrCertificateRevokedByCRL = fmt.Errorf("certificate is on its CA's certificate revocation list: %w", ErrCertificateNotActive)
)

// RevocationChecker answers from the operator's certificate revocation
// lists (*certs.CRLs is one). Revoked is given the CA id of the
// certificate's record ("" for moat's own device CA) and the certificate;
// it must be safe for concurrent use.
type RevocationChecker interface {
	Revoked(caID string, cert *x509.Certificate) bool
}

// AutoRegistrar is just-in-time registration (*certs.Service is one).
// AutoRegister is given the TLS peer's chain (leaf first, then the
// intermediates the device sent) of a certificate that is not registered
// or is PENDING_ACTIVATION; it reports whether it registered (or
// re-announced) the certificate, in which case the connect is refused.
type AutoRegistrar interface {
	AutoRegister(ctx context.Context, chain []*x509.Certificate) (bool, error)
}

// Certificate authenticates a device by its TLS client certificate: the
// certificate must be registered (its id is the SHA-256 of its DER, as in
// AWS), ACTIVE, and inside its validity period. Trust comes from the
// registration, never from the chain alone: moat does not accept a
// certificate because some CA signed it. A certificate signed by a
// registered CA (Certificate.CACertificateID) also needs that CA ACTIVE.
// With a RevocationChecker (Authenticator.CRLs), a certificate on a CRL of
// its CA is refused (ErrCertificateRevokedByCRL), whatever its record says.
// With an AutoRegistrar, an unregistered certificate may be registered as
// PENDING_ACTIVATION here (JITR); the connect is still refused.
func (a *Authenticator) Certificate(ctx context.Context, chain []*x509.Certificate) (Principal, error) {
	if len(chain) == 0 {
		return Principal{}, ErrNoCertificate
	}
	leaf := chain[0]
	id := pki.CertificateID(leaf.Raw)
	var rec store.Certificate
	var ca store.CACertificate
	err := a.st.View(ctx, func(tx store.Tx) error {
		var err error
		if rec, err = tx.Certificate(id); err != nil || rec.CACertificateID == "" {
			return err
		}
		ca, err = tx.CACertificate(rec.CACertificateID)
		if errors.Is(err, store.ErrNotFound) {
			ca, err = store.CACertificate{ID: rec.CACertificateID, Status: "DELETED"}, nil
		}
		return err
	})
	notFound := errors.Is(err, store.ErrNotFound)
	if a.AutoRegistrar != nil && (notFound || (err == nil && rec.Status == "PENDING_ACTIVATION")) {
		registered, aerr := a.AutoRegistrar.AutoRegister(ctx, chain)
		if aerr != nil {
			return Principal{}, aerr
		}
		if registered {
			return Principal{}, fmt.Errorf("certificate %s: %w", id, ErrCertificateAutoRegistered)
		}
	}
	switch {
	case notFound:
		return Principal{}, fmt.Errorf("certificate %s: %w", id, ErrUnknownCertificate)
	case err != nil:
		return Principal{}, err
	case rec.Status != "ACTIVE":
		return Principal{}, fmt.Errorf("certificate %s is %s: %w", id, rec.Status, ErrCertificateNotActive)
	case rec.CACertificateID != "" && ca.Status != "ACTIVE":
		// AWS: certificates of an INACTIVE CA cannot connect.
		return Principal{}, fmt.Errorf("certificate %s: its CA %s is %s: %w", id, ca.ID, ca.Status, ErrCertificateNotActive)
	case a.CRLs != nil && a.CRLs.Revoked(rec.CACertificateID, leaf):
		return Principal{}, fmt.Errorf("certificate %s: %w", id, ErrCertificateRevokedByCRL)
	}
	now := time.Now()
	if now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
		return Principal{}, fmt.Errorf("certificate %s: %w", id, ErrCertificateExpired)
	}
	return Principal{Kind: KindCertificate, CertificateID: id, CertificateARN: a.arnOf(id), Certificate: leaf}, nil
}
