package server

import (
	"context"

	"github.com/moat-iot/moat/internal/access"
	"github.com/moat-iot/moat/internal/broker"
	"github.com/moat-iot/moat/internal/certs"
	"github.com/moat-iot/moat/internal/policies"
	"github.com/moat-iot/moat/internal/registry"
)

// wireRechecks makes changes bite at once: after a certificate changes
// status, a policy changes or is attached or detached, or a principal is
// attached to or detached from a thing, the live MQTT connections that
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
	pols.OnChange = func(name, target string) {
		recheck(func(p *access.Permissions) bool {
			return p.UsesPolicy(name) || (target != "" && p.CertificateARN() == target)
		})
	}
	reg.OnPrincipalChange = func(principal, _ string) {
		recheck(func(p *access.Permissions) bool { return p.CertificateARN() == principal })
	}
}
