package iam

import (
	"strings"
	"testing"
)

// sized returns an identity policy document of exactly n characters
// excluding whitespace.
func sized(n int) string {
	head := `{"Statement":{"Sid":"`
	tail := `","Effect":"Allow","Action":"iot:*","Resource":"*"}}`
	return head + strings.Repeat("a", n-len(head)-len(tail)) + tail
}

// TestService_InlinePolicies puts, reads, lists and deletes inline
// policies of users and roles, names compared without regard to case.
func TestService_InlinePolicies(t *testing.T) {
	f := newFixture(t)
	mustUser(t, f, "alice")
	if _, err := f.CreateRole(ctx, CreateRoleInput{RoleName: "r", TrustPolicy: trustAccount}); err != nil {
		t.Fatal(err)
	}
	for _, typ := range []EntityType{UserEntity, RoleEntity} {
		name := "alice"
		if typ == RoleEntity {
			name = "r"
		}
		t.Run(typ.String(), func(t *testing.T) {
			if err := f.PutPolicy(ctx, typ, name, "Pub", allowIoT); err != nil {
				t.Fatal(err)
			}
			if err := f.PutPolicy(ctx, typ, name, "all", allowAll); err != nil {
				t.Fatal(err)
			}
			// Same name in another case: replaced, spelled anew.
			if err := f.PutPolicy(ctx, typ, name, "ALL", allowIoT); err != nil {
				t.Fatal(err)
			}
			stored, doc, err := f.GetInlinePolicy(ctx, typ, name, "all")
			if err != nil || stored != "ALL" || doc != allowIoT {
				t.Fatalf("GetInlinePolicy = %q %q %v", stored, doc, err)
			}
			names, next, err := f.ListInlinePolicies(ctx, typ, name, Page{})
			if err != nil || next != "" || strings.Join(names, ",") != "ALL,Pub" {
				t.Fatalf("ListInlinePolicies = %v %q %v", names, next, err)
			}
			first, next, err := f.ListInlinePolicies(ctx, typ, name, Page{MaxItems: 1})
			if err != nil || len(first) != 1 || next == "" {
				t.Fatalf("first page = %v %q %v", first, next, err)
			}
			rest, next, err := f.ListInlinePolicies(ctx, typ, name, Page{MaxItems: 1, Marker: next})
			if err != nil || len(rest) != 1 || rest[0] != "Pub" || next != "" {
				t.Fatalf("second page = %v %q %v", rest, next, err)
			}
			if err := f.DeleteInlinePolicy(ctx, typ, name, "pub"); err != nil {
				t.Fatal(err)
			}
			wantCode(t, f.DeleteInlinePolicy(ctx, typ, name, "pub"), NoSuchEntity)
			_, _, err = f.GetInlinePolicy(ctx, typ, name, "pub")
			wantCode(t, err, NoSuchEntity)
		})
	}
	wantCode(t, f.PutPolicy(ctx, UserEntity, "nobody", "p", allowAll), NoSuchEntity)
	wantCode(t, f.PutPolicy(ctx, RoleEntity, "nobody", "p", allowAll), NoSuchEntity)
}

// TestService_InlinePolicyDocuments refuses bad documents with IAM's
// codes and changes nothing.
func TestService_InlinePolicyDocuments(t *testing.T) {
	f := newFixture(t)
	mustUser(t, f, "alice")
	if _, err := f.CreateRole(ctx, CreateRoleInput{RoleName: "r", TrustPolicy: trustAccount}); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		doc  string
		code Code
	}{
		"not JSON":        {`{"Statement":`, MalformedPolicyDocument},
		"unknown element": {`{"Statement":[],"Foo":1}`, MalformedPolicyDocument},
		"principal":       {`{"Statement":{"Effect":"Allow","Principal":"*","Action":"iot:*","Resource":"*"}}`, MalformedPolicyDocument},
		"no vendor":       {`{"Statement":{"Effect":"Allow","Action":"Publish","Resource":"*"}}`, MalformedPolicyDocument},
		"empty":           {``, ValidationError},
		"not Latin-1":     {`{"Statement":{"Sid":"ü€","Effect":"Allow","Action":"iot:*","Resource":"*"}}`, ValidationError},
		"too long":        {sized(2049), LimitExceeded},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			wantCode(t, f.PutPolicy(ctx, UserEntity, "alice", "p", tc.doc), tc.code)
		})
	}
	// The user quota is on all inline policies together...
	if err := f.PutPolicy(ctx, UserEntity, "alice", "a", sized(1500)); err != nil {
		t.Fatal(err)
	}
	wantCode(t, f.PutPolicy(ctx, UserEntity, "alice", "b", sized(600)), LimitExceeded)
	// ...replacing a policy counts its new size only.
	if err := f.PutPolicy(ctx, UserEntity, "alice", "A", sized(2048)); err != nil {
		t.Fatalf("replacing within the quota: %v", err)
	}
	// Roles have 10240.
	if err := f.PutPolicy(ctx, RoleEntity, "r", "a", sized(6000)); err != nil {
		t.Fatal(err)
	}
	if err := f.PutPolicy(ctx, RoleEntity, "r", "b", sized(4240)); err != nil {
		t.Fatal(err)
	}
	wantCode(t, f.PutPolicy(ctx, RoleEntity, "r", "c", sized(100)), LimitExceeded)
	names, _, _ := f.ListInlinePolicies(ctx, UserEntity, "alice", Page{})
	if strings.Join(names, ",") != "A" {
		t.Fatalf("user policies after refusals = %v", names)
	}
}

// TestService_ManagedPolicies covers a customer managed policy's life:
// create, versions, default, attach counts, delete conflicts.
func TestService_ManagedPolicies(t *testing.T) {
	f := newFixture(t)
	p, err := f.CreatePolicy(ctx, CreatePolicyInput{PolicyName: "Pub", Path: "/iot/", Document: allowIoT, Description: "d"})
	if err != nil {
		t.Fatal(err)
	}
	arn := "arn:aws:iam::000000000000:policy/iot/Pub"
	if p.ARN != arn || p.DefaultVersionID != "v1" || !strings.HasPrefix(p.ID, "ANPA") || p.AttachmentCount != 0 || p.AWSManaged {
		t.Fatalf("CreatePolicy = %+v", p)
	}
	_, err = f.CreatePolicy(ctx, CreatePolicyInput{PolicyName: "pub", Document: allowIoT})
	wantCode(t, err, EntityAlreadyExists)
	_, err = f.CreatePolicy(ctx, CreatePolicyInput{PolicyName: "big", Document: sized(6145)})
	wantCode(t, err, LimitExceeded)
	_, err = f.CreatePolicy(ctx, CreatePolicyInput{PolicyName: "ok", Path: "/a b/", Document: allowIoT})
	wantCode(t, err, ValidationError)
	if _, err := f.CreatePolicy(ctx, CreatePolicyInput{PolicyName: "max", Document: sized(6144)}); err != nil {
		t.Fatalf("a 6144-character policy: %v", err)
	}

	// The ARN must name the path; a malformed ARN is InvalidInput.
	_, err = f.GetPolicy(ctx, "arn:aws:iam::000000000000:policy/Pub")
	wantCode(t, err, NoSuchEntity)
	_, err = f.GetPolicy(ctx, "arn:aws:iam::111111111111:policy/iot/Pub")
	wantCode(t, err, NoSuchEntity)
	_, err = f.GetPolicy(ctx, "arn:aws:iot:us-east-1:000000000000:policy/Pub")
	wantCode(t, err, InvalidInput)
	_, err = f.GetPolicy(ctx, "short")
	wantCode(t, err, ValidationError)

	// Versions: up to five; the default cannot go; ids keep counting.
	for i := 2; i <= 5; i++ {
		v, err := f.CreatePolicyVersion(ctx, arn, allowAll, i == 3)
		if err != nil || v.VersionID != "v"+itoa(i) || v.IsDefault != (i == 3) {
			t.Fatalf("CreatePolicyVersion %d = %+v, %v", i, v, err)
		}
	}
	_, err = f.CreatePolicyVersion(ctx, arn, allowAll, false)
	wantCode(t, err, LimitExceeded)
	got, _ := f.GetPolicy(ctx, arn)
	if got.DefaultVersionID != "v3" {
		t.Fatalf("default = %s, want v3", got.DefaultVersionID)
	}
	wantCode(t, f.DeletePolicyVersion(ctx, arn, "v3"), DeleteConflict)
	wantCode(t, f.DeletePolicyVersion(ctx, arn, "v9"), NoSuchEntity)
	wantCode(t, f.DeletePolicyVersion(ctx, arn, "3"), ValidationError)
	if err := f.DeletePolicyVersion(ctx, arn, "v5"); err != nil {
		t.Fatal(err)
	}
	v6, err := f.CreatePolicyVersion(ctx, arn, allowIoT, false)
	if err != nil || v6.VersionID != "v6" {
		t.Fatalf("version after a delete = %+v, %v", v6, err)
	}
	f.changes()
	if err := f.SetDefaultPolicyVersion(ctx, arn, "v6"); err != nil {
		t.Fatal(err)
	}
	if c := f.changes(); len(c) != 1 || c[0] != (Change{PolicyARN: arn}) {
		t.Fatalf("changes = %+v", c)
	}
	wantCode(t, f.SetDefaultPolicyVersion(ctx, arn, "v5"), NoSuchEntity)
	versions, next, err := f.ListPolicyVersions(ctx, arn, Page{})
	var ids []string
	for _, v := range versions {
		ids = append(ids, v.VersionID)
		if v.IsDefault != (v.VersionID == "v6") {
			t.Fatalf("version %s IsDefault = %v", v.VersionID, v.IsDefault)
		}
	}
	if err != nil || next != "" || strings.Join(ids, ",") != "v6,v4,v3,v2,v1" {
		t.Fatalf("ListPolicyVersions = %v %q %v", ids, next, err)
	}
	pv, err := f.GetPolicyVersion(ctx, arn, "v1")
	if err != nil || pv.Document != allowIoT || pv.IsDefault {
		t.Fatalf("GetPolicyVersion v1 = %+v, %v", pv, err)
	}

	// Delete: refused while attached, then while versions remain.
	mustUser(t, f, "alice")
	if err := f.AttachPolicy(ctx, UserEntity, "alice", arn); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.GetPolicy(ctx, arn); got.AttachmentCount != 1 {
		t.Fatalf("AttachmentCount = %d", got.AttachmentCount)
	}
	err = f.DeletePolicy(ctx, arn)
	if wantCode(t, err, DeleteConflict); !strings.Contains(err.Error(), "attached") {
		t.Fatalf("err = %v", err)
	}
	if err := f.DetachPolicy(ctx, UserEntity, "alice", arn); err != nil {
		t.Fatal(err)
	}
	err = f.DeletePolicy(ctx, arn)
	if wantCode(t, err, DeleteConflict); !strings.Contains(err.Error(), "versions") {
		t.Fatalf("err = %v", err)
	}
	for _, v := range []string{"v1", "v2", "v3", "v4"} {
		if err := f.DeletePolicyVersion(ctx, arn, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.DeletePolicy(ctx, arn); err != nil {
		t.Fatal(err)
	}
	_, err = f.GetPolicy(ctx, arn)
	wantCode(t, err, NoSuchEntity)
}

// TestService_AWSManagedPolicies reads the built-in policies and refuses
// to change them.
func TestService_AWSManagedPolicies(t *testing.T) {
	f := newFixture(t)
	for _, name := range []string{"AWSIoTFullAccess", "AWSIoTDataAccess", "AWSIoTConfigAccess", "AWSIoTConfigReadOnlyAccess"} {
		arn := AWSPolicyARNPrefix + name
		p, err := f.GetPolicy(ctx, arn)
		if err != nil || !p.AWSManaged || p.Name != name || p.ARN != arn || p.DefaultVersionID == "" {
			t.Fatalf("GetPolicy %s = %+v, %v", name, p, err)
		}
		v, err := f.GetPolicyVersion(ctx, arn, p.DefaultVersionID)
		if err != nil || !v.IsDefault || !strings.Contains(v.Document, `"iot:`) {
			t.Fatalf("GetPolicyVersion %s = %+v, %v", name, v, err)
		}
		_, err = f.CreatePolicyVersion(ctx, arn, allowAll, true)
		wantCode(t, err, UnmodifiableEntity)
		wantCode(t, f.DeletePolicy(ctx, arn), UnmodifiableEntity)
		wantCode(t, f.SetDefaultPolicyVersion(ctx, arn, p.DefaultVersionID), UnmodifiableEntity)
		wantCode(t, f.DeletePolicyVersion(ctx, arn, p.DefaultVersionID), UnmodifiableEntity)
	}
	_, err := f.GetPolicy(ctx, AWSPolicyARNPrefix+"AdministratorAccess")
	wantCode(t, err, NoSuchEntity)
}

// TestService_ListPolicies lists by scope, attachment and path, and pages
// across the customer managed and AWS managed parts.
func TestService_ListPolicies(t *testing.T) {
	f := newFixture(t)
	for _, n := range []string{"b", "a"} {
		if _, err := f.CreatePolicy(ctx, CreatePolicyInput{PolicyName: n, Document: allowIoT}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.CreatePolicy(ctx, CreatePolicyInput{PolicyName: "c", Path: "/iot/", Document: allowIoT}); err != nil {
		t.Fatal(err)
	}
	mustUser(t, f, "alice")
	if err := f.AttachPolicy(ctx, UserEntity, "alice", "arn:aws:iam::000000000000:policy/b"); err != nil {
		t.Fatal(err)
	}
	if err := f.AttachPolicy(ctx, UserEntity, "alice", AWSPolicyARNPrefix+"AWSIoTDataAccess"); err != nil {
		t.Fatal(err)
	}
	names := func(in ListPoliciesInput) string {
		t.Helper()
		var out []string
		for range 20 {
			ps, next, err := f.ListPolicies(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range ps {
				out = append(out, p.Name)
			}
			if next == "" {
				return strings.Join(out, ",")
			}
			in.Marker = next
		}
		t.Fatal("paging does not end")
		return ""
	}
	all := "a,b,c,AWSIoTConfigAccess,AWSIoTConfigReadOnlyAccess,AWSIoTDataAccess,AWSIoTFullAccess"
	if got := names(ListPoliciesInput{}); got != all {
		t.Fatalf("All = %s", got)
	}
	if got := names(ListPoliciesInput{Page: Page{MaxItems: 2}}); got != all {
		t.Fatalf("All in pages of 2 = %s", got)
	}
	if got := names(ListPoliciesInput{Scope: ScopeLocal, Page: Page{MaxItems: 1}}); got != "a,b,c" {
		t.Fatalf("Local = %s", got)
	}
	if got := names(ListPoliciesInput{Scope: ScopeAWS, Page: Page{MaxItems: 3}}); got != "AWSIoTConfigAccess,AWSIoTConfigReadOnlyAccess,AWSIoTDataAccess,AWSIoTFullAccess" {
		t.Fatalf("AWS = %s", got)
	}
	if got := names(ListPoliciesInput{OnlyAttached: true}); got != "b,AWSIoTDataAccess" {
		t.Fatalf("OnlyAttached = %s", got)
	}
	if got := names(ListPoliciesInput{PathPrefix: "/iot/"}); got != "c" {
		t.Fatalf("PathPrefix /iot/ = %s", got)
	}
	_, _, err := f.ListPolicies(ctx, ListPoliciesInput{Scope: "Mine"})
	wantCode(t, err, ValidationError)
	_, _, err = f.ListPolicies(ctx, ListPoliciesInput{Scope: ScopeAWS, Page: Page{Marker: "Lxyz"}})
	wantCode(t, err, InvalidInput)
	_, _, err = f.ListPolicies(ctx, ListPoliciesInput{Page: Page{Marker: "A9"}})
	wantCode(t, err, InvalidInput)
}

// TestService_Attach attaches up to MaxAttached policies, idempotently,
// and detaches.
func TestService_Attach(t *testing.T) {
	f := newFixture(t)
	mustUser(t, f, "alice")
	var arns []string
	for i := range MaxAttached + 1 {
		n := "p" + itoa(i)
		if _, err := f.CreatePolicy(ctx, CreatePolicyInput{PolicyName: n, Document: allowIoT}); err != nil {
			t.Fatal(err)
		}
		arns = append(arns, "arn:aws:iam::000000000000:policy/"+n)
	}
	for _, arn := range arns[:MaxAttached] {
		if err := f.AttachPolicy(ctx, UserEntity, "alice", arn); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.AttachPolicy(ctx, UserEntity, "alice", arns[0]); err != nil {
		t.Fatalf("attaching again: %v", err)
	}
	wantCode(t, f.AttachPolicy(ctx, UserEntity, "alice", arns[MaxAttached]), LimitExceeded)
	wantCode(t, f.AttachPolicy(ctx, UserEntity, "alice", "arn:aws:iam::000000000000:policy/none"), NoSuchEntity)
	wantCode(t, f.AttachPolicy(ctx, UserEntity, "nobody", arns[0]), NoSuchEntity)
	list, next, err := f.ListAttachedPolicies(ctx, UserEntity, ListAttachedPoliciesInput{Name: "alice", Page: Page{MaxItems: 4}})
	if err != nil || len(list) != 4 || next == "" || list[0].ARN != arns[0] || list[0].Name != "p0" {
		t.Fatalf("ListAttachedPolicies = %+v %q %v", list, next, err)
	}
	f.changes()
	if err := f.DetachPolicy(ctx, UserEntity, "alice", arns[1]); err != nil {
		t.Fatal(err)
	}
	if c := f.changes(); len(c) != 1 || c[0] != (Change{UserName: "alice", PolicyARN: arns[1]}) {
		t.Fatalf("changes = %+v", c)
	}
	wantCode(t, f.DetachPolicy(ctx, UserEntity, "alice", arns[1]), NoSuchEntity)
	if p, _ := f.GetPolicy(ctx, arns[1]); p.AttachmentCount != 0 {
		t.Fatalf("AttachmentCount after detach = %d", p.AttachmentCount)
	}
	if p, _ := f.GetPolicy(ctx, arns[0]); p.AttachmentCount != 1 {
		t.Fatalf("AttachmentCount of a policy attached twice = %d", p.AttachmentCount)
	}
}
