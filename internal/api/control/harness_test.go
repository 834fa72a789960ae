package control

// The harness of this directory's tests, internal and external (package
// control_test sees it too): a control plane on httptest serving the
// operations a test picks, and a real store in t.TempDir().

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"

	"github.com/moat-iot/moat/internal/api"
	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/store"
	"github.com/moat-iot/moat/internal/store/sqlite"
)

// TestServer is a control plane serving some operations for the tests of
// this directory, internal and external: every caller is the
// administrator, and each authorization is recorded.
type TestServer struct {
	Client *iot.Client // an SDK client of the server
	URL    string

	mu     sync.Mutex
	asked  []string        // "action resource"
	denied map[string]bool // actions refused (Deny)
}

// Deny makes the server refuse action from now on (AccessDeniedException).
func (s *TestServer) Deny(action string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.denied == nil {
		s.denied = map[string]bool{}
	}
	s.denied[action] = true
}

// NewTestServer serves ops until t ends.
func NewTestServer(t *testing.T, ops []api.Operation) *TestServer {
	t.Helper()
	s := &TestServer{}
	rt := api.NewRouter(api.Options{MaxBody: 1 << 20, Logger: quiet()}, api.Group{
		Prefix: "iot:",
		Authenticate: func(context.Context, *http.Request, []byte) (auth.Principal, error) {
			return auth.Principal{Kind: auth.KindUser, UserName: auth.AdminUser}, nil
		},
		Authorize: func(_ context.Context, _ auth.Principal, action, resource string, _ *api.Request) error {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.asked = append(s.asked, action+" "+resource)
			if s.denied[action] {
				return awsapi.Errorf(awsapi.AccessDenied, "User: admin is not authorized to perform: %s on resource: %s", action, resource)
			}
			return nil
		},
		Operations: ops,
	})
	srv := httptest.NewServer(rt)
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	s.Client = iot.New(iot.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), HTTPClient: srv.Client(), Retryer: aws.NopRetryer{},
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}, nil
		}),
	})
	return s
}

// Asked returns the "action resource" of each authorization so far.
func (s *TestServer) Asked() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.asked)
}

// NewTestStore opens a store in t.TempDir(), closed when t ends.
func NewTestStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "moat.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// quiet is a logger that discards everything.
func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
