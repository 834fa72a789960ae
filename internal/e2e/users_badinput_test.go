package e2e

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	iamsdk "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/moat-iot/moat/internal/moattest"
)

// TestUsers_BadInput checks bad input at the whole server: garbage sent
// to the IAM API is refused in IAM's error shape and changes nothing;
// forged, expired, wrongly scoped and replayed presigned URLs are refused
// with HTTP 403 before any MQTT; a session token presented with another
// session's key is refused by every surface.
func TestUsers_BadInput(t *testing.T) {
	s := moattest.Start(t)
	ctx := context.Background()
	u := s.NewUser(t, "dev", dataAccessARN)

	// POST / with a form body goes to the awsQuery APIs: garbage gets
	// IAM's ErrorResponse with a clear code, signed or not, and no user
	// appears.
	t.Run("iam-garbage", func(t *testing.T) {
		form := http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}}
		for _, tc := range []struct {
			name, body    string
			status        int
			code, message string
		}{
			{"not a query string", "\x00\x01%%%Action=CreateUser", 400, "MalformedQueryString", "percent-encoding"},
			{"no action", "Version=2010-05-08&UserName=x", 400, "MissingAction", "Action"},
			{"unknown action", "Action=CreateGroup&Version=2010-05-08&GroupName=x", 400, "InvalidAction", "CreateGroup"},
			{"bad user name", "Action=CreateUser&Version=2010-05-08&UserName=a%20b", 400, "ValidationError", "userName"},
			{"malformed policy", "Action=CreatePolicy&Version=2010-05-08&PolicyName=p&PolicyDocument=%7B%22Statement%22%3A%5B", 400, "MalformedPolicyDocument", ""},
		} {
			resp, b := s.Do(t, http.MethodPost, "/", []byte(tc.body), "iam", form)
			body := string(b)
			if resp.StatusCode != tc.status || !strings.HasPrefix(body, "<ErrorResponse") ||
				!strings.Contains(body, "<Code>"+tc.code+"</Code>") || !strings.Contains(body, tc.message) {
				t.Errorf("%s: HTTP %d %s, want %d ErrorResponse %s mentioning %q", tc.name, resp.StatusCode, body, tc.status, tc.code, tc.message)
			}
		}
		// Unsigned: refused before the body is read.
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/", strings.NewReader("Action=CreateUser&Version=2010-05-08&UserName=x"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := s.HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 1024)
		n, _ := resp.Body.Read(b)
		resp.Body.Close()
		if resp.StatusCode != 403 || !strings.Contains(string(b[:n]), "<Code>MissingAuthenticationToken</Code>") {
			t.Errorf("unsigned: HTTP %d %s, want 403 MissingAuthenticationToken", resp.StatusCode, b[:n])
		}
		users, err := s.IAM(nil).ListUsers(ctx, &iamsdk.ListUsersInput{})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, u := range users.Users {
			names = append(names, aws.ToString(u.UserName))
		}
		if strings.Join(names, ",") != "admin,dev" {
			t.Fatalf("users after bad input: %v, want admin,dev", names)
		}
	})

	// Presigned URLs: each refusal is HTTP 403 with its reason and no MQTT
	// connection; a refused attempt does not spend the genuine URL, which
	// then opens one connection and no second one.
	t.Run("presigned-urls", func(t *testing.T) {
		conns := metric(t, s, "moat_mqtt_connections")
		genuine := presignMQTT(t, s, u.Credentials())
		forged := replaceQuery(t, genuine, "X-Amz-Signature", func(sig string) string {
			return strings.Repeat("0", 8) + sig[8:]
		})
		wantRefusedUpgrade(t, s, forged, http.StatusForbidden, "signature we calculated does not match")
		other := replaceQuery(t, genuine, "X-Amz-Credential", func(c string) string {
			return strings.Replace(c, u.AccessKeyID, "AKIAAAAAAAAAAAAAAAAA", 1)
		})
		wantRefusedUpgrade(t, s, other, http.StatusForbidden, "UnrecognizedClientException")
		// Signed for another service, and expired (X-Amz-Expires=60 signed
		// ten minutes ago).
		wantRefusedUpgrade(t, s, presignMQTT(t, s, u.Credentials(), signedFor("iotdata"), signedAt(time.Now())), http.StatusForbidden, "scoped to correct service")
		wantRefusedUpgrade(t, s, presignMQTT(t, s, u.Credentials(), expiresIn(time.Minute), signedAt(time.Now().Add(-10*time.Minute))),
			http.StatusForbidden, "Signature expired")
		if got := metric(t, s, "moat_mqtt_connections"); got != conns {
			t.Fatalf("moat_mqtt_connections = %v after refused upgrades, was %v", got, conns)
		}

		m := mustConnectMQTT5(t, s, genuine, nil, "dev-genuine")
		m.roundTrip("dev/genuine", "first use")
		wantRefusedUpgrade(t, s, genuine, http.StatusForbidden, "already used")
		if got := metric(t, s, "moat_mqtt_connections"); got != conns+1 {
			t.Fatalf("moat_mqtt_connections = %v, want %v (the genuine connection only)", got, conns+1)
		}
	})

	// A session token with another session's key and secret (both of the
	// same role, assumed by the same user), and a tampered token: refused
	// by STS (InvalidClientTokenId), the iot API
	// (UnrecognizedClientException), iot-data (ForbiddenException) and
	// MQTT over WebSocket (HTTP 403).
	t.Run("foreign-session-token", func(t *testing.T) {
		admin := s.IAM(nil)
		op := s.NewUser(t, "op")
		r, err := admin.CreateRole(ctx, &iamsdk.CreateRoleInput{RoleName: aws.String("app"), AssumeRolePolicyDocument: aws.String(trustAWS(op.ARN))})
		if err != nil {
			t.Fatal(err)
		}
		roleARN := aws.ToString(r.Role.Arn)
		if _, err := admin.AttachRolePolicy(ctx, &iamsdk.AttachRolePolicyInput{RoleName: aws.String("app"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AWSIoTFullAccess")}); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.PutUserPolicy(ctx, &iamsdk.PutUserPolicyInput{UserName: aws.String("op"), PolicyName: aws.String("assume"),
			PolicyDocument: aws.String(document(allow([]string{"sts:AssumeRole"}, roleARN)))}); err != nil {
			t.Fatal(err)
		}
		a := assumeRole(t, s, op.Provider(), roleARN, "session-a")
		b := assumeRole(t, s, op.Provider(), roleARN, "session-b")
		// Both work as they are.
		for _, c := range []aws.Credentials{a, b} {
			wantPublished(t, publishHTTPS(t, s, c, nil, "app/ok", "x"))
		}
		mixed := a
		mixed.SessionToken = b.SessionToken
		tampered := a
		tampered.SessionToken = a.SessionToken[:len(a.SessionToken)/2] + flipBase64(a.SessionToken[len(a.SessionToken)/2]) + a.SessionToken[len(a.SessionToken)/2+1:]
		for name, c := range map[string]aws.Credentials{"another session's token": mixed, "tampered token": tampered} {
			_, err := s.STS(provider(c)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if code, st := errorCode(t, err); code != "InvalidClientTokenId" || st != 403 {
				t.Errorf("%s: GetCallerIdentity %s (HTTP %d), want InvalidClientTokenId 403", name, code, st)
			}
			_, err = s.IoTAs(provider(c)).ListThings(ctx, &iot.ListThingsInput{})
			if code, st := errorCode(t, err); code != "UnrecognizedClientException" || st != 403 {
				t.Errorf("%s: ListThings %s (HTTP %d), want UnrecognizedClientException 403", name, code, st)
			}
			wantForbidden(t, publishHTTPS(t, s, c, nil, "app/x", "x"), "security token")
			wantRefusedUpgrade(t, s, presignMQTT(t, s, c), http.StatusForbidden, "security token included in the request is invalid")
			wantRefusedUpgrade(t, s, presignMQTT(t, s, c, tokenAppended()), http.StatusForbidden, "security token included in the request is invalid")
		}
		// A long-term key does not take a session token.
		withToken := u.Credentials()
		withToken.SessionToken = a.SessionToken
		wantForbidden(t, publishHTTPS(t, s, withToken, nil, "app/x", "x"), "")
	})
}

// replaceQuery returns rawURL with query parameter name changed by f.
func replaceQuery(t testing.TB, rawURL, name string, f func(string) string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if !q.Has(name) {
		t.Fatalf("%s has no %s", rawURL, name)
	}
	q.Set(name, f(q.Get(name)))
	u.RawQuery = q.Encode()
	return u.String()
}

// flipBase64 returns another base64 character than c.
func flipBase64(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}
