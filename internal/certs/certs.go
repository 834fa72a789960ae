// Package certs keeps the records of device certificates: creation (keys
// and certificate, or from a CSR), status changes (ACTIVE, INACTIVE,
// REVOKED), listing and deletion, with AWS IoT's rules. The cryptography is
// internal/pki's; this package decides what may happen to a record.
//
// A certificate is trusted because its record says ACTIVE, never by its
// chain alone. Private keys made for a device are returned once and never
// stored.
package certs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"github.com/moat-iot/moat/internal/arn"
	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/names"
	"github.com/moat-iot/moat/internal/pki"
	"github.com/moat-iot/moat/internal/store"
)

// Certificate statuses (AWS CertificateStatus).
const (
	Active            = "ACTIVE"
	Inactive          = "INACTIVE"
	Revoked           = "REVOKED"
	PendingTransfer   = "PENDING_TRANSFER"
	RegisterInactive  = "REGISTER_INACTIVE"
	PendingActivation = "PENDING_ACTIVATION"
)

// Issuer makes device certificates; *pki.Authority is one.
type Issuer interface {
	CreateKeysAndCertificate() (pki.Issued, error)
	SignCSR(csrPEM string) (pki.Issued, error)
}

// Service manages certificate records.
type Service struct {
	st     store.Store
	issuer Issuer
	arns   arn.Builder
	now    func() time.Time
	// OnStatusChange, if set, is called after a certificate's status
	// changed or it was deleted, outside the transaction; the broker uses it
	// to re-check live connections.
	OnStatusChange func(certID, status string)
	// OnCAStatusChange, if set, is called after a CA certificate's status
	// changed (ACTIVE or INACTIVE), outside the transaction: the
	// connections of the device certificates it signed are re-checked.
	OnCAStatusChange func(caID, status string)
	// OnAutoRegistered, if set, is called when a device certificate was
	// registered by its first connect (JITR) or connected again while
	// still PENDING_ACTIVATION: the server publishes
	// $aws/events/certificates/registered/{caID} (see RegisteredEvent).
	// status is the certificate's: PENDING_ACTIVATION, or what a JITP
	// template made it.
	OnAutoRegistered func(caID, certID, status string, at time.Time)
	// OnProvisioned, if set, is called after just-in-time provisioning
	// ran for a device certificate (see jitp.go), outside the
	// transaction: err is nil when the template's resources were made, or
	// says why nothing was (an ErrProvisioning error for a fault of the
	// template or what it names). When nil, failures are logged with
	// slog's default logger.
	OnProvisioned func(p Provisioned, err error)
}

// New returns a certificate service.
func New(st store.Store, issuer Issuer, arns arn.Builder) *Service {
	return &Service{st: st, issuer: issuer, arns: arns, now: time.Now}
}

// Created is the result of CreateKeysAndCertificate and
// CreateCertificateFromCsr. PrivateKeyPEM is set only by the former and is
// not kept anywhere.
type Created struct {
	Record        store.Certificate
	PublicKeyPEM  string
	PrivateKeyPEM string
}

// CreateKeysAndCertificate makes a key pair and a certificate signed by the
// device CA, records the certificate (ACTIVE when setAsActive, else
// INACTIVE, as AWS) and returns the private key once.
func (s *Service) CreateKeysAndCertificate(ctx context.Context, setAsActive bool) (Created, error) {
	iss, err := s.issuer.CreateKeysAndCertificate()
	if err != nil {
		return Created{}, err
	}
	rec, err := s.insert(ctx, iss, setAsActive)
	return Created{Record: rec, PublicKeyPEM: iss.PublicKeyPEM, PrivateKeyPEM: iss.PrivateKeyPEM}, err
}

// CreateCertificateFromCsr signs a CSR with the device CA and records the
// certificate. A malformed CSR, a bad signature or a weak key is an
// InvalidRequestException that says which.
func (s *Service) CreateCertificateFromCsr(ctx context.Context, csrPEM string, setAsActive bool) (Created, error) {
	if csrPEM == "" {
		return Created{}, names.Required("certificateSigningRequest")
	}
	iss, err := s.issuer.SignCSR(csrPEM)
	if err != nil {
		var ce *pki.CSRError
		if errors.As(err, &ce) {
			return Created{}, &awsapi.Error{Code: awsapi.InvalidRequest, Message: "The certificate signing request is not valid: " + ce.Reason, Cause: err}
		}
		return Created{}, err
	}
	rec, err := s.insert(ctx, iss, setAsActive)
	return Created{Record: rec, PublicKeyPEM: iss.PublicKeyPEM}, err
}

func (s *Service) insert(ctx context.Context, iss pki.Issued, active bool) (store.Certificate, error) {
	now := s.now().UTC()
	status := Inactive
	if active {
		status = Active
	}
	rec := store.Certificate{
		ID: iss.ID, PEM: iss.CertificatePEM, Status: status, Mode: "DEFAULT",
		NotBefore: iss.Certificate.NotBefore.UTC(), NotAfter: iss.Certificate.NotAfter.UTC(),
		CreatedAt: now, UpdatedAt: now, GenerationID: newGenerationID(), CustomerVersion: 1,
	}
	err := s.st.Update(ctx, func(tx store.Tx) error { return tx.InsertCertificate(rec) })
	return rec, err
}

func newGenerationID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Describe returns one certificate.
func (s *Service) Describe(ctx context.Context, id string) (store.Certificate, error) {
	if err := names.CertificateID("certificateId", id); err != nil {
		return store.Certificate{}, err
	}
	var c store.Certificate
	err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		c, err = get(tx, id)
		return err
	})
	return c, err
}

func get(tx store.Tx, id string) (store.Certificate, error) {
	c, err := tx.Certificate(id)
	if errors.Is(err, store.ErrNotFound) {
		return c, awsapi.Errorf(awsapi.ResourceNotFound, "Certificate %s does not exist.", id)
	}
	return c, err
}

// List returns one page of certificates ordered by creation date.
func (s *Service) List(ctx context.Context, p store.Page, ascending bool) ([]store.Certificate, string, error) {
	return store.ViewPage(ctx, s.st, func(tx store.Tx) ([]store.Certificate, string, error) { return tx.ListCertificates(p, ascending) })
}

// UpdateStatus moves a certificate to ACTIVE, INACTIVE or REVOKED. REVOKED
// is final. Setting the current status again succeeds (AWS is idempotent
// here).
func (s *Service) UpdateStatus(ctx context.Context, id, status string) error {
	if err := names.CertificateID("certificateId", id); err != nil {
		return err
	}
	switch status {
	case Active, Inactive, Revoked:
	case "":
		return names.Required("newStatus")
	case PendingTransfer, PendingActivation, RegisterInactive:
		return awsapi.Errorf(awsapi.InvalidRequest, "newStatus %s cannot be set with UpdateCertificate; use ACTIVE, INACTIVE or REVOKED.", status)
	default:
		return awsapi.Errorf(awsapi.InvalidRequest, "newStatus must be one of ACTIVE, INACTIVE, REVOKED, got %q.", status)
	}
	changed := false
	err := s.st.Update(ctx, func(tx store.Tx) error {
		c, err := get(tx, id)
		if err != nil {
			return err
		}
		if c.Status == status {
			return nil
		}
		if c.Status == Revoked {
			return awsapi.Errorf(awsapi.CertificateState, "Certificate %s is REVOKED; a revoked certificate cannot change status.", id)
		}
		if c.Status == PendingTransfer {
			return awsapi.Errorf(awsapi.CertificateState, "Certificate %s is pending transfer.", id)
		}
		c.Status = status
		c.UpdatedAt = s.now().UTC()
		c.GenerationID = newGenerationID()
		c.CustomerVersion++
		changed = true
		return tx.UpdateCertificate(c)
	})
	if err == nil && changed && s.OnStatusChange != nil {
		s.OnStatusChange(id, status)
	}
	return err
}

// Delete removes a certificate record. An ACTIVE certificate cannot be
// deleted (CertificateStateException); one attached to a thing cannot
// either (DeleteConflictException); one with policies attached needs
// forceDelete, which detaches them.
func (s *Service) Delete(ctx context.Context, id string, force bool) error {
	if err := names.CertificateID("certificateId", id); err != nil {
		return err
	}
	certARN := s.arns.Cert(id)
	err := s.st.Update(ctx, func(tx store.Tx) error {
		c, err := get(tx, id)
		if err != nil {
			return err
		}
		if c.Status == Active {
			return awsapi.Errorf(awsapi.CertificateState, "Certificate %s is ACTIVE; deactivate it (UpdateCertificate INACTIVE) before deleting it.", id)
		}
		things, _, err := tx.PrincipalThings(certARN, store.Page{Limit: 1})
		if err != nil {
			return err
		}
		if len(things) > 0 {
			return awsapi.Errorf(awsapi.DeleteConflict, "Certificate %s is attached to thing %s; detach it first.", id, things[0].ThingName)
		}
		for {
			pols, _, err := tx.AttachedPolicies(certARN, store.Page{Limit: 100})
			if err != nil {
				return err
			}
			if len(pols) == 0 {
				break
			}
			if !force {
				return awsapi.Errorf(awsapi.DeleteConflict, "Certificate %s has policy %s attached; detach it or use forceDelete.", id, pols[0])
			}
			for _, p := range pols {
				if err := tx.DetachPolicy(p, certARN); err != nil {
					return err
				}
			}
		}
		return tx.DeleteCertificate(id)
	})
	if err == nil && s.OnStatusChange != nil {
		s.OnStatusChange(id, "DELETED")
	}
	return err
}

// Existing resolves a principal given as a certificate ARN of this account
// to the id of a registered certificate. member names the request member
// in errors (InvalidRequestException for a value that is not such an ARN,
// ResourceNotFoundException for a certificate that does not exist). The
// registry and the policy attachments share it, so a principal means the
// same thing everywhere.
func Existing(tx store.Tx, arns arn.Builder, member, principal string) (string, error) {
	if principal == "" {
		return "", names.Required(member)
	}
	id, ok := arns.Own(principal, "cert")
	if !ok {
		return "", awsapi.Errorf(awsapi.InvalidRequest, "%s %q is not a certificate ARN of this account (arn:aws:iot:%s:%s:cert/ID).", member, principal, arns.Region, arns.Account)
	}
	if err := names.CertificateID(member+" certificate id", id); err != nil {
		return "", err
	}
	if _, err := get(tx, id); err != nil {
		return "", err
	}
	return id, nil
}
