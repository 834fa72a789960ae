package access

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/policy"
)

const (
	thingARN = "arn:aws:iot:us-east-1:000000000000:thing/lamp-1"
	topicARN = "arn:aws:iot:us-east-1:000000000000:topic/a/b"
)

// denied checks err is AccessDeniedException 403 whose DeniedError has
// the result and a message containing each of parts.
func denied(t *testing.T, err error, result policy.Result, parts ...string) {
	t.Helper()
	var ae *awsapi.Error
	if !errors.As(err, &ae) || ae.Code != awsapi.AccessDenied || ae.HTTPStatus() != 403 {
		t.Fatalf("error %v, want AccessDeniedException 403", err)
	}
	var de *DeniedError
	if !errors.As(err, &de) || de.Result != result {
		t.Fatalf("error %v: DeniedError %+v, want result %v", err, de, result)
	}
	for _, p := range parts {
		if !strings.Contains(ae.Message, p) {
			t.Errorf("message %q does not contain %q", ae.Message, p)
		}
	}
}

// TestAPIAuthorizer_Authorize checks each kind of principal against
// identity policies: allowed, implicitly denied, explicitly denied (an
// inline Deny beats a managed Allow), the administrator, device
// certificates and callers whose role is gone.
func TestAPIAuthorizer_Authorize(t *testing.T) {
	ctx := context.Background()
	fiam := &fakeIAM{}
	fullAccess := compiled(t, "arn:aws:iam::aws:policy/AWSIoTFullAccess", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iot:*","iotjobsdata:*"],"Resource":"*"}]}`)
	noCreate := compiled(t, "no-create", `{"Version":"2012-10-17","Statement":[{"Sid":"NoCreate","Effect":"Deny","Action":"iot:CreateThing","Resource":"*"}]}`)
	things := compiled(t, "things", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iot:CreateThing","iot:DescribeThing"],"Resource":"arn:aws:iot:R:thing/lamp-*"}]}`)
	fiam.set("alice", things)
	fiam.set("bob", fullAccess, noCreate)
	fiam.set("reader", things)
	sink := &fakeSink{}
	a := &APIAuthorizer{IAM: fiam, ARNs: testARNs, NoSuchEntity: errNoSuchEntity, Decisions: sink}

	// An allowed call returns nil.
	if err := a.Authorize(ctx, user("alice", "AKIA1"), "iot:CreateThing", thingARN); err != nil {
		t.Fatalf("alice CreateThing: %v", err)
	}
	// No statement allows it: implicit deny, in AWS's words.
	err := a.Authorize(ctx, user("alice", "AKIA1"), "iot:DeleteThing", thingARN)
	denied(t, err, policy.ImplicitDeny, "User: arn:aws:iam::000000000000:user/alice is not authorized to perform: iot:DeleteThing on resource: "+thingARN,
		"because no identity-based policy allows the iot:DeleteThing action")
	// Resource-scoped: another thing is not allowed.
	denied(t, a.Authorize(ctx, user("alice", "AKIA1"), "iot:CreateThing", "arn:aws:iot:us-east-1:000000000000:thing/door"), policy.ImplicitDeny)
	// An explicit Deny in an inline policy beats an attached managed Allow.
	denied(t, a.Authorize(ctx, user("bob", "AKIA2"), "iot:CreateThing", thingARN), policy.ExplicitDeny,
		"with an explicit deny in an identity-based policy")
	if err := a.Authorize(ctx, user("bob", "AKIA2"), "iot:ListThings", "*"); err != nil {
		t.Fatalf("bob ListThings: %v", err)
	}
	// The administrator is the account root: no policy is read.
	calls := fiam.calls
	if err := a.Authorize(ctx, user(auth.AdminUser, "AKIAADMIN"), "iot:DeleteThing", thingARN); err != nil {
		t.Fatalf("admin: %v", err)
	}
	if fiam.calls != calls {
		t.Error("the administrator's policies were read")
	}
	// A device certificate is not an API principal.
	cert := auth.Principal{Kind: auth.KindCertificate, CertificateID: "abc", CertificateARN: "arn:aws:iot:us-east-1:000000000000:cert/abc"}
	denied(t, a.Authorize(ctx, cert, "iot:ListThings", "*"), policy.ImplicitDeny, "cert/abc")
	// A role session whose role was deleted is refused, not a server error.
	denied(t, a.Authorize(ctx, session("gone", auth.Session{}), "iot:ListThings", "*"), policy.ImplicitDeny,
		"arn:aws:sts::000000000000:assumed-role/gone/s1", "the role gone no longer exists")
	// Expired temporary credentials are refused.
	expired := session("reader", auth.Session{Expiration: time.Now().Add(-time.Second)})
	denied(t, a.Authorize(ctx, expired, "iot:DescribeThing", thingARN), policy.ImplicitDeny, "expired")
	// IAM failing is an internal failure, not a refusal.
	failing := &APIAuthorizer{IAM: &fakeIAM{fail: errors.New("disk on fire")}, ARNs: testARNs}
	if err := failing.Authorize(ctx, user("alice", "AKIA1"), "iot:ListThings", "*"); !awsapi.Is(err, awsapi.InternalFailure) {
		t.Fatalf("failing IAM: %v, want InternalFailureException", err)
	}
	// Without IAM, a user has no policies: denied.
	denied(t, (&APIAuthorizer{ARNs: testARNs}).Authorize(ctx, user("alice", "AKIA1"), "iot:ListThings", "*"), policy.ImplicitDeny)

	// The decision log has every deny with the deciding statement.
	var explicit int
	for _, e := range sink.entries {
		if e.Result == policy.Allowed {
			t.Errorf("allow logged: %+v", e)
		}
		if e.Result == policy.ExplicitDeny {
			explicit++
			if e.Principal != "arn:aws:iam::000000000000:user/bob" || e.Policy != "no-create" || e.Statement != 0 ||
				e.Sid != "NoCreate" || e.Action != "iot:CreateThing" || e.Resource != thingARN {
				t.Errorf("explicit deny entry %+v", e)
			}
		}
	}
	if explicit != 1 || sink.counts["iot:CreateThing ALLOWED"] != 1 || sink.counts["iot:ListThings ALLOWED"] != 1 {
		t.Errorf("entries %+v counts %v", sink.entries, sink.counts)
	}
}

// TestAPIAuthorizer_ConditionKeys checks the keys bound per request:
// aws:username, aws:SourceIp (from the context), aws:PrincipalType and
// aws:PrincipalArn, aws:PrincipalTag/KEY of session tags, and the Cognito
// keys, in conditions and in resource variables.
func TestAPIAuthorizer_ConditionKeys(t *testing.T) {
	ctx := WithSourceIP(context.Background(), "10.9.8.7:5555")
	fiam := &fakeIAM{}
	fiam.set("alice", compiled(t, "own", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"iot:DescribeThing","Resource":"arn:aws:iot:R:thing/${aws:username}-*"},
		{"Effect":"Allow","Action":"iot:ListThings","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}},
		{"Effect":"Allow","Action":"iot:ListPolicies","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalType":"User","aws:PrincipalArn":"arn:aws:iam::000000000000:user/alice"}}}]}`))
	fiam.set("app", compiled(t, "app", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:R:topic/users/${cognito-identity.amazonaws.com:sub}/*"},
		{"Effect":"Allow","Action":"iot:ListThings","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"blue","aws:PrincipalArn":"arn:aws:iam::000000000000:role/app"}}}]}`))
	a := &APIAuthorizer{IAM: fiam, ARNs: testARNs}
	alice := user("alice", "AKIA1")
	tests := []struct {
		name           string
		ctx            context.Context
		p              auth.Principal
		action, target string
		want           bool
	}{
		{"username in resource", ctx, alice, "iot:DescribeThing", "arn:aws:iot:us-east-1:000000000000:thing/alice-lamp", true},
		{"username of another", ctx, alice, "iot:DescribeThing", "arn:aws:iot:us-east-1:000000000000:thing/bob-lamp", false},
		{"source ip inside", ctx, alice, "iot:ListThings", "*", true},
		{"source ip outside", WithSourceIP(context.Background(), "192.0.2.1:1"), alice, "iot:ListThings", "*", false},
		{"source ip unknown", context.Background(), alice, "iot:ListThings", "*", false},
		{"principal type and arn", ctx, alice, "iot:ListPolicies", "*", true},
		{"cognito sub in resource", ctx, cognito("app", "us-east-1:1111", false), "iot:Publish", "arn:aws:iot:us-east-1:000000000000:topic/users/us-east-1:1111/x", true},
		{"cognito sub of another", ctx, cognito("app", "us-east-1:1111", false), "iot:Publish", "arn:aws:iot:us-east-1:000000000000:topic/users/us-east-1:2222/x", false},
		{"session tag", ctx, session("app", auth.Session{Tags: map[string]string{"team": "blue"}}), "iot:ListThings", "*", true},
		{"session tag differs", ctx, session("app", auth.Session{Tags: map[string]string{"team": "red"}}), "iot:ListThings", "*", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := a.Authorize(tt.ctx, tt.p, tt.action, tt.target)
			if (err == nil) != tt.want {
				t.Fatalf("Authorize = %v, want allowed %v", err, tt.want)
			}
		})
	}
}

// TestAPIAuthorizer_CognitoLayers checks reference §11 on the data plane:
// an authenticated Cognito identity needs its role's IAM policy AND the
// IoT policy attached to its identity id; an unauthenticated identity is
// decided by its role alone; control-plane actions are the role's alone.
func TestAPIAuthorizer_CognitoLayers(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	publishAll := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iot:Publish","iot:ListThings"],"Resource":"*"}]}`
	e.iam.set("with-iam", compiled(t, "role-policy", publishAll))
	e.iam.set("no-iam", compiled(t, "role-nothing", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:ListThings","Resource":"*"}]}`))
	e.iotPolicy(t, "own-topics", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:R:topic/users/${cognito-identity.amazonaws.com:sub}/*"}]}`, "us-east-1:aaaa")
	e.iotPolicy(t, "deny-secret", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iot:Publish","Resource":"arn:aws:iot:R:topic/users/*/secret"}]}`, "us-east-1:cccc")
	a := e.gate.APIAuthorizer()
	own := func(id, leaf string) string {
		return "arn:aws:iot:us-east-1:000000000000:topic/users/" + id + "/" + leaf
	}
	tests := []struct {
		name     string
		p        auth.Principal
		action   string
		resource string
		want     policy.Result
	}{
		{"both layers allow", cognito("with-iam", "us-east-1:aaaa", true), "iot:Publish", own("us-east-1:aaaa", "x"), policy.Allowed},
		{"IoT layer does not match", cognito("with-iam", "us-east-1:aaaa", true), "iot:Publish", own("us-east-1:bbbb", "x"), policy.ImplicitDeny},
		{"IAM layer denies", cognito("no-iam", "us-east-1:aaaa", true), "iot:Publish", own("us-east-1:aaaa", "x"), policy.ImplicitDeny},
		{"no IoT policy attached", cognito("with-iam", "us-east-1:none", true), "iot:Publish", own("us-east-1:none", "x"), policy.ImplicitDeny},
		{"explicit deny in the IoT layer", cognito("with-iam", "us-east-1:cccc", true), "iot:Publish", own("us-east-1:cccc", "secret"), policy.ExplicitDeny},
		{"unauthenticated: role alone", cognito("with-iam", "us-east-1:none", false), "iot:Publish", own("us-east-1:none", "x"), policy.Allowed},
		{"unauthenticated: IoT policy ignored", cognito("no-iam", "us-east-1:aaaa", false), "iot:Publish", own("us-east-1:aaaa", "x"), policy.ImplicitDeny},
		{"control plane: role alone", cognito("with-iam", "us-east-1:none", true), "iot:ListThings", "*", policy.Allowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := a.Authorize(ctx, tt.p, tt.action, tt.resource)
			if tt.want == policy.Allowed {
				if err != nil {
					t.Fatalf("denied: %v", err)
				}
				return
			}
			denied(t, err, tt.want)
		})
	}
	// The IoT layer's denial is worded as an IoT policy's.
	err := a.Authorize(ctx, cognito("with-iam", "us-east-1:aaaa", true), "iot:Publish", own("us-east-1:bbbb", "x"))
	denied(t, err, policy.ImplicitDeny, "because no IoT policy allows the iot:Publish action", "assumed-role/with-iam/CognitoIdentityCredentials")
}

// TestAPIAuthorizer_Grant checks a custom authorizer's grant decides as
// IoT policies, compiled once per document.
func TestAPIAuthorizer_Grant(t *testing.T) {
	ctx := context.Background()
	a := &APIAuthorizer{ARNs: testARNs}
	p := grant("tokens", 0, 0, time.Now(), `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:R:topic/a/*"}]}`)
	if err := a.Authorize(ctx, p, "iot:Publish", topicARN); err != nil {
		t.Fatalf("granted publish: %v", err)
	}
	denied(t, a.Authorize(ctx, p, "iot:Publish", "arn:aws:iot:us-east-1:000000000000:topic/b"), policy.ImplicitDeny,
		"arn:aws:iot:us-east-1:000000000000:authorizer/tokens", "because no IoT policy allows")
	first, err := a.grants.compile(p.Grant)
	if err != nil {
		t.Fatal(err)
	}
	again, err := a.grants.compile(p.Grant)
	if err != nil || len(first) != 1 || first[0] != again[0] || first[0].Name != "tokens/policy-1" {
		t.Fatalf("compiled %v then %v (%v): want the same cached policy tokens/policy-1", first, again, err)
	}
	bad := grant("tokens", 0, 0, time.Now(), `{"Statement":[`)
	if err := a.Authorize(ctx, bad, "iot:Publish", topicARN); !awsapi.Is(err, awsapi.InternalFailure) {
		t.Fatalf("unparsable grant: %v, want an internal failure", err)
	}
}

// TestWithSourceIP checks the forms of remote address it takes.
func TestWithSourceIP(t *testing.T) {
	for in, want := range map[string]string{
		"10.0.0.1:443":          "10.0.0.1",
		"[2001:db8::1]:443":     "2001:db8::1",
		"[::ffff:10.0.0.2]:443": "10.0.0.2",
		"192.0.2.9":             "192.0.2.9",
		"not an address":        "",
		"":                      "",
	} {
		if got := sourceIPFrom(WithSourceIP(context.Background(), in)); got != want {
			t.Errorf("WithSourceIP(%q) = %q, want %q", in, got, want)
		}
	}
}
