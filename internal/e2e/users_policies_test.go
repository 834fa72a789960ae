package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	iamsdk "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	mqtt "github.com/eclipse/paho.mqtt.golang"

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
		u := s.NewUser(t, "data-user", usersDataAccess)
		c, err := usersConnectV3(t, s, usersPresign(t, s, u.Credentials(), false), "data-user-1")
		if err != nil {
			t.Fatalf("connect over WebSocket: %v", err)
		}
		got := make(chan string, 1)
		if tok := c.Subscribe("fleet/lamp-1/state", 1, func(_ mqtt.Client, m mqtt.Message) { got <- string(m.Payload()) }); !tok.WaitTimeout(usersTimeout) || tok.Error() != nil {
			t.Fatalf("subscribe: %v", tok.Error())
		}
		usersWantPublished(t, usersPublish(t, s, u.Credentials(), "fleet/lamp-1/state", "on over https"))
		usersWantMessage(t, got, "on over https")
		usersRoundTripV3(t, c, "fleet/lamp-1/echo", "over websocket")

		_, err = s.IoTAs(u.Provider()).CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String("by-data-user")})
		usersWantError(t, err, "AccessDeniedException", 403)
		if !strings.Contains(err.Error(), "iot:CreateThing") {
			t.Errorf("the refusal does not name the action: %v", err)
		}
		usersWantNoThing(t, s, "by-data-user")
	})

	// Config read-only: ListThings works; publishing is refused over
	// HTTPS (ForbiddenException) and MQTT (CONNACK 0x87, or 5 for
	// 3.1.1); CreateThing is AccessDeniedException.
	t.Run("config-read-only", func(t *testing.T) {
		u := s.NewUser(t, "reader", usersConfigReadOnly)
		iotc := s.IoTAs(u.Provider())
		things, err := iotc.ListThings(ctx, &iot.ListThingsInput{})
		if err != nil {
			t.Fatalf("ListThings: %v", err)
		}
		if len(things.Things) != 1 || aws.ToString(things.Things[0].ThingName) != "lamp-1" {
			t.Fatalf("ListThings = %+v, want lamp-1", things.Things)
		}
		usersWantForbidden(t, usersPublish(t, s, u.Credentials(), "fleet/lamp-1/state", "x"), "iot:Publish")
		if _, code := usersConnectV5(t, s, usersPresign(t, s, u.Credentials(), false), "reader-5"); code != usersNotAuthorized {
			t.Fatalf("MQTT 5 CONNACK 0x%02X, want 0x87", code)
		}
		if _, err := usersConnectV3(t, s, usersPresign(t, s, u.Credentials(), false), "reader-3"); err == nil || !strings.Contains(err.Error(), "not Authorized") {
			t.Fatalf("MQTT 3.1.1 connect: %v, want not Authorized (return code 5)", err)
		}
		_, err = iotc.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String("by-reader")})
		usersWantError(t, err, "AccessDeniedException", 403)
		usersWantNoThing(t, s, "by-reader")
	})

	// An inline Deny beats the managed Allows: on the API (ListThings
	// denied, DescribeThing still allowed by the managed policy) and on
	// MQTT and HTTPS publish (secret/* denied, open/* allowed).
	t.Run("explicit-deny-wins", func(t *testing.T) {
		u := s.NewUser(t, "denied", usersDataAccess, usersConfigReadOnly)
		deny := `{"Version":"2012-10-17","Statement":[
		  {"Effect":"Deny","Action":"iot:ListThings","Resource":"*"},
		  {"Effect":"Deny","Action":"iot:Publish","Resource":"arn:aws:iot:` + s.Config.Region + `:` + s.Config.AccountID + `:topic/secret/*"}]}`
		if _, err := s.IAM(nil).PutUserPolicy(ctx, &iamsdk.PutUserPolicyInput{UserName: aws.String(u.Name),
			PolicyName: aws.String("deny"), PolicyDocument: aws.String(deny)}); err != nil {
			t.Fatal(err)
		}
		iotc := s.IoTAs(u.Provider())
		_, err := iotc.ListThings(ctx, &iot.ListThingsInput{})
		usersWantError(t, err, "AccessDeniedException", 403)
		if !strings.Contains(err.Error(), "explicit deny") {
			t.Errorf("the refusal does not say it is an explicit deny: %v", err)
		}
		if _, err := iotc.DescribeThing(ctx, &iot.DescribeThingInput{ThingName: aws.String("lamp-1")}); err != nil {
			t.Fatalf("DescribeThing (allowed by the managed policy): %v", err)
		}

		usersWantForbidden(t, usersPublish(t, s, u.Credentials(), "secret/a", "x"), "explicit deny")
		usersWantPublished(t, usersPublish(t, s, u.Credentials(), "open/a", "x"))

		m := usersMustConnectV5(t, s, usersPresign(t, s, u.Credentials(), false), "denied-5")
		m.roundTrip("open/b", "allowed")
		if code := m.subscribe("secret/#"); code > 2 {
			t.Fatalf("subscribe secret/#: SUBACK 0x%02X (only Publish is denied)", code)
		}
		if code := m.publish("secret/b", "x"); code != usersNotAuthorized {
			t.Fatalf("publish secret/b: PUBACK 0x%02X, want 0x87", code)
		}
		m.stillConnected(0, "open/c") // MQTT 5 refuses the one PUBLISH and keeps the connection
	})

	// An inline Deny of iot:Connect refuses the CONNECT of a user whose
	// managed policy allows it.
	t.Run("explicit-deny-connect", func(t *testing.T) {
		u := s.NewUser(t, "no-connect", usersDataAccess)
		if _, err := s.IAM(nil).PutUserPolicy(ctx, &iamsdk.PutUserPolicyInput{UserName: aws.String(u.Name),
			PolicyName: aws.String("deny-connect"), PolicyDocument: aws.String(`{"Statement":{"Effect":"Deny","Action":"iot:Connect","Resource":"*"}}`)}); err != nil {
			t.Fatal(err)
		}
		if _, code := usersConnectV5(t, s, usersPresign(t, s, u.Credentials(), false), "no-connect"); code != usersNotAuthorized {
			t.Fatalf("CONNACK 0x%02X, want 0x87", code)
		}
		usersWantPublished(t, usersPublish(t, s, u.Credentials(), "open/d", "https needs no iot:Connect"))
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
	usersWantPublished(t, usersPublish(t, s, ann.Credentials(), "ann/temp", "21"))
	usersWantForbidden(t, usersPublish(t, s, ann.Credentials(), "ben/temp", "21"), "topic/ben/temp")
	usersWantPublished(t, usersPublish(t, s, ben.Credentials(), "ben/temp", "22"))
	usersWantForbidden(t, usersPublish(t, s, ben.Credentials(), "ann/temp", "22"), "topic/ann/temp")

	// Over MQTT the client id, the topics and the filters are scoped too.
	if _, code := usersConnectV5(t, s, usersPresign(t, s, ann.Credentials(), false), "ben"); code != usersNotAuthorized {
		t.Fatalf("ann connecting as client ben: CONNACK 0x%02X, want 0x87", code)
	}
	m := usersMustConnectV5(t, s, usersPresign(t, s, ann.Credentials(), false), "ann")
	m.roundTrip("ann/temp", "23")
	if code := m.subscribe("ben/#"); code != usersNotAuthorized {
		t.Fatalf("ann subscribing to ben/#: SUBACK 0x%02X, want 0x87", code)
	}
	if code := m.publish("ben/temp", "24"); code != usersNotAuthorized {
		t.Fatalf("ann publishing to ben/temp: PUBACK 0x%02X, want 0x87", code)
	}
}

// usersWantNoThing fails if thing exists.
func usersWantNoThing(t testing.TB, s *moattest.Server, thing string) {
	t.Helper()
	_, err := s.IoT().DescribeThing(context.Background(), &iot.DescribeThingInput{ThingName: aws.String(thing)})
	usersWantError(t, err, "ResourceNotFoundException", 404)
}
