package access

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/arn"
	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/authorizer"
	"github.com/moat-iot/moat/internal/policies"
	"github.com/moat-iot/moat/internal/policy"
	"github.com/moat-iot/moat/internal/registry"
	"github.com/moat-iot/moat/internal/store"
	"github.com/moat-iot/moat/internal/store/sqlite"
)

var testARNs = arn.Builder{Region: "us-east-1", Account: "000000000000"}

// doc fills R (region:account) in a policy document.
func doc(s string) string {
	return strings.ReplaceAll(s, "R:", "us-east-1:000000000000:")
}

// compiled parses and compiles a policy document (R filled).
func compiled(t testing.TB, name, d string) *policy.Compiled {
	t.Helper()
	pd, err := policy.Parse([]byte(doc(d)))
	if err != nil {
		t.Fatal(err)
	}
	c, err := policy.Compile(name, "1", pd)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// errNoSuchEntity stands in for iam.ErrNoSuchEntity.
var errNoSuchEntity = errors.New("no such entity")

// fakeIAM is IdentityPolicies over a map from user or role name to
// policies; a missing name is gone (wraps errNoSuchEntity), fail makes
// every call fail.
type fakeIAM struct {
	mu       sync.Mutex
	policies map[string][]*policy.Compiled
	fail     error
	calls    int
}

func (f *fakeIAM) set(name string, ps ...*policy.Compiled) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.policies == nil {
		f.policies = map[string][]*policy.Compiled{}
	}
	f.policies[name] = ps
}

func (f *fakeIAM) remove(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.policies, name)
}

func (f *fakeIAM) IdentityPolicies(_ context.Context, p auth.Principal) ([]*policy.Compiled, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.fail != nil {
		return nil, f.fail
	}
	name := p.UserName
	if p.Kind == auth.KindRole {
		name = p.Session.RoleName
	}
	ps, ok := f.policies[name]
	if !ok {
		return nil, fmt.Errorf("iam: %s: %w", name, errNoSuchEntity)
	}
	return ps, nil
}

// fakeCustom is a CustomAuthorizer answering with the func.
type fakeCustom struct {
	mu    sync.Mutex
	fn    func(req authorizer.Request) (auth.Principal, error)
	calls int
	last  authorizer.Request
}

func (f *fakeCustom) Authenticate(_ context.Context, req authorizer.Request) (auth.Principal, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.last = req
	return f.fn(req)
}

// grant is a custom authorizer's answer with these policy documents.
func grant(name string, refresh, disconnect time.Duration, issued time.Time, docs ...string) auth.Principal {
	for i := range docs {
		docs[i] = doc(docs[i])
	}
	return auth.Principal{Kind: auth.KindAuthorizer, Grant: &auth.Grant{AuthorizerName: name, PrincipalID: "device1",
		Policies: docs, RefreshAfter: refresh, DisconnectAfter: disconnect, IssuedAt: issued}}
}

// env is a Gate over a real store, with fake IAM and custom authorizer.
type env struct {
	st   store.Store
	gate *Gate
	iam  *fakeIAM
	auth *auth.Authenticator
	pols *policies.Service
	now  time.Time
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "moat.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{st: st, iam: &fakeIAM{}, auth: auth.New(st, testARNs.Region, testARNs.Account),
		pols: policies.New(st, testARNs), now: time.Now()}
	e.gate = &Gate{Auth: e.auth, Registry: registry.New(st, testARNs), Policies: e.pols, ARNs: testARNs,
		IAM: e.iam, NoSuchEntity: errNoSuchEntity, now: func() time.Time { return e.now }}
	return e
}

// iotPolicy creates an IoT policy and attaches it to target (any string,
// as the store takes it: a Cognito identity id).
func (e *env) iotPolicy(t *testing.T, name, d, target string) {
	t.Helper()
	ctx := context.Background()
	if _, err := e.pols.Create(ctx, name, doc(d), nil); err != nil {
		t.Fatal(err)
	}
	if target == "" {
		return
	}
	if err := e.st.Update(ctx, func(tx store.Tx) error { return tx.AttachPolicy(name, target) }); err != nil {
		t.Fatal(err)
	}
}

// accessKey stores an access key for user with the status.
func (e *env) accessKey(t *testing.T, id, user, status string) {
	t.Helper()
	err := e.st.Update(context.Background(), func(tx store.Tx) error {
		k, err := tx.AccessKey(id)
		if errors.Is(err, store.ErrNotFound) {
			return tx.InsertAccessKey(store.AccessKey{ID: id, Secret: "s", UserName: user, Status: status, CreatedAt: time.Now()})
		}
		if err != nil {
			return err
		}
		k.Status = status
		return tx.UpdateAccessKey(k)
	})
	if err != nil {
		t.Fatal(err)
	}
}

var remote = &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 40000}

// user is a principal of a user's access key.
func user(name, key string) auth.Principal {
	return auth.Principal{Kind: auth.KindUser, UserName: name, AccessKeyID: key, Service: "iotdevicegateway"}
}

// session is a role session principal.
func session(role string, s auth.Session) auth.Principal {
	s.RoleName, s.AccessKeyID = role, "ASIATEST"
	if s.SessionName == "" {
		s.SessionName = "s1"
	}
	if s.Expiration.IsZero() {
		s.Expiration = time.Now().Add(time.Hour)
	}
	return auth.Principal{Kind: auth.KindRole, AccessKeyID: "ASIATEST", Session: &s}
}

// cognito is a Cognito identity's role session.
func cognito(role, identity string, authenticated bool) auth.Principal {
	return session(role, auth.Session{Source: auth.SourceCognito, IdentityID: identity, IdentityPoolID: "us-east-1:pool",
		Authenticated: authenticated, SessionName: "CognitoIdentityCredentials"})
}
