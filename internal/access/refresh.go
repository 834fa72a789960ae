package access

import (
	"context"
	"crypto/x509"
	"errors"
	"time"

	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/authorizer"
	"github.com/moat-iot/moat/internal/broker"
	"github.com/moat-iot/moat/internal/mqtt/packet"
)

var _ broker.Refresher = (*Permissions)(nil)

// Refresh recomputes the permissions from the current state as a new
// CONNECT would, and closes the connection when its principal may no
// longer stay:
//
//   - a device certificate must still be registered and ACTIVE (else
//     DISCONNECT 0x8C, its authentication no longer holds);
//   - a user's access key must still be Active (else 0x87), and the user
//     must still exist; its identity policies are read again;
//   - a role session must not have expired (0x8C) and its role must still
//     exist (0x87); the role's policies are read again, and for an
//     authenticated Cognito identity the IoT policies attached to it;
//   - a custom authorizer is invoked again with the same credentials, and
//     its new answer applies (0x87 when it refuses now, or when the
//     credentials cannot be presented again);
//
// then iot:Connect must still be allowed (else 0x87). A store that
// cannot be read keeps the connection's permissions (logged).
func (p *Permissions) Refresh(ctx context.Context) (broker.Permissions, *broker.Refusal) {
	g := p.gate
	if g == nil {
		return p, nil
	}
	pr, ref := p.reauthenticate(ctx)
	if ref != nil {
		return nil, ref
	}
	if pr.Kind == 0 { // unexpected failure: logged, connection kept
		return p, nil
	}
	np, err := g.Bind(ctx, pr, p.clientID, p.remote)
	if errors.Is(err, ErrGone) {
		return nil, &broker.Refusal{Code: packet.NotAuthorized, Reason: "not authorized: " + goneReason(pr), Principal: p.principal.String()}
	}
	if err != nil {
		g.log().Error("mqtt recheck failed; keeping the connection's permissions", "client_id", p.clientID, "principal", p.principal.String(), "err", err)
		return p, nil
	}
	// What the CONNECT said still holds; so does the connection's
	// lifetime, which counts from the CONNECT.
	if attrs, ok := p.vars.Extra[lowerConnectAttributes]; ok {
		np.vars.Set(connectAttributes, attrs...)
	}
	np.vars.DomainName = p.vars.DomainName
	np.reauth = p.reauth
	if !p.validUntil.IsZero() && (np.validUntil.IsZero() || p.validUntil.Before(np.validUntil)) {
		np.validUntil = p.validUntil
	}
	if !np.Allow(broker.ActConnect, p.clientID) {
		return nil, &broker.Refusal{Code: packet.NotAuthorized, Reason: "not authorized: iot:Connect on client/" + p.clientID + " no longer allowed", Principal: p.principal.String()}
	}
	return np, nil
}

// lowerConnectAttributes is connectAttributes as policy.Vars.Extra keys it.
const lowerConnectAttributes = "iot:connectattributes"

// reauthenticate authenticates the connection's principal again. A zero
// principal and no refusal means an unexpected failure, logged: the
// caller keeps the permissions.
func (p *Permissions) reauthenticate(ctx context.Context) (auth.Principal, *broker.Refusal) {
	g, pr := p.gate, p.principal
	who := pr.String()
	switch pr.Kind {
	case auth.KindCertificate:
		if pr.Certificate == nil {
			return auth.Principal{}, nil
		}
		np, err := g.Auth.Certificate(ctx, []*x509.Certificate{pr.Certificate})
		if err != nil {
			return auth.Principal{}, &broker.Refusal{Code: packet.BadAuthenticationMethod, Reason: err.Error(), Principal: who}
		}
		return np, nil
	case auth.KindUser:
		user, err := g.Auth.AccessKeyUser(ctx, pr.AccessKeyID)
		switch {
		case errors.Is(err, auth.ErrAccessKeyNotActive):
			return auth.Principal{}, &broker.Refusal{Code: packet.NotAuthorized, Reason: "not authorized: " + err.Error(), Principal: who}
		case err != nil:
			g.log().Error("mqtt recheck failed; keeping the connection's permissions", "client_id", p.clientID, "principal", who, "err", err)
			return auth.Principal{}, nil
		case user != pr.UserName:
			return auth.Principal{}, &broker.Refusal{Code: packet.NotAuthorized, Reason: "not authorized: access key " + pr.AccessKeyID + " no longer belongs to " + pr.UserName, Principal: who}
		}
		return pr, nil
	case auth.KindRole:
		if s := pr.Session; s != nil && !g.clock().Before(s.Expiration) {
			return auth.Principal{}, &broker.Refusal{Code: packet.BadAuthenticationMethod, Reason: "the temporary credentials expired at " + s.Expiration.UTC().Format(time.RFC3339), Principal: who}
		}
		return pr, nil
	case auth.KindAuthorizer:
		if p.reauth == nil {
			return auth.Principal{}, &broker.Refusal{Code: packet.NotAuthorized, Reason: "not authorized: the custom authorizer's answer must be renewed; connect again", Principal: who}
		}
		np, err := p.reauth(ctx)
		if err == nil && (np.Kind != auth.KindAuthorizer || np.Grant == nil) {
			err = errors.New("custom authorizer returned a principal without a grant")
		}
		if err != nil {
			if !errors.Is(err, authorizer.ErrDenied) {
				g.log().Error("mqtt custom authorizer refresh failed", "client_id", p.clientID, "principal", who, "err", err)
			}
			return auth.Principal{}, &broker.Refusal{Code: packet.NotAuthorized, Reason: "not authorized: " + err.Error(), Principal: who}
		}
		return np, nil
	}
	return pr, nil
}

// DueForRefresh reports whether the connection's custom authorizer grant
// asked to be renewed by now (refreshAfterInSeconds after it was issued).
// The broker refreshes permissions only on Broker.Recheck, so the server
// rechecks, every few seconds, the connections for which this is true.
func (p *Permissions) DueForRefresh(now time.Time) bool {
	g := p.principal.Grant
	if p.principal.Kind != auth.KindAuthorizer || g == nil || g.RefreshAfter <= 0 {
		return false
	}
	return !now.Before(g.IssuedAt.Add(g.RefreshAfter))
}
