package rolealias_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/moat-iot/moat/internal/access"
	"github.com/moat-iot/moat/internal/arn"
	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/cognito"
	"github.com/moat-iot/moat/internal/cognito/cognitotest"
	"github.com/moat-iot/moat/internal/pki"
	"github.com/moat-iot/moat/internal/policies"
	"github.com/moat-iot/moat/internal/registry"
	"github.com/moat-iot/moat/internal/rolealias"
	"github.com/moat-iot/moat/internal/store"
	"github.com/moat-iot/moat/internal/store/sqlite"
)

var arns = arn.Builder{Region: "us-east-1", Account: "000000000000"}

// env is the credentials provider on a real store, authenticator, policy
// service and access gate, served over TLS that asks for client
// certificates.
type env struct {
	st       store.Store
	auth     *auth.Authenticator
	policies *policies.Service
	roles    *cognitotest.Roles
	aliases  *rolealias.Service
	srv      *httptest.Server
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "moat.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{st: st, auth: auth.New(st, arns.Region, arns.Account), policies: policies.New(st, arns), roles: &cognitotest.Roles{}}
	e.roles.Put(cognitotest.Role("device-role", cognitotest.TrustService(cognito.CredentialsProviderPrincipal)))
	e.aliases = rolealias.New(st, arns, e.roles, rolealias.Options{})
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	gate := &access.Gate{Auth: e.auth, Registry: registry.New(st, arns), Policies: e.policies, ARNs: arns, Log: quiet}
	mux := http.NewServeMux()
	mux.Handle(rolealias.CredentialsPath, &rolealias.Endpoint{Aliases: e.aliases, Auth: e.auth, Authorize: rolealias.GateAuthorizer(gate), Logger: quiet})
	e.srv = httptest.NewUnstartedServer(mux)
	e.srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	e.srv.StartTLS()
	t.Cleanup(e.srv.Close)
	return e
}

// device is a registered device certificate.
type device struct {
	id, arn string
	tls     tls.Certificate
}

// newDevice makes a certificate and registers it with status.
func (e *env) newDevice(t *testing.T, status string) device {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "device"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	d := device{id: pki.CertificateID(der), tls: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}}
	d.arn = arns.Cert(d.id)
	if status == "" {
		return d // not registered
	}
	err = e.st.Update(context.Background(), func(tx store.Tx) error {
		return tx.InsertCertificate(store.Certificate{ID: d.id, PEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
			Status: status, Mode: "DEFAULT", NotBefore: tmpl.NotBefore, NotAfter: tmpl.NotAfter, CreatedAt: time.Now(), UpdatedAt: time.Now(), CustomerVersion: 1})
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// allow attaches to d a policy with one statement on resource.
func (e *env) policy(t *testing.T, d device, name, effect, resource string) {
	t.Helper()
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"` + effect + `","Action":"iot:AssumeRoleWithCertificate","Resource":"` + resource + `"}]}`
	ctx := context.Background()
	if _, err := e.policies.Create(ctx, name, doc, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.policies.Attach(ctx, name, d.arn); err != nil {
		t.Fatal(err)
	}
}

func (e *env) thing(t *testing.T, name string, d *device) {
	t.Helper()
	err := e.st.Update(context.Background(), func(tx store.Tx) error {
		if err := tx.InsertThing(store.Thing{Name: name, ID: name, TypeName: "", Version: 1, CreatedAt: time.Now(), UpdatedAt: time.Now()}); err != nil {
			return err
		}
		if d == nil {
			return nil
		}
		return tx.AttachThingPrincipal(store.ThingPrincipal{ThingName: name, Principal: d.arn, Type: "NON_EXCLUSIVE_THING", CreatedAt: time.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
}

type answer struct {
	status    int
	errorType string
	body      map[string]any
	raw       []byte
}

// get asks for credentials with d's certificate (none when d is nil).
func (e *env) get(t *testing.T, d *device, method, alias, thing string) answer {
	t.Helper()
	tr := e.srv.Client().Transport.(*http.Transport).Clone()
	if d != nil {
		tr.TLSClientConfig.Certificates = []tls.Certificate{d.tls}
	}
	req, err := http.NewRequest(method, e.srv.URL+"/role-aliases/"+alias+"/credentials", nil)
	if err != nil {
		t.Fatal(err)
	}
	if thing != "" {
		req.Header.Set("x-amzn-iot-thingname", thing)
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode, errorType: resp.Header.Get("X-Amzn-ErrorType")}
	if a.raw, err = io.ReadAll(resp.Body); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(a.raw, &a.body); err != nil {
		t.Fatalf("answer %q is not JSON: %v", a.raw, err)
	}
	return a
}

// TestEndpoint_Credentials checks an allowed request: AWS's answer, and
// credentials that authenticate as the role session of the certificate
// for the alias's duration.
func TestEndpoint_Credentials(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	d := e.newDevice(t, "ACTIVE")
	e.policy(t, d, "assume", "Allow", "arn:aws:iot:us-east-1:000000000000:rolealias/cam-*")
	e.thing(t, "cam-1", &d)
	if _, err := e.aliases.Create(ctx, "cam-uploader", "arn:aws:iam::000000000000:role/device-role", 1800, nil); err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	a := e.get(t, &d, http.MethodGet, "cam-uploader", "cam-1")
	if a.status != 200 {
		t.Fatalf("answer %d %s", a.status, a.raw)
	}
	var out struct {
		Credentials struct {
			AccessKeyID     string `json:"accessKeyId"`
			SecretAccessKey string `json:"secretAccessKey"`
			SessionToken    string `json:"sessionToken"`
			Expiration      string `json:"expiration"`
		} `json:"credentials"`
	}
	if err := json.Unmarshal(a.raw, &out); err != nil || len(a.body) != 1 {
		t.Fatalf("answer %s: %v", a.raw, err)
	}
	c := out.Credentials
	exp, err := time.Parse(time.RFC3339, c.Expiration)
	if err != nil || !strings.HasSuffix(c.Expiration, "Z") || exp.Before(before.Add(1800*time.Second-2*time.Second)) || exp.After(time.Now().Add(1800*time.Second)) {
		t.Fatalf("expiration %q (%v), want RFC 3339 UTC in 30 minutes", c.Expiration, err)
	}
	// The credentials sign a request as the role session.
	body := []byte(`{}`)
	r := httptest.NewRequest(http.MethodPost, "https://localhost/topics/x", bytes.NewReader(body))
	r.Header.Set("X-Amz-Security-Token", c.SessionToken)
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken},
		r, hex.EncodeToString(sum[:]), "iotdata", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	p, err := e.auth.SigV4(ctx, r, body, "iotdata")
	if err != nil {
		t.Fatal(err)
	}
	s := p.Session
	if p.Kind != auth.KindRole || s.RoleName != "device-role" || s.SessionName != d.id || s.Source != auth.SourceCredentialsProvider ||
		s.SourceARN != d.arn || s.ThingName != "cam-1" {
		t.Fatalf("session = %+v", s)
	}
	// Without the thing header there is no thing in the session.
	if a := e.get(t, &d, http.MethodGet, "cam-uploader", ""); a.status != 200 {
		t.Fatalf("without a thing: %d %s", a.status, a.raw)
	}
}

// TestEndpoint_Refusals checks each refusal, in AWS's order and words.
func TestEndpoint_Refusals(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	allowed := e.newDevice(t, "ACTIVE")
	e.policy(t, allowed, "all-aliases", "Allow", "arn:aws:iot:us-east-1:000000000000:rolealias/*")
	e.thing(t, "mine", &allowed)
	e.thing(t, "theirs", nil)
	plain := e.newDevice(t, "ACTIVE") // no policy
	denied := e.newDevice(t, "ACTIVE")
	e.policy(t, denied, "allow-then-deny", "Allow", "*")
	e.policy(t, denied, "deny-uploader", "Deny", "arn:aws:iot:us-east-1:000000000000:rolealias/uploader")
	inactive := e.newDevice(t, "INACTIVE")
	e.policy(t, inactive, "inactive-all", "Allow", "*")
	stranger := e.newDevice(t, "")

	role := "arn:aws:iam::000000000000:role/device-role"
	for _, a := range []struct {
		name string
		dur  int
	}{{"uploader", 3600}, {"long", 43200}, {"orphan", 900}, {"untrusted", 900}} {
		if _, err := e.aliases.Create(ctx, a.name, role, a.dur, nil); err != nil {
			t.Fatal(err)
		}
	}
	e.roles.Put(cognitotest.Role("short-role", cognitotest.TrustService(cognito.CredentialsProviderPrincipal)))
	if _, err := e.aliases.Update(ctx, "long", "arn:aws:iam::000000000000:role/short-role", 0); err != nil {
		t.Fatal(err)
	}
	e.roles.Put(cognito.Role{Name: "short-role", ARN: "arn:aws:iam::000000000000:role/short-role", MaxSessionDuration: time.Hour, Trusts: cognitotest.TrustService(cognito.CredentialsProviderPrincipal)})
	e.roles.Put(cognitotest.Role("gone", cognitotest.TrustService(cognito.CredentialsProviderPrincipal)))
	if _, err := e.aliases.Update(ctx, "orphan", "arn:aws:iam::000000000000:role/gone", 0); err != nil {
		t.Fatal(err)
	}
	e.roles.Delete("arn:aws:iam::000000000000:role/gone")
	e.roles.Put(cognitotest.Role("lambda-role", cognitotest.TrustService("lambda.amazonaws.com")))
	if _, err := e.aliases.Update(ctx, "untrusted", "arn:aws:iam::000000000000:role/lambda-role", 0); err != nil {
		t.Fatal(err)
	}

	tests := map[string]struct {
		dev           *device
		method, alias string
		thing         string
		status        int
		message       string
	}{
		"no certificate":          {nil, "GET", "uploader", "", 403, "Missing client certificate."},
		"unregistered":            {&stranger, "GET", "uploader", "", 403, "Certificate is invalid on this endpoint"},
		"inactive":                {&inactive, "GET", "uploader", "", 403, "Certificate is invalid on this endpoint"},
		"thing not attached":      {&allowed, "GET", "uploader", "theirs", 403, "Invalid thing name passed"},
		"unknown thing":           {&allowed, "GET", "uploader", "nobody", 403, "Invalid thing name passed"},
		"bad thing name":          {&allowed, "GET", "uploader", "a b", 403, "Invalid thing name passed"},
		"no policy":               {&plain, "GET", "uploader", "", 403, "Access Denied"},
		"explicit deny":           {&denied, "GET", "uploader", "", 403, "Access Denied"},
		"unknown alias":           {&allowed, "GET", "nope", "", 404, "Role alias does not exist"},
		"unknown alias no policy": {&plain, "GET", "nope", "", 403, "Access Denied"},
		"role deleted":            {&allowed, "GET", "orphan", "", 400, "Unable to assume the role, or the role to assume does not exist"},
		"role not trusting":       {&allowed, "GET", "untrusted", "", 400, "Unable to assume the role"},
		"duration over role max":  {&allowed, "GET", "long", "", 400, "The requested CredentialDurationSeconds exceeds the MaxSessionDuration set for the role"},
		"POST":                    {&allowed, "POST", "uploader", "", 405, "use GET"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			a := e.get(t, tt.dev, tt.method, tt.alias, tt.thing)
			if a.status != tt.status || !strings.Contains(a.body["message"].(string), tt.message) || len(a.body) != 1 || a.errorType == "" {
				t.Fatalf("answer %d %s %s, want %d %q", a.status, a.errorType, a.raw, tt.status, tt.message)
			}
		})
	}
	// The denied device may still use the aliases its deny leaves out.
	if a := e.get(t, &denied, "GET", "untrusted", ""); a.status != 400 {
		t.Fatalf("denied device on another alias: %d %s", a.status, a.raw)
	}
}
