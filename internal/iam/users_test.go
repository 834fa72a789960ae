package iam

import (
	"strings"
	"testing"

	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/store"
)

// TestService_CreateUser creates, reads back and refuses duplicates
// without regard to case.
func TestService_CreateUser(t *testing.T) {
	f := newFixture(t)
	u, err := f.CreateUser(ctx, CreateUserInput{UserName: "Alice", Path: "/ops/", Tags: []Tag{{"team", "lamps"}}})
	if err != nil {
		t.Fatal(err)
	}
	if u.ARN != "arn:aws:iam::000000000000:user/ops/Alice" || !strings.HasPrefix(u.ID, "AIDA") || len(u.ID) != 20 || u.CreatedAt.IsZero() {
		t.Fatalf("user = %+v", u)
	}
	got, err := f.GetUser(ctx, "alice")
	if err != nil || got.Name != "Alice" || got.ID != u.ID || got.Path != "/ops/" || len(got.Tags) != 1 {
		t.Fatalf("GetUser = %+v, %v", got, err)
	}
	_, err = f.CreateUser(ctx, CreateUserInput{UserName: "ALICE"})
	wantCode(t, err, EntityAlreadyExists)
	_, err = f.CreateUser(ctx, CreateUserInput{UserName: "Admin"})
	wantCode(t, err, EntityAlreadyExists)
	_, err = f.GetUser(ctx, "bob")
	wantCode(t, err, NoSuchEntity)
	if c := f.changes(); len(c) != 1 || c[0].UserName != "Alice" {
		t.Fatalf("changes = %+v", c)
	}
}

// TestService_CreateUserValidation refuses what the model refuses and
// creates nothing.
func TestService_CreateUserValidation(t *testing.T) {
	f := newFixture(t)
	many := make([]Tag, 51)
	for i := range many {
		many[i] = Tag{Key: "k" + itoa(i)}
	}
	tests := map[string]struct {
		in   CreateUserInput
		code Code
	}{
		"empty name":        {CreateUserInput{}, ValidationError},
		"name too long":     {CreateUserInput{UserName: strings.Repeat("a", 65)}, ValidationError},
		"name bad char":     {CreateUserInput{UserName: "a/b"}, ValidationError},
		"name space":        {CreateUserInput{UserName: "a b"}, ValidationError},
		"path no slash":     {CreateUserInput{UserName: "a", Path: "ops"}, ValidationError},
		"path no end slash": {CreateUserInput{UserName: "a", Path: "/ops"}, ValidationError},
		"path too long":     {CreateUserInput{UserName: "a", Path: "/" + strings.Repeat("p", 511) + "/"}, ValidationError},
		"tag key empty":     {CreateUserInput{UserName: "a", Tags: []Tag{{Key: ""}}}, ValidationError},
		"tag key bad char":  {CreateUserInput{UserName: "a", Tags: []Tag{{Key: "a*b"}}}, ValidationError},
		"tag value long":    {CreateUserInput{UserName: "a", Tags: []Tag{{Key: "k", Value: strings.Repeat("v", 257)}}}, ValidationError},
		"tag keys repeat":   {CreateUserInput{UserName: "a", Tags: []Tag{{Key: "Team"}, {Key: "team"}}}, InvalidInput},
		"tag key aws:":      {CreateUserInput{UserName: "a", Tags: []Tag{{Key: "aws:x"}}}, InvalidInput},
		"51 tags":           {CreateUserInput{UserName: "a", Tags: many}, ValidationError},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := f.CreateUser(ctx, tc.in)
			wantCode(t, err, tc.code)
		})
	}
	users, _, err := f.ListUsers(ctx, ListUsersInput{})
	if err != nil || len(users) != 1 || users[0].Name != auth.AdminUser {
		t.Fatalf("users after refusals = %+v, %v", users, err)
	}
}

// TestService_ListUsers shows the administrator from the start, filters
// by path prefix and pages.
func TestService_ListUsers(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.MaxUsers = 6 })
	users, next, err := f.ListUsers(ctx, ListUsersInput{})
	if err != nil || next != "" || len(users) != 1 || users[0].Name != "admin" || users[0].ARN != "arn:aws:iam::000000000000:user/admin" {
		t.Fatalf("ListUsers on a new store = %+v, %q, %v", users, next, err)
	}
	for _, n := range []string{"b", "a", "c"} {
		mustUser(t, f, n)
	}
	if _, err := f.CreateUser(ctx, CreateUserInput{UserName: "d", Path: "/ops/"}); err != nil {
		t.Fatal(err)
	}
	ops, _, err := f.ListUsers(ctx, ListUsersInput{PathPrefix: "/op"})
	if err != nil || len(ops) != 1 || ops[0].Name != "d" {
		t.Fatalf("PathPrefix /op = %+v, %v", ops, err)
	}
	var names []string
	marker := ""
	for range 10 {
		page, next, err := f.ListUsers(ctx, ListUsersInput{Page: Page{Marker: marker, MaxItems: 2}})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > 2 {
			t.Fatalf("page of %d with MaxItems 2", len(page))
		}
		for _, u := range page {
			names = append(names, u.Name)
		}
		if next == "" {
			break
		}
		marker = next
	}
	if strings.Join(names, ",") != "a,admin,b,c,d" {
		t.Fatalf("paged names = %v", names)
	}
	_, _, err = f.ListUsers(ctx, ListUsersInput{Page: Page{Marker: "not a marker"}})
	wantCode(t, err, InvalidInput)
	_, _, err = f.ListUsers(ctx, ListUsersInput{Page: Page{MaxItems: 1001}})
	wantCode(t, err, ValidationError)
	// The quota counts the administrator.
	mustUser(t, f, "e")
	_, err = f.CreateUser(ctx, CreateUserInput{UserName: "f"})
	wantCode(t, err, LimitExceeded)
}

// TestService_DeleteUser refuses while keys or policies remain, in IAM's
// order, and never deletes the administrator.
func TestService_DeleteUser(t *testing.T) {
	f := newFixture(t)
	mustUser(t, f, "alice")
	k, err := f.CreateAccessKey(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.PutPolicy(ctx, UserEntity, "alice", "inline", allowIoT); err != nil {
		t.Fatal(err)
	}
	if err := f.AttachPolicy(ctx, UserEntity, "alice", AWSPolicyARNPrefix+"AWSIoTDataAccess"); err != nil {
		t.Fatal(err)
	}
	err = f.DeleteUser(ctx, "alice")
	wantCode(t, err, DeleteConflict)
	if !strings.Contains(err.Error(), "access keys") {
		t.Fatalf("first conflict = %v, want the access keys", err)
	}
	if err := f.DeleteAccessKey(ctx, "alice", k.ID); err != nil {
		t.Fatal(err)
	}
	err = f.DeleteUser(ctx, "alice")
	if wantCode(t, err, DeleteConflict); !strings.Contains(err.Error(), "delete policies") {
		t.Fatalf("second conflict = %v, want the inline policies", err)
	}
	if err := f.DeleteInlinePolicy(ctx, UserEntity, "alice", "INLINE"); err != nil {
		t.Fatal(err)
	}
	err = f.DeleteUser(ctx, "alice")
	if wantCode(t, err, DeleteConflict); !strings.Contains(err.Error(), "detach") {
		t.Fatalf("third conflict = %v, want the attached policies", err)
	}
	if err := f.DetachPolicy(ctx, UserEntity, "alice", AWSPolicyARNPrefix+"AWSIoTDataAccess"); err != nil {
		t.Fatal(err)
	}
	f.changes()
	if err := f.DeleteUser(ctx, "ALICE"); err != nil {
		t.Fatal(err)
	}
	if c := f.changes(); len(c) != 1 || c[0] != (Change{UserName: "alice"}) {
		t.Fatalf("changes = %+v", c)
	}
	wantCode(t, f.DeleteUser(ctx, "alice"), NoSuchEntity)
	wantCode(t, f.DeleteUser(ctx, "Admin"), UnmodifiableEntity)
	if _, err := f.GetUser(ctx, "admin"); err != nil {
		t.Fatalf("admin gone: %v", err)
	}
}

// TestService_AccessKeys covers the key lifecycle, the two-key quota and
// that a key is reached only through its owner.
func TestService_AccessKeys(t *testing.T) {
	f := newFixture(t)
	mustUser(t, f, "alice")
	mustUser(t, f, "bob")
	k1, err := f.CreateAccessKey(ctx, "Alice")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(k1.ID, "AKIA") || len(k1.Secret) != 40 || k1.Status != StatusActive || k1.UserName != "alice" {
		t.Fatalf("key = %+v", k1)
	}
	k2, err := f.CreateAccessKey(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.CreateAccessKey(ctx, "alice")
	wantCode(t, err, LimitExceeded)
	keys, next, err := f.ListAccessKeys(ctx, "alice", Page{})
	if err != nil || next != "" || len(keys) != 2 {
		t.Fatalf("ListAccessKeys = %+v, %v", keys, err)
	}
	for _, k := range keys {
		if k.Secret != "" {
			t.Fatal("ListAccessKeys returned a secret")
		}
	}
	page, next, err := f.ListAccessKeys(ctx, "alice", Page{MaxItems: 1})
	if err != nil || len(page) != 1 || next == "" {
		t.Fatalf("first page = %+v, %q, %v", page, next, err)
	}
	page2, next2, err := f.ListAccessKeys(ctx, "alice", Page{MaxItems: 1, Marker: next})
	if err != nil || len(page2) != 1 || next2 != "" || page2[0].ID == page[0].ID {
		t.Fatalf("second page = %+v, %q, %v", page2, next2, err)
	}
	f.changes()
	if err := f.UpdateAccessKey(ctx, "alice", k1.ID, StatusInactive); err != nil {
		t.Fatal(err)
	}
	if c := f.changes(); len(c) != 1 || c[0] != (Change{UserName: "alice", AccessKeyID: k1.ID}) {
		t.Fatalf("changes = %+v", c)
	}
	var stored store.AccessKey
	_ = f.st.View(ctx, func(tx store.Tx) error { stored, err = tx.AccessKey(k1.ID); return err })
	if stored.Status != StatusInactive {
		t.Fatalf("stored status = %s", stored.Status)
	}
	wantCode(t, f.UpdateAccessKey(ctx, "alice", k1.ID, "Expired"), ValidationError)
	wantCode(t, f.UpdateAccessKey(ctx, "bob", k1.ID, StatusActive), NoSuchEntity)
	wantCode(t, f.DeleteAccessKey(ctx, "bob", k2.ID), NoSuchEntity)
	wantCode(t, f.DeleteAccessKey(ctx, "alice", "AKIA0000000000000000"), NoSuchEntity)
	wantCode(t, f.DeleteAccessKey(ctx, "alice", "short"), ValidationError)
	if err := f.DeleteAccessKey(ctx, "alice", k2.ID); err != nil {
		t.Fatal(err)
	}
	_, err = f.CreateAccessKey(ctx, "nobody")
	wantCode(t, err, NoSuchEntity)
}

// TestService_AdminKey protects the data dir's admin key, and only it.
func TestService_AdminKey(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t)
	adminKey, _, err := auth.EnsureAdmin(ctx, f.st, dir+"/admin.credentials")
	if err != nil {
		t.Fatal(err)
	}
	// Without AdminAccessKeyID every admin key is protected.
	wantCode(t, f.UpdateAccessKey(ctx, "admin", adminKey, StatusInactive), UnmodifiableEntity)
	f2, err := New(Config{Store: f.st, Account: testAccount, AdminAccessKeyID: adminKey})
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, f2.UpdateAccessKey(ctx, "admin", adminKey, StatusInactive), UnmodifiableEntity)
	wantCode(t, f2.DeleteAccessKey(ctx, "admin", adminKey), UnmodifiableEntity)
	if err := f2.UpdateAccessKey(ctx, "admin", adminKey, StatusActive); err != nil {
		t.Fatalf("re-activating the admin key: %v", err)
	}
	extra, err := f2.CreateAccessKey(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	if err := f2.DeleteAccessKey(ctx, "admin", extra.ID); err != nil {
		t.Fatalf("deleting an extra admin key: %v", err)
	}
	var stored store.AccessKey
	_ = f.st.View(ctx, func(tx store.Tx) error { stored, err = tx.AccessKey(adminKey); return err })
	if err != nil || stored.Status != StatusActive {
		t.Fatalf("admin key after the refusals = %+v, %v", stored, err)
	}
}
