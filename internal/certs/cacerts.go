package certs

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"

	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/names"
	"github.com/moat-iot/moat/internal/pki"
	"github.com/moat-iot/moat/internal/provisioning"
	"github.com/moat-iot/moat/internal/store"
	"github.com/moat-iot/moat/internal/tags"
)

// CA certificate statuses (AWS CACertificateStatus) and auto-registration
// statuses (AWS AutoRegistrationStatus).
const (
	CAActive    = "ACTIVE"
	CAInactive  = "INACTIVE"
	AutoEnable  = "ENABLE"
	AutoDisable = "DISABLE"
)

// RegistrationCodeValidation is AWS's error for a verification
// certificate whose subject CN is not the account's registration code.
const RegistrationCodeValidation awsapi.Code = "RegistrationCodeValidationException"

// CAInput is RegisterCACertificate's request.
type CAInput struct {
	CACertificatePEM           string
	VerificationCertificatePEM string // required in DEFAULT mode, refused in SNI_ONLY
	Mode                       string // DEFAULT (when empty) or SNI_ONLY
	SetAsActive                bool
	AllowAutoRegistration      bool
	// RegistrationConfig is the registrationConfig JSON object as given
	// (nil: none); it is stored and returned unchanged, for the JITP
	// template service to read.
	RegistrationConfig []byte
	Tags               []tags.Tag
}

// CAUpdate is UpdateCACertificate's request; empty strings and a nil
// RegistrationConfig change nothing.
type CAUpdate struct {
	NewStatus                 string // ACTIVE or INACTIVE
	NewAutoRegistrationStatus string // ENABLE or DISABLE
	RegistrationConfig        []byte
	// RemoveAutoRegistration drops the registration config and disables
	// auto-registration.
	RemoveAutoRegistration bool
}

// RegistrationCode returns the account's registration code, making it on
// first use: 64 random hex digits, stable after (AWS GetRegistrationCode).
func (s *Service) RegistrationCode(ctx context.Context) (string, error) {
	var code string
	err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		code, err = tx.RegistrationCode(s.arns.Account)
		return err
	})
	if !errors.Is(err, store.ErrNotFound) {
		return code, err
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	fresh := hex.EncodeToString(b[:])
	err = s.st.Update(ctx, func(tx store.Tx) error {
		var err error
		code, err = tx.RegistrationCode(s.arns.Account)
		if errors.Is(err, store.ErrNotFound) {
			code = fresh
			return tx.InsertRegistrationCode(s.arns.Account, fresh)
		}
		return err
	})
	return code, err
}

// RegisterCA records a customer CA certificate (AWS RegisterCACertificate).
// The certificate must be one PEM CERTIFICATE, a CA (basicConstraints
// CA:TRUE, and keyCertSign when it has a key usage), signed with an
// accepted algorithm and key, and valid now; otherwise
// CertificateValidationException. In DEFAULT mode the verification
// certificate proves possession of the CA's key: its subject CN must be the
// registration code (else RegistrationCodeValidationException) and it must
// be signed by the CA (else CertificateValidationException). SNI_ONLY mode
// takes no verification certificate. Registering the same CA twice is
// ResourceAlreadyExistsException.
func (s *Service) RegisterCA(ctx context.Context, in CAInput) (store.CACertificate, error) {
	if in.CACertificatePEM == "" {
		return store.CACertificate{}, names.Required("caCertificate")
	}
	mode := in.Mode
	switch mode {
	case "":
		mode = ModeDefault
	case ModeDefault, ModeSNIOnly:
	default:
		return store.CACertificate{}, awsapi.Errorf(awsapi.InvalidRequest, "certificateMode must be DEFAULT or SNI_ONLY, got %q.", mode)
	}
	cfg, err := registrationConfig(in.RegistrationConfig)
	if err != nil {
		return store.CACertificate{}, err
	}
	tagMap, err := tags.Check("tags", in.Tags)
	if err != nil {
		return store.CACertificate{}, err
	}
	now := s.now().UTC()
	ca, err := parseCA("caCertificate", in.CACertificatePEM, now)
	if err != nil {
		return store.CACertificate{}, err
	}
	switch {
	case mode == ModeSNIOnly && in.VerificationCertificatePEM != "":
		return store.CACertificate{}, awsapi.Errorf(awsapi.InvalidRequest, "verificationCertificate must be empty in SNI_ONLY mode.")
	case mode == ModeDefault:
		if err := s.verifyPossession(ctx, ca, in.VerificationCertificatePEM); err != nil {
			return store.CACertificate{}, err
		}
	}
	rec := store.CACertificate{
		ID: pki.CertificateID(ca.Raw), PEM: in.CACertificatePEM, Status: CAInactive, Mode: mode,
		AutoRegistration: AutoDisable, RegistrationConfig: cfg, Owner: s.arns.Account,
		NotBefore: ca.NotBefore.UTC(), NotAfter: ca.NotAfter.UTC(),
		CreatedAt: now, UpdatedAt: now, GenerationID: newGenerationID(), CustomerVersion: 1,
	}
	if in.SetAsActive {
		rec.Status = CAActive
	}
	if in.AllowAutoRegistration {
		rec.AutoRegistration = AutoEnable
	}
	err = s.st.Update(ctx, func(tx store.Tx) error {
		err := tx.InsertCACertificate(rec)
		if errors.Is(err, store.ErrExists) {
			return &awsapi.Error{Code: awsapi.ResourceAlreadyExists, Message: "CA certificate " + rec.ID + " is already registered.",
				ResourceID: rec.ID, ResourceARN: s.arns.CACert(rec.ID)}
		}
		if err != nil {
			return err
		}
		return tags.Put(tx, s.arns.CACert(rec.ID), tagMap)
	})
	return rec, err
}

// parseCA parses and checks a CA certificate given in member.
func parseCA(member, certPEM string, now time.Time) (*x509.Certificate, error) {
	if n := len([]rune(certPEM)); n > MaxCertificatePEM {
		return nil, awsapi.Errorf(awsapi.InvalidRequest, "%s must be at most %d characters long, got %d.", member, MaxCertificatePEM, n)
	}
	ca, err := pki.ParseCertificatePEM(certPEM)
	if err != nil {
		return nil, invalidCert("The "+member+" is not a valid PEM-encoded X.509 certificate.", err)
	}
	if err := checkCA(ca); err != nil {
		return nil, err
	}
	if err := checkRegistered(ca, now); err != nil {
		return nil, err
	}
	return ca, nil
}

// checkCA refuses a certificate that may not sign others: no
// basicConstraints CA:TRUE, or a key usage without keyCertSign.
func checkCA(c *x509.Certificate) error {
	if !c.BasicConstraintsValid || !c.IsCA {
		return invalidCert("The certificate is not a CA certificate (basicConstraints CA:TRUE is missing).", nil)
	}
	if c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageCertSign == 0 {
		return invalidCert("The CA certificate's key usage does not include keyCertSign.", nil)
	}
	return nil
}

// verifyPossession checks a DEFAULT-mode verification certificate.
func (s *Service) verifyPossession(ctx context.Context, ca *x509.Certificate, verPEM string) error {
	if verPEM == "" {
		return awsapi.Errorf(awsapi.InvalidRequest, "verificationCertificate is required in DEFAULT mode: a certificate whose subject CN is the registration code (GetRegistrationCode), signed by the CA's private key.")
	}
	ver, err := pki.ParseCertificatePEM(verPEM)
	if err != nil {
		return invalidCert("The verificationCertificate is not a valid PEM-encoded X.509 certificate.", err)
	}
	code, err := s.RegistrationCode(ctx)
	if err != nil {
		return err
	}
	if ver.Subject.CommonName != code {
		return &awsapi.Error{Code: RegistrationCodeValidation, Status: 400,
			Message: "The verification certificate's subject CN is not this account's registration code (GetRegistrationCode)."}
	}
	if err := ver.CheckSignatureFrom(ca); err != nil {
		return invalidCert("The verification certificate is not signed by the CA certificate's private key.", err)
	}
	return nil
}

// registrationConfig checks that a registrationConfig is a JSON object
// (or absent) and returns it as given.
func registrationConfig(b []byte) ([]byte, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, awsapi.Errorf(awsapi.InvalidRequest, "registrationConfig must be an object with templateBody, roleArn or templateName.")
	}
	if len(m) == 0 {
		return nil, nil
	}
	if raw, ok := m["templateBody"]; ok && string(raw) != "null" {
		// A JITP template is checked when it is stored, not first when a
		// device connects.
		var body string
		if err := json.Unmarshal(raw, &body); err != nil {
			return nil, awsapi.Errorf(awsapi.InvalidRequest, "registrationConfig.templateBody must be a string.")
		}
		if _, err := provisioning.Parse(body); err != nil {
			return nil, awsapi.Errorf(awsapi.InvalidRequest, "registrationConfig.templateBody is not a valid provisioning template: %v", err)
		}
	}
	return append([]byte(nil), b...), nil
}

// DescribeCA returns one CA certificate; ResourceNotFoundException if none.
func (s *Service) DescribeCA(ctx context.Context, id string) (store.CACertificate, error) {
	if err := names.CertificateID("caCertificateId", id); err != nil {
		return store.CACertificate{}, err
	}
	var c store.CACertificate
	err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		c, err = getCA(tx, id)
		return err
	})
	return c, err
}

func getCA(tx store.Tx, id string) (store.CACertificate, error) {
	c, err := tx.CACertificate(id)
	if errors.Is(err, store.ErrNotFound) {
		return c, awsapi.Errorf(awsapi.ResourceNotFound, "CA certificate %s does not exist.", id)
	}
	return c, err
}

// ListCAs returns one page of CA certificates by creation date.
func (s *Service) ListCAs(ctx context.Context, p store.Page, ascending bool) ([]store.CACertificate, string, error) {
	return store.ViewPage(ctx, s.st, func(tx store.Tx) ([]store.CACertificate, string, error) {
		return tx.ListCACertificates(p, ascending)
	})
}

// ListByCA returns one page of the device certificates a CA signed
// (AWS ListCertificatesByCA).
func (s *Service) ListByCA(ctx context.Context, caID string, p store.Page, ascending bool) ([]store.Certificate, string, error) {
	if err := names.CertificateID("caCertificateId", caID); err != nil {
		return nil, "", err
	}
	return store.ViewPage(ctx, s.st, func(tx store.Tx) ([]store.Certificate, string, error) {
		return tx.ListCertificatesByCA(caID, p, ascending)
	})
}

// UpdateCA changes a CA's status, auto-registration status or registration
// config (AWS UpdateCACertificate). After a status change OnCAStatusChange
// is called, outside the transaction, so that live connections of its
// device certificates are re-checked.
func (s *Service) UpdateCA(ctx context.Context, id string, u CAUpdate) error {
	if err := names.CertificateID("caCertificateId", id); err != nil {
		return err
	}
	switch u.NewStatus {
	case "", CAActive, CAInactive:
	default:
		return awsapi.Errorf(awsapi.InvalidRequest, "newStatus must be ACTIVE or INACTIVE, got %q.", u.NewStatus)
	}
	switch u.NewAutoRegistrationStatus {
	case "", AutoEnable, AutoDisable:
	default:
		return awsapi.Errorf(awsapi.InvalidRequest, "newAutoRegistrationStatus must be ENABLE or DISABLE, got %q.", u.NewAutoRegistrationStatus)
	}
	cfg, err := registrationConfig(u.RegistrationConfig)
	if err != nil {
		return err
	}
	statusChanged := false
	err = s.st.Update(ctx, func(tx store.Tx) error {
		c, err := getCA(tx, id)
		if err != nil {
			return err
		}
		statusChanged = u.NewStatus != "" && u.NewStatus != c.Status
		if u.NewStatus != "" {
			c.Status = u.NewStatus
		}
		if u.NewAutoRegistrationStatus != "" {
			c.AutoRegistration = u.NewAutoRegistrationStatus
		}
		if cfg != nil {
			c.RegistrationConfig = cfg
		}
		if u.RemoveAutoRegistration {
			c.RegistrationConfig = nil
			c.AutoRegistration = AutoDisable
		}
		c.UpdatedAt = s.now().UTC()
		c.GenerationID = newGenerationID()
		c.CustomerVersion++
		return tx.UpdateCACertificate(c)
	})
	if err == nil && statusChanged && s.OnCAStatusChange != nil {
		s.OnCAStatusChange(id, u.NewStatus)
	}
	return err
}

// DeleteCA removes a CA certificate (AWS DeleteCACertificate): it must be
// INACTIVE and no device certificate it signed may still be registered;
// either refusal is CertificateStateException, the only state error in the
// operation's model.
func (s *Service) DeleteCA(ctx context.Context, id string) error {
	if err := names.CertificateID("caCertificateId", id); err != nil {
		return err
	}
	return s.st.Update(ctx, func(tx store.Tx) error {
		c, err := getCA(tx, id)
		if err != nil {
			return err
		}
		if c.Status != CAInactive {
			return awsapi.Errorf(awsapi.CertificateState, "CA certificate %s is %s; deactivate it (UpdateCACertificate INACTIVE) before deleting it.", id, c.Status)
		}
		devs, _, err := tx.ListCertificatesByCA(id, store.Page{Limit: 1}, true)
		if err != nil {
			return err
		}
		if len(devs) > 0 {
			return awsapi.Errorf(awsapi.CertificateState, "CA certificate %s still has device certificate %s registered; delete its certificates first.", id, devs[0].ID)
		}
		if err := tags.DeleteAll(tx, s.arns.CACert(id)); err != nil {
			return err
		}
		return tx.DeleteCACertificate(id)
	})
}

// CertificateIDsByCA returns the ids of every device certificate a CA
// signed (for re-checking their live connections).
func (s *Service) CertificateIDsByCA(ctx context.Context, caID string) (map[string]bool, error) {
	out := map[string]bool{}
	p := store.Page{Limit: 1000}
	for {
		cs, next, err := store.ViewPage(ctx, s.st, func(tx store.Tx) ([]store.Certificate, string, error) {
			return tx.ListCertificatesByCA(caID, p, true)
		})
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			out[c.ID] = true
		}
		if next == "" {
			return out, nil
		}
		p.After = next
	}
}
