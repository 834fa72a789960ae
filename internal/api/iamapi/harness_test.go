package iamapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	iamsdk "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/moat-iot/moat/internal/api/iamapi"
	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/iam"
	"github.com/moat-iot/moat/internal/moattest"
	"github.com/moat-iot/moat/internal/policy"
	"github.com/moat-iot/moat/internal/store"
	"github.com/moat-iot/moat/internal/store/sqlite"
)

const (
	region  = "us-east-1"
	account = "000000000000"
)

// env is the API over a real sqlite store and authenticator, served by an
// httptest TLS server, with an Authorize that evaluates the caller's
// identity policies (the admin is allowed everything) and records what it
// was asked.
type env struct {
	t           *testing.T
	st          store.Store
	auth        *auth.Authenticator
	iam         *iam.Service
	srv         *httptest.Server
	adminKey    string
	adminSecret string
	registry    *prometheus.Registry

	mu      sync.Mutex
	asked   []authzCall
	changes []iam.Change
	logs    bytes.Buffer // guarded by mu
}

// Write collects log output.
func (e *env) Write(p []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.logs.Write(p)
}

// logLines returns the log lines so far.
func (e *env) logLines() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := strings.TrimSpace(e.logs.String())
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

type authzCall struct{ Action, Resource string }

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(filepath.Join(dir, "moat.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{t: t, st: st, auth: auth.New(st, region, account), registry: prometheus.NewRegistry()}
	e.adminKey, _, err = auth.EnsureAdmin(context.Background(), st, filepath.Join(dir, "admin.credentials"))
	if err != nil {
		t.Fatal(err)
	}
	k, err := readKey(st, e.adminKey)
	if err != nil {
		t.Fatal(err)
	}
	e.adminSecret = k.Secret
	e.iam, err = iam.New(iam.Config{Store: st, Account: account, Minter: e.auth, AdminAccessKeyID: e.adminKey,
		OnChange: func(c iam.Change) {
			e.mu.Lock()
			e.changes = append(e.changes, c)
			e.mu.Unlock()
			if c.AccessKeyID != "" {
				e.auth.ForgetAccessKey(c.AccessKeyID)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	api := iamapi.New(iamapi.Config{IAM: e.iam, Auth: e.auth, Authorize: e.authorize, MaxBody: 64 << 10,
		Logger: slog.New(slog.NewTextHandler(e, nil)), Registerer: e.registry})
	e.srv = httptest.NewTLSServer(api)
	t.Cleanup(e.srv.Close)
	return e
}

func readKey(st store.Store, id string) (store.AccessKey, error) {
	var k store.AccessKey
	err := st.View(context.Background(), func(tx store.Tx) error {
		var err error
		k, err = tx.AccessKey(id)
		return err
	})
	return k, err
}

// authorize is the fake of the access layer: admin allowed, everyone else
// decided by IdentityPolicies with aws:username set.
func (e *env) authorize(ctx context.Context, p auth.Principal, action, resource string) error {
	e.mu.Lock()
	e.asked = append(e.asked, authzCall{action, resource})
	e.mu.Unlock()
	if p.IsAdmin() {
		return nil
	}
	ps, err := e.iam.IdentityPolicies(ctx, p)
	if err != nil {
		return err
	}
	var vars policy.Vars
	if p.Kind == auth.KindUser {
		vars.Set("aws:username", p.UserName)
	}
	d := policy.Evaluate(ps, &policy.Request{Action: action, Resource: resource, Vars: &vars})
	if !d.Allowed {
		return &awsapi.Error{Code: awsapi.AccessDenied, Message: "not authorized to perform: " + action + " on resource: " + resource}
	}
	return nil
}

// askedCount is the number of authorization questions so far.
func (e *env) askedCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.asked)
}

// lastAsked returns the last authorization question.
func (e *env) lastAsked() authzCall {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.asked) == 0 {
		return authzCall{}
	}
	return e.asked[len(e.asked)-1]
}

func (e *env) awsConfig(key, secret, token string) aws.Config {
	return aws.Config{Region: region, HTTPClient: e.srv.Client(), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, token)}
}

// admin is an iam client signed with the admin's key.
func (e *env) admin() *iamsdk.Client { return e.iamAs(e.adminKey, e.adminSecret, "") }

func (e *env) iamAs(key, secret, token string) *iamsdk.Client {
	return iamsdk.NewFromConfig(e.awsConfig(key, secret, token), func(o *iamsdk.Options) {
		o.BaseEndpoint = aws.String(e.srv.URL)
	})
}

func (e *env) stsAs(key, secret, token string) *sts.Client {
	return sts.NewFromConfig(e.awsConfig(key, secret, token), func(o *sts.Options) {
		o.BaseEndpoint = aws.String(e.srv.URL)
	})
}

// user creates a user with an access key and returns an iam client
// signed with it, and the key.
func (e *env) user(name string) (*iamsdk.Client, string, string) {
	e.t.Helper()
	ctx := context.Background()
	if _, err := e.admin().CreateUser(ctx, &iamsdk.CreateUserInput{UserName: aws.String(name)}); err != nil {
		e.t.Fatalf("CreateUser %s: %v", name, err)
	}
	k, err := e.admin().CreateAccessKey(ctx, &iamsdk.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		e.t.Fatalf("CreateAccessKey %s: %v", name, err)
	}
	id, secret := aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey)
	return e.iamAs(id, secret, ""), id, secret
}

// post sends a raw form body signed by the admin for a service.
func (e *env) post(service, body string, hdr map[string]string) (*http.Response, []byte) {
	e.t.Helper()
	return e.postAs(e.adminKey, e.adminSecret, service, body, hdr)
}

// postAs sends a raw form body signed with a key for a service; an empty
// key sends it unsigned.
func (e *env) postAs(key, secret, service, body string, hdr map[string]string) (*http.Response, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/", bytes.NewReader([]byte(body)))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if key != "" {
		sign(e.t, req, []byte(body), service, key, secret)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, b
}

// form encodes key-value pairs given in order.
func form(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v.Encode()
}

// apiErr asserts err is an AWS API error with this code and status.
var apiErr = moattest.WantAPIError

// eventually retries f until it succeeds or 3 s pass.
func eventually(t *testing.T, f func() error) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sign signs req with the SDK's SigV4 signer.
func sign(t *testing.T, req *http.Request, body []byte, service, key, secret string) {
	t.Helper()
	sum := sha256.Sum256(body)
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key, SecretAccessKey: secret},
		req, hex.EncodeToString(sum[:]), service, region, time.Now())
	if err != nil {
		t.Fatal(err)
	}
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
