package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	iamsdk "github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/moat-iot/moat/internal/moattest"
)

// TestUsers_LiveChanges checks issue 9 §5 for IAM principals: a change to
// what a user or role may do reaches its live MQTT 5 connections over
// WebSocket within a second, as DISCONNECT 0x87 (Not authorized; what
// access.Permissions.Refresh sends when an access key is no longer
// Active or iot:Connect is no longer allowed), counted from the moment the
// IAM API call returns. The credentials are refused on new requests
// afterwards. Changes to another principal leave a connection alone.
func TestUsers_LiveChanges(t *testing.T) {
	s := moattest.Start(t)
	ctx := context.Background()
	admin := s.IAM(nil)
	arn := "arn:aws:iot:" + s.Config.Region + ":" + s.Config.AccountID + ":"
	messaging := document(allow([]string{"iot:Connect", "iot:Publish", "iot:Subscribe", "iot:Receive"}, "*"))
	var slowest time.Duration
	// live connects u over WebSocket and checks the connection works.
	live := func(t *testing.T, creds aws.Credentials, clientID string) *mqtt5Client {
		m := mustConnectMQTT5(t, s, presignMQTT(t, s, creds), nil, clientID)
		m.roundTrip("live/"+clientID, "before")
		return m
	}
	// bites waits for m's DISCONNECT 0x87 after a change returned at since.
	bites := func(m *mqtt5Client, since time.Time) {
		if d := m.disconnected(v5NotAuthorized, since); d > slowest {
			slowest = d
		}
	}

	// An access key made Inactive: its connection is closed; the key is
	// refused on new requests.
	t.Run("key-inactive", func(t *testing.T) {
		u := s.NewUser(t, "key-inactive", dataAccessARN)
		m := live(t, u.Credentials(), "key-inactive")
		if _, err := admin.UpdateAccessKey(ctx, &iamsdk.UpdateAccessKeyInput{UserName: aws.String(u.Name),
			AccessKeyId: aws.String(u.AccessKeyID), Status: iamtypes.StatusTypeInactive}); err != nil {
			t.Fatal(err)
		}
		bites(m, time.Now())
		wantForbidden(t, publishHTTPS(t, s, u.Credentials(), nil, "live/x", "x"), "security token included in the request is invalid")
		wantRefusedUpgrade(t, s, presignMQTT(t, s, u.Credentials()), http.StatusForbidden, "UnrecognizedClientException")
		// Active again: the key works again.
		if _, err := admin.UpdateAccessKey(ctx, &iamsdk.UpdateAccessKeyInput{UserName: aws.String(u.Name),
			AccessKeyId: aws.String(u.AccessKeyID), Status: iamtypes.StatusTypeActive}); err != nil {
			t.Fatal(err)
		}
		live(t, u.Credentials(), "key-active-again")
	})

	// An access key deleted: the same.
	t.Run("key-deleted", func(t *testing.T) {
		u := s.NewUser(t, "key-deleted", dataAccessARN)
		m := live(t, u.Credentials(), "key-deleted")
		if _, err := admin.DeleteAccessKey(ctx, &iamsdk.DeleteAccessKeyInput{UserName: aws.String(u.Name), AccessKeyId: aws.String(u.AccessKeyID)}); err != nil {
			t.Fatal(err)
		}
		bites(m, time.Now())
		wantForbidden(t, publishHTTPS(t, s, u.Credentials(), nil, "live/x", "x"), "security token included in the request is invalid")
		wantRefusedUpgrade(t, s, presignMQTT(t, s, u.Credentials()), http.StatusForbidden, "UnrecognizedClientException")
	})

	// The user's inline policy replaced by one without iot:Connect: the
	// connection is closed although the new policy still allows
	// publishing (which HTTPS, needing no iot:Connect, still may).
	t.Run("inline-policy-changed", func(t *testing.T) {
		u := s.NewUser(t, "inline-changed")
		put := func(doc string) {
			if _, err := admin.PutUserPolicy(ctx, &iamsdk.PutUserPolicyInput{UserName: aws.String(u.Name), PolicyName: aws.String("mqtt"),
				PolicyDocument: aws.String(doc)}); err != nil {
				t.Fatal(err)
			}
		}
		put(messaging)
		m := live(t, u.Credentials(), "inline-changed")
		put(document(allow([]string{"iot:Publish"}, "*")))
		bites(m, time.Now())
		wantPublished(t, publishHTTPS(t, s, u.Credentials(), nil, "live/x", "x"))
		if _, code := connectMQTT5(t, s, presignMQTT(t, s, u.Credentials()), nil, "inline-changed"); code != v5NotAuthorized {
			t.Fatalf("reconnect: CONNACK 0x%02X, want 0x87", code)
		}
	})

	// The managed policy detached from the user.
	t.Run("managed-policy-detached", func(t *testing.T) {
		u := s.NewUser(t, "detached", dataAccessARN)
		m := live(t, u.Credentials(), "detached")
		if _, err := admin.DetachUserPolicy(ctx, &iamsdk.DetachUserPolicyInput{UserName: aws.String(u.Name), PolicyArn: aws.String(dataAccessARN)}); err != nil {
			t.Fatal(err)
		}
		bites(m, time.Now())
		wantForbidden(t, publishHTTPS(t, s, u.Credentials(), nil, "live/x", "x"), "iot:Publish")
	})

	// A customer managed policy given a new default version without
	// iot:Connect: every user it is attached to is re-checked.
	t.Run("managed-policy-new-version", func(t *testing.T) {
		p, err := admin.CreatePolicy(ctx, &iamsdk.CreatePolicyInput{PolicyName: aws.String("messaging"), PolicyDocument: aws.String(messaging)})
		if err != nil {
			t.Fatal(err)
		}
		u := s.NewUser(t, "versioned", aws.ToString(p.Policy.Arn))
		m := live(t, u.Credentials(), "versioned")
		if _, err := admin.CreatePolicyVersion(ctx, &iamsdk.CreatePolicyVersionInput{PolicyArn: p.Policy.Arn,
			PolicyDocument: aws.String(document(allow([]string{"iot:Publish"}, arn+"topic/live/*"))), SetAsDefault: true}); err != nil {
			t.Fatal(err)
		}
		bites(m, time.Now())
	})

	// Role sessions (AssumeRole credentials, token signed in the
	// presigned URL). role makes a role trusting op, with the messaging
	// policy inline, or AWSIoTDataAccess attached, and assumes it.
	op := s.NewUser(t, "operator")
	role := func(t *testing.T, name string, inline bool) aws.Credentials {
		t.Helper()
		r, err := admin.CreateRole(ctx, &iamsdk.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trustAWS(op.ARN))})
		if err != nil {
			t.Fatal(err)
		}
		roleARN := aws.ToString(r.Role.Arn)
		if _, err := admin.PutUserPolicy(ctx, &iamsdk.PutUserPolicyInput{UserName: aws.String(op.Name), PolicyName: aws.String("assume-" + name),
			PolicyDocument: aws.String(document(allow([]string{"sts:AssumeRole"}, roleARN)))}); err != nil {
			t.Fatal(err)
		}
		if inline {
			_, err = admin.PutRolePolicy(ctx, &iamsdk.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String("mqtt"), PolicyDocument: aws.String(messaging)})
		} else {
			_, err = admin.AttachRolePolicy(ctx, &iamsdk.AttachRolePolicyInput{RoleName: aws.String(name), PolicyArn: aws.String(dataAccessARN)})
		}
		if err != nil {
			t.Fatal(err)
		}
		return assumeRole(t, s, op.Provider(), roleARN, name+"-session")
	}

	// The role's inline policy replaced by one without iot:Connect.
	t.Run("role-policy-changed", func(t *testing.T) {
		creds := role(t, "changed-role", true)
		m := live(t, creds, "role-changed")
		if _, err := admin.PutRolePolicy(ctx, &iamsdk.PutRolePolicyInput{RoleName: aws.String("changed-role"), PolicyName: aws.String("mqtt"),
			PolicyDocument: aws.String(document(allow([]string{"iot:Publish"}, arn+"topic/live/*")))}); err != nil {
			t.Fatal(err)
		}
		bites(m, time.Now())
		wantPublished(t, publishHTTPS(t, s, creds, nil, "live/role", "the new policy applies to HTTPS"))
	})

	// AWS's way of revoking a role's sessions: an inline Deny of
	// everything for tokens issued before now (aws:TokenIssueTime). The
	// older session's connection is closed; a session assumed afterwards
	// connects.
	t.Run("role-sessions-revoked", func(t *testing.T) {
		old := role(t, "revoked-role", false)
		m := live(t, old, "role-old-session")
		// A whole second between the old session and the cutoff, and
		// between the cutoff and the new session: token times are
		// seconds.
		cutoff := time.Now().Truncate(time.Second).Add(time.Second)
		revoke := `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*",
		  "Condition":{"DateLessThan":{"aws:TokenIssueTime":"` + cutoff.UTC().Format(time.RFC3339) + `"}}}}`
		if _, err := admin.PutRolePolicy(ctx, &iamsdk.PutRolePolicyInput{RoleName: aws.String("revoked-role"), PolicyName: aws.String("AWSRevokeOlderSessions"),
			PolicyDocument: aws.String(revoke)}); err != nil {
			t.Fatal(err)
		}
		bites(m, time.Now())
		time.Sleep(time.Until(cutoff.Add(time.Second)))
		fresh := assumeRole(t, s, op.Provider(), "arn:aws:iam::"+s.Config.AccountID+":role/revoked-role", "fresh")
		live(t, fresh, "role-new-session")
		wantForbidden(t, publishHTTPS(t, s, old, nil, "live/x", "x"), "explicit deny")
	})

	// A narrower policy that still allows iot:Connect keeps the
	// connection, and its subscriptions the policy no longer allows are
	// gone: nothing more is delivered on them.
	t.Run("narrowed-kept", func(t *testing.T) {
		u := s.NewUser(t, "narrowed")
		if _, err := admin.PutUserPolicy(ctx, &iamsdk.PutUserPolicyInput{UserName: aws.String(u.Name), PolicyName: aws.String("mqtt"),
			PolicyDocument: aws.String(messaging)}); err != nil {
			t.Fatal(err)
		}
		m := live(t, u.Credentials(), "narrowed")
		if code := m.subscribe("news/#"); code > 2 {
			t.Fatalf("subscribe news/#: SUBACK 0x%02X", code)
		}
		narrower := `{"Version":"2012-10-17","Statement":[
		  {"Effect":"Allow","Action":"iot:Connect","Resource":"*"},
		  {"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":"` + arn + `topic/live/*"},
		  {"Effect":"Allow","Action":"iot:Subscribe","Resource":"` + arn + `topicfilter/live/*"}]}`
		if _, err := admin.PutUserPolicy(ctx, &iamsdk.PutUserPolicyInput{UserName: aws.String(u.Name), PolicyName: aws.String("mqtt"),
			PolicyDocument: aws.String(narrower)}); err != nil {
			t.Fatal(err)
		}
		m.stillConnected(200*time.Millisecond, "live/narrowed")
		wantPublished(t, publishHTTPS(t, s, adminCreds(s), nil, "news/today", "not for you"))
		select {
		case msg := <-m.msgs:
			t.Fatalf("received %s %q on a subscription the policy no longer allows", msg.Topic, msg.Payload)
		case <-time.After(200 * time.Millisecond):
		}
	})

	// The role deleted: IAM refuses to delete a role that still has
	// policies (DeleteConflict, as AWS), and the refused call leaves the
	// connection alone; detaching its last policy closes the connection;
	// once the role is gone its sessions are refused on new requests.
	t.Run("role-deleted", func(t *testing.T) {
		creds := role(t, "doomed-role", false)
		m := live(t, creds, "role-doomed")
		_, err := admin.DeleteRole(ctx, &iamsdk.DeleteRoleInput{RoleName: aws.String("doomed-role")})
		wantError(t, err, "DeleteConflict", 409)
		m.stillConnected(300*time.Millisecond, "live/role-doomed")
		if _, err := admin.DetachRolePolicy(ctx, &iamsdk.DetachRolePolicyInput{RoleName: aws.String("doomed-role"), PolicyArn: aws.String(dataAccessARN)}); err != nil {
			t.Fatal(err)
		}
		bites(m, time.Now())
		if _, err := admin.DeleteRole(ctx, &iamsdk.DeleteRoleInput{RoleName: aws.String("doomed-role")}); err != nil {
			t.Fatal(err)
		}
		wantForbidden(t, publishHTTPS(t, s, creds, nil, "live/x", "x"), "no longer exists")
		if _, code := connectMQTT5(t, s, presignMQTT(t, s, creds), nil, "role-doomed"); code != v5NotAuthorized {
			t.Fatalf("CONNACK 0x%02X for a deleted role's session, want 0x87", code)
		}
	})

	// Changes to one user (its key, its inline policy, a managed policy
	// detached from it) close its connection and leave another user's
	// alone, although the detached managed policy is attached to both and
	// re-checks both.
	t.Run("unrelated-user-kept", func(t *testing.T) {
		a := s.NewUser(t, "changed-a", dataAccessARN)
		b := s.NewUser(t, "bystander-b", dataAccessARN)
		mb := live(t, b.Credentials(), "bystander-b")
		kept := metric(t, s, `moat_mqtt_rechecks_total{outcome="kept"}`)

		ma := live(t, a.Credentials(), "changed-a")
		if _, err := admin.PutUserPolicy(ctx, &iamsdk.PutUserPolicyInput{UserName: aws.String(a.Name), PolicyName: aws.String("deny"),
			PolicyDocument: aws.String(`{"Statement":{"Effect":"Deny","Action":"iot:Connect","Resource":"*"}}`)}); err != nil {
			t.Fatal(err)
		}
		bites(ma, time.Now())
		if _, err := admin.DeleteUserPolicy(ctx, &iamsdk.DeleteUserPolicyInput{UserName: aws.String(a.Name), PolicyName: aws.String("deny")}); err != nil {
			t.Fatal(err)
		}

		ma = live(t, a.Credentials(), "changed-a-2")
		if _, err := admin.DetachUserPolicy(ctx, &iamsdk.DetachUserPolicyInput{UserName: aws.String(a.Name), PolicyArn: aws.String(dataAccessARN)}); err != nil {
			t.Fatal(err)
		}
		bites(ma, time.Now())
		if _, err := admin.UpdateAccessKey(ctx, &iamsdk.UpdateAccessKeyInput{UserName: aws.String(a.Name),
			AccessKeyId: aws.String(a.AccessKeyID), Status: iamtypes.StatusTypeInactive}); err != nil {
			t.Fatal(err)
		}
		mb.stillConnected(liveBound, "live/bystander-b")
		if got := metric(t, s, `moat_mqtt_rechecks_total{outcome="kept"}`); got <= kept {
			t.Fatalf("moat_mqtt_rechecks_total{outcome=\"kept\"} = %v, was %v: the bystander was never re-checked", got, kept)
		}
	})
	t.Logf("slowest DISCONNECT after a change: %v", slowest)
}
