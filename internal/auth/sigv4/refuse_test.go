package sigv4

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func TestVerifier_Refusals(t *testing.T) {
	body := []byte(`{"state":{"reported":{"on":true}}}`)
	const target = "https://localhost:8443/topics/%24aws%2Fthings%2Ft1%2Fshadow%2Fupdate?qos=1"
	signed := func(t *testing.T) (*http.Request, []byte) {
		return sdkSign(t, "POST", target, body, nil, longTerm(), "iotdata")
	}
	setAuthz := func(r *http.Request, f func(string) string) {
		r.Header.Set("Authorization", f(r.Header.Get("Authorization")))
	}

	tests := []struct {
		name  string
		req   func(t *testing.T) (*http.Request, []byte)
		v     func(v *Verifier)
		code  string
		kind  error
		inMsg string
	}{
		{
			// Checks a request with no Authorization header and no presigned query.
			name: "no-auth",
			req: func(t *testing.T) (*http.Request, []byte) {
				r, b := signed(t)
				r.Header.Del("Authorization")
				return r, b
			},
			code: CodeMissingAuthenticationToken, kind: ErrMissingAuth,
		},
		{
			// Checks a request signed 16 minutes before the server clock.
			name: "expired", req: signed,
			v:    func(v *Verifier) { v.Now = fixedNow(sdkTime.Add(16 * time.Minute)) },
			code: CodeInvalidSignature, kind: ErrExpired,
			inMsg: "Signature expired: 20260115T101500Z is now earlier than 20260115T101600Z (20260115T103100Z - 15 min.)",
		},
		{
			// Checks a request dated 16 minutes after the server clock.
			name: "future", req: signed,
			v:    func(v *Verifier) { v.Now = fixedNow(sdkTime.Add(-16 * time.Minute)) },
			code: CodeInvalidSignature, kind: ErrExpired, inMsg: "Signature not yet current",
		},
		{
			// Checks a body changed after signing (no X-Amz-Content-Sha256).
			name: "body-changed",
			req: func(t *testing.T) (*http.Request, []byte) {
				r, _ := signed(t)
				return r, []byte(`{"state":{"reported":{"on":false}}}`)
			},
			code: CodeInvalidSignature, kind: ErrMismatch,
		},
		{
			// Checks a body that no longer matches the X-Amz-Content-Sha256 the client signed.
			name: "body-changed-content-sha256",
			req: func(t *testing.T) (*http.Request, []byte) {
				hdr := http.Header{"X-Amz-Content-Sha256": {hashHex(body)}}
				r, _ := sdkSign(t, "POST", target, body, hdr, longTerm(), "iotdata")
				return r, []byte("tampered")
			},
			code: CodeInvalidSignature, kind: ErrPayloadMismatch,
		},
		{
			// Checks a signature made with another secret.
			name: "wrong-secret",
			req: func(t *testing.T) (*http.Request, []byte) {
				return sdkSign(t, "POST", target, body, nil, aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: "not-the-secret"}, "iotdata")
			},
			code: CodeInvalidSignature, kind: ErrMismatch,
		},
		{
			// Checks an access key id the Lookup does not know.
			name: "unknown-key",
			req: func(t *testing.T) (*http.Request, []byte) {
				return sdkSign(t, "POST", target, body, nil, aws.Credentials{AccessKeyID: "AKIDUNKNOWN", SecretAccessKey: testSecret}, "iotdata")
			},
			code: CodeUnrecognizedClient, kind: ErrUnknownKey, inMsg: "The security token included in the request is invalid.",
		},
		{
			// Checks a credential scoped to a service this verifier does not accept.
			name: "wrong-service",
			req: func(t *testing.T) (*http.Request, []byte) {
				return sdkSign(t, "POST", target, body, nil, longTerm(), "execute-api")
			},
			v:    func(v *Verifier) { v.Services = []string{"iot"} },
			code: CodeInvalidSignature, kind: ErrScope, inMsg: "Credential should be scoped to correct service: 'iot'.",
		},
		{
			// Checks a credential scoped to another region when Region is set.
			name: "wrong-region", req: signed,
			v:    func(v *Verifier) { v.Region = "eu-west-1" },
			code: CodeInvalidSignature, kind: ErrScope, inMsg: "valid region",
		},
		{
			// Checks a scope date that is not the X-Amz-Date day.
			name: "scope-date",
			req: func(t *testing.T) (*http.Request, []byte) {
				r, b := signed(t)
				setAuthz(r, func(s string) string { return strings.Replace(s, "/20260115/", "/20260114/", 1) })
				return r, b
			},
			code: CodeInvalidSignature, kind: ErrScope, inMsg: "'20260114' != '20260115'",
		},
		{
			// Checks that a missing X-Amz-Date is malformed.
			name: "no-date",
			req: func(t *testing.T) (*http.Request, []byte) {
				r, b := signed(t)
				r.Header.Del("X-Amz-Date")
				return r, b
			},
			code: CodeIncompleteSignature, kind: ErrMalformed,
		},
		{
			// Checks a garbled X-Amz-Date.
			name: "bad-date",
			req: func(t *testing.T) (*http.Request, []byte) {
				r, b := signed(t)
				r.Header.Set("X-Amz-Date", "2026-01-15T10:15:00Z")
				return r, b
			},
			code: CodeIncompleteSignature, kind: ErrMalformed,
		},
		{
			// Checks an Authorization header without its Signature component.
			name: "no-signature-component",
			req: func(t *testing.T) (*http.Request, []byte) {
				r, b := signed(t)
				setAuthz(r, func(s string) string { return s[:strings.Index(s, ", Signature=")] })
				return r, b
			},
			code: CodeIncompleteSignature, kind: ErrMalformed, inMsg: "requires 'Signature' parameter",
		},
		{
			// Checks an Authorization header with a component lacking '='.
			name: "no-equal-sign",
			req: func(t *testing.T) (*http.Request, []byte) {
				r, b := signed(t)
				setAuthz(r, func(s string) string { return strings.Replace(s, "SignedHeaders=", "SignedHeaders ", 1) })
				return r, b
			},
			code: CodeIncompleteSignature, kind: ErrMalformed,
		},
		{
			// Checks an unsupported algorithm (SigV2-style header).
			name: "other-algorithm",
			req: func(t *testing.T) (*http.Request, []byte) {
				r, b := signed(t)
				r.Header.Set("Authorization", "AWS AKIDMOATEXAMPLE:c2lnbmF0dXJl")
				return r, b
			},
			code: CodeIncompleteSignature, kind: ErrMalformed,
		},
		{
			// Checks a credential with too few scope parts.
			name: "short-credential",
			req: func(t *testing.T) (*http.Request, []byte) {
				r, b := signed(t)
				setAuthz(r, func(s string) string { return strings.Replace(s, "/us-east-1/iotdata", "/iotdata", 1) })
				return r, b
			},
			code: CodeIncompleteSignature, kind: ErrMalformed,
		},
		{
			// Checks a truncated signature.
			name: "short-signature",
			req: func(t *testing.T) (*http.Request, []byte) {
				r, b := signed(t)
				setAuthz(r, func(s string) string { return s[:len(s)-2] })
				return r, b
			},
			code: CodeIncompleteSignature, kind: ErrMalformed,
		},
		{
			// Checks SignedHeaders without host.
			name: "host-not-signed",
			req: func(t *testing.T) (*http.Request, []byte) {
				r, b := signed(t)
				setAuthz(r, func(s string) string {
					return strings.Replace(s, "SignedHeaders=content-length;host;", "SignedHeaders=content-length;", 1)
				})
				return r, b
			},
			code: CodeIncompleteSignature, kind: ErrMalformed, inMsg: "'Host'",
		},
		{
			// Checks a signed header that is absent from the request.
			name: "signed-header-absent",
			req: func(t *testing.T) (*http.Request, []byte) {
				r, b := sdkSign(t, "POST", target, body, http.Header{"X-Custom": {"v"}}, longTerm(), "iotdata")
				r.Header.Del("X-Custom")
				return r, b
			},
			code: CodeInvalidSignature, kind: ErrMismatch,
		},
		{
			// Checks a request sent to another Host than the one signed.
			name: "host-changed",
			req: func(t *testing.T) (*http.Request, []byte) {
				r, b := signed(t)
				r.Host = "localhost:9443"
				return r, b
			},
			code: CodeInvalidSignature, kind: ErrMismatch,
		},
		{
			// Checks temporary credentials presented without their session token.
			name: "token-missing",
			req: func(t *testing.T) (*http.Request, []byte) {
				r, b := sdkSign(t, "POST", target, body, nil, temporary(), "iotdata")
				r.Header.Del("X-Amz-Security-Token")
				return r, b
			},
			code: CodeUnrecognizedClient, kind: ErrInvalidToken,
		},
		{
			// Checks temporary credentials presented with another session token.
			name: "token-mismatch",
			req: func(t *testing.T) (*http.Request, []byte) {
				c := temporary()
				c.SessionToken = "another-token"
				return sdkSign(t, "POST", target, body, nil, c, "iotdata")
			},
			code: CodeUnrecognizedClient, kind: ErrInvalidToken, inMsg: "The security token included in the request is invalid.",
		},
		{
			// Checks a long-term key presented with a session token.
			name: "token-unexpected",
			req: func(t *testing.T) (*http.Request, []byte) {
				c := longTerm()
				c.SessionToken = testToken
				return sdkSign(t, "POST", target, body, nil, c, "iotdata")
			},
			code: CodeUnrecognizedClient, kind: ErrInvalidToken,
		},
		{
			// Checks a presigned URL used after its X-Amz-Expires.
			name: "presigned-expired",
			req: func(t *testing.T) (*http.Request, []byte) {
				return getServer(t, presign(t, "https://localhost:8443/mqtt", longTerm(), time.Minute, "iotdevicegateway")), nil
			},
			v:    func(v *Verifier) { v.Now = fixedNow(sdkTime.Add(2 * time.Minute)) },
			code: CodeInvalidSignature, kind: ErrExpired, inMsg: "(20260115T101700Z - 1 min.)",
		},
		{
			// Checks an out-of-range X-Amz-Expires.
			name: "presigned-expires-too-long",
			req: func(t *testing.T) (*http.Request, []byte) {
				return getServer(t, presign(t, "https://localhost:8443/mqtt", longTerm(), 8*24*time.Hour, "iotdevicegateway")), nil
			},
			code: CodeIncompleteSignature, kind: ErrMalformed,
		},
		{
			// Checks a presigned URL with a tampered query parameter.
			name: "presigned-query-changed",
			req: func(t *testing.T) (*http.Request, []byte) {
				u := presign(t, "https://localhost:8443/things?maxResults=5", longTerm(), time.Hour, "iot")
				return getServer(t, strings.Replace(u, "maxResults=5", "maxResults=6", 1)), nil
			},
			code: CodeInvalidSignature, kind: ErrMismatch,
		},
		{
			// Checks a presigned URL missing X-Amz-Date.
			name: "presigned-no-date",
			req: func(t *testing.T) (*http.Request, []byte) {
				u := presign(t, "https://localhost:8443/mqtt", longTerm(), 0, "iotdevicegateway")
				return getServer(t, strings.Replace(u, "X-Amz-Date=", "X-Amz-Dat=", 1)), nil
			},
			code: CodeIncompleteSignature, kind: ErrMalformed,
		},
		{
			// Checks a request carrying both an Authorization header and presigned parameters.
			name: "both-mechanisms",
			req: func(t *testing.T) (*http.Request, []byte) {
				r := getServer(t, presign(t, "https://localhost:8443/mqtt", longTerm(), 0, "iotdevicegateway"))
				r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=x")
				return r, nil
			},
			code: CodeIncompleteSignature, kind: ErrMalformed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := testVerifier()
			if tt.v != nil {
				tt.v(v)
			}
			r, b := tt.req(t)
			res, err := v.Verify(context.Background(), r, b)
			if err == nil {
				t.Fatalf("Verify accepted: %+v", res)
			}
			wantCode(t, err, tt.code, tt.kind)
			var e *Error
			errors.As(err, &e)
			if tt.inMsg != "" && !strings.Contains(e.Message, tt.inMsg) {
				t.Fatalf("message %q does not contain %q", e.Message, tt.inMsg)
			}
			if strings.Contains(e.Error(), testSecret) {
				t.Fatalf("message leaks the secret: %q", e.Error())
			}
		})
	}
}

func TestError_HTTPStatus(t *testing.T) {
	tests := []struct {
		kind   error
		code   string
		status int
	}{
		{ErrMissingAuth, CodeMissingAuthenticationToken, 403},
		{ErrMalformed, CodeIncompleteSignature, 400},
		{ErrScope, CodeInvalidSignature, 403},
		{ErrExpired, CodeInvalidSignature, 403},
		{ErrMismatch, CodeInvalidSignature, 403},
		{ErrPayloadMismatch, CodeInvalidSignature, 403},
		{ErrUnknownKey, CodeUnrecognizedClient, 403},
		{ErrInvalidToken, CodeUnrecognizedClient, 403},
		{ErrExpiredToken, CodeExpiredToken, 403},
		{ErrInternal, CodeInternalFailure, 500},
	}
	for _, tt := range tests {
		// Checks the code and status each kind maps to, and that errors.Is matches the kind.
		t.Run(tt.kind.Error(), func(t *testing.T) {
			e := newError(tt.kind, "m")
			if e.Code != tt.code || e.HTTPStatus() != tt.status || !errors.Is(e, tt.kind) {
				t.Fatalf("got %s %d", e.Code, e.HTTPStatus())
			}
		})
	}
}

func TestVerifier_LookupFailure(t *testing.T) {
	boom := errors.New("store offline")
	v := testVerifier()
	v.Lookup = func(context.Context, string, string) (Credential, error) { return Credential{}, boom }
	r, b := sdkSign(t, "GET", "https://localhost:8443/things", nil, nil, longTerm(), "iot")
	_, err := v.Verify(context.Background(), r, b)
	// A store failure is a 500 whose cause stays reachable but out of the message.
	wantCode(t, err, CodeInternalFailure, ErrInternal)
	if !errors.Is(err, boom) || strings.Contains(err.Error(), "offline") {
		t.Fatalf("err = %v", err)
	}
}

// TestVerifier_LookupTokenErrors: a Lookup that judges the session token
// (temporary credentials carry their claims in it) gets the token the
// request carried, and its verdicts reach the client as AWS's codes.
func TestVerifier_LookupTokenErrors(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code string
		kind error
	}{
		{fmt.Errorf("token of another key: %w", ErrInvalidToken), CodeUnrecognizedClient, ErrInvalidToken},
		{fmt.Errorf("session expired: %w", ErrExpiredToken), CodeExpiredToken, ErrExpiredToken},
	} {
		var gotToken string
		v := testVerifier()
		v.Lookup = func(_ context.Context, _, token string) (Credential, error) {
			gotToken = token
			return Credential{}, tc.err
		}
		r, b := sdkSign(t, "GET", "https://localhost:8443/things", nil, nil, temporary(), "iot")
		_, err := v.Verify(context.Background(), r, b)
		wantCode(t, err, tc.code, tc.kind)
		if gotToken != temporary().SessionToken {
			t.Fatalf("Lookup got token %q, want the request's", gotToken)
		}
	}
}
