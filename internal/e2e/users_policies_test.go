package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	iamsdk "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iot"

	"github.com/moat-iot/moat/internal/moattest"
)

// TestUsers_ManagedPolicies checks issue 9's named cases through a whole
// moat, with the SDK's iot client, the data plane over HTTPS and MQTT
// over presigned WebSocket URLs: AWSIoTDataAccess may message but not
// configure, AWSIoTConfigReadOnlyAccess may read the configuration but
// neither message nor configure, and an inline explicit Deny beats an
// attached managed Allow on the API and on MQTT.
func TestUsers_ManagedPolicies(t *testing.T) {
	s := moattest.Start(t)
	ctx := context.Background()
	if _, err := s.IoT().CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String("lamp-1")}); err != nil {
		t.Fatal(err)
	}

	// Data access: publish over HTTPS reaches a subscriber over WebSocket
	// (MQTT 3.1.1), which may also publish and receive itself; the
	// control plane refuses CreateThing and creates nothing.
	t.Run("data-access", func(t *testing.T) {
		u := s.NewUser(t, "data-user", dataAccessARN)
		c, err := connectWSMQTT3(t, s, presignMQTT(t, s, u.Credentials()), "data-user-1")
		if err != nil {
			t.Fatalf("connect over WebSocket: %v", err)
		}
		c.subscribe("fleet/lamp-1/state")
		wantPublished(t, publishHTTPS(t, s, u.Credentials(), nil, "fleet/lamp-1/state", "on over https"))
		c.receive("fleet/lamp-1/state", "on over https")
		c.roundTrip("fleet/lamp-1/echo", "over websocket")

		_, err = s.IoTAs(u.Provider()).CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String("by-data-user")})
		wantError(t, err, "AccessDeniedException", 403)
		if !strings.Contains(err.Error(), "iot:CreateThing") {
			t.Errorf("the refusal does not name the action: %v", err)
		}
		wantNoThing(t, s, "by-data-user")
	})

	// Config read-only: ListThings works; publishing is refused over
	// HTTPS (ForbiddenException) and MQTT (CONNACK 0x87, or 5 for
	// 3.1.1); CreateThing is AccessDeniedException.
	t.Run("config-read-only", func(t *testing.T) {
		u := s.NewUser(t, "reader", configReadOnlyARN)
		iotc := s.IoTAs(u.Provider())
		things, err := iotc.ListThings(ctx, &iot.ListThingsInput{})
		if err != nil {
			t.Fatalf("ListThings: %v", err)
		}
		if len(things.Things) != 1 || aws.ToString(things.Things[0].ThingName) != "lamp-1" {
			t.Fatalf("ListThings = %+v, want lamp-1", things.Things)
		}
		wantForbidden(t, publishHTTPS(t, s, u.Credentials(), nil, "fleet/lamp-1/state", "x"), "iot:Publish")
		if _, code := connectMQTT5(t, s, presignMQTT(t, s, u.Credentials()), nil, "reader-5"); code != v5NotAuthorized {
			t.Fatalf("MQTT 5 CONNACK 0x%02X, want 0x87", code)
		}
		if _, err := connectWSMQTT3(t, s, presignMQTT(t, s, u.Credentials()), "reader-3"); err == nil || !strings.Contains(err.Error(), "not Authorized") {
			t.Fatalf("MQTT 3.1.1 connect: %v, want not Authorized (return code 5)", err)
		}
		_, err = iotc.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String("by-reader")})
		wantError(t, err, "AccessDeniedException", 403)
		wantNoThing(t, s, "by-reader")
	})

	// An inline Deny beats the managed Allows: on the API (ListThings
	// denied, DescribeThing still allowed by the managed policy) and on
	// MQTT and HTTPS publish (secret/* denied, open/* allowed).
	t.Run("explicit-deny-wins", func(t *testing.T) {
		u := s.NewUser(t, "denied", dataAccessARN, configReadOnlyARN)
		deny := `{"Version":"2012-10-17","Statement":[
		  {"Effect":"Deny","Action":"iot:ListThings","Resource":"*"},
		  {"Effect":"Deny","Action":"iot:Publish","Resource":"arn:aws:iot:` + s.Config.Region + `:` + s.Config.AccountID + `:topic/secret/*"}]}`
		if _, err := s.IAM(nil).PutUserPolicy(ctx, &iamsdk.PutUserPolicyInput{UserName: aws.String(u.Name),
			PolicyName: aws.String("deny"), PolicyDocument: aws.String(deny)}); err != nil {
			t.Fatal(err)
		}
		iotc := s.IoTAs(u.Provider())
		_, err := iotc.ListThings(ctx, &iot.ListThingsInput{})
		wantError(t, err, "AccessDeniedException", 403)
		if !strings.Contains(err.Error(), "explicit deny") {
			t.Errorf("the refusal does not say it is an explicit deny: %v", err)
		}
		if _, err := iotc.DescribeThing(ctx, &iot.DescribeThingInput{ThingName: aws.String("lamp-1")}); err != nil {
			t.Fatalf("DescribeThing (allowed by the managed policy): %v", err)
		}

		wantForbidden(t, publishHTTPS(t, s, u.Credentials(), nil, "secret/a", "x"), "explicit deny")
		wantPublished(t, publishHTTPS(t, s, u.Credentials(), nil, "open/a", "x"))

		m := mustConnectMQTT5(t, s, presignMQTT(t, s, u.Credentials()), nil, "denied-5")
		m.roundTrip("open/b", "allowed")
		if code := m.subscribe("secret/#"); code > 2 {
			t.Fatalf("subscribe secret/#: SUBACK 0x%02X (only Publish is denied)", code)
		}
		if code := m.publish("secret/b", "x"); code != v5NotAuthorized {
			t.Fatalf("publish secret/b: PUBACK 0x%02X, want 0x87", code)
		}
		m.stillConnected(0, "open/c") // MQTT 5 refuses the one PUBLISH and keeps the connection
	})

	// An inline Deny of iot:Connect refuses the CONNECT of a user whose
	// managed policy allows it.
	t.Run("explicit-deny-connect", func(t *testing.T) {
		u := s.NewUser(t, "no-connect", dataAccessARN)
		if _, err := s.IAM(nil).PutUserPolicy(ctx, &iamsdk.PutUserPolicyInput{UserName: aws.String(u.Name),
			PolicyName: aws.String("deny-connect"), PolicyDocument: aws.String(`{"Statement":{"Effect":"Deny","Action":"iot:Connect","Resource":"*"}}`)}); err != nil {
			t.Fatal(err)
		}
		if _, code := connectMQTT5(t, s, presignMQTT(t, s, u.Credentials()), nil, "no-connect"); code != v5NotAuthorized {
			t.Fatalf("CONNACK 0x%02X, want 0x87", code)
		}
		wantPublished(t, publishHTTPS(t, s, u.Credentials(), nil, "open/d", "https needs no iot:Connect"))
	})
}

// TestUsers_PolicyVariables checks ${aws:username} in a customer managed
// policy: two users with the same policy may each connect, publish and
// subscribe under their own name only.
func TestUsers_PolicyVariables(t *testing.T) {
	s := moattest.Start(t)
	ctx := context.Background()
	arn := "arn:aws:iot:" + s.Config.Region + ":" + s.Config.AccountID + ":"
	doc := `{"Version":"2012-10-17","Statement":[
	  {"Effect":"Allow","Action":"iot:Connect","Resource":"` + arn + `client/${aws:username}"},
	  {"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":"` + arn + `topic/${aws:username}/*"},
	  {"Effect":"Allow","Action":"iot:Subscribe","Resource":"` + arn + `topicfilter/${aws:username}/*"}]}`
	p, err := s.IAM(nil).CreatePolicy(ctx, &iamsdk.CreatePolicyInput{PolicyName: aws.String("own-topics"), PolicyDocument: aws.String(doc)})
	if err != nil {
		t.Fatal(err)
	}
	ann := s.NewUser(t, "ann", aws.ToString(p.Policy.Arn))
	ben := s.NewUser(t, "ben", aws.ToString(p.Policy.Arn))

	// Over HTTPS, each publishes under its own name and not the other's.
	wantPublished(t, publishHTTPS(t, s, ann.Credentials(), nil, "ann/temp", "21"))
	wantForbidden(t, publishHTTPS(t, s, ann.Credentials(), nil, "ben/temp", "21"), "topic/ben/temp")
	wantPublished(t, publishHTTPS(t, s, ben.Credentials(), nil, "ben/temp", "22"))
	wantForbidden(t, publishHTTPS(t, s, ben.Credentials(), nil, "ann/temp", "22"), "topic/ann/temp")

	// Over MQTT the client id, the topics and the filters are scoped too.
	if _, code := connectMQTT5(t, s, presignMQTT(t, s, ann.Credentials()), nil, "ben"); code != v5NotAuthorized {
		t.Fatalf("ann connecting as client ben: CONNACK 0x%02X, want 0x87", code)
	}
	m := mustConnectMQTT5(t, s, presignMQTT(t, s, ann.Credentials()), nil, "ann")
	m.roundTrip("ann/temp", "23")
	if code := m.subscribe("ben/#"); code != v5NotAuthorized {
		t.Fatalf("ann subscribing to ben/#: SUBACK 0x%02X, want 0x87", code)
	}
	if code := m.publish("ben/temp", "24"); code != v5NotAuthorized {
		t.Fatalf("ann publishing to ben/temp: PUBACK 0x%02X, want 0x87", code)
	}
}

// wantNoThing fails if thing exists.
func wantNoThing(t testing.TB, s *moattest.Server, thing string) {
	t.Helper()
	_, err := s.IoT().DescribeThing(context.Background(), &iot.DescribeThingInput{ThingName: aws.String(thing)})
	wantError(t, err, "ResourceNotFoundException", 404)
}
