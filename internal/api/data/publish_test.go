package data_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	paho5packets "github.com/eclipse/paho.golang/packets"
	"github.com/eclipse/paho.golang/paho"

	"github.com/moat-iot/moat/internal/moattest"
)

const waitFor = 10 * time.Second

// policy fills REGION and ACCOUNT in a policy document.
func policy(srv *moattest.Server, doc string) string {
	return strings.NewReplacer("REGION", srv.Config.Region, "ACCOUNT", srv.Config.AccountID).Replace(doc)
}

// lampPolicy lets a device publish under lamp-1/ over HTTPS (no client id
// needed), retain under lamp-1/retained/, and never publish lamp-1/secret.
const lampPolicy = `{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": "iot:Publish", "Resource": "arn:aws:iot:REGION:ACCOUNT:topic/lamp-1/*"},
    {"Effect": "Allow", "Action": "iot:RetainPublish", "Resource": "arn:aws:iot:REGION:ACCOUNT:topic/lamp-1/retained/*"},
    {"Effect": "Deny", "Action": "iot:Publish", "Resource": "arn:aws:iot:REGION:ACCOUNT:topic/lamp-1/secret"}
  ]
}`

// appPolicy lets the watching app connect as app-*, subscribe to and
// receive everything.
const appPolicy = `{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": "iot:Connect", "Resource": "arn:aws:iot:REGION:ACCOUNT:client/app-*"},
    {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": "arn:aws:iot:REGION:ACCOUNT:topicfilter/*"},
    {"Effect": "Allow", "Action": "iot:Receive", "Resource": "arn:aws:iot:REGION:ACCOUNT:topic/*"}
  ]
}`

// subscriber connects a paho.golang MQTT 5 client with d's certificate as
// id, subscribes to filters at QoS 1 and returns what it receives.
func subscriber(t *testing.T, srv *moattest.Server, d moattest.Device, id string, filters ...string) <-chan *paho.Publish {
	t.Helper()
	conn, err := tls.Dial("tcp", srv.MQTTAddr, srv.MQTTTLS(&d))
	if err != nil {
		t.Fatal(err)
	}
	msgs := make(chan *paho.Publish, 64)
	c := paho.NewClient(paho.ClientConfig{ClientID: id, Conn: paho5packets.NewThreadSafeConn(conn),
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
			msgs <- pr.Packet
			return true, nil
		}}})
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if _, err := c.Connect(ctx, &paho.Connect{ClientID: id, KeepAlive: 30, CleanStart: true}); err != nil {
		conn.Close()
		t.Fatalf("connect %s: %v", id, err)
	}
	t.Cleanup(func() { _ = c.Disconnect(&paho.Disconnect{}) })
	sub := &paho.Subscribe{}
	for _, f := range filters {
		sub.Subscriptions = append(sub.Subscriptions, paho.SubscribeOptions{Topic: f, QoS: 1})
	}
	ack, err := c.Subscribe(ctx, sub)
	if err != nil {
		t.Fatalf("subscribe %v: %v", filters, err)
	}
	for i, rc := range ack.Reasons {
		if rc >= 0x80 {
			t.Fatalf("subscribe %s refused: 0x%02x", filters[i], rc)
		}
	}
	return msgs
}

// next returns the next message, failing after waitFor.
func next(t *testing.T, msgs <-chan *paho.Publish) *paho.Publish {
	t.Helper()
	select {
	case m := <-msgs:
		return m
	case <-time.After(waitFor):
		t.Fatal("no message within", waitFor)
	}
	return nil
}

// expectNext checks that the next message is on topic with payload: used
// after refused publishes, it shows that none of them was delivered.
func expectNext(t *testing.T, msgs <-chan *paho.Publish, topic, payload string) *paho.Publish {
	t.Helper()
	m := next(t, msgs)
	if m.Topic != topic || string(m.Payload) != payload {
		t.Fatalf("got %q %q, want %q %q", m.Topic, m.Payload, topic, payload)
	}
	return m
}

// post sends a curl-like POST (no signature) with client, returning the
// status and body.
func post(t *testing.T, client *http.Client, url string, body []byte, hdr http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// expectOK checks an empty 200.
func expectOK(t *testing.T, resp *http.Response, body []byte) {
	t.Helper()
	if resp.StatusCode != http.StatusOK || len(body) != 0 {
		t.Fatalf("status %d, body %s; want an empty 200", resp.StatusCode, body)
	}
}

// expectError checks the AWS error shape: status, X-Amzn-ErrorType and the
// body's code.
func expectError(t *testing.T, resp *http.Response, body []byte, status int, code string) string {
	t.Helper()
	var e struct{ Code, Message string }
	_ = json.Unmarshal(body, &e)
	if resp.StatusCode != status || resp.Header.Get("X-Amzn-Errortype") != code || e.Code != code {
		t.Fatalf("got %d %s %s; want %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"), body, status, code)
	}
	return e.Message
}

// sdkEscape escapes a topic as the SDKs do for a non-greedy label (smithy
// httpbinding.EscapePath): every byte but A-Za-z0-9-_.~ is %XX, '/'
// included.
func sdkEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

type fixture struct {
	srv  *moattest.Server
	lamp moattest.Device
	app  moattest.Device
}

func setup(t *testing.T) fixture {
	t.Helper()
	srv := moattest.Start(t)
	return fixture{
		srv:  srv,
		lamp: srv.NewDevice(t, "lamp-1", policy(srv, lampPolicy)),
		app:  srv.NewDevice(t, "", policy(srv, appPolicy)),
	}
}

// TestPublish_DeviceCertificate checks HTTPS publish authenticated by a
// device certificate over mutual TLS, as curl does it.
func TestPublish_DeviceCertificate(t *testing.T) {
	f := setup(t)
	srv := f.srv
	msgs := subscriber(t, srv, f.app, "app-1", "lamp-1/#")
	lamp := srv.HTTPClient(f.lamp.TLS)

	// An allowed publish with every MQTT 5 property reaches the MQTT
	// subscriber with them.
	t.Run("allowed", func(t *testing.T) {
		props := base64.StdEncoding.EncodeToString([]byte(`[{"deviceName":"alpha"},{"deviceCnt":"45"},{"deviceName":"beta"}]`))
		hdr := http.Header{
			"X-Amz-Mqtt5-User-Properties":          {props},
			"X-Amz-Mqtt5-Payload-Format-Indicator": {"UTF8_DATA"},
			"X-Amz-Mqtt5-Correlation-Data":         {base64.StdEncoding.EncodeToString([]byte{1, 2, 3})},
		}
		resp, body := post(t, lamp, srv.URL+"/topics/lamp-1/state?qos=1&contentType=text%2Fplain&responseTopic=lamp-1/reply&messageExpiry=60", []byte("on"), hdr)
		expectOK(t, resp, body)
		m := expectNext(t, msgs, "lamp-1/state", "on")
		if m.QoS != 1 || m.Retain {
			t.Errorf("QoS %d retain %v; want 1, false", m.QoS, m.Retain)
		}
		p := m.Properties
		if p == nil || p.ContentType != "text/plain" || p.ResponseTopic != "lamp-1/reply" || !bytes.Equal(p.CorrelationData, []byte{1, 2, 3}) ||
			p.PayloadFormat == nil || *p.PayloadFormat != 1 || p.MessageExpiry == nil || *p.MessageExpiry == 0 || *p.MessageExpiry > 60 {
			t.Fatalf("properties %+v", p)
		}
		want := []paho.UserProperty{{Key: "deviceName", Value: "alpha"}, {Key: "deviceCnt", Value: "45"}, {Key: "deviceName", Value: "beta"}}
		if fmt.Sprint(p.User) != fmt.Sprint(want) {
			t.Errorf("user properties %v, want %v", p.User, want)
		}
	})

	// A topic sent with raw slashes, an empty level included, is published
	// as sent (not cleaned or redirected by the HTTP mux).
	t.Run("raw slashes", func(t *testing.T) {
		resp, body := post(t, lamp, srv.URL+"/topics/lamp-1/a//b", []byte("x"), nil)
		expectOK(t, resp, body)
		if m := expectNext(t, msgs, "lamp-1/a//b", "x"); m.QoS != 0 {
			t.Errorf("QoS %d, want 0 (the default)", m.QoS)
		}
	})

	// A publish the policy denies (explicit Deny; no Allow; retain without
	// iot:RetainPublish) is ForbiddenException 403 and is not delivered.
	t.Run("denied", func(t *testing.T) {
		for _, path := range []string{"/topics/lamp-1/secret", "/topics/other/state", "/topics/lamp-1/state?retain=true"} {
			resp, body := post(t, lamp, srv.URL+path, []byte("leak"), nil)
			msg := expectError(t, resp, body, http.StatusForbidden, "ForbiddenException")
			if !strings.Contains(msg, "iot:") {
				t.Errorf("%s: message %q does not name the action", path, msg)
			}
		}
		resp, body := post(t, lamp, srv.URL+"/topics/lamp-1/after-denied", []byte("ok"), nil)
		expectOK(t, resp, body)
		expectNext(t, msgs, "lamp-1/after-denied", "ok")
	})

	// A device certificate does not open the control plane.
	t.Run("control plane", func(t *testing.T) {
		resp, err := lamp.Get(srv.URL + "/things")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		expectError(t, resp, b, http.StatusForbidden, "MissingAuthenticationTokenException")
		resp, err = lamp.Get(srv.URL + "/health")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("/health with a client certificate: %d", resp.StatusCode)
		}
	})
}

// TestPublish_RefusedCertificates checks that a certificate MQTT would
// refuse is refused on each HTTPS request, and that an unauthenticated
// request is refused as AWS's data endpoint refuses it.
func TestPublish_RefusedCertificates(t *testing.T) {
	f := setup(t)
	srv := f.srv
	msgs := subscriber(t, srv, f.app, "app-1", "lamp-1/#")

	// INACTIVE: refused (there is no connection to refuse, so every
	// request checks the certificate's status).
	inactive := srv.NewDevice(t, "", policy(srv, lampPolicy))
	srv.SetCertificateStatus(t, inactive.CertificateID, "INACTIVE")
	resp, body := post(t, srv.HTTPClient(inactive.TLS), srv.URL+"/topics/lamp-1/state", []byte("inactive"), nil)
	if msg := expectError(t, resp, body, http.StatusForbidden, "ForbiddenException"); !strings.Contains(msg, "INACTIVE") {
		t.Errorf("message %q does not say the certificate is INACTIVE", msg)
	}

	// Never registered: refused, whoever signed it.
	stranger := moattest.SelfSignedDevice(t, "stranger")
	resp, body = post(t, srv.HTTPClient(stranger.TLS), srv.URL+"/topics/lamp-1/state", []byte("stranger"), nil)
	expectError(t, resp, body, http.StatusForbidden, "ForbiddenException")

	// Neither a certificate nor a signature: AWS's data endpoint answers
	// ForbiddenException "Missing Authentication Token".
	resp, body = post(t, srv.HTTPClient(), srv.URL+"/topics/lamp-1/state", []byte("anonymous"), nil)
	if msg := expectError(t, resp, body, http.StatusForbidden, "ForbiddenException"); !strings.Contains(msg, "Missing Authentication Token") {
		t.Errorf("message %q", msg)
	}

	// A policy written for MQTT with ${iot:ClientId} does not match over
	// HTTPS, which has no client id (as AWS).
	seed := srv.NewDevice(t, "", srv.DevicePolicy())
	resp, body = post(t, srv.HTTPClient(seed.TLS), srv.URL+"/topics/lamp-1/state", []byte("clientid"), nil)
	expectError(t, resp, body, http.StatusForbidden, "ForbiddenException")

	// Nor does one with ${iot:Connection.Thing.ThingName}, though the
	// certificate is attached to exactly one thing: thing variables exist
	// only for MQTT connections (as AWS).
	thingDoc := strings.NewReplacer("REGION", srv.Config.Region, "ACCOUNT", srv.Config.AccountID).Replace(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:REGION:ACCOUNT:topic/${iot:Connection.Thing.ThingName}/*"}]}`)
	thingDev := srv.NewDevice(t, "lamp-9", thingDoc)
	resp, body = post(t, srv.HTTPClient(thingDev.TLS), srv.URL+"/topics/lamp-9/state", []byte("thing"), nil)
	expectError(t, resp, body, http.StatusForbidden, "ForbiddenException")

	// Reactivated, the certificate works again: nothing is cached.
	srv.SetCertificateStatus(t, inactive.CertificateID, "ACTIVE")
	resp, body = post(t, srv.HTTPClient(inactive.TLS), srv.URL+"/topics/lamp-1/state", []byte("active"), nil)
	expectOK(t, resp, body)
	expectNext(t, msgs, "lamp-1/state", "active")
}

// TestPublish_SigV4 checks HTTPS publish signed with the SDK's SigV4
// signer, for both signing names, with SDK-escaped topics.
func TestPublish_SigV4(t *testing.T) {
	f := setup(t)
	srv := f.srv
	msgs := subscriber(t, srv, f.app, "app-1", "lamp-1/#", "$aws/things/lamp-1/shadow/update", "plain")

	cases := []struct {
		name, service, topic string
	}{
		{"iotdata reserved topic", "iotdata", "$aws/things/lamp-1/shadow/update"},
		{"iotdevicegateway reserved topic", "iotdevicegateway", "$aws/things/lamp-1/shadow/update"},
		{"iotdata plain topic", "iotdata", "plain"},
		{"iotdata nested topic", "iotdevicegateway", "lamp-1/a b/c"},
	}
	for _, c := range cases {
		// The admin's signature for the service publishes to the topic
		// the SDK escaped, %2F and all.
		t.Run(c.name, func(t *testing.T) {
			payload := []byte(`{"state":{"desired":{"on":true}}}`)
			resp, body := srv.Do(t, http.MethodPost, "/topics/"+sdkEscape(c.topic)+"?qos=1", payload, c.service, nil)
			expectOK(t, resp, body)
			expectNext(t, msgs, c.topic, string(payload))
		})
	}

	// A body changed after signing, a signature for the control plane's
	// name, and a wrong secret are refused; none is delivered.
	t.Run("refused", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/topics/plain", bytes.NewReader([]byte("tampered")))
		srv.Sign(t, req, []byte("signed"), "iotdata", srv.AccessKey, srv.Secret, time.Now())
		resp, body := do(t, srv, req)
		expectError(t, resp, body, http.StatusForbidden, "ForbiddenException")

		resp, body = srv.Do(t, http.MethodPost, "/topics/plain", []byte("iot scope"), "iot", nil)
		expectError(t, resp, body, http.StatusForbidden, "ForbiddenException")

		req, _ = http.NewRequest(http.MethodPost, srv.URL+"/topics/plain", bytes.NewReader([]byte("bad secret")))
		srv.Sign(t, req, []byte("bad secret"), "iotdata", srv.AccessKey, "not-the-secret", time.Now())
		resp, body = do(t, srv, req)
		expectError(t, resp, body, http.StatusForbidden, "ForbiddenException")

		resp, body = srv.Do(t, http.MethodPost, "/topics/plain", []byte("sentinel"), "iotdata", nil)
		expectOK(t, resp, body)
		expectNext(t, msgs, "plain", "sentinel")
	})

	// The data plane's signing names do not open the control plane.
	t.Run("control plane", func(t *testing.T) {
		resp, body := srv.Do(t, http.MethodGet, "/things", nil, "iotdata", nil)
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("ListThings signed for iotdata: %d %s", resp.StatusCode, body)
		}
		resp, body = srv.Do(t, http.MethodGet, "/things", nil, "iot", nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("ListThings signed for iot: %d %s", resp.StatusCode, body)
		}
	})
}

func do(t *testing.T, srv *moattest.Server, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := srv.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// TestPublish_BadInput checks that each malformed request is refused with
// AWS's code and publishes nothing.
func TestPublish_BadInput(t *testing.T) {
	f := setup(t)
	srv := f.srv
	msgs := subscriber(t, srv, f.app, "app-1", "lamp-1/#", "$aws/things/lamp-1/shadow/update")
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	big := bytes.Repeat([]byte("x"), 200<<10) // over the default 146 KiB MQTT packet, under the 1 MiB body limit

	cases := []struct {
		name    string
		path    string
		hdr     http.Header
		payload []byte
		status  int
		code    string
	}{
		{"qos 2", "/topics/lamp-1/x?qos=2", nil, nil, 400, "InvalidRequestException"},
		{"qos not a number", "/topics/lamp-1/x?qos=x", nil, nil, 400, "InvalidRequestException"},
		{"qos twice", "/topics/lamp-1/x?qos=0&qos=1", nil, nil, 400, "InvalidRequestException"},
		{"retain maybe", "/topics/lamp-1/x?retain=maybe", nil, nil, 400, "InvalidRequestException"},
		{"retain on a reserved topic", "/topics/" + sdkEscape("$aws/things/lamp-1/shadow/update") + "?retain=true", nil, []byte("x"), 400, "InvalidRequestException"},
		{"response topic with a wildcard", "/topics/lamp-1/x?responseTopic=" + sdkEscape("lamp-1/+/reply"), nil, nil, 400, "InvalidRequestException"},
		{"message expiry negative", "/topics/lamp-1/x?messageExpiry=-1", nil, nil, 400, "InvalidRequestException"},
		{"message expiry too large", "/topics/lamp-1/x?messageExpiry=4294967296", nil, nil, 400, "InvalidRequestException"},
		{"content type not UTF-8", "/topics/lamp-1/x?contentType=%FF", nil, nil, 400, "InvalidRequestException"},
		{"user properties not base64", "/topics/lamp-1/x", http.Header{"X-Amz-Mqtt5-User-Properties": {"not base64!"}}, nil, 400, "InvalidRequestException"},
		{"user properties not JSON", "/topics/lamp-1/x", http.Header{"X-Amz-Mqtt5-User-Properties": {b64("{")}}, nil, 400, "InvalidRequestException"},
		{"user properties an object", "/topics/lamp-1/x", http.Header{"X-Amz-Mqtt5-User-Properties": {b64(`{"a":"b"}`)}}, nil, 400, "InvalidRequestException"},
		{"user property with two members", "/topics/lamp-1/x", http.Header{"X-Amz-Mqtt5-User-Properties": {b64(`[{"a":"b","c":"d"}]`)}}, nil, 400, "InvalidRequestException"},
		{"user property not a string", "/topics/lamp-1/x", http.Header{"X-Amz-Mqtt5-User-Properties": {b64(`[{"a":1}]`)}}, nil, 400, "InvalidRequestException"},
		{"payload format unknown", "/topics/lamp-1/x", http.Header{"X-Amz-Mqtt5-Payload-Format-Indicator": {"UTF16"}}, nil, 400, "InvalidRequestException"},
		{"UTF8_DATA with invalid UTF-8", "/topics/lamp-1/x", http.Header{"X-Amz-Mqtt5-Payload-Format-Indicator": {"UTF8_DATA"}}, []byte{0xff, 0xfe}, 400, "InvalidRequestException"},
		{"correlation data not base64", "/topics/lamp-1/x", http.Header{"X-Amz-Mqtt5-Correlation-Data": {"%%%"}}, nil, 400, "InvalidRequestException"},
		{"wildcard topic", "/topics/" + sdkEscape("lamp-1/#"), nil, nil, 400, "InvalidRequestException"},
		{"wildcard topic raw", "/topics/lamp-1/+", nil, nil, 400, "InvalidRequestException"},
		{"empty topic", "/topics/", nil, nil, 400, "InvalidRequestException"},
		{"topic over 8 levels", "/topics/lamp-1/1/2/3/4/5/6/7/8", nil, nil, 400, "InvalidRequestException"},
		{"topic over 256 bytes", "/topics/lamp-1/" + strings.Repeat("t", 256), nil, nil, 400, "InvalidRequestException"},
		{"payload over the MQTT packet size", "/topics/lamp-1/x", nil, big, 413, "RequestEntityTooLargeException"},
		{"wrong method", "/topics/lamp-1/x", http.Header{"X-Method": {"PUT"}}, nil, 405, "MethodNotAllowedException"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			method := http.MethodPost
			if m := c.hdr.Get("X-Method"); m != "" {
				method = m
			}
			resp, body := srv.Do(t, method, c.path, c.payload, "iotdata", c.hdr)
			expectError(t, resp, body, c.status, c.code)
		})
	}

	// Over the router's body limit (1 MiB), the request is refused before
	// it is read: 413.
	resp, body := srv.Do(t, http.MethodPost, "/topics/lamp-1/x", bytes.Repeat([]byte("x"), 2<<20), "iotdata", nil)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || resp.Header.Get("X-Amzn-ErrorType") != "RequestEntityTooLargeException" {
		t.Fatalf("2 MiB body: %d %s %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), body)
	}

	// None of the above reached a subscriber.
	resp, body = srv.Do(t, http.MethodPost, "/topics/lamp-1/sentinel", []byte("sentinel"), "iotdata", nil)
	expectOK(t, resp, body)
	expectNext(t, msgs, "lamp-1/sentinel", "sentinel")
}

// TestPublish_Retained checks a retained publish over HTTPS: a later MQTT
// subscriber gets it with RETAIN, and an empty retained publish deletes
// it.
func TestPublish_Retained(t *testing.T) {
	f := setup(t)
	srv := f.srv
	lamp := srv.HTTPClient(f.lamp.TLS)
	const topic = "lamp-1/retained/state"

	resp, body := post(t, lamp, srv.URL+"/topics/"+topic+"?retain=true&qos=1", []byte("kept"), nil)
	expectOK(t, resp, body)
	m := expectNext(t, subscriber(t, srv, f.app, "app-1", topic), topic, "kept")
	if !m.Retain {
		t.Error("retained message delivered on SUBSCRIBE without RETAIN")
	}

	// Empty and retained: deletes. A new subscriber gets no retained
	// message: the first thing it sees is a later, live one.
	resp, body = post(t, lamp, srv.URL+"/topics/"+topic+"?retain=true", nil, nil)
	expectOK(t, resp, body)
	msgs := subscriber(t, srv, f.app, "app-2", topic)
	resp, body = post(t, lamp, srv.URL+"/topics/"+topic, []byte("live"), nil)
	expectOK(t, resp, body)
	if m := expectNext(t, msgs, topic, "live"); m.Retain {
		t.Error("live message with RETAIN")
	}
}
