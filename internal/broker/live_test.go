package broker_test

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	paho5packets "github.com/eclipse/paho.golang/packets"
	"github.com/eclipse/paho.golang/paho"

	"github.com/moat-iot/moat/internal/moattest"
)

// watched is an MQTT 5 client whose server DISCONNECT reason is reported.
type watched struct {
	c      *paho.Client
	reason chan byte
	msgs   chan *paho.Publish
}

func watch(t *testing.T, srv *moattest.Server, d *moattest.Device, id string) *watched {
	t.Helper()
	conn, err := tls.Dial("tcp", srv.MQTTAddr, srv.MQTTTLS(d))
	if err != nil {
		t.Fatal(err)
	}
	w := &watched{reason: make(chan byte, 1), msgs: make(chan *paho.Publish, 16)}
	w.c = paho.NewClient(paho.ClientConfig{ClientID: id, Conn: paho5packets.NewThreadSafeConn(conn),
		OnServerDisconnect: func(d *paho.Disconnect) { w.reason <- d.ReasonCode },
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
			w.msgs <- pr.Packet
			return true, nil
		}}})
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if _, err := w.c.Connect(ctx, &paho.Connect{ClientID: id, KeepAlive: 30, CleanStart: true}); err != nil {
		t.Fatalf("connect %s: %v", id, err)
	}
	t.Cleanup(func() { _ = w.c.Disconnect(&paho.Disconnect{}) })
	return w
}

// closedWithin waits for the server's DISCONNECT: the live change must
// bite within one second.
func (w *watched) closedWithin(t *testing.T, code byte) {
	t.Helper()
	select {
	case got := <-w.reason:
		if got != code {
			t.Fatalf("DISCONNECT reason 0x%02x, want 0x%02x", got, code)
		}
	case <-time.After(time.Second):
		t.Fatal("the connection was not closed within 1 s of the change")
	}
}

// TestLiveChanges checks that changes made through the API bite live
// connections at once: each subtest connects a device, makes one change,
// and expects the connection closed with the reason code within 1 s.
func TestLiveChanges(t *testing.T) {
	srv := moattest.Start(t)
	ctx := context.Background()
	c := srv.IoT()
	tests := []struct {
		name   string
		change func(t *testing.T, d moattest.Device, thing string)
		code   byte
	}{
		// the certificate made INACTIVE: its authentication no longer holds
		{"certificate inactive", func(t *testing.T, d moattest.Device, _ string) {
			srv.SetCertificateStatus(t, d.CertificateID, "INACTIVE")
		}, 0x8C},
		// the certificate REVOKED
		{"certificate revoked", func(t *testing.T, d moattest.Device, _ string) {
			srv.SetCertificateStatus(t, d.CertificateID, "REVOKED")
		}, 0x8C},
		// the only policy detached: iot:Connect no longer allowed
		{"policy detached", func(t *testing.T, d moattest.Device, thing string) {
			if _, err := c.DetachPolicy(ctx, &iot.DetachPolicyInput{PolicyName: aws.String(thing + "-policy"), Target: aws.String(d.CertificateARN)}); err != nil {
				t.Fatal(err)
			}
		}, 0x87},
		// the thing detached: ${iot:Connection.Thing.ThingName} unresolved
		{"thing principal detached", func(t *testing.T, d moattest.Device, thing string) {
			if _, err := c.DetachThingPrincipal(ctx, &iot.DetachThingPrincipalInput{ThingName: aws.String(thing), Principal: aws.String(d.CertificateARN)}); err != nil {
				t.Fatal(err)
			}
		}, 0x87},
		// a new default version that no longer allows this client id
		{"new default version", func(t *testing.T, _ moattest.Device, thing string) {
			doc := strings.Replace(srv.DevicePolicy(), "client/${iot:Connection.Thing.ThingName}", "client/nobody", 1)
			if _, err := c.CreatePolicyVersion(ctx, &iot.CreatePolicyVersionInput{PolicyName: aws.String(thing + "-policy"), PolicyDocument: aws.String(doc), SetAsDefault: true}); err != nil {
				t.Fatal(err)
			}
		}, 0x87},
		// SetDefaultPolicyVersion to a version that no longer allows it
		{"set default version", func(t *testing.T, _ moattest.Device, thing string) {
			doc := strings.Replace(srv.DevicePolicy(), "client/${iot:Connection.Thing.ThingName}", "client/nobody", 1)
			v, err := c.CreatePolicyVersion(ctx, &iot.CreatePolicyVersionInput{PolicyName: aws.String(thing + "-policy"), PolicyDocument: aws.String(doc)})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.SetDefaultPolicyVersion(ctx, &iot.SetDefaultPolicyVersionInput{PolicyName: aws.String(thing + "-policy"), PolicyVersionId: v.PolicyVersionId}); err != nil {
				t.Fatal(err)
			}
		}, 0x87},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			thing := "live-" + string(rune('a'+i))
			d := srv.NewDevice(t, thing, srv.DevicePolicy())
			w := watch(t, srv, &d, thing)
			tt.change(t, d, thing)
			w.closedWithin(t, tt.code)
		})
	}
}

// TestLiveChanges_Subscription checks that a subscription the new default
// policy version no longer allows stops receiving, while the connection
// stays.
func TestLiveChanges_Subscription(t *testing.T) {
	srv := moattest.Start(t)
	ctx := context.Background()
	d := srv.NewDevice(t, "lamp-1", srv.DevicePolicy())
	w := watch(t, srv, &d, "lamp-1")
	if sa, err := w.c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "lamp-1/cmd", QoS: 1}, {Topic: "lamp-1/state", QoS: 1}}}); err != nil || sa.Reasons[0] != 1 {
		t.Fatalf("subscribe: %v %v", sa, err)
	}
	// The new version allows subscribing and receiving lamp-1/state only.
	doc := strings.Replace(srv.DevicePolicy(), `topicfilter/${iot:ClientId}/*`, `topicfilter/${iot:ClientId}/state`, 1)
	doc = strings.Replace(doc, `"Resource": "arn:aws:iot:us-east-1:000000000000:topic/${iot:ClientId}/*"`, `"Resource": ["arn:aws:iot:us-east-1:000000000000:topic/${iot:ClientId}/*"]`, 1)
	if _, err := srv.IoT().CreatePolicyVersion(ctx, &iot.CreatePolicyVersionInput{PolicyName: aws.String("lamp-1-policy"), PolicyDocument: aws.String(doc), SetAsDefault: true}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Second)
	for {
		// Publish to both; once the change has bitten, only lamp-1/state
		// comes back.
		for _, topic := range []string{"lamp-1/cmd", "lamp-1/state"} {
			if _, err := w.c.Publish(ctx, &paho.Publish{Topic: topic, QoS: 1, Payload: []byte("x")}); err != nil {
				t.Fatal(err)
			}
		}
		got := map[string]int{}
		for got["lamp-1/state"] == 0 {
			select {
			case m := <-w.msgs:
				got[m.Topic]++
			case <-time.After(waitFor):
				t.Fatal("lamp-1/state not delivered")
			}
		}
		if got["lamp-1/cmd"] == 0 {
			return // the subscription no longer allowed stopped receiving
		}
		if time.Now().After(deadline) {
			t.Fatal("the subscription no longer allowed still receives 1 s after the change")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
