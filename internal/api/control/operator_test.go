package control_test

import (
	"context"
	"crypto/tls"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	paho5packets "github.com/eclipse/paho.golang/packets"
	"github.com/eclipse/paho.golang/paho"

	"github.com/moat-iot/moat/internal/moattest"
)

// device is an MQTT 5 client that reports the server's DISCONNECT and the
// messages it receives.
type device struct {
	c      *paho.Client
	closed chan byte
	msgs   chan *paho.Publish
}

// connectDevice connects over MQTT 5 with the device's certificate; it
// returns the CONNACK error, if any.
func connectDevice(t *testing.T, srv *moattest.Server, d *moattest.Device, clientID string) (*device, error) {
	t.Helper()
	conn, err := tls.Dial("tcp", srv.MQTTAddr, srv.MQTTTLS(d))
	if err != nil {
		t.Fatal(err)
	}
	dv := &device{closed: make(chan byte, 1), msgs: make(chan *paho.Publish, 16)}
	dv.c = paho.NewClient(paho.ClientConfig{ClientID: clientID, Conn: paho5packets.NewThreadSafeConn(conn),
		OnServerDisconnect: func(d *paho.Disconnect) { dv.closed <- d.ReasonCode },
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
			dv.msgs <- pr.Packet
			return true, nil
		}}})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := dv.c.Connect(ctx, &paho.Connect{ClientID: clientID, KeepAlive: 30, CleanStart: true}); err != nil {
		conn.Close()
		return nil, err
	}
	t.Cleanup(func() { _ = dv.c.Disconnect(&paho.Disconnect{}) })
	return dv, nil
}

// TestOperator_GroupPolicy is the operator's tour of thing groups, scripted
// as an operator works with the SDK: a hierarchy, a policy on the parent
// group, a thing with a certificate (and no policy of its own) in a child
// group. The device's MQTT rights come from the inherited policy; detaching
// it closes the live connection within 1 s and later connections fail.
func TestOperator_GroupPolicy(t *testing.T) {
	srv := moattest.Start(t)
	c := srv.IoT()
	ctx := context.Background()

	// 1. the hierarchy: fleet > kitchen
	mkGroup(t, c, "fleet", "")
	mkGroup(t, c, "kitchen", "fleet")
	// 2. the device policy, attached to the parent group only
	if _, err := c.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String("fleet-devices"), PolicyDocument: aws.String(srv.DevicePolicy())}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AttachPolicy(ctx, &iot.AttachPolicyInput{PolicyName: aws.String("fleet-devices"), Target: aws.String(groupARN + "fleet")}); err != nil {
		t.Fatal(err)
	}
	// 3. a thing with a certificate, no policy of its own, in the child group
	d := srv.NewDevice(t, "lamp-1", "")
	pols, err := c.ListAttachedPolicies(ctx, &iot.ListAttachedPoliciesInput{Target: aws.String(d.CertificateARN)})
	if err != nil || len(pols.Policies) != 0 {
		t.Fatalf("the certificate has policies of its own: %+v, %v", pols, err)
	}
	// before it joins the group it has no rights
	if _, err := connectDevice(t, srv, &d, "lamp-1"); err == nil {
		t.Fatal("a device without policies connected")
	}
	if _, err := c.AddThingToThingGroup(ctx, &iot.AddThingToThingGroupInput{ThingGroupName: aws.String("kitchen"), ThingName: aws.String("lamp-1")}); err != nil {
		t.Fatal(err)
	}

	// 4. the inherited policy lets it connect, subscribe, publish, receive
	dv, err := connectDevice(t, srv, &d, "lamp-1")
	if err != nil {
		t.Fatalf("connect with the inherited policy: %v", err)
	}
	sa, err := dv.c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "lamp-1/#", QoS: 1}}})
	if err != nil || sa.Reasons[0] >= 0x80 {
		t.Fatalf("subscribe: %v %v", sa, err)
	}
	pr, err := dv.c.Publish(ctx, &paho.Publish{Topic: "lamp-1/state", QoS: 1, Payload: []byte("on")})
	if err != nil || pr.ReasonCode >= 0x80 {
		t.Fatalf("publish: %+v %v", pr, err)
	}
	select {
	case m := <-dv.msgs:
		if string(m.Payload) != "on" {
			t.Fatalf("received %q", m.Payload)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the device did not receive its own message")
	}
	// outside the policy's topics: refused
	if pr, err := dv.c.Publish(ctx, &paho.Publish{Topic: "other/state", QoS: 1, Payload: []byte("x")}); err == nil && pr.ReasonCode < 0x80 {
		t.Fatalf("publish outside the policy was accepted: %+v", pr)
	}
	// a second, fresh connection to show the state before the detach
	dv2, err := connectDevice(t, srv, &d, "lamp-1")
	if err != nil {
		t.Fatalf("reconnect: %v", err)
	}

	// 5. detach the policy from the parent group: the live connection is
	// closed (0x87 not authorized) within 1 s, and reconnecting fails
	if _, err := c.DetachPolicy(ctx, &iot.DetachPolicyInput{PolicyName: aws.String("fleet-devices"), Target: aws.String(groupARN + "fleet")}); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-dv2.closed:
		if code != 0x87 {
			t.Fatalf("DISCONNECT reason 0x%02x, want 0x87", code)
		}
	case <-time.After(time.Second):
		t.Fatal("the connection was not closed within 1 s of the detach")
	}
	if _, err := connectDevice(t, srv, &d, "lamp-1"); err == nil {
		t.Fatal("the device connected after the group policy was detached")
	}
}

// TestOperator_GroupMembershipLive checks the other changes that take
// inherited rights away from a live connection: the thing leaving the
// group, and the group being deleted.
func TestOperator_GroupMembershipLive(t *testing.T) {
	srv := moattest.Start(t)
	c := srv.IoT()
	ctx := context.Background()
	mkGroup(t, c, "root", "")
	if _, err := c.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(srv.DevicePolicy())}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AttachPolicy(ctx, &iot.AttachPolicyInput{PolicyName: aws.String("p"), Target: aws.String(groupARN + "root")}); err != nil {
		t.Fatal(err)
	}
	changes := map[string]func(t *testing.T, thing, group string){
		// the thing removed from its group
		"removed": func(t *testing.T, thing, group string) {
			if _, err := c.RemoveThingFromThingGroup(ctx, &iot.RemoveThingFromThingGroupInput{ThingGroupName: aws.String(group), ThingName: aws.String(thing)}); err != nil {
				t.Fatal(err)
			}
		},
		// the thing's group deleted
		"group deleted": func(t *testing.T, _, group string) {
			if _, err := c.DeleteThingGroup(ctx, &iot.DeleteThingGroupInput{ThingGroupName: aws.String(group)}); err != nil {
				t.Fatal(err)
			}
		},
		// the thing moved out with UpdateThingGroupsForThing
		"update groups for thing": func(t *testing.T, thing, group string) {
			if _, err := c.UpdateThingGroupsForThing(ctx, &iot.UpdateThingGroupsForThingInput{ThingName: aws.String(thing), ThingGroupsToRemove: []string{group}}); err != nil {
				t.Fatal(err)
			}
		},
	}
	i := 0
	for name, change := range changes {
		i++
		t.Run(name, func(t *testing.T) {
			thing, group := "dev-"+string(rune('a'+i)), "leaf-"+string(rune('a'+i))
			mkGroup(t, c, group, "root")
			d := srv.NewDevice(t, thing, "")
			if _, err := c.AddThingToThingGroup(ctx, &iot.AddThingToThingGroupInput{ThingGroupName: aws.String(group), ThingName: aws.String(thing)}); err != nil {
				t.Fatal(err)
			}
			dv, err := connectDevice(t, srv, &d, thing)
			if err != nil {
				t.Fatalf("connect: %v", err)
			}
			change(t, thing, group)
			select {
			case code := <-dv.closed:
				if code != 0x87 {
					t.Fatalf("DISCONNECT reason 0x%02x, want 0x87", code)
				}
			case <-time.After(time.Second):
				t.Fatal("the connection was not closed within 1 s")
			}
		})
	}
}
