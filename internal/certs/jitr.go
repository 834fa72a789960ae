package certs

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/names"
	"github.com/moat-iot/moat/internal/pki"
	"github.com/moat-iot/moat/internal/store"
)

// Device certificates signed by registered CAs: RegisterCertificate, and
// just-in-time registration (JITR) on first connect.
//
// A chain is checked with crypto/x509 against a pool of registered CA
// certificates (each one a trust anchor, so an intermediate CA registered
// as a CA anchors too); the intermediates are those the device sent after
// its leaf. Trust still comes from the record: JITR only makes a
// PENDING_ACTIVATION record and refuses the connect, and the certificate
// connects once someone made it ACTIVE.

// RegisterWithCA records a device certificate signed by a registered CA
// (AWS RegisterCertificate). caPEM names the CA; when empty, any
// registered ACTIVE CA that verifies the certificate is its CA. The CA must
// be registered (CertificateValidationException otherwise) and ACTIVE
// (CertificateStateException); the certificate must pass the checks of
// RegisterWithoutCA and verify against the CA (CertificateValidation
// Exception). status is ACTIVE or INACTIVE; when empty, setAsActive
// decides. The record takes the CA's certificate mode.
func (s *Service) RegisterWithCA(ctx context.Context, certPEM, caPEM, status string, setAsActive bool) (store.Certificate, error) {
	if certPEM == "" {
		return store.Certificate{}, names.Required("certificatePem")
	}
	for member, v := range map[string]string{"certificatePem": certPEM, "caCertificatePem": caPEM} {
		if n := len([]rune(v)); n > MaxCertificatePEM {
			return store.Certificate{}, awsapi.Errorf(awsapi.InvalidRequest, "%s must be at most %d characters long, got %d.", member, MaxCertificatePEM, n)
		}
	}
	switch status {
	case "":
		status = Inactive
		if setAsActive {
			status = Active
		}
	case Active, Inactive:
	default:
		return store.Certificate{}, awsapi.Errorf(awsapi.InvalidRequest, "status must be ACTIVE or INACTIVE for a registered certificate, got %q.", status)
	}
	cert, err := pki.ParseCertificatePEM(certPEM)
	if err != nil {
		return store.Certificate{}, invalidCert("The certificatePem is not a valid PEM-encoded X.509 certificate.", err)
	}
	now := s.now().UTC()
	if err := checkRegistered(cert, now); err != nil {
		return store.Certificate{}, err
	}
	var caCert *x509.Certificate
	if caPEM != "" {
		if caCert, err = pki.ParseCertificatePEM(caPEM); err != nil {
			return store.Certificate{}, invalidCert("The caCertificatePem is not a valid PEM-encoded X.509 certificate.", err)
		}
	}
	id := pki.CertificateID(cert.Raw)
	var rec store.Certificate
	err = s.st.Update(ctx, func(tx store.Tx) error {
		var cands []store.CACertificate
		if caCert != nil {
			ca, err := tx.CACertificate(pki.CertificateID(caCert.Raw))
			if errors.Is(err, store.ErrNotFound) {
				return invalidCert("The caCertificatePem is not a registered CA certificate (RegisterCACertificate).", nil)
			}
			if err != nil {
				return err
			}
			if ca.Status != CAActive {
				return awsapi.Errorf(awsapi.CertificateState, "CA certificate %s is %s; activate it before registering certificates it signed.", ca.ID, ca.Status)
			}
			cands = []store.CACertificate{ca}
		} else {
			var err error
			if cands, err = tx.ActiveCACertificates(); err != nil {
				return err
			}
		}
		ca, ok := verifyChain(cands, []*x509.Certificate{cert}, now)
		if !ok {
			return invalidCert("The certificate is not signed by the CA certificate (or by any registered ACTIVE CA).", nil)
		}
		rec = store.Certificate{
			ID: id, PEM: certPEM, Status: status, CACertificateID: ca.ID, Mode: ca.Mode,
			NotBefore: cert.NotBefore.UTC(), NotAfter: cert.NotAfter.UTC(),
			CreatedAt: now, UpdatedAt: now, GenerationID: newGenerationID(), CustomerVersion: 1,
		}
		err := tx.InsertCertificate(rec)
		if errors.Is(err, store.ErrExists) {
			return &awsapi.Error{Code: awsapi.ResourceAlreadyExists, Message: "Certificate " + id + " is already registered.",
				ResourceID: id, ResourceARN: s.arns.Cert(id)}
		}
		return err
	})
	return rec, err
}

// verifyChain returns the CA among cas that anchors a chain of chain[0]
// (the leaf) through chain[1:] (intermediates), valid at now. With several
// anchoring chains, the first whose CA is in cas wins.
func verifyChain(cas []store.CACertificate, chain []*x509.Certificate, now time.Time) (store.CACertificate, bool) {
	if len(chain) == 0 || len(cas) == 0 {
		return store.CACertificate{}, false
	}
	roots := x509.NewCertPool()
	byID := make(map[string]store.CACertificate, len(cas))
	for _, c := range cas {
		pc, err := pki.ParseCertificatePEM(c.PEM)
		if err != nil {
			continue // validated when registered; skip rather than fail all
		}
		roots.AddCert(pc)
		byID[c.ID] = c
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	chains, err := chain[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		return store.CACertificate{}, false
	}
	for _, ch := range chains {
		// The anchor is the last certificate of a verified chain; a leaf
		// that is itself a registered CA is no device certificate.
		if len(ch) < 2 {
			continue
		}
		if ca, ok := byID[pki.CertificateID(ch[len(ch)-1].Raw)]; ok {
			return ca, true
		}
	}
	return store.CACertificate{}, false
}

// AutoRegister is just-in-time registration, called by the authenticator
// for a client certificate that is not registered or is
// PENDING_ACTIVATION. An unknown certificate whose chain leads to a
// registered ACTIVE CA with auto-registration ENABLE is recorded as
// PENDING_ACTIVATION with that CA; a PENDING_ACTIVATION one that connects
// again is announced again, as AWS does. Either way OnAutoRegistered is
// called and AutoRegister reports true: the connect is to be refused. It
// reports false when the certificate is none of JITR's business.
//
// When the CA's registrationConfig has a templateBody, the unknown
// certificate is provisioned instead (JITP, jitp.go): registered with the
// template's status together with the template's thing and policies, in
// one transaction; OnAutoRegistered and OnProvisioned are called and the
// connect is refused, so the device's next connect uses what was made. A
// template that fails registers nothing: OnProvisioned is told why and
// AutoRegister reports false (the certificate stays unknown).
func (s *Service) AutoRegister(ctx context.Context, chain []*x509.Certificate) (bool, error) {
	if len(chain) == 0 {
		return false, nil
	}
	leaf := chain[0]
	id := pki.CertificateID(leaf.Raw)
	now := s.now().UTC()
	if ok, err := s.mayAutoRegister(ctx, id, chain, now); err != nil || !ok {
		return false, err
	}
	var (
		caID string
		prov *Provisioned
	)
	err := s.st.Update(ctx, func(tx store.Tx) error {
		caID, prov = "", nil
		c, err := tx.Certificate(id)
		if err == nil {
			if c.Status == PendingActivation && c.CACertificateID != "" {
				caID = c.CACertificateID
			}
			return nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		ca, ok, err := autoRegisteringCA(tx, chain, now)
		if err != nil || !ok {
			return err
		}
		rec := store.Certificate{
			ID: id, PEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw})), Status: PendingActivation, CACertificateID: ca.ID, Mode: ca.Mode,
			NotBefore: leaf.NotBefore.UTC(), NotAfter: leaf.NotAfter.UTC(),
			CreatedAt: now, UpdatedAt: now, GenerationID: newGenerationID(), CustomerVersion: 1,
		}
		caID = ca.ID
		tmpl, err := jitpTemplate(ca)
		if err == nil && tmpl != nil {
			prov = &Provisioned{CACertificateID: ca.ID, CertificateID: id, At: now}
			err = s.provision(tx, tmpl, leaf, rec, prov)
		}
		if err != nil {
			if prov == nil {
				prov = &Provisioned{CACertificateID: ca.ID, CertificateID: id, At: now}
			}
			return err
		}
		if prov != nil {
			return nil
		}
		return tx.InsertCertificate(rec)
	})
	if prov != nil && err != nil {
		s.provisioned(*prov, err)
		if errors.Is(err, ErrProvisioning) {
			return false, nil
		}
		return false, err
	}
	if err != nil || caID == "" {
		return false, err
	}
	status := PendingActivation
	if prov != nil {
		s.provisioned(*prov, nil)
		status = prov.Status
	}
	if s.OnAutoRegistered != nil {
		s.OnAutoRegistered(caID, id, status, now)
	}
	return true, nil
}

// provisioned reports a JITP run to OnProvisioned, or logs a failure when
// it is nil.
func (s *Service) provisioned(p Provisioned, err error) {
	if s.OnProvisioned != nil {
		s.OnProvisioned(p, err)
		return
	}
	if err != nil {
		slog.Default().Warn("just-in-time provisioning failed; nothing was registered", "ca", p.CACertificateID, "certificate", p.CertificateID, "err", err)
	}
}

// mayAutoRegister is AutoRegister's read-only first look: whether the
// certificate is pending already or chains to a CA with auto-registration
// on. Most unknown certificates (anyone may attempt a TLS handshake) match
// no CA, and then no write transaction is taken for them.
func (s *Service) mayAutoRegister(ctx context.Context, id string, chain []*x509.Certificate, now time.Time) (bool, error) {
	var ok bool
	err := s.st.View(ctx, func(tx store.Tx) error {
		ok = false
		c, err := tx.Certificate(id)
		if err == nil {
			ok = c.Status == PendingActivation && c.CACertificateID != ""
			return nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		_, ok, err = autoRegisteringCA(tx, chain, now)
		return err
	})
	return ok, err
}

// autoRegisteringCA returns the registered ACTIVE CA with auto-registration
// on that the chain (leaf first, then the intermediates the device sent)
// leads to, if the leaf itself is fit to be registered.
func autoRegisteringCA(tx store.Tx, chain []*x509.Certificate, now time.Time) (store.CACertificate, bool, error) {
	if checkRegistered(chain[0], now) != nil {
		return store.CACertificate{}, false, nil
	}
	active, err := tx.ActiveCACertificates()
	if err != nil {
		return store.CACertificate{}, false, err
	}
	enabled := active[:0:0]
	for _, ca := range active {
		if ca.AutoRegistration == AutoEnable {
			enabled = append(enabled, ca)
		}
	}
	ca, ok := verifyChain(enabled, chain, now)
	return ca, ok, nil
}

// RegisteredTopic is the topic of a JITR event for a CA.
func RegisteredTopic(caID string) string { return "$aws/events/certificates/registered/" + caID }

// RegisteredEvent is the payload AWS publishes on RegisteredTopic when a
// certificate is auto-registered (reference §6.3): timestamp in epoch
// milliseconds, certificateRegistrationTimestamp the same instant as a
// string; status is PENDING_ACTIVATION after JITR, the template's status
// after JITP.
func RegisteredEvent(account, caID, certID, status string, at time.Time) []byte {
	ms := at.UnixMilli()
	b, _ := json.Marshal(struct {
		CertificateID                    string `json:"certificateId"`
		CACertificateID                  string `json:"caCertificateId"`
		Timestamp                        int64  `json:"timestamp"`
		CertificateStatus                string `json:"certificateStatus"`
		AWSAccountID                     string `json:"awsAccountId"`
		CertificateRegistrationTimestamp string `json:"certificateRegistrationTimestamp"`
	}{certID, caID, ms, status, account, strconv.FormatInt(ms, 10)})
	return b
}
