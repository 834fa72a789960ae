package iam

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/policy"
	"github.com/moat-iot/moat/internal/store"
	"github.com/moat-iot/moat/internal/store/sqlite"
)

const testAccount = "000000000000"

// fixture is a Service over a real sqlite store, with the changes it
// reported.
type fixture struct {
	*Service
	st   store.Store
	auth *auth.Authenticator
	mu   sync.Mutex
	seen []Change
}

func newFixture(t *testing.T, mod ...func(*Config)) *fixture {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "moat.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{st: st, auth: auth.New(st, "us-east-1", testAccount)}
	cfg := Config{Store: st, Account: testAccount, Minter: f.auth, OnChange: func(c Change) {
		f.mu.Lock()
		f.seen = append(f.seen, c)
		f.mu.Unlock()
	}}
	for _, m := range mod {
		m(&cfg)
	}
	f.Service, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// changes returns and forgets the changes reported so far.
func (f *fixture) changes() []Change {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.seen
	f.seen = nil
	return c
}

var ctx = context.Background()

func mustUser(t *testing.T, f *fixture, name string) User {
	t.Helper()
	u, err := f.CreateUser(ctx, CreateUserInput{UserName: name})
	if err != nil {
		t.Fatalf("CreateUser %s: %v", name, err)
	}
	return u
}

// wantCode asserts err is an *Error with this code.
func wantCode(t *testing.T, err error, code Code) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("err = %v, want %s", err, code)
	}
	if !errors.Is(err, &Error{Code: code}) {
		t.Fatalf("errors.Is does not match the %s sentinel", code)
	}
}

func userPrincipal(name string) auth.Principal {
	return auth.Principal{Kind: auth.KindUser, UserName: name, AccessKeyID: "AKIAEXAMPLE"}
}

func rolePrincipal(role string) auth.Principal {
	return auth.Principal{Kind: auth.KindRole, AccessKeyID: "ASIAEXAMPLE",
		Session: &auth.Session{RoleName: role, SessionName: "s", Expiration: time.Now().Add(time.Hour)}}
}

// decide evaluates action on resource against a principal's identity
// policies, as the access layer does.
func decide(t *testing.T, f *fixture, p auth.Principal, action, resource string) policy.Decision {
	t.Helper()
	ps, err := f.IdentityPolicies(ctx, p)
	if err != nil {
		t.Fatalf("IdentityPolicies: %v", err)
	}
	var v policy.Vars
	v.Set("aws:username", p.UserName)
	return policy.Evaluate(ps, &policy.Request{Action: action, Resource: resource, Vars: &v})
}

const (
	allowAll     = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	allowIoT     = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]}`
	trustAccount = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"sts:AssumeRole"}]}`
)
