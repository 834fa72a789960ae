package sigv4

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// FuzzParseAuthorization feeds arbitrary Authorization header values to the
// parser: it must never panic, and whatever it accepts must be well formed.
// Seeds: testdata/fuzz/FuzzParseAuthorization (real headers from the Go SDK,
// botocore and the AWS test suite).
func FuzzParseAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
	f.Fuzz(func(t *testing.T, h string) {
		sig, err := parseAuthorization(h)
		if err != nil {
			if err.Code != CodeIncompleteSignature || err.HTTPStatus() != 400 {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if len(sig.sig) != 32 || sig.cred.accessKeyID == "" || len(sig.signedHeaders) == 0 {
			t.Fatalf("accepted malformed header %q: %+v", h, sig)
		}
	})
}

// FuzzVerify feeds arbitrary raw HTTP requests to Verify: it must never
// panic and must only fail with *Error. Seeds:
// testdata/fuzz/FuzzVerify (signed requests from the AWS test suite, the
// Go SDK and presigned URLs).
func FuzzVerify(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\nHost: example.amazonaws.com\r\nX-Amz-Date: 20150830T123600Z\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31\r\n\r\n"))
	v := &Verifier{
		Lookup:   keyStore{"AKIDEXAMPLE": {Secret: suiteSecret}}.Lookup(),
		Services: []string{"service", "iotdevicegateway"},
		Now:      fixedNow(time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)),
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(string(raw))))
		if err != nil {
			return
		}
		_, verr := v.Verify(context.Background(), r, nil)
		if verr != nil {
			if _, ok := verr.(*Error); !ok {
				t.Fatalf("Verify returned %T", verr)
			}
		}
	})
}
