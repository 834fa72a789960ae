package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/auth"
)

// FuzzOpenSession feeds arbitrary session tokens to the verifier of
// temporary credentials: it must never panic, and nothing but a token
// moat sealed for that key id may open a session.
func FuzzOpenSession(f *testing.F) {
	a, _ := openAuth(f)
	ctx := context.Background()
	good, err := a.Mint(ctx, auth.Session{RoleName: "app", SessionName: "s", Expiration: time.Now().Add(time.Hour)})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good.AccessKeyID, good.SessionToken)
	f.Add(good.AccessKeyID, good.SessionToken[:len(good.SessionToken)/2])
	f.Add("ASIAAAAAAAAAAAAAAAAA", "")
	f.Add("ASIA", "AQ")
	f.Fuzz(func(t *testing.T, id, token string) {
		s, err := a.OpenSession(ctx, id, token)
		if err != nil {
			if s != nil {
				t.Fatalf("a session with an error: %+v", s)
			}
			return
		}
		if id != good.AccessKeyID || token != good.SessionToken || s.RoleName != "app" {
			t.Fatalf("opened a session for id %q token %q: %+v", id, token, s)
		}
	})
}
