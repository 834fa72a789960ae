package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	iamsdk "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/moat-iot/moat/internal/moattest"
)

// TestUsers_AssumeRole checks STS AssumeRole end to end: a user allowed
// sts:AssumeRole by its identity policy and named by the role's trust
// policy gets temporary credentials that act as the role (and only as
// the role) on every surface: GetCallerIdentity names the assumed role,
// HTTPS publish works with the session token, and MQTT over WebSocket
// connects with the token in either placement of a presigned URL.
func TestUsers_AssumeRole(t *testing.T) {
	s := moattest.Start(t)
	ctx := context.Background()
	admin := s.IAM(nil)
	op := s.NewUser(t, "operator")
	outsider := s.NewUser(t, "outsider")
	role, err := admin.CreateRole(ctx, &iamsdk.CreateRoleInput{RoleName: aws.String("fleet-app"),
		AssumeRolePolicyDocument: aws.String(trustAWS(op.ARN))})
	if err != nil {
		t.Fatal(err)
	}
	roleARN := aws.ToString(role.Role.Arn)
	if _, err := admin.AttachRolePolicy(ctx, &iamsdk.AttachRolePolicyInput{RoleName: aws.String("fleet-app"), PolicyArn: aws.String(dataAccessARN)}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []moattest.User{op, outsider} {
		if _, err := admin.PutUserPolicy(ctx, &iamsdk.PutUserPolicyInput{UserName: aws.String(u.Name), PolicyName: aws.String("assume"),
			PolicyDocument: aws.String(document(allow([]string{"sts:AssumeRole"}, roleARN)))}); err != nil {
			t.Fatal(err)
		}
	}

	// Refusals: the identity policy must allow it (a user without one),
	// and the trust policy must name the caller (outsider).
	t.Run("refused", func(t *testing.T) {
		nobody := s.NewUser(t, "nobody")
		in := &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("try")}
		_, err := s.STS(nobody.Provider()).AssumeRole(ctx, in)
		wantError(t, err, "AccessDenied", 403)
		_, err = s.STS(outsider.Provider()).AssumeRole(ctx, in)
		wantError(t, err, "AccessDenied", 403)
	})

	creds := assumeRole(t, s, op.Provider(), roleARN, "session-1")

	// GetCallerIdentity names the assumed role and session; the user's
	// own identity is unchanged.
	t.Run("caller-identity", func(t *testing.T) {
		id, err := s.STS(provider(creds)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatal(err)
		}
		want := "arn:aws:sts::" + s.Config.AccountID + ":assumed-role/fleet-app/session-1"
		if aws.ToString(id.Arn) != want || aws.ToString(id.Account) != s.Config.AccountID ||
			aws.ToString(id.UserId) != aws.ToString(role.Role.RoleId)+":session-1" {
			t.Fatalf("GetCallerIdentity = %s %s %s, want %s", aws.ToString(id.Arn), aws.ToString(id.Account), aws.ToString(id.UserId), want)
		}
		id, err = s.STS(op.Provider()).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil || aws.ToString(id.Arn) != op.ARN {
			t.Fatalf("the user's GetCallerIdentity = %v, %v, want %s", aws.ToString(id.Arn), err, op.ARN)
		}
	})

	// The session has the role's permissions: it publishes over HTTPS
	// (token in X-Amz-Security-Token) to subscribers connected over
	// WebSocket with the token signed in the canonical query (MQTT 3.1.1)
	// and appended after signing (MQTT 3.1.1 and 5).
	t.Run("data-plane", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			presign []presignOption
		}{{"token-signed", nil}, {"token-appended", []presignOption{tokenAppended()}}} {
			c, err := connectWSMQTT3(t, s, presignMQTT(t, s, creds, tc.presign...), "app-"+tc.name)
			if err != nil {
				t.Fatalf("%s: connect: %v", tc.name, err)
			}
			topic := "fleet/" + tc.name
			c.subscribe(topic)
			wantPublished(t, publishHTTPS(t, s, creds, nil, topic, "from https"))
			c.receive(topic, "from https")
			c.roundTrip(topic+"/echo", "over websocket")
		}
		m := mustConnectMQTT5(t, s, presignMQTT(t, s, creds, tokenAppended()), nil, "app-v5")
		m.roundTrip("fleet/v5", "five")
	})

	// The session has only the role's permissions, and the user only its
	// own: the role may not CreateThing, the user may not publish.
	t.Run("no-more", func(t *testing.T) {
		_, err := s.IoTAs(provider(creds)).CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String("by-role")})
		wantError(t, err, "AccessDeniedException", 403)
		if !strings.Contains(err.Error(), "assumed-role/fleet-app/session-1") {
			t.Errorf("the refusal does not name the assumed role: %v", err)
		}
		wantForbidden(t, publishHTTPS(t, s, op.Credentials(), nil, "fleet/x", "x"), "iot:Publish")
		if _, code := connectMQTT5(t, s, presignMQTT(t, s, op.Credentials()), nil, "operator"); code != v5NotAuthorized {
			t.Fatalf("the user's own CONNACK 0x%02X, want 0x87", code)
		}
	})
}
