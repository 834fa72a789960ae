package e2e

// Shared helpers for what the tests do over HTTPS: the data plane's
// publish (signed with any credentials, or carrying custom-authorizer
// headers), the checks of its answers and of the SDKs' AWS errors, and
// the server's /metrics.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/moat-iot/moat/internal/moattest"
)

// timeout bounds every wait of the Go-side clients (the Node.js tests'
// scripts have their own bounds: nodeWait).
const timeout = 5 * time.Second

// liveBound is how soon a change must reach a live connection (issue 9
// §5: "closed (v5: DISCONNECT 0x87) within 1 s").
const liveBound = time.Second

// emptySHA256 is the SHA-256 of an empty payload, hex: what a presigned
// URL signs.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// adminCreds are the server's admin credentials.
func adminCreds(s *moattest.Server) aws.Credentials {
	return aws.Credentials{AccessKeyID: s.AccessKey, SecretAccessKey: s.Secret}
}

// provider gives credentials (with their session token, if any) to an
// SDK client.
func provider(c aws.Credentials) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)
}

// response is an HTTP answer with its body read: its status, its error
// type (X-Amzn-ErrorType without the ":url" suffix; empty when none) and
// its body.
type response struct {
	status  int
	errType string
	body    string
}

// readResponse reads (the first 16 KiB of) resp's body and closes it.
func readResponse(resp *http.Response) response {
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<10))
	et, _, _ := strings.Cut(resp.Header.Get("X-Amzn-ErrorType"), ":")
	return response{status: resp.StatusCode, errType: et, body: string(b)}
}

// publishHTTPS publishes payload on topic over HTTPS (iot-data Publish,
// POST /topics/{topic}?qos=1) with the headers hdr (nil for none), signed
// with SigV4 for the signing name iotdata unless creds is the zero value;
// a session token is sent as X-Amz-Security-Token, as the SDKs do.
func publishHTTPS(t testing.TB, s *moattest.Server, creds aws.Credentials, hdr http.Header, topic, payload string) response {
	t.Helper()
	body := []byte(payload)
	req, err := http.NewRequest(http.MethodPost, s.URL+"/topics/"+url.PathEscape(topic)+"?qos=1", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	if creds.AccessKeyID != "" {
		sum := sha256.Sum256(body)
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "iotdata", s.Config.Region, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		t.Fatalf("publish %s: %v", topic, err)
	}
	return readResponse(resp)
}

// wantStatus fails unless r has the status and, when want is not empty,
// a body containing it.
func wantStatus(t testing.TB, what string, r response, status int, want string) {
	t.Helper()
	if r.status != status || !strings.Contains(r.body, want) {
		t.Fatalf("%s: HTTP %d %s, want %d with %q", what, r.status, r.body, status, want)
	}
}

// wantPublished fails unless the publish was accepted.
func wantPublished(t testing.TB, r response) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("publish: HTTP %d %s %s, want 200", r.status, r.errType, r.body)
	}
}

// wantForbidden fails unless the publish was refused with iot-data's
// ForbiddenException whose message contains want.
func wantForbidden(t testing.TB, r response, want string) {
	t.Helper()
	if r.status != http.StatusForbidden || r.errType != "ForbiddenException" || !strings.Contains(r.body, want) {
		t.Fatalf("publish: HTTP %d %s %s, want 403 ForbiddenException mentioning %q", r.status, r.errType, r.body, want)
	}
}

// errorCode is the AWS error code of an SDK error and its HTTP status;
// the test fails when err is not an AWS API error.
func errorCode(t testing.TB, err error) (string, int) {
	t.Helper()
	if err == nil {
		t.Fatal("the call succeeded; want an error")
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("not an AWS API error: %v", err)
	}
	status := 0
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return ae.ErrorCode(), status
}

// wantError fails unless err is the AWS error code with status.
func wantError(t testing.TB, err error, code string, status int) {
	t.Helper()
	got, st := errorCode(t, err)
	if got != code || st != status {
		t.Fatalf("error %s (HTTP %d), want %s (HTTP %d): %v", got, st, code, status, err)
	}
}

// wantErrorMessage fails unless err is the AWS error code with a message
// containing want.
func wantErrorMessage(t testing.TB, err error, code, want string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code || !strings.Contains(ae.ErrorMessage(), want) {
		t.Fatalf("error %v, want %s mentioning %q", err, code, want)
	}
}

// metric reads one sample of the server's /metrics (as the admin): series
// is the metric name with its labels as the exposition format prints
// them, e.g. moat_mqtt_rechecks_total{outcome="kept"}. A series not
// exported yet is 0.
func metric(t testing.TB, s *moattest.Server, series string) float64 {
	t.Helper()
	resp, body := s.Do(t, http.MethodGet, "/metrics", nil, "iot", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: HTTP %d %s", resp.StatusCode, body)
	}
	for line := range strings.Lines(string(body)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("metric %s: %v", line, err)
			}
			return f
		}
	}
	return 0
}
