package e2e

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	iottypes "github.com/aws/aws-sdk-go-v2/service/iot/types"

	"github.com/moat-iot/moat/internal/config"
	"github.com/moat-iot/moat/internal/moattest"
)

// nodeStartWithAuthorizers starts a moat with two custom authorizers
// whose function is a nodeAuthorizerFn (allowed by --authorizer-url):
// "node-open" (signingDisabled) and "node-signed" (tokens signed with the
// returned key). Both find the token in the nodeTokenHeader header.
func nodeStartWithAuthorizers(t *testing.T) (*moattest.Server, *nodeAuthorizerFn, nodeSigningKey) {
	t.Helper()
	cfg := config.Default()
	fn := nodeStartAuthorizerFn(t, cfg.Region, cfg.AccountID)
	srv := moattest.Start(t, func(c *config.Config) { c.CustomAuth.URLs = []string{fn.srv.URL + "/"} })
	key := nodeNewSigningKey(t)
	for _, in := range []*iot.CreateAuthorizerInput{
		{AuthorizerName: aws.String("node-open"), AuthorizerFunctionArn: aws.String(fn.srv.URL), TokenKeyName: aws.String(nodeTokenHeader),
			SigningDisabled: aws.Bool(true), Status: iottypes.AuthorizerStatusActive},
		{AuthorizerName: aws.String("node-signed"), AuthorizerFunctionArn: aws.String(fn.srv.URL), TokenKeyName: aws.String(nodeTokenHeader),
			TokenSigningPublicKeys: map[string]string{"k1": key.publicPEM(t)}, Status: iottypes.AuthorizerStatusActive},
	} {
		if _, err := srv.IoT().CreateAuthorizer(context.Background(), in); err != nil {
			t.Fatalf("CreateAuthorizer %s: %v", aws.ToString(in.AuthorizerName), err)
		}
	}
	return srv, fn, key
}

// nodeTokenHeader is where the tests' authorizers find the token
// (tokenKeyName).
const nodeTokenHeader = "x-node-token"

// nodeAuthorizerFn is a custom authorizer function served by httptest: it
// allows the tokens that start with "allow" (connecting as a client id
// starting with "nodejs-" and publishing under node/js/allowed/) and
// denies every other, and records the events it gets.
type nodeAuthorizerFn struct {
	srv *httptest.Server

	mu     sync.Mutex
	events []nodeAuthorizerEvent
}

// nodeAuthorizerEvent is the part of AWS's request event the tests check.
type nodeAuthorizerEvent struct {
	Token             string   `json:"token"`
	SignatureVerified bool     `json:"signatureVerified"`
	Protocols         []string `json:"protocols"`
	ProtocolData      struct {
		HTTP struct {
			Headers map[string]string `json:"headers"`
		} `json:"http"`
	} `json:"protocolData"`
}

// nodeStartAuthorizerFn serves the function until the test ends; its
// policies name resources of region and account.
func nodeStartAuthorizerFn(t *testing.T, region, account string) *nodeAuthorizerFn {
	t.Helper()
	arn := "arn:aws:iot:" + region + ":" + account + ":"
	allow, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []map[string]any{
		{"Effect": "Allow", "Action": "iot:Connect", "Resource": arn + "client/nodejs-*"},
		{"Effect": "Allow", "Action": "iot:Publish", "Resource": arn + "topic/node/js/allowed/*"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	f := &nodeAuthorizerFn{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev nodeAuthorizerEvent
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &ev); err != nil {
			http.Error(w, "not an event: "+err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.events = append(f.events, ev)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if !strings.HasPrefix(ev.Token, "allow") {
			io.WriteString(w, `{"isAuthenticated":false}`)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"isAuthenticated": true, "principalId": "nodejs",
			"policyDocuments": []string{string(allow)}, "refreshAfterInSeconds": 300, "disconnectAfterInSeconds": 3600})
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// calls returns the events the function got so far.
func (f *nodeAuthorizerFn) calls() []nodeAuthorizerEvent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]nodeAuthorizerEvent(nil), f.events...)
}

// nodeSigningKey is an RSA key whose public half an authorizer trusts to
// sign tokens.
type nodeSigningKey struct{ key *rsa.PrivateKey }

func nodeNewSigningKey(t *testing.T) nodeSigningKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return nodeSigningKey{k}
}

// publicPEM is the public key as CreateAuthorizer takes it.
func (k nodeSigningKey) publicPEM(t *testing.T) string {
	der, err := x509.MarshalPKIXPublicKey(&k.key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// sign is the x-amz-customauthorizer-signature of token: base64 of its
// RSA-SHA256 PKCS#1 v1.5 signature.
func (k nodeSigningKey) sign(t *testing.T, token string) string {
	d := sha256.Sum256([]byte(token))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k.key, crypto.SHA256, d[:])
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}
