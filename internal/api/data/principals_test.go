package data_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/moat-iot/moat/internal/access"
	"github.com/moat-iot/moat/internal/api"
	"github.com/moat-iot/moat/internal/api/data"
	"github.com/moat-iot/moat/internal/arn"
	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/authorizer"
	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/broker"
	"github.com/moat-iot/moat/internal/mqtt/packet"
	"github.com/moat-iot/moat/internal/policies"
	iotpolicy "github.com/moat-iot/moat/internal/policy"
	"github.com/moat-iot/moat/internal/registry"
	"github.com/moat-iot/moat/internal/shadow"
	"github.com/moat-iot/moat/internal/store"
	"github.com/moat-iot/moat/internal/store/sqlite"
)

var arns = arn.Builder{Region: "us-east-1", Account: "000000000000"}

// identity maps users and roles to compiled identity policies.
type identity map[string][]*iotpolicy.Compiled

func (m identity) IdentityPolicies(_ context.Context, p auth.Principal) ([]*iotpolicy.Compiled, error) {
	name := p.UserName
	if p.Session != nil {
		name = p.Session.RoleName
	}
	ps, ok := m[name]
	if !ok {
		return nil, errGone
	}
	return ps, nil
}

var errGone = errors.New("no such entity")

// published records what the data plane hands the broker.
type published struct {
	mu     sync.Mutex
	topics []string
}

func (p *published) Publish(m *packet.Publish) packet.ReasonCode {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.topics = append(p.topics, m.Topic)
	return packet.Success
}

// shadows answers every shadow call with an empty document.
type shadows struct{}

func (shadows) Get(context.Context, shadow.Key) ([]byte, error)            { return []byte(`{}`), nil }
func (shadows) Update(context.Context, shadow.Key, []byte) ([]byte, error) { return []byte(`{}`), nil }
func (shadows) Delete(context.Context, shadow.Key) ([]byte, error)         { return []byte(`{}`), nil }
func (shadows) NamedShadows(context.Context, string, store.Page) ([]string, string, error) {
	return nil, "", nil
}

// customAuth authenticates requests whose x-token header is "good" with a
// grant to publish under c/.
type customAuth struct{}

func (customAuth) AuthenticateHTTP(_ context.Context, r *http.Request) (auth.Principal, bool, error) {
	token := r.Header.Get("x-token")
	if a := r.Header.Get("Authorization"); a != "" {
		token = a // a token may come in an Authorization header
	}
	switch token {
	case "":
		return auth.Principal{}, false, nil
	case "good":
		return auth.Principal{Kind: auth.KindAuthorizer, Grant: &auth.Grant{AuthorizerName: "tokens", PrincipalID: "dev1", IssuedAt: time.Now(),
			Policies: []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:us-east-1:000000000000:topic/c/*"}]}`}}}, true, nil
	}
	return auth.Principal{}, true, fmt.Errorf("tokens: %w", authorizer.ErrNotAuthenticated)
}

type plane struct {
	url  string
	auth *auth.Authenticator
	pub  *published
	st   store.Store
	pols *policies.Service
}

func compile(t *testing.T, name, doc string) *iotpolicy.Compiled {
	t.Helper()
	d, err := iotpolicy.Parse([]byte(strings.ReplaceAll(doc, "R:", "us-east-1:000000000000:")))
	if err != nil {
		t.Fatal(err)
	}
	c, err := iotpolicy.Compile(name, "1", d)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// newPlane serves the data plane over a real store with identity policies
// from ids, the way the server routes it.
func newPlane(t *testing.T, ids identity) *plane {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "moat.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	pl := &plane{auth: auth.New(st, arns.Region, arns.Account), pub: &published{}, st: st, pols: policies.New(st, arns)}
	gate := &access.Gate{Auth: pl.auth, Registry: registry.New(st, arns), Policies: pl.pols, ARNs: arns, IAM: ids, NoSuchEntity: errGone}
	dat := &data.API{Auth: pl.auth, Gate: gate, Broker: pl.pub, Limits: broker.Limits{MaxPacketSize: 1 << 20}, Shadows: shadows{}, ARNs: arns, CustomAuth: customAuth{}}
	router := api.NewRouter(api.Options{MaxBody: 1 << 20}, api.Group{Prefix: "iot:", Authenticate: dat.Authenticate,
		Authorize: dat.Authorize, Operations: dat.Operations(), MapError: awsapi.DataPlane})
	srv := httptest.NewServer(data.TopicPaths(router))
	t.Cleanup(srv.Close)
	pl.url = srv.URL
	return pl
}

// key stores an active access key for user and returns its credentials.
func (pl *plane) key(t *testing.T, id, user string) aws.Credentials {
	t.Helper()
	err := pl.st.Update(context.Background(), func(tx store.Tx) error {
		return tx.InsertAccessKey(store.AccessKey{ID: id, Secret: "secret-" + id, UserName: user, Status: "Active", CreatedAt: time.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
	return aws.Credentials{AccessKeyID: id, SecretAccessKey: "secret-" + id}
}

// do sends a request signed with creds (unsigned if creds is zero) and
// returns the status, the error code and message.
func (pl *plane) do(t *testing.T, method, path string, creds aws.Credentials, hdr http.Header) (int, string, string) {
	t.Helper()
	body := []byte("payload")
	req, err := http.NewRequest(method, pl.url+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	if creds.AccessKeyID != "" {
		sum := sha256.Sum256(body)
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "iotdata", arns.Region, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var e struct {
		Message string `json:"message"`
	}
	_ = json.Unmarshal(b, &e)
	return resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), e.Message
}

// TestDataPlane_IAMPrincipals checks the data plane for SigV4 callers
// other than the administrator: users and role sessions by their identity
// policies on the topic or thing ARN, an authenticated Cognito identity by
// its role AND its identity's IoT policies, refusals as
// ForbiddenException in AWS's words, and nothing published when refused.
func TestDataPlane_IAMPrincipals(t *testing.T) {
	pl := newPlane(t, identity{
		"alice": {compile(t, "data", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:R:topic/a/*"},
			{"Effect":"Allow","Action":"iot:GetThingShadow","Resource":"arn:aws:iot:R:thing/lamp-1"}]}`)},
		"config": {compile(t, "read-only", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iot:Describe*","iot:List*"],"Resource":"*"}]}`)},
		"app":    {compile(t, "role", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]}`)},
	})
	alice := pl.key(t, "AKIAALICE", "alice")
	config := pl.key(t, "AKIACONFIG", "config")
	admin := pl.key(t, "AKIAADMIN", auth.AdminUser)

	cases := []struct {
		name, method, path string
		creds              aws.Credentials
		want               int
	}{
		{"user publishes where allowed", "POST", "/topics/a/1", alice, 200},
		{"user publishes elsewhere", "POST", "/topics/b/1", alice, 403},
		{"retain needs iot:RetainPublish", "POST", "/topics/a/1?retain=true", alice, 403},
		{"user reads the allowed shadow", "GET", "/things/lamp-1/shadow", alice, 200},
		{"user reads another shadow", "GET", "/things/lamp-2/shadow", alice, 403},
		{"user reads a named shadow", "GET", "/things/lamp-1/shadow?name=n", alice, 403},
		{"read-only config user cannot publish", "POST", "/topics/a/1", config, 403},
		{"administrator", "POST", "/topics/anything", admin, 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, code, msg := pl.do(t, c.method, c.path, c.creds, nil)
			if status != c.want {
				t.Fatalf("status %d %s %q, want %d", status, code, msg, c.want)
			}
			if c.want == 403 && (code != "ForbiddenException" || !strings.Contains(msg, "is not authorized to perform: iot:")) {
				t.Fatalf("refusal %s %q", code, msg)
			}
		})
	}
	status, _, msg := pl.do(t, "POST", "/topics/b/1", alice, nil)
	if want := "User: arn:aws:iam::000000000000:user/alice is not authorized to perform: iot:Publish on resource: arn:aws:iot:us-east-1:000000000000:topic/b/1 because no identity-based policy allows the iot:Publish action"; status != 403 || msg != want {
		t.Errorf("message %q, want %q", msg, want)
	}
	if got := strings.Join(pl.pub.topics, ","); got != "a/1,anything" {
		t.Errorf("published %q, want only the allowed a/1 and anything", got)
	}

	// Cognito: temporary credentials minted for an authenticated identity.
	ctx := context.Background()
	mint := func(identityID string, authenticated bool) aws.Credentials {
		c, err := pl.auth.Mint(ctx, auth.Session{RoleName: "app", SessionName: "CognitoIdentityCredentials", Source: auth.SourceCognito,
			IdentityID: identityID, IdentityPoolID: "us-east-1:pool", Authenticated: authenticated, Expiration: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}
	}
	own := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:us-east-1:000000000000:topic/users/${cognito-identity.amazonaws.com:sub}/*"}]}`
	if _, err := pl.pols.Create(ctx, "own", own, nil); err != nil {
		t.Fatal(err)
	}
	if err := pl.st.Update(ctx, func(tx store.Tx) error { return tx.AttachPolicy("own", "us-east-1:aaaa") }); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name          string
		creds         aws.Credentials
		path          string
		want          int
		wantInMessage string
	}{
		{"both layers allow", mint("us-east-1:aaaa", true), "/topics/users/us-east-1:aaaa/x", 200, ""},
		{"IoT layer denies", mint("us-east-1:aaaa", true), "/topics/users/us-east-1:bbbb/x", 403, "because no IoT policy allows"},
		{"no IoT policy attached", mint("us-east-1:bbbb", true), "/topics/users/us-east-1:bbbb/x", 403, "assumed-role/app/CognitoIdentityCredentials"},
		{"unauthenticated: role alone", mint("us-east-1:bbbb", false), "/topics/users/us-east-1:bbbb/x", 200, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, _, msg := pl.do(t, "POST", c.path, c.creds, nil)
			if status != c.want || !strings.Contains(msg, c.wantInMessage) {
				t.Fatalf("status %d %q, want %d with %q", status, msg, c.want, c.wantInMessage)
			}
		})
	}
}

// TestDataPlane_CustomAuth checks HTTPS publish with custom-authorizer
// credentials: the grant decides, a refusal is ForbiddenException, and a
// SigV4-signed request is not sent to the authorizer.
func TestDataPlane_CustomAuth(t *testing.T) {
	pl := newPlane(t, identity{"nobody": nil})
	good := http.Header{"X-Token": {"good"}}
	if status, code, msg := pl.do(t, "POST", "/topics/c/1", aws.Credentials{}, good); status != 200 {
		t.Fatalf("granted publish: %d %s %q", status, code, msg)
	}
	if status, code, _ := pl.do(t, "POST", "/topics/d/1", aws.Credentials{}, good); status != 403 || code != "ForbiddenException" {
		t.Fatalf("publish outside the grant: %d %s", status, code)
	}
	// A token in an Authorization header that is no SigV4 signature goes
	// to the custom authorizer.
	if status, code, msg := pl.do(t, "POST", "/topics/c/2", aws.Credentials{}, http.Header{"Authorization": {"good"}}); status != 200 {
		t.Fatalf("token in Authorization: %d %s %q", status, code, msg)
	}
	status, code, msg := pl.do(t, "POST", "/topics/c/1", aws.Credentials{}, http.Header{"X-Token": {"bad"}})
	if status != 403 || code != "ForbiddenException" || !strings.Contains(msg, "isAuthenticated false") {
		t.Fatalf("refused token: %d %s %q", status, code, msg)
	}
	// Neither credentials nor custom authentication: AWS's answer.
	if status, code, msg := pl.do(t, "POST", "/topics/c/1", aws.Credentials{}, nil); status != 403 || !strings.Contains(msg, "Missing Authentication Token") {
		t.Fatalf("anonymous: %d %s %q", status, code, msg)
	}
	// Signed requests are judged by their signature, not the token.
	alice := pl.key(t, "AKIANOPOL", "nobody")
	if status, _, msg := pl.do(t, "POST", "/topics/c/1", alice, good); status != 403 || !strings.Contains(msg, "user/nobody") {
		t.Fatalf("signed request with a token: %d %q", status, msg)
	}
	if got := strings.Join(pl.pub.topics, ","); got != "c/1,c/2" {
		t.Errorf("published %q, want only c/1 and c/2", got)
	}
}
