package access

import (
	"context"
	"log/slog"
	"time"

	"github.com/moat-iot/moat/internal/broker"
	"github.com/moat-iot/moat/internal/decisionlog"
	"github.com/moat-iot/moat/internal/policy"
)

// DecisionSink receives the decisions Permissions.Allow makes for
// connected clients and the decisions APIAuthorizer makes for API calls;
// *decisionlog.Log is one. Its methods are called on
// the broker's hot path and must not block.
type DecisionSink interface {
	// Count counts one decision; called for every decision, cached or
	// not, so it must be cheap and must not allocate.
	Count(action string, r policy.Result)
	// Allows reports whether allowed decisions are wanted by Decision;
	// asked once per connection.
	Allows() bool
	// Decision receives every deny, with the statement that decided it
	// and the variables involved, and every allow when Allows is true.
	Decision(e decisionlog.Entry)
}

var _ DecisionSink = (*decisionlog.Log)(nil)

// record passes one decision of Allow to the sink. A cached allow costs a
// count; a deny (and an allow, when allows are logged) is evaluated again,
// with the explanation for a deny, so that the entry names the deciding
// statement: the deny path may allocate, the allow path does not unless
// allows are logged.
func (p *Permissions) record(a broker.Action, resource string, allowed bool) {
	if allowed && !p.logAllows {
		p.sink.Count(a.String(), policy.Allowed)
		return
	}
	d := p.Decide(a, resource, !allowed)
	if !allowed && d.Allowed {
		// The cached deny no longer holds on re-evaluation (a time
		// condition changed): report what was enforced.
		d = policy.Decision{Result: policy.ImplicitDeny, Statement: -1}
	}
	p.sink.Count(a.String(), d.Result)
	e := decisionlog.Entry{
		Time: time.Now(), Principal: p.logName, Thing: p.ThingName(), ClientID: p.clientID,
		SourceIP: p.vars.SourceIP, Action: a.String(), Resource: p.resourceARN(a, resource),
	}
	e = decisionlog.EntryFromDecision(e, d)
	p.sink.Decision(e)
	if !allowed && p.gate != nil {
		if log := p.gate.log(); log.Enabled(context.Background(), slog.LevelDebug) {
			log.Debug("policy denied", "principal", p.principal.String(), "client_id", p.clientID, "thing", e.Thing,
				"action", e.Action, "resource", e.Resource, "decision", d.String(), "unresolved", e.Unresolved)
		}
	}
}

// resourceARN is the ARN Decide evaluates for a and resource.
func (p *Permissions) resourceARN(a broker.Action, resource string) string {
	switch a {
	case broker.ActConnect:
		return p.arns.Client(resource)
	case broker.ActSubscribe:
		return p.arns.TopicFilter(resource)
	}
	return p.arns.Topic(resource)
}
