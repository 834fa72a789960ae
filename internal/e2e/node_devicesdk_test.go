package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentity"

	"github.com/moat-iot/moat/internal/moattest"
)

// nodeDeviceOptions are device.js's options for connecting as clientID
// with creds (the session token only when creds have one).
func nodeDeviceOptions(t *testing.T, srv *moattest.Server, clientID string, creds aws.Credentials) map[string]any {
	host, port := nodeHostPort(t, srv)
	opts := map[string]any{"host": host, "port": port, "region": srv.Config.Region, "clientId": clientID,
		"accessKeyId": creds.AccessKeyID, "secretKey": creds.SecretAccessKey}
	if creds.SessionToken != "" {
		opts["sessionToken"] = creds.SessionToken
	}
	return opts
}

// nodeAssumedRole returns temporary credentials of a role with the given
// permissions, from STS AssumeRole called by the admin (aws-sdk-go-v2's
// sts client); the role trusts the account.
func nodeAssumedRole(t *testing.T, srv *moattest.Server, name, doc string) aws.Credentials {
	t.Helper()
	roleARN := srv.NewRole(t, name, trustAWS("arn:aws:iam::"+srv.Config.AccountID+":root"), doc)
	return assumeRole(t, srv, srv.Credentials(), roleARN, "node-sdk")
}

// nodeCognitoGuest returns temporary credentials of a new unauthenticated
// Cognito identity (GetId and GetCredentialsForIdentity, unsigned, as an
// app calls them) of a pool whose guest role has the given permissions.
func nodeCognitoGuest(t *testing.T, srv *moattest.Server, doc string) aws.Credentials {
	t.Helper()
	ctx := context.Background()
	admin, app := srv.CognitoIdentity(nil), srv.CognitoIdentity(aws.AnonymousCredentials{})
	pool, err := admin.CreateIdentityPool(ctx, &cognitoidentity.CreateIdentityPoolInput{IdentityPoolName: aws.String("node guests"),
		AllowUnauthenticatedIdentities: true})
	if err != nil {
		t.Fatalf("CreateIdentityPool: %v", err)
	}
	poolID := aws.ToString(pool.IdentityPoolId)
	roleARN := srv.NewRole(t, "node-guest", trustCognito(poolID, "unauthenticated"), doc)
	if _, err := admin.SetIdentityPoolRoles(ctx, &cognitoidentity.SetIdentityPoolRolesInput{IdentityPoolId: aws.String(poolID),
		Roles: map[string]string{"unauthenticated": roleARN}}); err != nil {
		t.Fatalf("SetIdentityPoolRoles: %v", err)
	}
	id, err := app.GetId(ctx, &cognitoidentity.GetIdInput{IdentityPoolId: aws.String(poolID)})
	if err != nil {
		t.Fatalf("GetId: %v", err)
	}
	out, err := app.GetCredentialsForIdentity(ctx, &cognitoidentity.GetCredentialsForIdentityInput{IdentityId: id.IdentityId})
	if err != nil {
		t.Fatalf("GetCredentialsForIdentity: %v", err)
	}
	cr := out.Credentials
	return aws.Credentials{AccessKeyID: aws.ToString(cr.AccessKeyId), SecretAccessKey: aws.ToString(cr.SecretKey),
		SessionToken: aws.ToString(cr.SessionToken)}
}

// TestNodeDeviceSDK_WebSocket checks that the AWS IoT Device SDK for
// JavaScript (v1), which signs its WebSocket URL itself (SigV4 for
// iotdevicegateway, a session token appended after signing, subprotocol
// mqttv3.1), connects to moat over wss with each kind of SigV4
// credentials, receives what a Go-side device publishes to a topic it
// subscribed to, and publishes what a Go-side device receives.
func TestNodeDeviceSDK_WebSocket(t *testing.T) {
	nodeRequire(t)
	srv := moattest.Start(t)
	doc := nodeMQTTPolicy(srv, "node-")
	goDevice := nodeConnectGoDevice(t, srv, "nodego-sdk")
	tests := []struct {
		name  string
		creds func(t *testing.T) aws.Credentials
	}{
		// An IAM user's long-term access key (no session token).
		{"user-key", func(t *testing.T) aws.Credentials { return userWithPolicy(t, srv, "node-sdk-user", doc) }},
		// Temporary credentials of an IAM role from STS AssumeRole.
		{"assumed-role", func(t *testing.T) aws.Credentials { return nodeAssumedRole(t, srv, "node-sdk-role", doc) }},
		// Temporary credentials of an unauthenticated Cognito identity,
		// decided by the pool's guest role alone.
		{"cognito-guest", func(t *testing.T) aws.Credentials { return nodeCognitoGuest(t, srv, doc) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			creds := tt.creds(t)
			if tt.name != "user-key" && (!strings.HasPrefix(creds.AccessKeyID, "ASIA") || creds.SessionToken == "") {
				t.Fatalf("not temporary credentials: %s, token %d bytes", creds.AccessKeyID, len(creds.SessionToken))
			}
			down, up := "node/"+tt.name+"/down", "node/"+tt.name+"/up"
			goDevice.subscribe(up)
			opts := nodeDeviceOptions(t, srv, "node-"+tt.name, creds)
			opts["subscribe"] = down
			opts["publish"] = map[string]string{"topic": up, "payload": "from the SDK, " + tt.name}
			p := nodeStart(t, srv, "device.js", opts)
			p.expect("connected")
			p.expect("subscribed")
			goDevice.publish(down, "from Go, "+tt.name)
			if ev := p.expect("message"); ev.Topic != down || ev.Payload != "from Go, "+tt.name {
				t.Fatalf("the SDK received %s", ev)
			}
			p.expect("published")
			goDevice.receive(up, "from the SDK, "+tt.name)
			p.expect("done")
			p.exit(0)
		})
	}
}

// TestNodeDeviceSDK_Refused checks that a refused SDK connection is
// reported, not retried until a timeout: a user whose policy allows
// everything but iot:Connect is refused at CONNECT (CONNACK 5, which the
// SDK reports as "Not authorized"), and a URL signed with a wrong secret
// is refused at the upgrade (HTTP 403, counted by moat as a bad
// signature; the SDK only sees the connection close); nothing the SDK
// would publish arrives.
func TestNodeDeviceSDK_Refused(t *testing.T) {
	nodeRequire(t)
	srv := moattest.Start(t)
	goDevice := nodeConnectGoDevice(t, srv, "nodego-refused")
	goDevice.subscribe("node/#")
	noConnect := userWithPolicy(t, srv, "node-no-connect", nodeMQTTPolicy(srv, ""))
	forged := userWithPolicy(t, srv, "node-forged", nodeMQTTPolicy(srv, "node-"))
	forged.SecretAccessKey = strings.Repeat("x", len(forged.SecretAccessKey))
	tests := []struct {
		name   string
		creds  aws.Credentials
		want   string // in the reported reason
		result string // the upgrade's result in moat's metrics
	}{
		// Signed right, but iot:Connect is not allowed: CONNACK 5.
		{"connect-not-allowed", noConnect, "Not authorized", "accepted"},
		// Signed with the wrong secret: the upgrade is refused.
		{"wrong-secret", forged, "closed before a CONNACK", "signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := wsUpgrades(t, srv, tt.result)
			opts := nodeDeviceOptions(t, srv, "node-"+tt.name, tt.creds)
			opts["publish"] = map[string]string{"topic": "node/" + tt.name, "payload": "must not arrive"}
			p := nodeStart(t, srv, "device.js", opts)
			if ev := p.expect("failed"); !strings.Contains(ev.Reason, tt.want) {
				t.Fatalf("reason %q, want it to say %q", ev.Reason, tt.want)
			}
			p.exit(1)
			if n := wsUpgrades(t, srv, tt.result); n != before+1 {
				t.Errorf("upgrades with result %s: %d, want %d", tt.result, n, before+1)
			}
		})
	}
	goDevice.noMessage(100 * time.Millisecond)
}

// TestNodeDeviceSDK_CustomAuthorizer checks the SDK's other WebSocket
// way in (protocol 'wss-custom-auth': custom authorizer headers on the
// upgrade, no SigV4): a token the function allows connects and publishes
// what a Go-side device receives; a token it denies is refused at the
// upgrade (HTTP 401, counted by moat as a custom authorizer refusal), and
// the SDK reports the closed connection.
func TestNodeDeviceSDK_CustomAuthorizer(t *testing.T) {
	nodeRequire(t)
	srv, fn, _ := nodeStartWithAuthorizers(t)
	goDevice := nodeConnectGoDevice(t, srv, "nodego-sdk-authz")
	goDevice.subscribe("node/js/#")
	opts := func(token string) map[string]any {
		host, port := nodeHostPort(t, srv)
		return map[string]any{"host": host, "port": port, "region": srv.Config.Region, "clientId": "nodejs-sdk-" + token,
			"customAuthHeaders": map[string]string{"x-amz-customauthorizer-name": "node-open", nodeTokenHeader: token},
			"publish":           map[string]string{"topic": "node/js/allowed/sdk-" + token, "payload": "from the SDK, " + token}}
	}

	p := nodeStart(t, srv, "device.js", opts("allow-sdk"))
	p.expect("connected")
	p.expect("published")
	p.expect("done")
	p.exit(0)
	goDevice.receive("node/js/allowed/sdk-allow-sdk", "from the SDK, allow-sdk")
	if calls := fn.allEvents(); len(calls) != 1 || calls[0].Token != "allow-sdk" {
		t.Fatalf("the function got %+v, want one call with the token", calls)
	}

	before := wsUpgrades(t, srv, "custom_auth")
	p = nodeStart(t, srv, "device.js", opts("deny-sdk"))
	if ev := p.expect("failed"); !strings.Contains(ev.Reason, "closed before a CONNACK") {
		t.Fatalf("reason %q", ev.Reason)
	}
	p.exit(1)
	if n := wsUpgrades(t, srv, "custom_auth"); n != before+1 {
		t.Errorf("custom authorizer refusals: %d, want %d", n, before+1)
	}
	goDevice.noMessage(100 * time.Millisecond)
}
