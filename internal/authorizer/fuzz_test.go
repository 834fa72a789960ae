package authorizer

import (
	"reflect"
	"strings"
	"testing"
)

// FuzzParseUsername checks ParseUsername on any username: it never
// panics, the user part is the username up to its first '?', and the
// parameters survive a round trip through url.Values.Encode (what an SDK
// that URL-encodes would send for them).
func FuzzParseUsername(f *testing.F) {
	for _, s := range []string{
		"alice",
		"alice?x-amz-customauthorizer-name=auth&x-amz-customauthorizer-signature=ab%2Bc%3D%3D&token=t1",
		"?x-amz-customauthorizer-name=a&SDK=Python&Version=1.2",
		"u?a=%zz&b=+&&c",
		"a?b=c?d;e=f&=v&k",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, username string) {
		user, params := ParseUsername(username)
		if before, _, _ := strings.Cut(username, "?"); user != before {
			t.Fatalf("user %q, want %q", user, before)
		}
		if params == nil {
			t.Fatal("nil parameters")
		}
		_, again := ParseUsername(user + "?" + params.Encode())
		if !reflect.DeepEqual(params, again) {
			t.Fatalf("parameters %v became %v after Encode", params, again)
		}
		r := FromMQTT(username, nil, "", "")
		if r.AuthorizerName != first(params[NameParam]) || r.TokenSignature != first(params[SignatureParam]) {
			t.Fatalf("FromMQTT name %q signature %q, parameters %v", r.AuthorizerName, r.TokenSignature, params)
		}
	})
}
