package iam

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/policy"
)

const (
	thingARN = "arn:aws:iot:us-east-1:000000000000:thing/lamp-1"
	topicARN = "arn:aws:iot:us-east-1:000000000000:topic/lamp-1/state"
)

// TestIdentityPolicies_AWSManaged checks the decisions of the AWS managed
// policies for IoT users.
func TestIdentityPolicies_AWSManaged(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		policy string
		allow  []string
		deny   []string
	}{
		{"AWSIoTDataAccess",
			[]string{"iot:Publish", "iot:Connect", "iot:Subscribe", "iot:Receive", "iot:GetThingShadow", "iot:UpdateThingShadow", "iot:DeleteThingShadow", "iot:ListNamedShadowsForThing"},
			[]string{"iot:CreateThing", "iot:ListThings", "iot:DeleteThing", "iam:CreateUser"}},
		{"AWSIoTConfigReadOnlyAccess",
			[]string{"iot:ListThings", "iot:DescribeThing", "iot:GetPolicy", "iot:ListThingGroups", "iot:SearchIndex"},
			[]string{"iot:CreateThing", "iot:Publish", "iot:DeleteThing", "iot:UpdateThingShadow", "iot:AttachPolicy"}},
		{"AWSIoTConfigAccess",
			[]string{"iot:CreateThing", "iot:ListThings", "iot:AttachPolicy", "iot:CreateKeysAndCertificate", "iot:TagResource"},
			[]string{"iot:Publish", "iot:Connect", "iot:GetThingShadow", "iam:CreateUser"}},
		{"AWSIoTFullAccess",
			[]string{"iot:CreateThing", "iot:Publish", "iotjobsdata:DescribeJobExecution"},
			[]string{"iam:CreateUser", "sts:AssumeRole"}},
	}
	for _, tc := range tests {
		t.Run(tc.policy, func(t *testing.T) {
			name := "u-" + tc.policy
			mustUser(t, f, name)
			if err := f.AttachPolicy(ctx, UserEntity, name, AWSPolicyARNPrefix+tc.policy); err != nil {
				t.Fatal(err)
			}
			p := userPrincipal(name)
			for _, a := range tc.allow {
				if d := decide(t, f, p, a, thingARN); !d.Allowed || d.Policy != AWSPolicyARNPrefix+tc.policy {
					t.Errorf("%s: %s = %s, want allowed by the policy", tc.policy, a, d)
				}
			}
			for _, a := range tc.deny {
				if d := decide(t, f, p, a, thingARN); d.Allowed {
					t.Errorf("%s: %s allowed", tc.policy, a)
				}
			}
		})
	}
}

// TestIdentityPolicies_DenyBeatsManagedAllow: an explicit Deny in an
// inline policy overrides an attached managed Allow.
func TestIdentityPolicies_DenyBeatsManagedAllow(t *testing.T) {
	f := newFixture(t)
	mustUser(t, f, "alice")
	if err := f.AttachPolicy(ctx, UserEntity, "alice", AWSPolicyARNPrefix+"AWSIoTFullAccess"); err != nil {
		t.Fatal(err)
	}
	p := userPrincipal("alice")
	if d := decide(t, f, p, "iot:Publish", topicARN); !d.Allowed {
		t.Fatalf("before the deny: %s", d)
	}
	deny := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iot:Publish","Resource":"arn:aws:iot:*:*:topic/lamp-1/*"}]}`
	if err := f.PutPolicy(ctx, UserEntity, "alice", "no-lamps", deny); err != nil {
		t.Fatal(err)
	}
	d := decide(t, f, p, "iot:Publish", topicARN)
	if d.Result != policy.ExplicitDeny || d.Policy != "user/alice/no-lamps" || d.PolicyVersion != "inline" {
		t.Fatalf("after the deny: %s", d)
	}
	if d := decide(t, f, p, "iot:Publish", "arn:aws:iot:us-east-1:000000000000:topic/door/x"); !d.Allowed {
		t.Fatalf("another topic: %s", d)
	}
	if d := decide(t, f, p, "iot:CreateThing", thingARN); !d.Allowed {
		t.Fatalf("another action: %s", d)
	}
}

// TestIdentityPolicies_Sources: a user's inline and attached policies
// (customer managed at their default version); a role session gets its
// role's; other principals and missing entities are errors.
func TestIdentityPolicies_Sources(t *testing.T) {
	f := newFixture(t)
	mustUser(t, f, "alice")
	pol, err := f.CreatePolicy(ctx, CreatePolicyInput{PolicyName: "things", Document: `{"Statement":{"Effect":"Allow","Action":"iot:CreateThing","Resource":"*"}}`})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.AttachPolicy(ctx, UserEntity, "alice", pol.ARN); err != nil {
		t.Fatal(err)
	}
	if err := f.PutPolicy(ctx, UserEntity, "alice", "self", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:GetUser","Resource":"arn:aws:iam::000000000000:user/${aws:username}"}}`); err != nil {
		t.Fatal(err)
	}
	p := userPrincipal("alice")
	if d := decide(t, f, p, "iam:GetUser", "arn:aws:iam::000000000000:user/alice"); !d.Allowed {
		t.Fatalf("own user: %s", d)
	}
	if d := decide(t, f, p, "iam:GetUser", "arn:aws:iam::000000000000:user/bob"); d.Allowed {
		t.Fatalf("other user: %s", d)
	}
	if d := decide(t, f, p, "iot:CreateThing", thingARN); !d.Allowed || d.Policy != pol.ARN || d.PolicyVersion != "v1" {
		t.Fatalf("managed v1: %s", d)
	}
	// A new default version takes over.
	if _, err := f.CreatePolicyVersion(ctx, pol.ARN, `{"Statement":{"Effect":"Allow","Action":"iot:DeleteThing","Resource":"*"}}`, true); err != nil {
		t.Fatal(err)
	}
	if d := decide(t, f, p, "iot:CreateThing", thingARN); d.Allowed {
		t.Fatalf("v1 still in force: %s", d)
	}
	if d := decide(t, f, p, "iot:DeleteThing", thingARN); !d.Allowed || d.PolicyVersion != "v2" {
		t.Fatalf("v2: %s", d)
	}

	if _, err := f.CreateRole(ctx, CreateRoleInput{RoleName: "Builder", TrustPolicy: trustAccount}); err != nil {
		t.Fatal(err)
	}
	if err := f.AttachPolicy(ctx, RoleEntity, "builder", AWSPolicyARNPrefix+"AWSIoTDataAccess"); err != nil {
		t.Fatal(err)
	}
	if d := decide(t, f, rolePrincipal("builder"), "iot:Publish", topicARN); !d.Allowed {
		t.Fatalf("role session: %s", d)
	}

	_, err = f.IdentityPolicies(ctx, userPrincipal("ghost"))
	if !errors.Is(err, ErrNoSuchEntity) {
		t.Fatalf("missing user: %v", err)
	}
	_, err = f.IdentityPolicies(ctx, rolePrincipal("ghost"))
	if !errors.Is(err, ErrNoSuchEntity) {
		t.Fatalf("missing role: %v", err)
	}
	for _, p := range []auth.Principal{{Kind: auth.KindCertificate, CertificateID: "x"}, {Kind: auth.KindRole}, {}} {
		if _, err := f.IdentityPolicies(ctx, p); err == nil || errors.Is(err, ErrNoSuchEntity) {
			t.Fatalf("principal %v: err = %v, want a plain error", p.Kind, err)
		}
	}
	// The administrator is a user like the others here (the access layer
	// allows it everything before asking).
	if ps, err := f.IdentityPolicies(ctx, userPrincipal(auth.AdminUser)); err != nil || len(ps) != 0 {
		t.Fatalf("admin = %v, %v", ps, err)
	}
}

// TestIdentityPolicies_Cache serves repeated calls from the cache and
// drops every entry when anything changes.
func TestIdentityPolicies_Cache(t *testing.T) {
	f := newFixture(t)
	mustUser(t, f, "alice")
	mustUser(t, f, "bob")
	if err := f.PutPolicy(ctx, UserEntity, "alice", "a", allowIoT); err != nil {
		t.Fatal(err)
	}
	first, err := f.IdentityPolicies(ctx, userPrincipal("alice"))
	if err != nil || len(first) != 1 {
		t.Fatalf("first = %v, %v", first, err)
	}
	again, _ := f.IdentityPolicies(ctx, userPrincipal("ALICE"))
	if len(again) != 1 || again[0] != first[0] {
		t.Fatal("a repeated call compiled again instead of using the cache")
	}
	// A change to someone else makes the entry stale too (one counter).
	if err := f.PutPolicy(ctx, UserEntity, "bob", "b", allowIoT); err != nil {
		t.Fatal(err)
	}
	after, _ := f.IdentityPolicies(ctx, userPrincipal("alice"))
	if len(after) != 1 || after[0] == first[0] {
		t.Fatal("the cache survived a change")
	}
	if err := f.DeleteInlinePolicy(ctx, UserEntity, "alice", "a"); err != nil {
		t.Fatal(err)
	}
	if ps, _ := f.IdentityPolicies(ctx, userPrincipal("alice")); len(ps) != 0 {
		t.Fatalf("deleted policy still returned: %v", ps)
	}
	// Entries expire for changes made by other nodes.
	clock := time.Now()
	f2 := newFixture(t, func(c *Config) { c.Now = func() time.Time { return clock } })
	mustUser(t, f2, "carol")
	ps1, _ := f2.IdentityPolicies(ctx, userPrincipal("carol"))
	other, _ := New(Config{Store: f2.st, Account: testAccount}) // "another node"
	if err := other.PutPolicy(ctx, UserEntity, "carol", "c", allowIoT); err != nil {
		t.Fatal(err)
	}
	if ps, _ := f2.IdentityPolicies(ctx, userPrincipal("carol")); len(ps) != len(ps1) {
		t.Fatal("expected the cached answer before the TTL")
	}
	clock = clock.Add(identityCacheTTL)
	if ps, _ := f2.IdentityPolicies(ctx, userPrincipal("carol")); len(ps) != 1 {
		t.Fatalf("after the TTL: %v", ps)
	}
}

// TestIdentityPolicies_CacheBounded keeps at most CacheSize entries.
func TestIdentityPolicies_CacheBounded(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.CacheSize = 3 })
	for i := range 10 {
		n := fmt.Sprintf("u%d", i)
		mustUser(t, f, n)
	}
	for i := range 10 {
		if _, err := f.IdentityPolicies(ctx, userPrincipal(fmt.Sprintf("u%d", i))); err != nil {
			t.Fatal(err)
		}
		if n := f.cache.len(); n > 3 {
			t.Fatalf("cache holds %d entries", n)
		}
	}
}

// TestIdentityPolicies_Concurrent: readers racing with a writer never see
// a policy older than a change that returned before their call began.
func TestIdentityPolicies_Concurrent(t *testing.T) {
	f := newFixture(t)
	mustUser(t, f, "alice")
	p := userPrincipal("alice")
	doc := func(i int) string {
		return fmt.Sprintf(`{"Statement":{"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:us-east-1:000000000000:topic/v%d"}}`, i)
	}
	var mu sync.RWMutex
	committed := 0 // the last version whose Put returned
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				mu.RLock()
				want := committed
				mu.RUnlock()
				ps, err := f.IdentityPolicies(ctx, p)
				if err != nil {
					errs <- err
					return
				}
				if want == 0 {
					continue
				}
				// The version read must be want or later.
				ok := false
				for v := want; v <= want+50; v++ {
					d := policy.Evaluate(ps, &policy.Request{Action: "iot:Publish", Resource: fmt.Sprintf("arn:aws:iot:us-east-1:000000000000:topic/v%d", v)})
					if d.Allowed {
						ok = true
						break
					}
				}
				if !ok {
					errs <- fmt.Errorf("read a policy older than version %d", want)
					return
				}
			}
		}()
	}
	for i := 1; i <= 30; i++ {
		if err := f.PutPolicy(ctx, UserEntity, "alice", "p", doc(i)); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		committed = i
		mu.Unlock()
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
