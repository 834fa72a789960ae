package certs

import (
	"context"
	"crypto/x509"
	"errors"
	"time"

	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/names"
	"github.com/moat-iot/moat/internal/pki"
	"github.com/moat-iot/moat/internal/store"
)

// Certificate modes (AWS CertificateMode).
const (
	ModeDefault = "DEFAULT"
	ModeSNIOnly = "SNI_ONLY"
)

// MaxCertificatePEM is the longest certificatePem the API takes, in
// characters (botocore CertificatePem).
const MaxCertificatePEM = 65536

// RegisterWithoutCA records a device certificate that moat did not issue
// and no registered CA signed: a self-signed or externally issued
// certificate, as AWS's RegisterCertificateWithoutCA. It is recorded in
// SNI_ONLY mode with the given status (ACTIVE or INACTIVE; INACTIVE when
// empty). Its id is the SHA-256 of its DER, so registering the same
// certificate twice is ResourceAlreadyExistsException.
//
// The certificate must parse as exactly one PEM CERTIFICATE, be signed with
// an algorithm AWS IoT accepts, carry an allowed key (pki.ValidatePublicKey)
// and be within its validity period now; otherwise
// CertificateValidationException says which check failed. Its chain is not
// checked: moat trusts the record, never a chain alone.
func (s *Service) RegisterWithoutCA(ctx context.Context, certPEM, status string) (store.Certificate, error) {
	if certPEM == "" {
		return store.Certificate{}, names.Required("certificatePem")
	}
	if n := len([]rune(certPEM)); n > MaxCertificatePEM {
		return store.Certificate{}, awsapi.Errorf(awsapi.InvalidRequest, "certificatePem must be at most %d characters long, got %d.", MaxCertificatePEM, n)
	}
	switch status {
	case "":
		status = Inactive
	case Active, Inactive:
	default:
		return store.Certificate{}, awsapi.Errorf(awsapi.InvalidRequest, "status must be ACTIVE or INACTIVE for a registered certificate, got %q.", status)
	}
	cert, err := pki.ParseCertificatePEM(certPEM)
	if err != nil {
		return store.Certificate{}, invalidCert("The certificate is not a valid PEM-encoded X.509 certificate.", err)
	}
	now := s.now().UTC()
	if err := checkRegistered(cert, now); err != nil {
		return store.Certificate{}, err
	}
	id := pki.CertificateID(cert.Raw)
	rec := store.Certificate{
		ID: id, PEM: certPEM, Status: status, Mode: ModeSNIOnly,
		NotBefore: cert.NotBefore.UTC(), NotAfter: cert.NotAfter.UTC(),
		CreatedAt: now, UpdatedAt: now, GenerationID: newGenerationID(), CustomerVersion: 1,
	}
	err = s.st.Update(ctx, func(tx store.Tx) error {
		err := tx.InsertCertificate(rec)
		if errors.Is(err, store.ErrExists) {
			return &awsapi.Error{Code: awsapi.ResourceAlreadyExists, Message: "Certificate " + id + " is already registered.",
				ResourceID: id, ResourceARN: s.arns.Cert(id)}
		}
		return err
	})
	return rec, err
}

// checkRegistered applies the checks of RegisterWithoutCA to a parsed
// certificate.
func checkRegistered(cert *x509.Certificate, now time.Time) error {
	switch cert.SignatureAlgorithm {
	case x509.SHA256WithRSA, x509.SHA384WithRSA, x509.SHA512WithRSA,
		x509.ECDSAWithSHA256, x509.ECDSAWithSHA384, x509.ECDSAWithSHA512:
	default:
		return invalidCert("The certificate's signature algorithm "+cert.SignatureAlgorithm.String()+" is not allowed (want RSA or ECDSA with SHA-256, SHA-384 or SHA-512).", nil)
	}
	if err := pki.ValidatePublicKey(cert.PublicKey); err != nil {
		var ke *pki.KeyError
		if errors.As(err, &ke) {
			return invalidCert("The certificate's key is not allowed: "+ke.Reason+".", err)
		}
		return invalidCert("The certificate's key is not allowed.", err)
	}
	if now.After(cert.NotAfter) {
		return invalidCert("The certificate expired on "+cert.NotAfter.UTC().Format("2006-01-02T15:04:05Z")+".", nil)
	}
	if now.Before(cert.NotBefore) {
		return invalidCert("The certificate is not valid before "+cert.NotBefore.UTC().Format("2006-01-02T15:04:05Z")+".", nil)
	}
	return nil
}

func invalidCert(msg string, cause error) error {
	return &awsapi.Error{Code: awsapi.CertificateValidation, Message: msg, Cause: cause}
}
