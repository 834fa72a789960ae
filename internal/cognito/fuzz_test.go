package cognito_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/cognito"
	"github.com/moat-iot/moat/internal/cognito/cognitotest"
)

// FuzzParseJWKS checks that any JWKS parses or is refused without a
// panic, and that only public asymmetric keys come out.
func FuzzParseJWKS(f *testing.F) {
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","kid":"a"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`))
	f.Add([]byte(`{"keys":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		keys, err := cognito.ParseJWKS(b)
		if err != nil {
			return
		}
		if len(keys) == 0 {
			t.Fatal("no error and no keys")
		}
		for _, k := range keys {
			switch k.Key.(type) {
			case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
			default:
				t.Fatalf("key of type %T came out", k.Key)
			}
		}
	})
}

// FuzzLoginToken presents any token as a login of a trusted OIDC
// provider. A valid token of the issuer (a seed) is accepted; anything
// made from it without the issuer's key is refused with
// NotAuthorizedException, or, at most, accepted as the same subject (a
// token whose base64 was re-encoded differently): never another
// identity, never a panic.
func FuzzLoginToken(f *testing.F) {
	fx := newFixture(f)
	ctx := context.Background()
	pool := fx.oidcPool(f)
	valid := fx.token(f, "alice")[fx.issuer.Name()]
	alice, err := fx.svc.GetID(ctx, pool.ID, "", map[string]string{fx.issuer.Name(): valid})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(fx.issuer.Token(f, cognitotest.Claims{Subject: "bob", Audience: []string{"other"}, Expiry: time.Now().Add(time.Hour)}))
	f.Fuzz(func(t *testing.T, token string) {
		id, err := fx.svc.GetID(ctx, pool.ID, "", map[string]string{fx.issuer.Name(): token})
		if err == nil {
			if id != alice {
				t.Fatalf("token %q accepted as %s, not alice's %s", token, id, alice)
			}
			return
		}
		if c := codeOf(err); c != "NotAuthorizedException" && c != "InvalidParameterException" {
			t.Fatalf("token %q: %v", token, err)
		}
	})
}
