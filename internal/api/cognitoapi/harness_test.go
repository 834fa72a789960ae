package cognitoapi_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/smithy-go"

	"github.com/moat-iot/moat/internal/api/cognitoapi"
	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/cognito"
	"github.com/moat-iot/moat/internal/cognito/cognitotest"
	"github.com/moat-iot/moat/internal/pki"
	"github.com/moat-iot/moat/internal/store"
	"github.com/moat-iot/moat/internal/store/sqlite"
)

const (
	region  = "us-east-1"
	account = "000000000000"
)

// harness is the API on a real store and authenticator, served over TLS
// by httptest, with a fake of the IAM roles, an OIDC issuer, and SDK
// clients: admin (signed by the administrator), user (signed by "alice",
// whom authorize decides) and anon (unsigned).
type harness struct {
	st     store.Store
	auth   *auth.Authenticator
	svc    *cognito.Service
	roles  *cognitotest.Roles
	issuer *cognitotest.Issuer
	srv    *httptest.Server
	admin  *cognitoidentity.Client
	user   *cognitoidentity.Client
	anon   *cognitoidentity.Client

	mu      sync.Mutex
	calls   []string        // "action resource" asked of Authorize for alice
	allowed map[string]bool // actions alice is allowed
}

func newHarness(t testing.TB, mod ...func(*cognito.Options)) *harness {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "moat.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := &harness{st: st, auth: auth.New(st, region, account), roles: &cognitotest.Roles{}, allowed: map[string]bool{}}
	h.issuer = cognitotest.NewIssuer(t, "issuer.example.com")
	opts := cognito.Options{Region: region, Account: account, HTTPClient: h.issuer.Server.Client(),
		OIDCProviders: []cognito.OIDCProvider{h.issuer.Provider("app-client")},
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, m := range mod {
		m(&opts)
	}
	if h.svc, err = cognito.New(st, h.auth, h.roles, opts); err != nil {
		t.Fatal(err)
	}
	a := &cognitoapi.API{Service: h.svc, Auth: h.auth, Authorize: h.authorize, Logger: opts.Logger}
	h.srv = httptest.NewTLSServer(a)
	t.Cleanup(h.srv.Close)
	h.admin = h.client(h.key(t, auth.AdminUser))
	h.user = h.client(h.key(t, "alice"))
	h.anon = h.client(aws.AnonymousCredentials{})
	return h
}

// key stores a new access key for user and returns it as SDK credentials.
func (h *harness) key(t testing.TB, user string) aws.CredentialsProvider {
	t.Helper()
	id, secret, err := pki.NewAccessKey()
	if err != nil {
		t.Fatal(err)
	}
	err = h.st.Update(context.Background(), func(tx store.Tx) error {
		return tx.InsertAccessKey(store.AccessKey{ID: id, Secret: secret, UserName: user, Status: "Active", CreatedAt: time.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
	return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: id, SecretAccessKey: secret}, nil
	})
}

func (h *harness) client(creds aws.CredentialsProvider) *cognitoidentity.Client {
	return cognitoidentity.New(cognitoidentity.Options{
		Region: region, BaseEndpoint: aws.String(h.srv.URL), HTTPClient: h.srv.Client(),
		Credentials: creds, Retryer: aws.NopRetryer{},
	})
}

// authorize is the fake of the access layer: the administrator may do
// everything; alice what allowed says; every question about alice is
// recorded.
func (h *harness) authorize(_ context.Context, p auth.Principal, action, resource string) error {
	if p.IsAdmin() {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, action+" "+resource)
	if h.allowed[action] {
		return nil
	}
	return &awsapi.Error{Code: awsapi.AccessDenied, Message: "User: " + p.String() + " is not authorized to perform: " + action + " on resource: " + resource}
}

func (h *harness) allow(actions ...string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, a := range actions {
		h.allowed[a] = true
	}
}

func (h *harness) asked() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.calls)
}

// pool creates a pool as the administrator.
func (h *harness) pool(t *testing.T, in *cognitoidentity.CreateIdentityPoolInput) string {
	t.Helper()
	if in.IdentityPoolName == nil {
		in.IdentityPoolName = aws.String("app pool")
	}
	out, err := h.admin.CreateIdentityPool(context.Background(), in)
	if err != nil {
		t.Fatalf("CreateIdentityPool: %v", err)
	}
	return aws.ToString(out.IdentityPoolId)
}

// roles gives a pool an authenticated and an unauthenticated role that
// trust it, and returns their ARNs.
func (h *harness) poolRoles(t *testing.T, poolID string) (authRole, guestRole string) {
	t.Helper()
	a := cognitotest.Role("app-auth", cognitotest.TrustCognito(poolID, "authenticated"))
	g := cognitotest.Role("app-guest", cognitotest.TrustCognito(poolID, "unauthenticated"))
	h.roles.Put(a)
	h.roles.Put(g)
	_, err := h.admin.SetIdentityPoolRoles(context.Background(), &cognitoidentity.SetIdentityPoolRolesInput{
		IdentityPoolId: aws.String(poolID), Roles: map[string]string{"authenticated": a.ARN, "unauthenticated": g.ARN},
	})
	if err != nil {
		t.Fatalf("SetIdentityPoolRoles: %v", err)
	}
	return a.ARN, g.ARN
}

// apiErr asserts err is an API error with code whose message contains
// msg.
func apiErr(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error = %v, want %s", err, code)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("error code = %s (%s), want %s", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
	if !strings.Contains(ae.ErrorMessage(), msg) {
		t.Fatalf("error message = %q, want it to contain %q", ae.ErrorMessage(), msg)
	}
}
