package access

import (
	"time"

	"github.com/moat-iot/moat/internal/decisionlog"
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
				Time: time.Now(), Principal: p.principal.CertificateID, Thing: p.ThingName(), ClientID: p.clientID,
				SourceIP: p.vars.SourceIP, Action: action, Resource: resourceARN,
			}
			p.sink.Decision(decisionlog.EntryFromDecision(e, d))
		}
	}
	return d.Allowed
}
