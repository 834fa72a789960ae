package access

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/authorizer"
	"github.com/moat-iot/moat/internal/broker"
	"github.com/moat-iot/moat/internal/mqtt/packet"
	"github.com/moat-iot/moat/internal/policy"
)

// connectAndPublish lets a client connect as app-* and publish under a/.
const connectAndPublish = `{"Version":"2012-10-17","Statement":[
	{"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:R:client/app-*"},
	{"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":"arn:aws:iot:R:topic/a/*"},
	{"Effect":"Allow","Action":"iot:Subscribe","Resource":"arn:aws:iot:R:topicfilter/a/*"}]}`

// admit runs the gate's Admit for a pre-authenticated principal.
func (e *env) admit(t *testing.T, p any, clientID string) (*Permissions, *broker.Refusal) {
	t.Helper()
	bp, ref := e.gate.Admit(context.Background(), broker.ConnInfo{ClientID: clientID, RemoteAddr: remote,
		Transport: broker.TransportWebSocket, Authenticated: p})
	if ref != nil {
		return nil, ref
	}
	return bp.(*Permissions), nil
}

// mustAdmit is admit that fails the test on a refusal.
func (e *env) mustAdmit(t *testing.T, p any, clientID string) *Permissions {
	t.Helper()
	perms, ref := e.admit(t, p, clientID)
	if ref != nil {
		t.Fatalf("refused: %v", ref)
	}
	return perms
}

// TestGate_AdmitIAM checks MQTT for users and role sessions that the
// transport authenticated (a presigned WebSocket URL): their identity
// policies decide iot:Connect, publish, subscribe and receive; the
// administrator may do everything; a user without policies nothing.
func TestGate_AdmitIAM(t *testing.T) {
	e := newEnv(t)
	e.iam.set("alice", compiled(t, "data", connectAndPublish))
	e.iam.set("nobody")
	alice := e.mustAdmit(t, user("alice", "AKIA1"), "app-1")
	for _, c := range []struct {
		a    broker.Action
		res  string
		want bool
	}{
		{broker.ActPublish, "a/b", true},
		{broker.ActPublish, "b/c", false},
		{broker.ActRetainPublish, "a/b", false},
		{broker.ActSubscribe, "a/#", true},
		{broker.ActReceive, "a/x", true},
		{broker.ActSubscribe, "#", false},
	} {
		if got := alice.Allow(c.a, c.res); got != c.want {
			t.Errorf("alice %v %s = %v, want %v", c.a, c.res, got, c.want)
		}
	}
	if want := e.now.Add(MaxSigV4ConnectionLifetime); !alice.ValidUntil().Equal(want) {
		t.Errorf("a user's connection expires at %v, want a day after it connected (%v)", alice.ValidUntil(), want)
	}
	if alice.UserName() != "alice" || alice.AccessKeyID() != "AKIA1" || alice.RoleName() != "" || alice.PrincipalKind() != auth.KindUser {
		t.Errorf("matchers: %q %q %q %v", alice.UserName(), alice.AccessKeyID(), alice.RoleName(), alice.PrincipalKind())
	}
	if !alice.UsesIdentityPolicy("data") || alice.UsesPolicy("data") {
		t.Error("the identity policy is not told apart from IoT policies")
	}

	// iot:Connect is checked on the client id.
	if _, ref := e.admit(t, user("alice", "AKIA1"), "other-1"); ref == nil || ref.Code != packet.NotAuthorized {
		t.Fatalf("connect as other-1: %v, want NotAuthorized", ref)
	}
	// No policies: not even iot:Connect.
	if _, ref := e.admit(t, user("nobody", "AKIA2"), "app-1"); ref == nil || ref.Code != packet.NotAuthorized {
		t.Fatalf("user without policies: %v, want NotAuthorized", ref)
	}
	// A user that no longer exists is refused as not authorized.
	if _, ref := e.admit(t, user("ghost", "AKIA3"), "app-1"); ref == nil || ref.Code != packet.NotAuthorized {
		t.Fatalf("deleted user: %v, want NotAuthorized", ref)
	}
	// The administrator is allowed everything.
	admin := e.mustAdmit(t, &auth.Principal{Kind: auth.KindUser, UserName: auth.AdminUser, AccessKeyID: "AKIAADMIN"}, "anything")
	if !admin.Allow(broker.ActSubscribe, "#") || !admin.Allow(broker.ActRetainPublish, "$aws/x") {
		t.Error("the administrator was denied")
	}
	// IAM failing is a server failure.
	e.iam.fail = errors.New("disk on fire")
	if _, ref := e.admit(t, user("alice", "AKIA1"), "app-1"); ref == nil || ref.Code != packet.ServerUnavailable {
		t.Fatalf("failing IAM: %v, want ServerUnavailable", ref)
	}
}

// TestGate_AdmitSession checks role sessions: the connection is valid
// until the credentials expire, and expired credentials are refused.
func TestGate_AdmitSession(t *testing.T) {
	e := newEnv(t)
	e.iam.set("worker", compiled(t, "w", connectAndPublish))
	exp := e.now.Add(30 * time.Minute).Truncate(time.Second)
	p := session("worker", auth.Session{Expiration: exp, Source: auth.SourceSTS})
	perms := e.mustAdmit(t, p, "app-7")
	if !perms.ValidUntil().Equal(exp) {
		t.Errorf("ValidUntil %v, want the expiration %v", perms.ValidUntil(), exp)
	}
	if perms.RoleName() != "worker" || perms.AccessKeyID() != "ASIATEST" || perms.UserName() != "" {
		t.Errorf("matchers: %q %q %q", perms.RoleName(), perms.AccessKeyID(), perms.UserName())
	}
	old := session("worker", auth.Session{Expiration: e.now.Add(-time.Second)})
	if _, ref := e.admit(t, old, "app-7"); ref == nil || ref.Code != packet.NotAuthorized {
		t.Fatalf("expired session: %v, want NotAuthorized", ref)
	}
}

// TestGate_AdmitCognito checks the two layers on MQTT (reference §11):
// both, only one or neither of the role's IAM policy and the identity's
// IoT policy, the identity variable in the IoT policy, and an
// unauthenticated identity decided by its role alone.
func TestGate_AdmitCognito(t *testing.T) {
	e := newEnv(t)
	e.iam.set("role-all", compiled(t, "all", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]}`))
	e.iam.set("role-connect", compiled(t, "connect", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"*"}]}`))
	identityDoc := `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:R:client/${cognito-identity.amazonaws.com:sub}"},
		{"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:R:topic/users/${cognito-identity.amazonaws.com:sub}/*"}]}`
	e.iotPolicy(t, "identity", identityDoc, "us-east-1:aaaa")
	tests := []struct {
		name        string
		p           any
		connectRef  bool // connect refused
		publishOwn  bool
		publishElse bool
	}{
		{"both layers", cognito("role-all", "us-east-1:aaaa", true), false, true, false},
		{"IAM layer lacks publish", cognito("role-connect", "us-east-1:aaaa", true), false, false, false},
		{"no IoT policy", cognito("role-all", "us-east-1:zzzz", true), true, false, false},
		{"unauthenticated: role alone", cognito("role-all", "us-east-1:zzzz", false), false, true, true},
		{"unauthenticated: identity policy ignored", cognito("role-connect", "us-east-1:aaaa", false), false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := tt.p.(auth.Principal).Session.IdentityID
			perms, ref := e.admit(t, tt.p, id)
			if ref != nil {
				if !tt.connectRef || ref.Code != packet.NotAuthorized {
					t.Fatalf("refused: %v", ref)
				}
				return
			}
			if tt.connectRef {
				t.Fatal("connect allowed")
			}
			if got := perms.Allow(broker.ActPublish, "users/"+id+"/x"); got != tt.publishOwn {
				t.Errorf("publish own topic = %v, want %v", got, tt.publishOwn)
			}
			if got := perms.Allow(broker.ActPublish, "users/other/x"); got != tt.publishElse {
				t.Errorf("publish another's topic = %v, want %v", got, tt.publishElse)
			}
			if perms.IdentityID() != id {
				t.Errorf("IdentityID %q", perms.IdentityID())
			}
		})
	}
	// The identity id is the connection's IoT policy target: detaching
	// from it re-checks the connection.
	perms := e.mustAdmit(t, cognito("role-all", "us-east-1:aaaa", true), "us-east-1:aaaa")
	if !perms.HasTarget("us-east-1:aaaa") || !perms.UsesPolicy("identity") {
		t.Error("the identity's IoT policy is not matched by HasTarget and UsesPolicy")
	}
}

// TestPermissions_Layers checks the combination rule: every layer must
// allow; an explicit Deny anywhere wins; no layer denies all.
func TestPermissions_Layers(t *testing.T) {
	allow := compiled(t, "allow", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":"*"}]}`)
	deny := compiled(t, "deny", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iot:Publish","Resource":"*"}]}`)
	none := compiled(t, "none", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"*"}]}`)
	tests := []struct {
		name   string
		layers []layer
		want   string
		kind   layerKind
	}{
		{"no layer", nil, "IMPLICIT_DENY", layerIAM},
		{"one allows", []layer{{layerIAM, []*policy.Compiled{allow}}}, "ALLOWED", layerIAM},
		{"both allow", []layer{{layerIAM, []*policy.Compiled{allow}}, {layerIoT, []*policy.Compiled{allow}}}, "ALLOWED", layerIAM},
		{"second does not", []layer{{layerIAM, []*policy.Compiled{allow}}, {layerIoT, []*policy.Compiled{none}}}, "IMPLICIT_DENY", layerIoT},
		{"second is empty", []layer{{layerIAM, []*policy.Compiled{allow}}, {layerIoT, nil}}, "IMPLICIT_DENY", layerIoT},
		{"first does not", []layer{{layerIAM, []*policy.Compiled{none}}, {layerIoT, []*policy.Compiled{allow}}}, "IMPLICIT_DENY", layerIAM},
		{"deny after an implicit deny wins", []layer{{layerIAM, []*policy.Compiled{none}}, {layerIoT, []*policy.Compiled{deny, allow}}}, "EXPLICIT_DENY", layerIoT},
		{"deny beats allow in its layer", []layer{{layerIAM, []*policy.Compiled{allow, deny}}, {layerIoT, []*policy.Compiled{allow}}}, "EXPLICIT_DENY", layerIAM},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Permissions{arns: testARNs, layers: tt.layers, vars: &policy.Vars{}}
			d := p.Decide(broker.ActPublish, "a", false)
			if d.Result.String() != tt.want || d.Allowed != (tt.want == "ALLOWED") {
				t.Fatalf("Decide = %v, want %s", d, tt.want)
			}
			if _, kind := evaluateLayers(tt.layers, &policy.Request{Action: "iot:Publish", Resource: "arn:aws:iot:us-east-1:000000000000:topic/a"}); kind != tt.kind {
				t.Errorf("deciding layer %v, want %v", kind, tt.kind)
			}
		})
	}
}

// TestGate_CustomAuth checks MQTT CONNECT credentials on the ALPN "mqtt"
// transport: the authorizer's request, its grant as IoT policies, its
// refusals as CONNACK codes, the connection's lifetime.
func TestGate_CustomAuth(t *testing.T) {
	e := newEnv(t)
	issued := e.now.Add(-time.Minute)
	fc := &fakeCustom{fn: func(req authorizer.Request) (auth.Principal, error) {
		switch req.Username {
		case "good?x-amz-customauthorizer-name=tokens":
			return grant("tokens", 10*time.Minute, time.Hour, issued, connectAndPublish), nil
		case "unsigned":
			return auth.Principal{}, fmt.Errorf("bad: %w", authorizer.ErrBadSignature)
		case "inactive":
			return auth.Principal{}, fmt.Errorf("tokens: %w", authorizer.ErrInactive)
		case "no-grant":
			return auth.Principal{Kind: auth.KindAuthorizer}, nil
		}
		return auth.Principal{}, errors.New("store unreadable")
	}}
	e.gate.CustomAuth = fc
	admit := func(username string) (*Permissions, *broker.Refusal) {
		bp, ref := e.gate.Admit(context.Background(), broker.ConnInfo{ClientID: "app-3", RemoteAddr: remote, Username: username,
			Password: []byte("pw"), ServerName: "iot.example", Transport: broker.TransportALPNCustomAuth})
		if ref != nil {
			return nil, ref
		}
		return bp.(*Permissions), nil
	}
	perms, ref := admit("good?x-amz-customauthorizer-name=tokens")
	if ref != nil {
		t.Fatalf("refused: %v", ref)
	}
	if r := fc.last; r.AuthorizerName != "tokens" || string(r.Password) != "pw" || r.ClientID != "app-3" || r.ServerName != "iot.example" {
		t.Errorf("authorizer request %+v", r)
	}
	if !perms.Allow(broker.ActPublish, "a/1") || perms.Allow(broker.ActPublish, "b/1") {
		t.Error("the grant's policies do not decide")
	}
	if want := issued.Add(time.Hour); !perms.ValidUntil().Equal(want) {
		t.Errorf("ValidUntil %v, want issued + disconnectAfter %v", perms.ValidUntil(), want)
	}
	if perms.AuthorizerName() != "tokens" || perms.DueForRefresh(e.now) || !perms.DueForRefresh(issued.Add(10*time.Minute)) {
		t.Errorf("AuthorizerName %q, DueForRefresh now %v, at refresh %v", perms.AuthorizerName(), perms.DueForRefresh(e.now), perms.DueForRefresh(issued.Add(10*time.Minute)))
	}
	for _, c := range []struct {
		username string
		want     packet.ReasonCode
	}{
		{"unsigned", packet.BadUserNameOrPassword},
		{"inactive", packet.NotAuthorized},
		{"no-grant", packet.ServerUnavailable},
		{"broken", packet.ServerUnavailable},
	} {
		if _, ref := admit(c.username); ref == nil || ref.Code != c.want {
			t.Errorf("%s: refusal %v, want %v", c.username, ref, c.want)
		}
	}
	// Without a custom authorizer the transport admits no one.
	e.gate.CustomAuth = nil
	if _, ref := admit("good?x-amz-customauthorizer-name=tokens"); ref == nil || ref.Code != packet.NotAuthorized {
		t.Errorf("no custom authorizer: %v, want NotAuthorized", ref)
	}
}

// TestPermissions_RefreshAuthorizer checks a grant is renewed by invoking
// the authorizer again: new policies apply to the live connection, the
// lifetime stays the first grant's, and a refusal closes it.
func TestPermissions_RefreshAuthorizer(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	issued := e.now
	next := grant("tokens", 5*time.Minute, time.Hour, issued, connectAndPublish)
	fc := &fakeCustom{fn: func(authorizer.Request) (auth.Principal, error) { return next, nil }}
	e.gate.CustomAuth = fc
	bp, ref := e.gate.Admit(ctx, broker.ConnInfo{ClientID: "app-1", Username: "u", Transport: broker.TransportALPNCustomAuth})
	if ref != nil {
		t.Fatal(ref)
	}
	perms := bp.(*Permissions)
	first := fc.last

	// The function now grants b/ instead of a/.
	e.now = e.now.Add(6 * time.Minute)
	next = grant("tokens", 5*time.Minute, 2*time.Hour, e.now, `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"iot:Connect","Resource":"*"},
		{"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:R:topic/b/*"}]}`)
	np, ref := perms.Refresh(ctx)
	if ref != nil {
		t.Fatalf("refresh refused: %v", ref)
	}
	fresh := np.(*Permissions)
	if fc.calls != 2 || fc.last.ConnectionID != first.ConnectionID {
		t.Errorf("calls %d; connection id %q then %q: want the same request again", fc.calls, first.ConnectionID, fc.last.ConnectionID)
	}
	if fresh.Allow(broker.ActPublish, "a/1") || !fresh.Allow(broker.ActPublish, "b/1") {
		t.Error("the refreshed grant's policies do not apply")
	}
	if !fresh.ValidUntil().Equal(perms.ValidUntil()) {
		t.Errorf("lifetime moved from %v to %v", perms.ValidUntil(), fresh.ValidUntil())
	}
	if fresh.DueForRefresh(e.now) {
		t.Error("a fresh grant is due for refresh")
	}

	// Denied now: the connection is closed.
	fc.fn = func(authorizer.Request) (auth.Principal, error) {
		return auth.Principal{}, fmt.Errorf("tokens: %w", authorizer.ErrInactive)
	}
	if _, ref := fresh.Refresh(ctx); ref == nil || ref.Code != packet.NotAuthorized {
		t.Fatalf("refresh after refusal: %v, want NotAuthorized", ref)
	}

	// iot:Connect no longer granted: closed too.
	fc.fn = func(authorizer.Request) (auth.Principal, error) {
		return grant("tokens", 0, 0, e.now, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":"*"}]}`), nil
	}
	if _, ref := fresh.Refresh(ctx); ref == nil || ref.Code != packet.NotAuthorized {
		t.Fatalf("refresh without iot:Connect: %v, want NotAuthorized", ref)
	}

	// Pre-authenticated at the WebSocket upgrade: renewed through
	// Reauthenticate; without it the connection must reconnect.
	calls := 0
	pre := Preauthenticated{Principal: grant("tokens", time.Minute, 0, e.now, connectAndPublish),
		Reauthenticate: func(context.Context) (auth.Principal, error) {
			calls++
			return grant("tokens", time.Minute, 0, e.now, connectAndPublish), nil
		}}
	ws := e.mustAdmit(t, pre, "app-2")
	if _, ref := ws.Refresh(ctx); ref != nil || calls != 1 {
		t.Fatalf("refresh with Reauthenticate: %v, %d calls", ref, calls)
	}
	bare := e.mustAdmit(t, pre.Principal, "app-2")
	if _, ref := bare.Refresh(ctx); ref == nil || ref.Code != packet.NotAuthorized {
		t.Fatalf("refresh without Reauthenticate: %v, want NotAuthorized", ref)
	}
}

// TestPermissions_RefreshUser checks a user's connection is re-checked
// against its access key (from the store, not the cache) and its current
// identity policies.
func TestPermissions_RefreshUser(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.accessKey(t, "AKIAALICE", "alice", "Active")
	e.iam.set("alice", compiled(t, "data", connectAndPublish))
	perms := e.mustAdmit(t, user("alice", "AKIAALICE"), "app-1")

	np, ref := perms.Refresh(ctx)
	if ref != nil || !np.Allow(broker.ActPublish, "a/1") {
		t.Fatalf("refresh with nothing changed: %v", ref)
	}
	// A changed policy applies to the live connection.
	e.iam.set("alice", compiled(t, "data", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"iot:Connect","Resource":"*"},
		{"Effect":"Deny","Action":"iot:Publish","Resource":"*"}]}`))
	np, ref = perms.Refresh(ctx)
	if ref != nil || np.Allow(broker.ActPublish, "a/1") {
		t.Fatalf("refresh after a policy change: %v, publish still allowed", ref)
	}
	// iot:Connect no longer allowed: closed with 0x87.
	e.iam.set("alice", compiled(t, "data", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":"*"}]}`))
	if _, ref = perms.Refresh(ctx); ref == nil || ref.Code != packet.NotAuthorized {
		t.Fatalf("refresh without iot:Connect: %v", ref)
	}
	e.iam.set("alice", compiled(t, "data", connectAndPublish))
	// The key made Inactive: closed with 0x87.
	e.accessKey(t, "AKIAALICE", "alice", "Inactive")
	if _, ref = perms.Refresh(ctx); ref == nil || ref.Code != packet.NotAuthorized {
		t.Fatalf("refresh with an Inactive key: %v", ref)
	}
	// Unknown key (deleted): closed.
	ghost := e.mustAdmit(t, user("alice", "AKIAGONE"), "app-1")
	if _, ref = ghost.Refresh(ctx); ref == nil || ref.Code != packet.NotAuthorized {
		t.Fatalf("refresh with a deleted key: %v", ref)
	}
	// Active again, but the user is gone.
	e.accessKey(t, "AKIAALICE", "alice", "Active")
	e.iam.remove("alice")
	if _, ref = perms.Refresh(ctx); ref == nil || ref.Code != packet.NotAuthorized {
		t.Fatalf("refresh after the user was deleted: %v", ref)
	}
}

// TestPermissions_RefreshRole checks role sessions: the role's and the
// identity's policies are read again, a deleted role closes the
// connection, an expired session too.
func TestPermissions_RefreshRole(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.iam.set("app", compiled(t, "all", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]}`))
	e.iotPolicy(t, "identity", connectAndPublish, "us-east-1:aaaa")
	perms := e.mustAdmit(t, cognito("app", "us-east-1:aaaa", true), "app-1")
	if !perms.Allow(broker.ActPublish, "a/1") {
		t.Fatal("publish denied")
	}
	// The identity's IoT policy detached: the layer is empty, connect no
	// longer allowed.
	if err := e.pols.Detach(ctx, "identity", "us-east-1:aaaa"); err != nil {
		t.Fatal(err)
	}
	if _, ref := perms.Refresh(ctx); ref == nil || ref.Code != packet.NotAuthorized {
		t.Fatalf("refresh after detach: %v, want NotAuthorized", ref)
	}
	// The role deleted.
	sts := e.mustAdmit(t, session("app", auth.Session{Source: auth.SourceSTS, Expiration: e.now.Add(time.Hour)}), "app-1")
	e.iam.remove("app")
	if _, ref := sts.Refresh(ctx); ref == nil || ref.Code != packet.NotAuthorized {
		t.Fatalf("refresh after the role was deleted: %v", ref)
	}
	// Expired.
	e.iam.set("app", compiled(t, "all", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]}`))
	e.now = e.now.Add(2 * time.Hour)
	if _, ref := sts.Refresh(ctx); ref == nil || ref.Code != packet.BadAuthenticationMethod {
		t.Fatalf("refresh after expiry: %v, want BadAuthenticationMethod", ref)
	}
}

// TestGate_AdmitUnknownPrincipal checks that a transport's principal of an
// unknown type is refused as a server failure, not trusted.
func TestGate_AdmitUnknownPrincipal(t *testing.T) {
	e := newEnv(t)
	if _, ref := e.admit(t, "alice", "app-1"); ref == nil || ref.Code != packet.ServerUnavailable {
		t.Fatalf("string principal: %v", ref)
	}
}

// BenchmarkPermissions_TwoLayers measures a decision for an authenticated
// Cognito identity (the role's IAM layer and the identity's IoT layer):
// cached, and uncached.
func BenchmarkPermissions_TwoLayers(b *testing.B) {
	iam := compiled(b, "role", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]}`)
	iot := compiled(b, "identity", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:R:topic/users/${cognito-identity.amazonaws.com:sub}/*"}]}`)
	vars := &policy.Vars{ClientID: "c1"}
	vars.Set("cognito-identity.amazonaws.com:sub", "us-east-1:aaaa")
	p := &Permissions{arns: testARNs, layers: []layer{{layerIAM, []*policy.Compiled{iam}}, {layerIoT, []*policy.Compiled{iot}}}, vars: vars}
	b.Run("cached", func(b *testing.B) {
		p.Allow(broker.ActPublish, "users/us-east-1:aaaa/x")
		b.ReportAllocs()
		for b.Loop() {
			if !p.Allow(broker.ActPublish, "users/us-east-1:aaaa/x") {
				b.Fatal("denied")
			}
		}
	})
	b.Run("uncached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !p.Decide(broker.ActPublish, "users/us-east-1:aaaa/x", false).Allowed {
				b.Fatal("denied")
			}
		}
	})
}
