package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"

	"github.com/moat-iot/moat/internal/moattest"
)

// providerCredentials is the credentials provider's answer.
type providerCredentials struct {
	Credentials struct {
		AccessKeyID     string `json:"accessKeyId"`
		SecretAccessKey string `json:"secretAccessKey"`
		SessionToken    string `json:"sessionToken"`
		Expiration      string `json:"expiration"`
	} `json:"credentials"`
}

// fetchCredentials asks the credentials provider for the role alias's
// credentials as a device does (curl --cert --key -H
// "x-amzn-iot-thingname: THING" https://HOST/role-aliases/ALIAS/credentials):
// a GET over mutual TLS with the device's certificate. thing "" sends no
// thing name.
func fetchCredentials(t *testing.T, s *moattest.Server, d moattest.Device, alias, thing string) (response, aws.Credentials) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL+"/role-aliases/"+alias+"/credentials", nil)
	if err != nil {
		t.Fatal(err)
	}
	if thing != "" {
		req.Header.Set("x-amzn-iot-thingname", thing)
	}
	resp, err := s.HTTPClient(d.TLS).Do(req)
	if err != nil {
		t.Fatalf("GET credentials: %v", err)
	}
	r := readResponse(resp)
	if r.status != http.StatusOK {
		return r, aws.Credentials{}
	}
	var out providerCredentials
	if err := json.Unmarshal([]byte(r.body), &out); err != nil {
		t.Fatalf("credentials provider answered %s: %v", r.body, err)
	}
	c := out.Credentials
	exp, err := time.Parse(time.RFC3339, c.Expiration)
	if err != nil || !strings.HasPrefix(c.AccessKeyID, "ASIA") || c.SecretAccessKey == "" || c.SessionToken == "" {
		t.Fatalf("credentials provider answered %s (expiration: %v)", r.body, err)
	}
	return r, aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken,
		CanExpire: true, Expires: exp}
}

// TestApp_RoleAliasCredentials is the IoT credentials provider end to
// end: a role trusting credentials.iot.amazonaws.com whose policy allows
// publishing under the caller's thing name (${credentials-iot:ThingName}),
// a role alias for it, a device whose IoT policy allows
// iot:AssumeRoleWithCertificate on the alias fetching credentials over
// mutual TLS and publishing with them over HTTPS (SigV4 with the session
// token), and the refusals: topics outside the role, a thing name not the
// device's, a device without the policy (403).
func TestApp_RoleAliasCredentials(t *testing.T) {
	s := moattest.Start(t)
	ctx := context.Background()
	trust := document(statement{Effect: "Allow", Principal: map[string]any{"Service": "credentials.iot.amazonaws.com"},
		Action: []string{"sts:AssumeRole"}})
	role := s.NewRole(t, "uploader", trust, document(allow([]string{"iot:Publish"}, iotARN(s, "topic", "telemetry/${credentials-iot:ThingName}/*"))))
	alias, err := s.IoT().CreateRoleAlias(ctx, &iot.CreateRoleAliasInput{RoleAlias: aws.String("uploader-alias"), RoleArn: aws.String(role),
		CredentialDurationSeconds: aws.Int32(900)})
	if err != nil {
		t.Fatalf("CreateRoleAlias: %v", err)
	}
	aliasARN := aws.ToString(alias.RoleAliasArn)
	if aliasARN != iotARN(s, "rolealias", "uploader-alias") {
		t.Fatalf("role alias ARN %s", aliasARN)
	}
	allowed := s.NewDevice(t, "sensor-1", document(allow([]string{"iot:AssumeRoleWithCertificate"}, aliasARN)))
	s.NewDevice(t, "sensor-2", "") // another thing, not sensor-1's
	refused := s.NewDevice(t, "sensor-3", document(allow([]string{"iot:Connect"}, iotARN(s, "client", "*"))))

	watcher := mustConnectMQTT5(t, s, presignMQTT(t, s, adminCreds(s)), nil, "watcher")
	watcher.mustSubscribe("telemetry/#")

	// A device allowed the alias gets credentials for its thing, and they
	// publish what the role allows for that thing, nothing else.
	t.Run("device with the policy", func(t *testing.T) {
		before := time.Now()
		r, creds := fetchCredentials(t, s, allowed, "uploader-alias", "sensor-1")
		wantStatus(t, "GET credentials", r, http.StatusOK, "")
		if d := creds.Expires.Sub(before); d < 890*time.Second || d > 901*time.Second {
			t.Fatalf("credentials expire %v from now, want the alias's 900 s", d)
		}
		wantStatus(t, "publish to the thing's topic", publishHTTPS(t, s, creds, nil, "telemetry/sensor-1/temp", "21.5"), http.StatusOK, "")
		watcher.receive("telemetry/sensor-1/temp", "21.5")
		wantStatus(t, "publish to another thing's topic", publishHTTPS(t, s, creds, nil, "telemetry/sensor-2/temp", "99"),
			http.StatusForbidden, "ForbiddenException")
		// The key without its session token is nobody.
		bare := creds
		bare.SessionToken = ""
		wantStatus(t, "publish without the session token", publishHTTPS(t, s, bare, nil, "telemetry/sensor-1/temp", "21.6"),
			http.StatusForbidden, "security token included in the request is invalid")
		watcher.noMessage(100 * time.Millisecond)
	})

	// A thing name the certificate is not attached to is refused.
	t.Run("thing name not the device's", func(t *testing.T) {
		r, _ := fetchCredentials(t, s, allowed, "uploader-alias", "sensor-2")
		wantStatus(t, "GET credentials as sensor-2", r, http.StatusForbidden, "Invalid thing name")
	})

	// A device whose IoT policy does not allow the alias gets 403.
	t.Run("device without the policy", func(t *testing.T) {
		r, _ := fetchCredentials(t, s, refused, "uploader-alias", "sensor-3")
		wantStatus(t, "GET credentials without iot:AssumeRoleWithCertificate", r, http.StatusForbidden, "Access Denied")
		r, _ = fetchCredentials(t, s, refused, "uploader-alias", "")
		wantStatus(t, "GET credentials without iot:AssumeRoleWithCertificate or thing name", r, http.StatusForbidden, "Access Denied")
	})
}
