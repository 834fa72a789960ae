package access

import (
	"time"

	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/decisionlog"
	"github.com/moat-iot/moat/internal/policy"
)

// AllowARN decides an action on a resource other than a client, topic or
// topic filter (iot:GetThingShadow on thing/{name}[/{shadow}], ...), as an
// HTTPS request asks it once: without the cache, and recorded in the
// decision log like a device's MQTT decisions.
func (p *Permissions) AllowARN(action, resourceARN string) bool {
	d := p.DecideARN(action, resourceARN, p.sink != nil)
	if p.sink != nil {
		p.sink.Count(action, d.Result)
		if !d.Allowed || p.logAllows {
			e := decisionlog.Entry{
				Time: time.Now(), Principal: p.logName, Thing: p.ThingName(), ClientID: p.clientID,
				SourceIP: p.vars.SourceIP, Action: action, Resource: resourceARN,
			}
			p.sink.Decision(decisionlog.EntryFromDecision(e, d))
		}
	}
	return d.Allowed
}

// Denied explains why action on resourceARN is refused, for an error
// message: the principal's ARN (a certificate's, a user's, an assumed
// role's), and whether an explicit Deny or the lack of an Allow decided,
// in which kind of policy. It evaluates the request again.
func (p *Permissions) Denied(action, resourceARN string) *DeniedError {
	who := p.logName
	if p.principal.Kind == auth.KindCertificate {
		who = p.principal.CertificateARN
	}
	de := &DeniedError{Principal: who, Action: action, Resource: resourceARN}
	d, kind := evaluateLayers(p.layers, p.request(action, resourceARN, false))
	if d.Result == policy.ExplicitDeny {
		de.Result, de.Reason = d.Result, "with an explicit deny in an "+kind.String()
	} else {
		de.Reason = "because no " + kind.String() + " allows the " + action + " action"
	}
	return de
}
