package broker_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/packets"
	"github.com/eclipse/paho.golang/paho"

	"github.com/moat-iot/moat/internal/moattest"
)

// persistent5 connects an MQTT 5 client with Clean Start 0 and a one-hour
// session expiry.
func persistent5(t *testing.T, srv *moattest.Server, d *moattest.Device, id string, msgs chan<- *paho.Publish) (*paho.Client, *paho.Connack) {
	t.Helper()
	conn, err := tls.Dial("tcp", srv.MQTTAddr, srv.MQTTTLS(d))
	if err != nil {
		t.Fatal(err)
	}
	// paho.golang writes from several goroutines: a tls.Conn needs the
	// thread-safe wrapper, or packets interleave.
	cfg := paho.ClientConfig{ClientID: id, Conn: packets.NewThreadSafeConn(conn)}
	if msgs != nil {
		cfg.OnPublishReceived = []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
			msgs <- pr.Packet
			return true, nil
		}}
	}
	c := paho.NewClient(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	expiry := uint32(3600)
	ack, err := c.Connect(ctx, &paho.Connect{ClientID: id, KeepAlive: 30, CleanStart: false,
		Properties: &paho.ConnectProperties{SessionExpiryInterval: &expiry}})
	if err != nil {
		t.Fatalf("connect %s: %v", id, err)
	}
	return c, ack
}

// TestPersistence checks that a persistent session (its subscription and
// the QoS 1 messages queued for it) and retained messages survive a
// restart and a kill -9 of moat: everything the publisher had acknowledged
// is there afterwards.
func TestPersistence(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the moat binary; not in -short")
	}
	for _, how := range []string{"restart", "kill -9"} {
		t.Run(how, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			p := moattest.StartProcess(t, dir)
			// the seed policy plus iot:RetainPublish on the lamp's topics
			lamp := p.NewDevice(t, "lamp-1", strings.Replace(p.DevicePolicy(), `["iot:Publish", "iot:Receive"]`, `["iot:Publish", "iot:RetainPublish", "iot:Receive"]`, 1))
			app := p.NewDevice(t, "", appPolicy(p.Server))
			ctx := context.Background()

			sub, ack := persistent5(t, p.Server, &app, "app-1", nil)
			if ack.SessionPresent {
				t.Fatal("a new session reported as present")
			}
			if sa, err := sub.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "lamp-1/#", QoS: 1}}}); err != nil || sa.Reasons[0] != 1 {
				t.Fatalf("subscribe: %v %v", sa, err)
			}
			if err := sub.Disconnect(&paho.Disconnect{}); err != nil {
				t.Fatal(err)
			}

			pub, _, err := client5(t, p.Server, &lamp, "lamp-1", nil)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 3; i++ {
				pr, err := pub.Publish(ctx, &paho.Publish{Topic: "lamp-1/state", QoS: 1, Payload: []byte(fmt.Sprint(i))})
				if err != nil || pr.ReasonCode >= 0x80 {
					t.Fatalf("publish %d: %v %v", i, pr, err)
				}
			}
			if pr, err := pub.Publish(ctx, &paho.Publish{Topic: "lamp-1/config", QoS: 1, Retain: true, Payload: []byte("bright")}); err != nil || pr.ReasonCode >= 0x80 {
				t.Fatalf("retained publish: %v %v", pr, err)
			}

			if how == "restart" {
				p.Terminate(t)
			} else {
				p.Kill(t)
			}
			p2 := moattest.StartProcess(t, dir)

			got := make(chan *paho.Publish, 10)
			_, ack = persistent5(t, p2.Server, &app, "app-1", got)
			if !ack.SessionPresent {
				t.Fatal("the persistent session is gone after " + how)
			}
			var payloads []string
			for len(payloads) < 4 {
				select {
				case m := <-got:
					payloads = append(payloads, m.Topic+"="+string(m.Payload))
				case <-time.After(waitFor):
					t.Fatalf("after %s got %v, want the 3 queued messages and the retained one", how, payloads)
				}
			}
			sort.Strings(payloads)
			want := []string{"lamp-1/config=bright", "lamp-1/state=0", "lamp-1/state=1", "lamp-1/state=2"}
			if fmt.Sprint(payloads) != fmt.Sprint(want) {
				t.Fatalf("after %s got %v, want %v", how, payloads, want)
			}

			// The retained message is delivered to a new subscriber.
			rgot := make(chan *paho.Publish, 1)
			c, _, err := client5(t, p2.Server, &lamp, "lamp-1", rgot)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "lamp-1/config", QoS: 1}}}); err != nil {
				t.Fatal(err)
			}
			select {
			case m := <-rgot:
				if string(m.Payload) != "bright" || !m.Retain {
					t.Fatalf("retained message = %q retain=%v", m.Payload, m.Retain)
				}
			case <-time.After(waitFor):
				t.Fatal("retained message lost after " + how)
			}
		})
	}
}
