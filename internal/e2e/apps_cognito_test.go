package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"
	"github.com/aws/aws-sdk-go-v2/service/iot"

	"github.com/moat-iot/moat/internal/moattest"
)

// appScript is the boto3 app of these tests.
var appScript = filepath.Join("testdata", "apps", "cognito_app.py")

// appCreds is what cognito_app.py credentials prints: an identity's
// temporary credentials and a presigned MQTT-over-WebSocket URL made with
// them. raw is the printed JSON, which cognito_app.py publish reads.
type appCreds struct {
	IdentityID   string `json:"identityId"`
	AccessKeyID  string `json:"accessKeyId"`
	SecretKey    string `json:"secretKey"`
	SessionToken string `json:"sessionToken"`
	Expiration   int64  `json:"expiration"`
	WSSURL       string `json:"wssUrl"`
	raw          []byte
}

// awsCreds are the credentials for the Go SDK's signer.
func (c appCreds) awsCreds() aws.Credentials {
	return aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretKey, SessionToken: c.SessionToken}
}

// appPublishResult is one publish of cognito_app.py publish.
type appPublishResult struct {
	Topic   string `json:"topic"`
	OK      bool   `json:"ok"`
	Code    string `json:"code"`
	Status  int    `json:"status"`
	Message string `json:"message"`
}

// appPython runs the boto3 app with python3.
type appPython struct {
	python string
	s      *moattest.Server
}

// appNeedBoto3 finds python3 with boto3 and returns its path.
// Without them the test is skipped, except under CI=true, where it fails.
func appNeedBoto3(t *testing.T) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err == nil {
		var out []byte
		if out, err = exec.Command(py, "-c", "import boto3").CombinedOutput(); err != nil {
			err = fmt.Errorf("import boto3: %w: %s", err, bytes.TrimSpace(out))
		}
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("python3 with boto3 is required under CI: %v", err)
		}
		t.Skipf("python3 with boto3 is not available (pip install boto3; under CI=true this fails): %v", err)
	}
	return py
}

// run runs cognito_app.py with args and stdin, with no ambient AWS
// configuration (no AWS_* variables; config and credentials files
// /dev/null; no instance metadata), and returns its stdout.
func (p appPython) run(t *testing.T, stdin []byte, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args = append([]string{appScript, args[0], "--endpoint", p.s.URL, "--ca", p.s.RootCAFile(), "--region", p.s.Config.Region}, args[1:]...)
	cmd := exec.CommandContext(ctx, p.python, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true",
		"NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost")
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("cognito_app.py %s: %v\n%s", args[1], err, stderr.String())
	}
	return stdout.Bytes()
}

// credentials runs the app's GetId and GetCredentialsForIdentity, as a
// guest when login is empty, else with the developer token login.
func (p appPython) credentials(t *testing.T, pool, login string) appCreds {
	t.Helper()
	args := []string{"credentials", "--pool", pool}
	if login != "" {
		args = append(args, "--login", login)
	}
	out := p.run(t, nil, args...)
	var c appCreds
	if err := json.Unmarshal(out, &c); err != nil {
		t.Fatalf("cognito_app.py credentials printed %q: %v", out, err)
	}
	c.raw = out
	region := p.s.Config.Region
	exp := time.Unix(c.Expiration, 0)
	if !strings.HasPrefix(c.IdentityID, region+":") || !strings.HasPrefix(c.AccessKeyID, "ASIA") || c.SecretKey == "" || c.SessionToken == "" ||
		time.Until(exp) < 5*time.Minute || !strings.HasPrefix(c.WSSURL, mqttURL(p.s)+"?") ||
		!strings.Contains(c.WSSURL, "X-Amz-Security-Token=") || !strings.Contains(c.WSSURL, "%2Fiotdevicegateway%2Faws4_request") {
		t.Fatalf("cognito_app.py credentials = identity %s, key %s, expiration %v, URL %s", c.IdentityID, c.AccessKeyID, exp, c.WSSURL)
	}
	return c
}

// publish has the app publish payload to each topic with boto3's
// iot-data client and the credentials c.
func (p appPython) publish(t *testing.T, c appCreds, payload string, topics ...string) []appPublishResult {
	t.Helper()
	args := []string{"publish", "--payload", payload}
	for _, tp := range topics {
		args = append(args, "--topic", tp)
	}
	out := p.run(t, c.raw, args...)
	var res struct {
		Results []appPublishResult `json:"results"`
	}
	if err := json.Unmarshal(out, &res); err != nil || len(res.Results) != len(topics) {
		t.Fatalf("cognito_app.py publish printed %q: %v", out, err)
	}
	return res.Results
}

// appWantPublished fails unless r succeeded.
func appWantPublished(t *testing.T, r appPublishResult) {
	t.Helper()
	if !r.OK {
		t.Fatalf("boto3 publish to %s: %s (HTTP %d) %s, want success", r.Topic, r.Code, r.Status, r.Message)
	}
}

// appWantForbidden fails unless r was refused with boto3's
// ForbiddenException (HTTP 403).
func appWantForbidden(t *testing.T, r appPublishResult) {
	t.Helper()
	if r.OK || r.Code != "ForbiddenException" || r.Status != http.StatusForbidden {
		t.Fatalf("boto3 publish to %s: ok=%v %s (HTTP %d) %s, want ForbiddenException", r.Topic, r.OK, r.Code, r.Status, r.Message)
	}
}

// TestApp_CognitoBoto3 is the app flow of issue 9 with boto3 as the app:
// an identity pool set up by the admin with aws-sdk-go-v2 (IAM roles
// trusting the pool, a developer provider, an IoT policy for
// authenticated identities); the app's GetId and GetCredentialsForIdentity
// (unsigned); a Go MQTT 5 subscriber on the WebSocket URL the app
// presigned with botocore's SigV4QueryAuth and the session token; the
// app's HTTPS publish with boto3's iot-data client reaching it; and the
// refusals: topics outside the role, an authenticated identity needing
// both its role's IAM policy and an IoT policy attached to its identity
// id (reference §11), and DetachPolicy closing the identity's live
// connection within 1 s (DISCONNECT 0x87).
func TestApp_CognitoBoto3(t *testing.T) {
	python := appNeedBoto3(t)
	s := moattest.Start(t)
	py := appPython{python: python, s: s}
	ctx := context.Background()
	admin := s.CognitoIdentity(nil)

	created, err := admin.CreateIdentityPool(ctx, &cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String("app"),
		AllowUnauthenticatedIdentities: true, DeveloperProviderName: aws.String("login.example")})
	if err != nil {
		t.Fatalf("CreateIdentityPool: %v", err)
	}
	pool := aws.ToString(created.IdentityPoolId)
	// Guests may use app/guest/*; authenticated identities' role allows
	// app/* and their IoT policy narrows it to app/IDENTITY/* (and allows
	// lab/*, which the role does not).
	guestRole := s.NewRole(t, "app-guest", trustCognito(pool, "unauthenticated"), document(allowPubSub(s, "*", "app/guest")...))
	userRole := s.NewRole(t, "app-user", trustCognito(pool, "authenticated"), document(allowPubSub(s, "*", "app")...))
	if _, err := admin.SetIdentityPoolRoles(ctx, &cognitoidentity.SetIdentityPoolRolesInput{IdentityPoolId: aws.String(pool),
		Roles: map[string]string{"authenticated": userRole, "unauthenticated": guestRole}}); err != nil {
		t.Fatalf("SetIdentityPoolRoles: %v", err)
	}
	const sub = "${cognito-identity.amazonaws.com:sub}"
	identityPolicy := document(
		allow([]string{"iot:Connect"}, iotARN(s, "client", sub)),
		allow([]string{"iot:Publish", "iot:Receive"}, iotARN(s, "topic", "app/"+sub+"/*"), iotARN(s, "topic", "lab/*")),
		allow([]string{"iot:Subscribe"}, iotARN(s, "topicfilter", "app/"+sub+"/*")))
	iotc := s.IoT()
	if _, err := iotc.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String("app-identity"), PolicyDocument: aws.String(identityPolicy)}); err != nil {
		t.Fatalf("CreatePolicy: %v", err)
	}
	// developerLogin is the back end's part: a token for its user.
	developerLogin := func(t *testing.T, user string) (identity, token string) {
		t.Helper()
		out, err := admin.GetOpenIdTokenForDeveloperIdentity(ctx, &cognitoidentity.GetOpenIdTokenForDeveloperIdentityInput{
			IdentityPoolId: aws.String(pool), Logins: map[string]string{"login.example": user}, TokenDuration: aws.Int64(600)})
		if err != nil {
			t.Fatalf("GetOpenIdTokenForDeveloperIdentity %s: %v", user, err)
		}
		return aws.ToString(out.IdentityId), aws.ToString(out.Token)
	}
	otherIdentity := s.Config.Region + ":00000000-0000-4000-8000-000000000000"

	// A guest is decided by its role alone: app/guest/* and nothing else.
	t.Run("guest", func(t *testing.T) {
		c := py.credentials(t, pool, "")
		ws := mustConnectMQTT5(t, s, c.WSSURL, nil, c.IdentityID)
		ws.mustSubscribe("app/guest/#")
		if code := ws.subscribe("app/private/#"); code != v5NotAuthorized {
			t.Fatalf("guest subscribe outside its role: SUBACK 0x%02X, want 0x87", code)
		}
		res := py.publish(t, c, "hello from a guest", "app/guest/hello", "app/private/hello")
		appWantPublished(t, res[0])
		appWantForbidden(t, res[1])
		ws.receive("app/guest/hello", "hello from a guest")
		// The URL botocore presigned opened one connection; it opens no
		// other.
		if _, r := dialWS(t, s, c.WSSURL, nil); r.status != http.StatusForbidden {
			t.Fatalf("presigned URL used twice: HTTP %d %s, want 403", r.status, r.body)
		}
	})

	// An authenticated identity needs both layers: its role's IAM policy
	// and the IoT policy attached to its identity id; detaching that
	// closes its connection.
	t.Run("authenticated", func(t *testing.T) {
		identity, token := developerLogin(t, "alice")
		if _, err := iotc.AttachPolicy(ctx, &iot.AttachPolicyInput{PolicyName: aws.String("app-identity"), Target: aws.String(identity)}); err != nil {
			t.Fatalf("AttachPolicy to %s: %v", identity, err)
		}
		c := py.credentials(t, pool, token)
		if c.IdentityID != identity {
			t.Fatalf("the app's GetId with the developer token = %s, want %s", c.IdentityID, identity)
		}
		// The IoT policy allows connecting only as the identity itself.
		if _, code := connectMQTT5(t, s, presignMQTT(t, s, c.awsCreds()), nil, "not-"+identity); code != v5NotAuthorized {
			t.Fatalf("connect as another client id: CONNACK 0x%02X, want 0x87", code)
		}
		ws := mustConnectMQTT5(t, s, c.WSSURL, nil, identity)
		ws.mustSubscribe("app/" + identity + "/#")
		res := py.publish(t, c, "hello from alice",
			"app/"+identity+"/hello",      // both layers allow
			"app/"+otherIdentity+"/hello", // the role allows app/*, the IoT policy does not
			"lab/hello")                   // the IoT policy allows lab/*, the role does not
		appWantPublished(t, res[0])
		appWantForbidden(t, res[1])
		appWantForbidden(t, res[2])
		ws.receive("app/"+identity+"/hello", "hello from alice")

		since := time.Now()
		if _, err := iotc.DetachPolicy(ctx, &iot.DetachPolicyInput{PolicyName: aws.String("app-identity"), Target: aws.String(identity)}); err != nil {
			t.Fatalf("DetachPolicy: %v", err)
		}
		ws.disconnected(v5NotAuthorized, since)
		// Without its IoT policy the identity may do nothing, though its
		// role still allows it.
		appWantForbidden(t, py.publish(t, c, "after detach", "app/"+identity+"/hello")[0])
		if _, code := connectMQTT5(t, s, presignMQTT(t, s, c.awsCreds()), nil, identity); code != v5NotAuthorized {
			t.Fatalf("connect after DetachPolicy: CONNACK 0x%02X, want 0x87", code)
		}
	})

	// An authenticated identity that never had an IoT policy is denied
	// everything its role allows.
	t.Run("authenticated without IoT policy", func(t *testing.T) {
		identity, token := developerLogin(t, "bob")
		c := py.credentials(t, pool, token)
		if c.IdentityID != identity {
			t.Fatalf("the app's GetId with the developer token = %s, want %s", c.IdentityID, identity)
		}
		if _, code := connectMQTT5(t, s, c.WSSURL, nil, identity); code != v5NotAuthorized {
			t.Fatalf("connect without an IoT policy: CONNACK 0x%02X, want 0x87", code)
		}
		appWantForbidden(t, py.publish(t, c, "from bob", "app/"+identity+"/hello")[0])
	})
}
