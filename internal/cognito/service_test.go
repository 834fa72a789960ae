package cognito_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/cognito"
	"github.com/moat-iot/moat/internal/cognito/cognitotest"
	"github.com/moat-iot/moat/internal/store"
	"github.com/moat-iot/moat/internal/store/sqlite"
)

// clock is a settable clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

type fixture struct {
	st     store.Store
	svc    *cognito.Service
	roles  *cognitotest.Roles
	issuer *cognitotest.Issuer
	clock  *clock
}

func newFixture(t testing.TB, mod ...func(*cognito.Options)) *fixture {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "moat.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{st: st, roles: &cognitotest.Roles{}, clock: &clock{t: time.Now()}}
	f.issuer = cognitotest.NewIssuer(t, "issuer.example.com")
	opts := cognito.Options{Region: "us-east-1", Account: "000000000000", Now: f.clock.Now,
		HTTPClient: f.issuer.Server.Client(), OIDCProviders: []cognito.OIDCProvider{f.issuer.Provider("app")},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, m := range mod {
		m(&opts)
	}
	if f.svc, err = cognito.New(st, auth.New(st, "us-east-1", "000000000000"), f.roles, opts); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) oidcPool(t testing.TB) cognito.Pool {
	t.Helper()
	p, err := f.svc.CreatePool(context.Background(), "pool", cognito.PoolConfig{
		AllowUnauthenticated:      true,
		OpenIDConnectProviderARNs: []string{"arn:aws:iam::000000000000:oidc-provider/" + f.issuer.Name()},
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// token is a valid token of the fixture's issuer for subject.
func (f *fixture) token(t testing.TB, subject string) map[string]string {
	t.Helper()
	tok := f.issuer.Token(t, cognitotest.Claims{Subject: subject, Audience: []string{"app"}, Expiry: f.clock.Now().Add(time.Hour)})
	return map[string]string{f.issuer.Name(): tok}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	if got := codeOf(err); got != code {
		t.Fatalf("error %v has code %q, want %s", err, got, code)
	}
}
