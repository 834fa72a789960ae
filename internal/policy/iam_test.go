package policy

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// mustParse parses doc in a mode and compiles it.
func mustParse(t *testing.T, mode Mode, doc string) *Compiled {
	t.Helper()
	d, err := ParseOptions{Mode: mode, MaxSize: 10240}.Parse([]byte(doc))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	c, err := Compile("p", "v1", d)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return c
}

// TestParseOptions_Mode checks which elements each mode accepts.
func TestParseOptions_Mode(t *testing.T) {
	identity := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*","sts:AssumeRole","iotjobsdata:*","cognito-identity:*","iot:Publish"],"Resource":"*"}]}`
	withPrincipal := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"000000000000"},"Action":"sts:AssumeRole","Resource":"*"}]}`
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"000000000000"},"Action":"sts:AssumeRole"}]}`
	tests := []struct {
		name    string
		mode    Mode
		doc     string
		wantErr string // "" means accepted
	}{
		// Identity policies name the actions of other services.
		{"identity: other services", ModeIdentity, identity, ""},
		// IoT policies read the same grammar.
		{"iot: other services", ModeIoT, identity, ""},
		// Neither identity nor IoT policies name a principal.
		{"iot: principal", ModeIoT, withPrincipal, "Principal: not allowed: an IoT policy applies"},
		{"identity: principal", ModeIdentity, withPrincipal, "Principal: not allowed: an identity policy applies"},
		// A trust policy names a principal and no resource.
		{"trust", ModeTrust, trust, ""},
		{"trust: resource", ModeTrust, withPrincipal, "Resource: not allowed: a trust policy"},
		{"trust: no principal", ModeTrust, `{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole"}}`, "Principal: missing"},
		{"trust: both principals", ModeTrust, `{"Statement":{"Effect":"Deny","Principal":"*","NotPrincipal":"*","Action":"sts:AssumeRole"}}`, "cannot have both"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseOptions{Mode: tc.mode}.Parse([]byte(tc.doc))
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			var se *SyntaxError
			if err != nil && !errors.As(err, &se) {
				t.Fatalf("error %T is not a *SyntaxError", err)
			}
		})
	}
	if _, err := (ParseOptions{Mode: 7}).Parse([]byte(identity)); err == nil {
		t.Fatal("an unknown mode was accepted")
	}
}

// TestParse_TrustPrincipals checks the Principal element's grammar.
func TestParse_TrustPrincipals(t *testing.T) {
	doc := func(p string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":` + p + `,"Action":"sts:AssumeRole"}]}`
	}
	valid := []string{
		`"*"`,
		`{"AWS":"*"}`,
		`{"AWS":"000000000000"}`,
		`{"AWS":["arn:aws:iam::000000000000:root","arn:aws:iam::000000000000:user/a/b/alice","arn:aws:iam::000000000000:role/r"]}`,
		`{"AWS":"arn:aws:sts::000000000000:assumed-role/r/s"}`,
		`{"Service":["credentials.iot.amazonaws.com","iot.amazonaws.com"]}`,
		`{"Federated":"cognito-identity.amazonaws.com","AWS":"000000000000"}`,
		`{"CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}`,
	}
	for _, p := range valid {
		if _, err := (ParseOptions{Mode: ModeTrust}).Parse([]byte(doc(p))); err != nil {
			t.Errorf("Principal %s refused: %v", p, err)
		}
	}
	invalid := map[string]string{
		`"alice"`:         `must be "*" or an object`,
		`{}`:              "at least one principal",
		`{"Users":"x"}`:   "unknown principal type",
		`{"AWS":"alice"}`: "account id or an IAM ARN",
		`{"AWS":"arn:aws:iam::000000000000:user/*"}`:  "wildcards",
		`{"AWS":"arn:aws:iam::000000000000:group/g"}`: "root, user, role or assumed-role",
		`{"AWS":"arn:aws:iam::12:root"}`:              "account id or an IAM ARN",
		`{"Service":"*"}`:                             `"*" is allowed only`,
		`{"Service":""}`:                              "must not be empty",
		`{"AWS":[]}`:                                  "must not be an empty array",
		`{"AWS":"a","AWS":"b"}`:                       "duplicate principal type",
		`["*"]`:                                       `must be "*" or an object`,
	}
	for p, want := range invalid {
		_, err := (ParseOptions{Mode: ModeTrust}).Parse([]byte(doc(p)))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Principal %s: err = %v, want %q", p, err, want)
		}
	}
}

// TestEvaluate_Trust decides AssumeRole requests against trust policies.
func TestEvaluate_Trust(t *testing.T) {
	const acct = "000000000000"
	alice := &Caller{Type: PrincipalAWS, ID: "arn:aws:iam::" + acct + ":user/alice"}
	bob := &Caller{Type: PrincipalAWS, ID: "arn:aws:iam::" + acct + ":user/bob"}
	other := &Caller{Type: PrincipalAWS, ID: "arn:aws:iam::111111111111:user/alice"}
	session := &Caller{Type: PrincipalAWS, ID: "arn:aws:sts::" + acct + ":assumed-role/builder/s1"}
	iotCreds := &Caller{Type: PrincipalService, ID: "credentials.iot.amazonaws.com"}
	cognito := &Caller{Type: PrincipalFederated, ID: "cognito-identity.amazonaws.com"}
	trust := func(principal string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":` + principal + `,"Action":"sts:AssumeRole"}]}`
	}
	tests := []struct {
		name   string
		doc    string
		caller *Caller
		action string
		want   bool
	}{
		// The account root names every principal of the account.
		{"root names a user", trust(`{"AWS":"arn:aws:iam::` + acct + `:root"}`), alice, "sts:AssumeRole", true},
		{"account id names a user", trust(`{"AWS":"` + acct + `"}`), bob, "sts:AssumeRole", true},
		{"root names a session", trust(`{"AWS":"` + acct + `"}`), session, "sts:AssumeRole", true},
		// ...but not a principal of another account.
		{"root of another account", trust(`{"AWS":"` + acct + `"}`), other, "sts:AssumeRole", false},
		// A user ARN names that user only.
		{"user ARN", trust(`{"AWS":"arn:aws:iam::` + acct + `:user/alice"}`), alice, "sts:AssumeRole", true},
		{"another user", trust(`{"AWS":"arn:aws:iam::` + acct + `:user/alice"}`), bob, "sts:AssumeRole", false},
		// A role ARN names the sessions of the role, whatever its path.
		{"role names its session", trust(`{"AWS":"arn:aws:iam::` + acct + `:role/ci/builder"}`), session, "sts:AssumeRole", true},
		{"other role", trust(`{"AWS":"arn:aws:iam::` + acct + `:role/deployer"}`), session, "sts:AssumeRole", false},
		// "*" names everyone; {"AWS":"*"} every AWS principal only.
		{"star", trust(`"*"`), iotCreds, "sts:AssumeRole", true},
		{"AWS star for a service", trust(`{"AWS":"*"}`), iotCreds, "sts:AssumeRole", false},
		{"AWS star for a user", trust(`{"AWS":"*"}`), other, "sts:AssumeRole", true},
		// Service principals match exactly.
		{"service", trust(`{"Service":"credentials.iot.amazonaws.com"}`), iotCreds, "sts:AssumeRole", true},
		{"service is not a federated provider", trust(`{"Service":"cognito-identity.amazonaws.com"}`), cognito, "sts:AssumeRole", false},
		// The action must match too.
		{"other action", trust(`{"AWS":"` + acct + `"}`), alice, "sts:AssumeRoleWithWebIdentity", false},
		// No caller: a trust statement does not apply.
		{"no caller", trust(`"*"`), nil, "sts:AssumeRole", false},
		// A NotPrincipal Deny applies to everyone not listed.
		{"not principal deny", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"},{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::` + acct + `:user/alice"},"Action":"sts:AssumeRole"}]}`, bob, "sts:AssumeRole", false},
		{"not principal spares the listed", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"},{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::` + acct + `:user/alice"},"Action":"sts:AssumeRole"}]}`, alice, "sts:AssumeRole", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := mustParse(t, ModeTrust, tc.doc)
			d := Evaluate([]*Compiled{c}, &Request{Action: tc.action, Resource: "arn:aws:iam::" + acct + ":role/r", Caller: tc.caller})
			if d.Allowed != tc.want {
				t.Fatalf("allowed = %v (%s), want %v", d.Allowed, d, tc.want)
			}
		})
	}
}

// TestEvaluate_TrustConditions checks a Cognito-style trust policy with
// conditions on the federated provider's keys.
func TestEvaluate_TrustConditions(t *testing.T) {
	c := mustParse(t, ModeTrust, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
		"Principal":{"Federated":"cognito-identity.amazonaws.com"},"Action":"sts:AssumeRoleWithWebIdentity",
		"Condition":{"StringEquals":{"cognito-identity.amazonaws.com:aud":"us-east-1:pool"},
		"ForAnyValue:StringLike":{"cognito-identity.amazonaws.com:amr":"authenticated"}}}]}`)
	caller := &Caller{Type: PrincipalFederated, ID: "cognito-identity.amazonaws.com"}
	decide := func(aud string, amr ...string) bool {
		var v Vars
		v.Set("cognito-identity.amazonaws.com:aud", aud)
		v.Set("cognito-identity.amazonaws.com:amr", amr...)
		return Evaluate([]*Compiled{c}, &Request{Action: "sts:AssumeRoleWithWebIdentity", Resource: "*", Vars: &v, Caller: caller}).Allowed
	}
	if !decide("us-east-1:pool", "authenticated", "cognito-identity.amazonaws.com") {
		t.Fatal("an authenticated identity of the pool was refused")
	}
	if decide("us-east-1:pool", "unauthenticated") {
		t.Fatal("an unauthenticated identity was trusted")
	}
	if decide("us-east-1:other", "authenticated") {
		t.Fatal("an identity of another pool was trusted")
	}
}

// TestEvaluate_AWSConditionKeys checks that the aws: keys IAM policies
// use parse and evaluate from Vars.
func TestEvaluate_AWSConditionKeys(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	vars := &Vars{SourceIP: "192.0.2.7", Now: now}
	vars.Set("aws:username", "alice")
	vars.Set("aws:userid", "AIDAEXAMPLE")
	vars.Set("aws:PrincipalTag/team", "lamps")
	vars.Set("aws:PrincipalArn", "arn:aws:iam::000000000000:user/ops/alice")
	vars.Set("aws:PrincipalType", "User")
	vars.Set("aws:TokenIssueTime", "2026-05-01T11:30:00Z")
	allow := func(cond string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*","Condition":` + cond + `}]}`
	}
	tests := []struct {
		name, doc, resource string
		want                bool
	}{
		{"username variable", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","Resource":"arn:aws:iam::000000000000:user/${aws:username}"}]}`, "arn:aws:iam::000000000000:user/alice", true},
		{"username variable, other user", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","Resource":"arn:aws:iam::000000000000:user/${aws:username}"}]}`, "arn:aws:iam::000000000000:user/bob", false},
		{"userid", allow(`{"StringEquals":{"aws:userid":"AIDAEXAMPLE"}}`), "*", true},
		{"principal tag", allow(`{"StringEquals":{"aws:PrincipalTag/team":"lamps"}}`), "*", true},
		{"principal tag mismatch", allow(`{"StringEquals":{"aws:PrincipalTag/team":"doors"}}`), "*", false},
		{"principal tag absent", allow(`{"StringEquals":{"aws:PrincipalTag/site":"x"}}`), "*", false},
		{"source ip", allow(`{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"}}`), "*", true},
		{"source ip outside", allow(`{"IpAddress":{"aws:SourceIp":"198.51.100.0/24"}}`), "*", false},
		{"current time", allow(`{"DateLessThan":{"aws:CurrentTime":"2026-06-01T00:00:00Z"}}`), "*", true},
		{"current time past", allow(`{"DateGreaterThan":{"aws:CurrentTime":"2026-06-01T00:00:00Z"}}`), "*", false},
		{"principal arn", allow(`{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::000000000000:user/ops/*"}}`), "*", true},
		{"principal type", allow(`{"StringEquals":{"aws:PrincipalType":"AssumedRole"}}`), "*", false},
		{"token issue time", allow(`{"DateGreaterThan":{"aws:TokenIssueTime":"2026-05-01T11:00:00Z"}}`), "*", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := mustParse(t, ModeIdentity, tc.doc)
			action := "iot:Publish"
			if strings.Contains(tc.doc, "iam:GetUser") {
				action = "iam:GetUser"
			}
			d := Evaluate([]*Compiled{c}, &Request{Action: action, Resource: tc.resource, Vars: vars})
			if d.Allowed != tc.want {
				t.Fatalf("allowed = %v, want %v", d.Allowed, tc.want)
			}
		})
	}
}

// TestParseOptions_IAMSizes checks IAM's size quotas through MaxSize:
// whitespace does not count.
func TestParseOptions_IAMSizes(t *testing.T) {
	pad := strings.Repeat("a", 6000)
	doc := `{"Statement":{"Sid":"` + pad + `","Effect":"Allow","Action":"iot:*","Resource":"*"}}`
	if _, err := (ParseOptions{Mode: ModeIdentity, MaxSize: 6144}).Parse([]byte(doc)); err != nil {
		t.Fatalf("a %d-character document was refused under 6144: %v", len(doc), err)
	}
	if _, err := (ParseOptions{Mode: ModeIdentity}).Parse([]byte(doc)); err == nil {
		t.Fatal("the default limit of 2048 let a 6000-character document through")
	}
	spaced := `{"Statement":` + strings.Repeat(" \n\t", 5000) + `{"Effect":"Allow","Action":"iot:*","Resource":"*"}}`
	if _, err := (ParseOptions{Mode: ModeIdentity}).Parse([]byte(spaced)); err != nil {
		t.Fatalf("whitespace counted against the limit: %v", err)
	}
}
