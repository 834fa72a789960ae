package iam

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/auth"
)

// TestService_AssumeRole mints credentials whose session names the role,
// the caller and the tags, for callers the trust policy trusts.
func TestService_AssumeRole(t *testing.T) {
	f := newFixture(t)
	mustUser(t, f, "alice")
	mustUser(t, f, "bob")
	trust := `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/alice"},"Action":"sts:AssumeRole",
	  "Condition":{"StringLike":{"sts:RoleSessionName":"ci-*"}}}}`
	role, err := f.CreateRole(ctx, CreateRoleInput{RoleName: "builder", Path: "/ci/", TrustPolicy: trust, MaxSessionDuration: 2 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now().Add(-time.Second)
	out, err := f.AssumeRole(ctx, AssumeRoleInput{Caller: userPrincipal("alice"), RoleARN: role.ARN, SessionName: "ci-1",
		Duration: 90 * time.Minute, Tags: []Tag{{"job", "42"}}})
	if err != nil {
		t.Fatal(err)
	}
	if out.ARN != "arn:aws:sts::000000000000:assumed-role/builder/ci-1" || out.AssumedRoleID != role.ID+":ci-1" {
		t.Fatalf("AssumeRole = %+v", out)
	}
	c := out.Credentials
	if !strings.HasPrefix(c.AccessKeyID, "ASIA") || c.SessionToken == "" || c.Expiration.Before(before.Add(90*time.Minute)) || c.Expiration.After(time.Now().Add(91*time.Minute)) {
		t.Fatalf("credentials = %+v", c)
	}
	s, err := f.auth.OpenSession(ctx, c.AccessKeyID, c.SessionToken)
	if err != nil {
		t.Fatal(err)
	}
	if s.RoleName != "builder" || s.RoleARN != role.ARN || s.SessionName != "ci-1" || s.Source != auth.SourceSTS ||
		s.SourceARN != "arn:aws:iam::000000000000:user/alice" || s.Tags["job"] != "42" {
		t.Fatalf("session = %+v", s)
	}

	// Refusals: every one an AccessDenied that does not say whether the
	// role exists.
	denied := map[string]AssumeRoleInput{
		"untrusted caller":      {Caller: userPrincipal("bob"), RoleARN: role.ARN, SessionName: "ci-1"},
		"condition fails":       {Caller: userPrincipal("alice"), RoleARN: role.ARN, SessionName: "dev-1"},
		"unknown role":          {Caller: userPrincipal("alice"), RoleARN: "arn:aws:iam::000000000000:role/ci/ghost", SessionName: "ci-1"},
		"path missing":          {Caller: userPrincipal("alice"), RoleARN: "arn:aws:iam::000000000000:role/builder", SessionName: "ci-1"},
		"certificate caller":    {Caller: auth.Principal{Kind: auth.KindCertificate, CertificateID: "c"}, RoleARN: role.ARN, SessionName: "ci-1"},
		"deleted caller":        {Caller: userPrincipal("ghost"), RoleARN: role.ARN, SessionName: "ci-1"},
		"session of other role": {Caller: rolePrincipal("builder"), RoleARN: role.ARN, SessionName: "ci-1"},
	}
	for name, in := range denied {
		t.Run(name, func(t *testing.T) {
			_, err := f.AssumeRole(ctx, in)
			if !errors.Is(err, ErrAccessDenied) && !errors.Is(err, ErrNoSuchEntity) {
				t.Fatalf("err = %v, want AccessDenied", err)
			}
		})
	}
	invalid := map[string]AssumeRoleInput{
		"session name short": {RoleARN: role.ARN, SessionName: "c"},
		"session name chars": {RoleARN: role.ARN, SessionName: "ci 1"},
		"duration short":     {RoleARN: role.ARN, SessionName: "ci-1", Duration: 899 * time.Second},
		"duration over role": {RoleARN: role.ARN, SessionName: "ci-1", Duration: 3 * time.Hour},
		"session policy":     {RoleARN: role.ARN, SessionName: "ci-1", Policy: allowAll},
		"bad tag":            {RoleARN: role.ARN, SessionName: "ci-1", Tags: []Tag{{Key: "aws:x"}}},
		"role arn too short": {RoleARN: "arn:x", SessionName: "ci-1"},
	}
	for name, in := range invalid {
		t.Run(name, func(t *testing.T) {
			in.Caller = userPrincipal("alice")
			_, err := f.AssumeRole(ctx, in)
			var e *Error
			if !errors.As(err, &e) || e.Code != ValidationError && e.Code != InvalidInput {
				t.Fatalf("err = %v, want a validation error", err)
			}
		})
	}
}

// TestService_AssumeRoleChaining lets a role session assume a role that
// trusts it, for at most an hour.
func TestService_AssumeRoleChaining(t *testing.T) {
	f := newFixture(t)
	if _, err := f.CreateRole(ctx, CreateRoleInput{RoleName: "first", TrustPolicy: trustAccount}); err != nil {
		t.Fatal(err)
	}
	second, err := f.CreateRole(ctx, CreateRoleInput{RoleName: "second", MaxSessionDuration: 4 * time.Hour,
		TrustPolicy: `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:role/first"},"Action":"sts:AssumeRole"}}`})
	if err != nil {
		t.Fatal(err)
	}
	caller := rolePrincipal("first")
	out, err := f.AssumeRole(ctx, AssumeRoleInput{Caller: caller, RoleARN: second.ARN, SessionName: "chained"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := f.auth.OpenSession(ctx, out.Credentials.AccessKeyID, out.Credentials.SessionToken)
	if err != nil || s.SourceARN != "arn:aws:sts::000000000000:assumed-role/first/s" {
		t.Fatalf("session = %+v, %v", s, err)
	}
	_, err = f.AssumeRole(ctx, AssumeRoleInput{Caller: caller, RoleARN: second.ARN, SessionName: "chained", Duration: 2 * time.Hour})
	wantCode(t, err, ValidationError)
}

// TestService_CallerIdentity names users and role sessions as STS does.
func TestService_CallerIdentity(t *testing.T) {
	f := newFixture(t)
	u, err := f.CreateUser(ctx, CreateUserInput{UserName: "alice", Path: "/ops/"})
	if err != nil {
		t.Fatal(err)
	}
	id, err := f.CallerIdentity(ctx, userPrincipal("alice"))
	if err != nil || id != (Identity{UserID: u.ID, Account: testAccount, ARN: "arn:aws:iam::000000000000:user/ops/alice", Type: "User"}) {
		t.Fatalf("user = %+v, %v", id, err)
	}
	r, err := f.CreateRole(ctx, CreateRoleInput{RoleName: "builder", TrustPolicy: trustAccount})
	if err != nil {
		t.Fatal(err)
	}
	id, err = f.CallerIdentity(ctx, rolePrincipal("builder"))
	if err != nil || id != (Identity{UserID: r.ID + ":s", Account: testAccount, ARN: "arn:aws:sts::000000000000:assumed-role/builder/s", Type: "AssumedRole"}) {
		t.Fatalf("role = %+v, %v", id, err)
	}
	_, err = f.CallerIdentity(ctx, auth.Principal{Kind: auth.KindCertificate})
	wantCode(t, err, AccessDenied)
}

// TestService_SessionBoundToRoleID: a session is the role it was issued
// for; a role deleted and made again under the same name is another role,
// so the old session has no identity policies (AWS ties sessions to the
// role's unique id).
func TestService_SessionBoundToRoleID(t *testing.T) {
	f := newFixture(t)
	mustUser(t, f, "alice")
	trust := `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/alice"},"Action":"sts:AssumeRole"}}`
	role, err := f.CreateRole(ctx, CreateRoleInput{RoleName: "app", TrustPolicy: trust})
	if err != nil {
		t.Fatal(err)
	}
	out, err := f.AssumeRole(ctx, AssumeRoleInput{Caller: userPrincipal("alice"), RoleARN: role.ARN, SessionName: "s1", Duration: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := f.auth.OpenSession(ctx, out.Credentials.AccessKeyID, out.Credentials.SessionToken)
	if err != nil {
		t.Fatal(err)
	}
	if sess.RoleID != role.ID {
		t.Fatalf("session role id %q, want %q", sess.RoleID, role.ID)
	}
	p := auth.Principal{Kind: auth.KindRole, AccessKeyID: out.Credentials.AccessKeyID, Session: sess}
	if _, err := f.IdentityPolicies(ctx, p); err != nil {
		t.Fatalf("IdentityPolicies of a live session: %v", err)
	}
	if err := f.DeleteRole(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	again, err := f.CreateRole(ctx, CreateRoleInput{RoleName: "app", TrustPolicy: trust})
	if err != nil {
		t.Fatal(err)
	}
	if again.ID == role.ID {
		t.Fatal("a new role got the old id")
	}
	_, err = f.IdentityPolicies(ctx, p)
	wantCode(t, err, NoSuchEntity)
	id, err := f.CallerIdentity(ctx, p)
	if err != nil || strings.HasPrefix(id.UserID, again.ID) {
		t.Fatalf("CallerIdentity of the old session = %+v, %v; must not name the new role", id, err)
	}
}

// TestService_TrustBoundToUserID: a trust policy naming a user by ARN
// trusts that user, not a user made later under the same name (IAM
// records the unique id); another statement (the account) still counts,
// and storing the trust policy again trusts the new user.
func TestService_TrustBoundToUserID(t *testing.T) {
	f := newFixture(t)
	mustUser(t, f, "alice")
	byARN := `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/alice"},"Action":"sts:AssumeRole"}}`
	byARNOrAccount := `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/alice"},"Action":"sts:AssumeRole"},
	  {"Effect":"Allow","Principal":{"AWS":"000000000000"},"Action":"sts:AssumeRole"}]}`
	named, err := f.CreateRole(ctx, CreateRoleInput{RoleName: "named", TrustPolicy: byARN})
	if err != nil {
		t.Fatal(err)
	}
	both, err := f.CreateRole(ctx, CreateRoleInput{RoleName: "both", TrustPolicy: byARNOrAccount})
	if err != nil {
		t.Fatal(err)
	}
	assume := func(roleARN string) error {
		_, err := f.AssumeRole(ctx, AssumeRoleInput{Caller: userPrincipal("alice"), RoleARN: roleARN, SessionName: "s1"})
		return err
	}
	if err := assume(named.ARN); err != nil {
		t.Fatalf("the named user: %v", err)
	}
	if err := f.DeleteUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	mustUser(t, f, "alice")
	if err := assume(named.ARN); !errors.Is(err, ErrAccessDenied) {
		t.Fatalf("a new user of the same name: %v, want AccessDenied", err)
	}
	if err := assume(both.ARN); err != nil {
		t.Fatalf("trusted by account too: %v", err)
	}
	if err := f.UpdateAssumeRolePolicy(ctx, "named", byARN); err != nil {
		t.Fatal(err)
	}
	if err := assume(named.ARN); err != nil {
		t.Fatalf("after the trust policy is stored again: %v", err)
	}
}
