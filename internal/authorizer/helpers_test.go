package authorizer

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/moat-iot/moat/internal/arn"
	"github.com/moat-iot/moat/internal/authorizer/authorizertest"
	"github.com/moat-iot/moat/internal/store"
	"github.com/moat-iot/moat/internal/store/sqlite"
)

var testARNs = arn.Builder{Region: "us-east-1", Account: "000000000000"}

// allowPolicy is an IoT policy document a function returns.
const allowPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"*"}]}`

// ecKeyPEM is an EC public key (not usable for token signatures).
func ecKeyPEM(t testing.TB) string {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return authorizertest.PublicKeyPEM(t, &k.PublicKey)
}

func newStore(t testing.TB) store.Store {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "moat.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newService is a service over a new store with opts (its Logger quiet
// unless set).
func newService(t testing.TB, opts Options) *Service {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quiet()
	}
	s, err := New(newStore(t), testARNs, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// function is an authorizer function served by httptest: it records the
// events it receives and answers with answer (the allow response when
// nil).
type function struct {
	srv    *httptest.Server
	calls  atomic.Int32
	mu     sync.Mutex
	events []map[string]any
	answer func(w http.ResponseWriter, r *http.Request)
}

func newFunction(t testing.TB, answer func(w http.ResponseWriter, r *http.Request)) *function {
	f := &function{answer: answer}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *function) serve(w http.ResponseWriter, r *http.Request) {
	f.calls.Add(1)
	b, _ := io.ReadAll(r.Body)
	var ev map[string]any
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(b, &ev) != nil {
		http.Error(w, "want a JSON POST", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.events = append(f.events, ev)
	f.mu.Unlock()
	if f.answer != nil {
		f.answer(w, r)
		return
	}
	answerJSON(w, allowAnswer())
}

// lastEvent is the last event the function received.
func (f *function) lastEvent(t testing.TB) map[string]any {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.events) == 0 {
		t.Fatal("the function received no event")
	}
	return f.events[len(f.events)-1]
}

func allowAnswer() map[string]any {
	return map[string]any{
		"isAuthenticated": true, "principalId": "device42", "policyDocuments": []any{allowPolicy},
		"refreshAfterInSeconds": 600, "disconnectAfterInSeconds": 3600,
	}
}

func answerJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// answerWith answers v as JSON.
func answerWith(v any) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) { answerJSON(w, v) }
}

// signed creates an ACTIVE signing-enabled authorizer "signed" (token key
// "token") calling fn.
func signed(t testing.TB, s *Service, fn string) Authorizer {
	t.Helper()
	a, err := s.Create(context.Background(), "signed", Config{
		FunctionARN: fn, TokenKeyName: "token", SigningKeys: map[string]string{"k1": authorizertest.KeyPEM(t, 2048)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// unsigned creates an ACTIVE authorizer "open" with signing disabled.
func unsigned(t testing.TB, s *Service, fn string) Authorizer {
	t.Helper()
	a, err := s.Create(context.Background(), "open", Config{FunctionARN: fn, SigningDisabled: true, TokenKeyName: "token"})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// wantErr fails unless err wraps ErrDenied and kind.
func wantErr(t testing.TB, err, kind error) {
	t.Helper()
	if !errors.Is(err, ErrDenied) || !errors.Is(err, kind) {
		t.Fatalf("error %v, want one wrapping %v", err, kind)
	}
}

// writeFile writes a file in a temporary directory and returns its path.
func writeFile(t testing.TB, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
