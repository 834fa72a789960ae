package shadow_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	paho5packets "github.com/eclipse/paho.golang/packets"
	"github.com/eclipse/paho.golang/paho"
	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/moat-iot/moat/internal/moattest"
)

const waitFor = 10 * time.Second

// thingPolicy is the AWS device SDKs' shadow policy: connect as the
// thing, publish the thing's shadow requests, subscribe to and receive
// its replies; nothing of other things.
func thingPolicy(srv *moattest.Server) string {
	return strings.NewReplacer("REGION", srv.Config.Region, "ACCOUNT", srv.Config.AccountID).Replace(`{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": "iot:Connect", "Resource": "arn:aws:iot:REGION:ACCOUNT:client/${iot:Connection.Thing.ThingName}"},
    {"Effect": "Allow", "Action": "iot:Publish", "Resource": "arn:aws:iot:REGION:ACCOUNT:topic/$aws/things/${iot:Connection.Thing.ThingName}/shadow/*"},
    {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": "arn:aws:iot:REGION:ACCOUNT:topicfilter/$aws/things/${iot:Connection.Thing.ThingName}/shadow/*"},
    {"Effect": "Allow", "Action": "iot:Receive", "Resource": "arn:aws:iot:REGION:ACCOUNT:topic/$aws/things/${iot:Connection.Thing.ThingName}/shadow/*"}
  ]
}`)
}

// msg is one received message.
type msg struct {
	topic string
	doc   map[string]any
	raw   []byte
}

// device311 is a paho.mqtt.golang (MQTT 3.1.1) client, the protocol of
// the AWS device SDKs, subscribed to filters; it collects what arrives.
type device311 struct {
	t    *testing.T
	c    mqtt.Client
	msgs chan msg
}

func connect311(t *testing.T, srv *moattest.Server, d *moattest.Device, id string, filters ...string) *device311 {
	t.Helper()
	dev := &device311{t: t, msgs: make(chan msg, 256)}
	opts := mqtt.NewClientOptions().AddBroker("ssl://" + srv.MQTTAddr).SetClientID(id).
		SetTLSConfig(srv.MQTTTLS(d)).SetAutoReconnect(false).SetConnectRetry(false).
		SetProtocolVersion(4).SetCleanSession(true).SetConnectTimeout(waitFor).SetKeepAlive(30 * time.Second).
		SetOrderMatters(true)
	dev.c = mqtt.NewClient(opts)
	if tok := dev.c.Connect(); !tok.WaitTimeout(waitFor) || tok.Error() != nil {
		t.Fatalf("connect %s: %v", id, tok.Error())
	}
	t.Cleanup(func() { dev.c.Disconnect(100) })
	for _, f := range filters {
		tok := dev.c.Subscribe(f, 1, func(_ mqtt.Client, m mqtt.Message) {
			var doc map[string]any
			_ = json.Unmarshal(m.Payload(), &doc)
			dev.msgs <- msg{m.Topic(), doc, append([]byte(nil), m.Payload()...)}
		})
		if !tok.WaitTimeout(waitFor) || tok.Error() != nil {
			t.Fatalf("subscribe %s: %v", f, tok.Error())
		}
		if st := tok.(*mqtt.SubscribeToken); st.Result()[f] == 0x80 {
			t.Fatalf("subscribe %s refused", f)
		}
	}
	return dev
}

func (d *device311) publish(topic, payload string) {
	d.t.Helper()
	tok := d.c.Publish(topic, 1, false, payload)
	if !tok.WaitTimeout(waitFor) || tok.Error() != nil {
		d.t.Fatalf("publish %s: %v", topic, tok.Error())
	}
}

// expect returns the next message, which must be on topic.
func (d *device311) expect(topic string) msg {
	d.t.Helper()
	select {
	case m := <-d.msgs:
		if m.topic != topic {
			d.t.Fatalf("got %s %s, want a message on %s", m.topic, m.raw, topic)
		}
		return m
	case <-time.After(waitFor):
		d.t.Fatalf("nothing on %s", topic)
		return msg{}
	}
}

// quiet fails if anything arrives within a short while.
func (d *device311) quiet() {
	d.t.Helper()
	select {
	case m := <-d.msgs:
		d.t.Fatalf("unexpected %s %s", m.topic, m.raw)
	case <-time.After(200 * time.Millisecond):
	}
}

func num(v any) int64 {
	f, _ := v.(float64)
	return int64(f)
}

func at(doc map[string]any, path ...string) any {
	var v any = doc
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

// TestShadowFlow_311 is the AWS device SDK's classic-shadow flow over MQTT
// 3.1.1: get before the shadow exists, desired then reported updates
// with their accepted, delta and documents messages, a version
// conflict, malformed input, delete, and re-creation.
func TestShadowFlow_311(t *testing.T) {
	srv := moattest.Start(t)
	d := srv.NewDevice(t, "lamp-1", thingPolicy(srv))
	const p = "$aws/things/lamp-1/shadow"
	dev := connect311(t, srv, &d, "lamp-1",
		p+"/get/accepted", p+"/get/rejected", p+"/update/accepted", p+"/update/rejected",
		p+"/update/delta", p+"/update/documents", p+"/delete/accepted", p+"/delete/rejected")

	// No shadow yet: 404 with the client token.
	dev.publish(p+"/get", `{"clientToken":"g0"}`)
	m := dev.expect(p + "/get/rejected")
	if num(m.doc["code"]) != 404 || m.doc["clientToken"] != "g0" || !strings.Contains(m.doc["message"].(string), "No shadow exists") {
		t.Fatalf("get before creation: %s", m.raw)
	}

	// The app sets desired: accepted, then delta, then documents; accepted
	// and delta carry the same version (the device SDKs rely on it).
	dev.publish(p+"/update", `{"state":{"desired":{"color":"red","level":{"pct":50}}},"clientToken":"u1"}`)
	acc := dev.expect(p + "/update/accepted")
	if num(acc.doc["version"]) != 1 || acc.doc["clientToken"] != "u1" || at(acc.doc, "state", "desired", "color") != "red" {
		t.Fatalf("update/accepted: %s", acc.raw)
	}
	if num(at(acc.doc, "metadata", "desired", "color", "timestamp")) == 0 {
		t.Errorf("update/accepted without leaf metadata: %s", acc.raw)
	}
	delta := dev.expect(p + "/update/delta")
	if num(delta.doc["version"]) != num(acc.doc["version"]) {
		t.Errorf("delta version %v, accepted version %v: they must be equal", delta.doc["version"], acc.doc["version"])
	}
	if at(delta.doc, "state", "color") != "red" || num(at(delta.doc, "state", "level", "pct")) != 50 {
		t.Errorf("delta state: %s", delta.raw)
	}
	docs := dev.expect(p + "/update/documents")
	if num(at(docs.doc, "current", "version")) != 1 || at(docs.doc, "current", "state", "desired", "color") != "red" {
		t.Errorf("documents: %s", docs.raw)
	}

	// The device reports part of it: the delta holds only what differs.
	dev.publish(p+"/update", `{"state":{"reported":{"color":"red","level":{"pct":20}}},"clientToken":"u2"}`)
	acc = dev.expect(p + "/update/accepted")
	if num(acc.doc["version"]) != 2 || at(acc.doc, "state", "desired") != nil {
		t.Fatalf("update/accepted 2 (only the request's fields): %s", acc.raw)
	}
	delta = dev.expect(p + "/update/delta")
	if num(delta.doc["version"]) != 2 || at(delta.doc, "state", "color") != nil || num(at(delta.doc, "state", "level", "pct")) != 50 {
		t.Errorf("delta 2: %s", delta.raw)
	}
	docs = dev.expect(p + "/update/documents")
	if num(at(docs.doc, "previous", "version")) != 1 || num(at(docs.doc, "current", "version")) != 2 {
		t.Errorf("documents 2: %s", docs.raw)
	}

	// In sync: no delta.
	dev.publish(p+"/update", `{"state":{"reported":{"level":{"pct":50}}}}`)
	dev.expect(p + "/update/accepted")
	dev.expect(p + "/update/documents")

	// A stale version is refused and changes nothing.
	dev.publish(p+"/update", `{"state":{"desired":{"color":"blue"}},"version":1,"clientToken":"stale"}`)
	m = dev.expect(p + "/update/rejected")
	if num(m.doc["code"]) != 409 || m.doc["message"] != "Version conflict" || m.doc["clientToken"] != "stale" {
		t.Errorf("stale version: %s", m.raw)
	}
	// So is malformed JSON, and a state that is not an object.
	dev.publish(p+"/update", `{"state":{"desired":`)
	if m = dev.expect(p + "/update/rejected"); num(m.doc["code"]) != 400 {
		t.Errorf("malformed JSON: %s", m.raw)
	}
	dev.publish(p+"/update", `{"state":[1,2]}`)
	if m = dev.expect(p + "/update/rejected"); num(m.doc["code"]) != 400 {
		t.Errorf("state array: %s", m.raw)
	}
	// Too deep.
	dev.publish(p+"/update", `{"state":{"desired":{"a":{"b":{"c":{"d":{"e":{"f":{"g":1}}}}}}}}}`)
	if m = dev.expect(p + "/update/rejected"); num(m.doc["code"]) != 400 {
		t.Errorf("7 levels: %s", m.raw)
	}
	// Too large.
	dev.publish(p+"/update", `{"state":{"desired":{"blob":"`+strings.Repeat("x", 9000)+`"}}}`)
	if m = dev.expect(p + "/update/rejected"); num(m.doc["code"]) != 413 {
		t.Errorf("9000-byte state: %s", m.raw)
	}
	// A client token over 64 bytes.
	dev.publish(p+"/update", `{"state":{"desired":{"x":1}},"clientToken":"`+strings.Repeat("t", 65)+`"}`)
	if m = dev.expect(p + "/update/rejected"); num(m.doc["code"]) != 400 {
		t.Errorf("long client token: %s", m.raw)
	}

	dev.publish(p+"/get", `{"clientToken":"g1"}`)
	g := dev.expect(p + "/get/accepted")
	if num(g.doc["version"]) != 3 || g.doc["clientToken"] != "g1" || at(g.doc, "state", "desired", "color") != "red" ||
		num(at(g.doc, "state", "reported", "level", "pct")) != 50 || at(g.doc, "state", "delta") != nil {
		t.Fatalf("get after the refused updates (nothing changed): %s", g.raw)
	}

	// Delete: accepted with the version; the shadow is gone; a new one
	// continues the count.
	dev.publish(p+"/delete", `{"clientToken":"d1"}`)
	m = dev.expect(p + "/delete/accepted")
	if num(m.doc["version"]) != 3 || m.doc["clientToken"] != "d1" {
		t.Errorf("delete/accepted: %s", m.raw)
	}
	dev.publish(p+"/get", "")
	dev.expect(p + "/get/rejected")
	dev.publish(p+"/delete", "")
	if m = dev.expect(p + "/delete/rejected"); num(m.doc["code"]) != 404 {
		t.Errorf("second delete: %s", m.raw)
	}
	dev.publish(p+"/update", `{"state":{"reported":{"on":true}}}`)
	if acc = dev.expect(p + "/update/accepted"); num(acc.doc["version"]) != 4 {
		t.Errorf("re-created shadow: version %v, want 4", acc.doc["version"])
	}
	dev.expect(p + "/update/documents")
	dev.quiet()
}

// TestShadowPolicy: a device cannot touch another thing's shadow. Its
// publish to the other thing's request topic is refused (3.1.1: the
// connection is closed, as AWS does), so is its subscription to the other
// thing's replies; the other thing's shadow is untouched.
func TestShadowPolicy(t *testing.T) {
	srv := moattest.Start(t)
	d1 := srv.NewDevice(t, "lamp-1", thingPolicy(srv))
	d2 := srv.NewDevice(t, "lamp-2", thingPolicy(srv))
	const p2 = "$aws/things/lamp-2/shadow"
	owner := connect311(t, srv, &d2, "lamp-2", p2+"/update/accepted", p2+"/update/documents", p2+"/update/delta")

	// Subscribing to lamp-2's replies as lamp-1 fails.
	intruder := mqtt.NewClient(mqtt.NewClientOptions().AddBroker("ssl://" + srv.MQTTAddr).SetClientID("lamp-1").
		SetTLSConfig(srv.MQTTTLS(&d1)).SetAutoReconnect(false).SetProtocolVersion(4).SetConnectTimeout(waitFor))
	if tok := intruder.Connect(); !tok.WaitTimeout(waitFor) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	defer intruder.Disconnect(100)
	tok := intruder.Subscribe(p2+"/update/accepted", 1, nil)
	if !tok.WaitTimeout(waitFor) {
		t.Fatal("subscribe: timeout")
	}
	if r := tok.(*mqtt.SubscribeToken).Result()[p2+"/update/accepted"]; r != 0x80 {
		t.Errorf("SUBACK %#x for another thing's replies, want 0x80", r)
	}
	// Publishing lamp-2's update as lamp-1: the connection is closed.
	pt := intruder.Publish(p2+"/update", 1, false, `{"state":{"desired":{"hacked":true}}}`)
	pt.WaitTimeout(2 * time.Second)
	deadline := time.Now().Add(waitFor)
	for intruder.IsConnectionOpen() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if intruder.IsConnectionOpen() {
		t.Error("the intruder is still connected after publishing to another thing's shadow")
	}
	owner.quiet()

	// The owner's own update works and starts at version 1.
	owner.publish(p2+"/update", `{"state":{"reported":{"ok":true}}}`)
	if acc := owner.expect(p2 + "/update/accepted"); num(acc.doc["version"]) != 1 {
		t.Errorf("owner's first update: %s", acc.raw)
	}
}

// TestNamedShadows_5 runs named shadows over MQTT 5 (paho.golang): two
// named shadows and the classic one are independent documents.
func TestNamedShadows_5(t *testing.T) {
	srv := moattest.Start(t)
	d := srv.NewDevice(t, "lamp-1", thingPolicy(srv))
	conn, err := tls.Dial("tcp", srv.MQTTAddr, srv.MQTTTLS(&d))
	if err != nil {
		t.Fatal(err)
	}
	msgs := make(chan *paho.Publish, 64)
	c := paho.NewClient(paho.ClientConfig{ClientID: "lamp-1", Conn: paho5packets.NewThreadSafeConn(conn),
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
			msgs <- pr.Packet
			return true, nil
		}}})
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if _, err := c.Connect(ctx, &paho.Connect{ClientID: "lamp-1", KeepAlive: 30, CleanStart: true}); err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect(&paho.Disconnect{})
	const p = "$aws/things/lamp-1/shadow"
	if _, err := c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{
		{Topic: p + "/name/+/update/accepted", QoS: 1}, {Topic: p + "/name/+/get/accepted", QoS: 1},
		{Topic: p + "/name/+/get/rejected", QoS: 1}, {Topic: p + "/update/accepted", QoS: 1},
	}}); err != nil {
		t.Fatal(err)
	}
	next := func(topic string) map[string]any {
		t.Helper()
		select {
		case m := <-msgs:
			if m.Topic != topic {
				t.Fatalf("got %s %s, want %s", m.Topic, m.Payload, topic)
			}
			var doc map[string]any
			if err := json.Unmarshal(m.Payload, &doc); err != nil {
				t.Fatal(err)
			}
			return doc
		case <-time.After(waitFor):
			t.Fatalf("nothing on %s", topic)
			return nil
		}
	}
	pub := func(topic, payload string) {
		t.Helper()
		if _, err := c.Publish(ctx, &paho.Publish{Topic: topic, QoS: 1, Payload: []byte(payload)}); err != nil {
			t.Fatalf("publish %s: %v", topic, err)
		}
	}
	pub(p+"/name/config/update", `{"state":{"desired":{"interval":30}}}`)
	if doc := next(p + "/name/config/update/accepted"); num(doc["version"]) != 1 {
		t.Errorf("config: %v", doc)
	}
	pub(p+"/name/config/update", `{"state":{"desired":{"interval":60}}}`)
	if doc := next(p + "/name/config/update/accepted"); num(doc["version"]) != 2 {
		t.Errorf("config 2: %v", doc)
	}
	pub(p+"/name/firmware/update", `{"state":{"reported":{"v":"1.2"}}}`)
	if doc := next(p + "/name/firmware/update/accepted"); num(doc["version"]) != 1 {
		t.Errorf("firmware: %v", doc)
	}
	pub(p+"/update", `{"state":{"reported":{"on":true}}}`)
	if doc := next(p + "/update/accepted"); num(doc["version"]) != 1 {
		t.Errorf("classic: %v", doc)
	}
	pub(p+"/name/config/get", `{"clientToken":"c"}`)
	if doc := next(p + "/name/config/get/accepted"); num(at(doc, "state", "desired", "interval")) != 60 || doc["clientToken"] != "c" {
		t.Errorf("config get: %v", doc)
	}
	pub(p+"/name/none/get", ``)
	if doc := next(p + "/name/none/get/rejected"); num(doc["code"]) != 404 {
		t.Errorf("missing named shadow: %v", doc)
	}
}

// TestShadowDurable: an update acknowledged on update/accepted survives
// kill -9 of the moat process: every one of a burst of MQTT updates, and
// the document the last one made.
func TestShadowDurable(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the moat binary; not with -short")
	}
	dir := filepath.Join(t.TempDir(), "data")
	p := moattest.StartProcess(t, dir)
	d := p.NewDevice(t, "lamp-1", thingPolicy(p.Server))
	const pre = "$aws/things/lamp-1/shadow"
	dev := connect311(t, p.Server, &d, "lamp-1", pre+"/update/accepted")
	const n = 50
	for i := 1; i <= n; i++ {
		// QoS 0 requests, as fast as they go: each is answered once stored.
		dev.c.Publish(pre+"/update", 0, false, fmt.Sprintf(`{"state":{"reported":{"n":%d}},"clientToken":"c%d"}`, i, i))
		if i%10 == 0 {
			for j := 0; j < 10; j++ {
				dev.expect(pre + "/update/accepted")
			}
		}
	}
	p.Kill(t)

	p2 := moattest.StartProcess(t, dir)
	resp, body := p2.Do(t, "GET", "/things/lamp-1/shadow", nil, "iotdata", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("after kill -9: %d %s", resp.StatusCode, body)
	}
	var doc struct {
		State   struct{ Reported struct{ N int } }
		Version int
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != n || doc.State.Reported.N != n {
		t.Errorf("after kill -9: version %d, n %d; want %d and %d (%s)", doc.Version, doc.State.Reported.N, n, n, body)
	}
}
