package server

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/moat-iot/moat/internal/access"
	"github.com/moat-iot/moat/internal/broker"
	"github.com/moat-iot/moat/internal/certs"
	"github.com/moat-iot/moat/internal/mqtt/packet"
	"github.com/moat-iot/moat/internal/pki"
	"github.com/moat-iot/moat/internal/policies"
	"github.com/moat-iot/moat/internal/registry"
)

// wireRechecks makes changes bite at once: after a certificate changes
// status, a policy changes or is attached or detached (to a certificate
// or a thing group), a principal is attached to or detached from a thing,
// or a thing joins or leaves a thing group, the live MQTT connections that
// relied on it are re-evaluated (closed if they may no longer connect).
// The recheck runs in the background, right after the API call commits.
func (s *Server) wireRechecks(reg *registry.Service, cs *certs.Service, pols *policies.Service) {
	recheck := func(match func(*access.Permissions) bool) {
		go s.broker.Recheck(context.Background(), func(p broker.Permissions) bool {
			ap, ok := p.(*access.Permissions)
			return ok && match(ap)
		})
	}
	cs.OnStatusChange = func(certID, _ string) {
		recheck(func(p *access.Permissions) bool { return p.CertificateID() == certID })
	}
	// A CA made INACTIVE (or ACTIVE again): the connections of the device
	// certificates it signed.
	cs.OnCAStatusChange = func(caID, _ string) { go s.recheckCA(cs, caID) }
	pols.OnChange = func(name, target string) {
		recheck(func(p *access.Permissions) bool {
			return p.UsesPolicy(name) || (target != "" && (p.CertificateARN() == target || p.HasTarget(target)))
		})
	}
	reg.OnPrincipalChange = func(principal, _ string) {
		recheck(func(p *access.Permissions) bool { return p.CertificateARN() == principal })
	}
	// Thing groups: a thing added to or removed from a group, or a group
	// deleted, changes the group policies its connections inherit.
	reg.OnGroupChange = func(things []string) {
		set := make(map[string]bool, len(things))
		for _, t := range things {
			set[t] = true
		}
		recheck(func(p *access.Permissions) bool { return p.ThingName() != "" && set[p.ThingName()] })
	}
}

// recheckCA re-checks the live connections of the device certificates
// the registered CA caID signed.
func (s *Server) recheckCA(cs *certs.Service, caID string) {
	ids, err := cs.CertificateIDsByCA(context.Background(), caID)
	if err != nil {
		s.log.Error("recheck after a CA change: listing its certificates", "ca", caID, "err", err)
		return
	}
	s.broker.Recheck(context.Background(), func(p broker.Permissions) bool {
		ap, ok := p.(*access.Permissions)
		return ok && ids[ap.CertificateID()]
	})
}

// wireCRLs loads the --crl files (a file that fails to load is logged,
// not fatal), has the authenticator refuse the certificates on them, and
// watches the files. A reload that adds serials to a CA's list re-checks
// the live connections of that CA's certificates, which closes those now
// refused (DISCONNECT 0x8C). For moat's own device CA, whose certificates
// have no CA id, every certificate connection is re-checked.
func (s *Server) wireCRLs(ctx context.Context, cs *certs.Service) error {
	if len(s.cfg.CRLs) == 0 {
		return nil
	}
	devPEM, err := os.ReadFile(filepath.Join(s.cfg.DataDir, pki.DeviceCertFile))
	if err != nil {
		return fmt.Errorf("crl: device CA: %w", err)
	}
	deviceCA, err := pki.ParseCertificatePEM(string(devPEM))
	if err != nil {
		return fmt.Errorf("crl: device CA: %w", err)
	}
	crls, err := certs.NewCRLs(certs.CRLOptions{
		Paths: s.cfg.CRLs, Logger: s.log, Registerer: s.reg,
		CAs: func(ctx context.Context) ([]certs.IssuerCA, error) {
			cas, err := cs.RegisteredCAs(ctx)
			return append(cas, certs.IssuerCA{ID: certs.DeviceCA, Cert: deviceCA}), err
		},
		OnRevoked: func(caID string) {
			if caID != certs.DeviceCA {
				go s.recheckCA(cs, caID)
				return
			}
			go s.broker.Recheck(context.Background(), func(p broker.Permissions) bool {
				ap, ok := p.(*access.Permissions)
				return ok && ap.CertificateID() != ""
			})
		},
	})
	if err != nil {
		return err
	}
	_ = crls.Reload(ctx) // failures are logged; the watcher retries on change
	s.auth.CRLs = crls
	crls.Start()
	s.crls = crls
	return nil
}

// wireAutoRegistration turns on just-in-time registration: the
// authenticator asks the certificate service about unknown client
// certificates, and each registration is announced on
// $aws/events/certificates/registered/{caCertificateId} through the broker.
// Just-in-time provisioning is logged; the thing it made or updated gets
// its dynamic groups evaluated and the live connections of that thing
// (other certificates attached to it) re-checked, as after a registry call.
func (s *Server) wireAutoRegistration(cs *certs.Service, reg *registry.Service) {
	cs.OnAutoRegistered = func(caID, certID, status string, at time.Time) {
		s.broker.Publish(&packet.Publish{Topic: certs.RegisteredTopic(caID), Payload: certs.RegisteredEvent(s.cfg.AccountID, caID, certID, status, at), QoS: 1})
	}
	cs.OnProvisioned = func(p certs.Provisioned, err error) {
		if err != nil {
			s.log.Warn("just-in-time provisioning failed; nothing was registered", "ca", p.CACertificateID, "certificate", p.CertificateID, "err", err)
			return
		}
		s.log.Info("just-in-time provisioning", "ca", p.CACertificateID, "certificate", p.CertificateID, "thing", p.ThingName, "policies", p.Policies)
		if p.ThingName == "" {
			return
		}
		reg.ThingChanged(context.Background(), p.ThingName)
		if reg.OnGroupChange != nil {
			reg.OnGroupChange([]string{p.ThingName})
		}
	}
	s.auth.AutoRegistrar = cs
}
