package e2e

// Helpers of the apps_* (Cognito identities, role aliases) and
// authorizer_* (custom authorizers) tests: policy documents, IAM roles,
// the data plane's publish over HTTPS, and an MQTT 5 client (paho.golang
// over a coder/websocket WebSocket) that records how its connection
// ended. Every name starts with "app" so that the package's other test
// files may define their own.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	iamsdk "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/coder/websocket"
	paho5packets "github.com/eclipse/paho.golang/packets"
	paho "github.com/eclipse/paho.golang/paho"

	"github.com/moat-iot/moat/internal/moattest"
)

// appTimeout bounds every wait of these tests.
const appTimeout = 5 * time.Second

// appLiveBound is how soon a change must reach a live connection (issue 9
// §5: "closed (v5: DISCONNECT 0x87) within 1 s").
const appLiveBound = time.Second

// MQTT 5 reason codes.
const (
	appSuccess       byte = 0x00
	appNotAuthorized byte = 0x87
)

// appStatement is one statement of a policy document.
type appStatement struct {
	Effect    string         `json:"Effect"`
	Principal map[string]any `json:"Principal,omitempty"`
	Action    []string       `json:"Action"`
	Resource  []string       `json:"Resource,omitempty"`
	Condition map[string]any `json:"Condition,omitempty"`
}

// appAllow allows actions on resources.
func appAllow(actions []string, resources ...string) appStatement {
	return appStatement{Effect: "Allow", Action: actions, Resource: resources}
}

// appDocument is a policy document (IoT, IAM identity or trust policy) of
// the statements.
func appDocument(stmts ...appStatement) string {
	b, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": stmts})
	if err != nil {
		panic(err)
	}
	return string(b)
}

// appIoTARN is the ARN of an IoT resource of the server's account, e.g.
// appIoTARN(s, "topic", "app/x").
func appIoTARN(s *moattest.Server, kind, name string) string {
	return "arn:aws:iot:" + s.Config.Region + ":" + s.Config.AccountID + ":" + kind + "/" + name
}

// appPubSub allows connecting as clientID (may hold wildcards and policy
// variables) and appTopics under each topic prefix.
func appPubSub(s *moattest.Server, clientID string, prefixes ...string) []appStatement {
	return append([]appStatement{appAllow([]string{"iot:Connect"}, appIoTARN(s, "client", clientID))}, appTopics(s, prefixes...)...)
}

// appTopics allows publishing, receiving and subscribing under each topic
// prefix (e.g. "app/guest": the topics app/guest/* and the filters
// app/guest/*).
func appTopics(s *moattest.Server, prefixes ...string) []appStatement {
	var topics, filters []string
	for _, p := range prefixes {
		topics = append(topics, appIoTARN(s, "topic", p+"/*"))
		filters = append(filters, appIoTARN(s, "topicfilter", p+"/*"))
	}
	return []appStatement{
		appAllow([]string{"iot:Publish", "iot:Receive"}, topics...),
		appAllow([]string{"iot:Subscribe"}, filters...),
	}
}

// appCreateRole creates an IAM role with the trust policy and the inline
// policy "permissions", as the admin, and returns its ARN.
func appCreateRole(t testing.TB, s *moattest.Server, name, trust, permissions string) string {
	t.Helper()
	ctx := context.Background()
	c := s.IAM(nil)
	out, err := c.CreateRole(ctx, &iamsdk.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)})
	if err != nil {
		t.Fatalf("CreateRole %s: %v", name, err)
	}
	if _, err := c.PutRolePolicy(ctx, &iamsdk.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String("permissions"),
		PolicyDocument: aws.String(permissions)}); err != nil {
		t.Fatalf("PutRolePolicy %s: %v", name, err)
	}
	return aws.ToString(out.Role.Arn)
}

// appResponse is an HTTP response with its body read.
type appResponse struct {
	status int
	body   string
}

// appPublish publishes payload to topic over HTTPS (POST /topics/TOPIC?qos=1)
// with the header hdr, signed with SigV4 (signing name iotdata) unless
// creds is the zero value; temporary credentials carry their session
// token in X-Amz-Security-Token, as the SDKs send it.
func appPublish(t testing.TB, s *moattest.Server, creds aws.Credentials, hdr http.Header, topic, payload string) appResponse {
	t.Helper()
	body := []byte(payload)
	req, err := http.NewRequest(http.MethodPost, s.URL+"/topics/"+url.PathEscape(topic)+"?qos=1", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	if creds.AccessKeyID != "" {
		sum := sha256.Sum256(body)
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "iotdata", s.Config.Region, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		t.Fatalf("publish %s: %v", topic, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return appResponse{status: resp.StatusCode, body: string(b)}
}

// appWantStatus fails unless r has the status and, when want is not
// empty, a body containing it.
func appWantStatus(t testing.TB, what string, r appResponse, status int, want string) {
	t.Helper()
	if r.status != status || !strings.Contains(r.body, want) {
		t.Fatalf("%s: HTTP %d %s, want %d with %q", what, r.status, r.body, status, want)
	}
}

// appDial opens a WebSocket with subprotocol mqtt to wsURL, sending hdr
// on the upgrade. A refused upgrade returns a nil connection with the HTTP
// status and body.
func appDial(t testing.TB, s *moattest.Server, wsURL string, hdr http.Header) (*websocket.Conn, appResponse) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), appTimeout)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPClient: s.HTTPClient(), HTTPHeader: hdr, Subprotocols: []string{"mqtt"}})
	if err == nil {
		t.Cleanup(func() { _ = ws.CloseNow() })
		return ws, appResponse{status: http.StatusSwitchingProtocols}
	}
	if resp == nil {
		t.Fatalf("websocket dial: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return nil, appResponse{status: resp.StatusCode, body: string(b)}
}

// appWSURL is the server's MQTT-over-WebSocket URL without credentials.
func appWSURL(s *moattest.Server) string { return "wss" + strings.TrimPrefix(s.URL, "https") + "/mqtt" }

// appEnd is how an MQTT 5 connection ended: the server's DISCONNECT
// reason code, or gone when it closed without one.
type appEnd struct {
	code   byte
	reason string
	at     time.Time
	gone   bool
}

// appV5 is a paho.golang MQTT 5 client over a WebSocket.
type appV5 struct {
	t    testing.TB
	id   string
	c    *paho.Client
	msgs chan *paho.Publish
	ends chan appEnd
	once sync.Once
}

// appConnectV5 upgrades to a WebSocket at wsURL with hdr, then sends
// CONNECT as clientID. It returns the client and the CONNACK's reason
// code; the test fails if the upgrade is refused or no CONNACK comes.
func appConnectV5(t testing.TB, s *moattest.Server, wsURL string, hdr http.Header, clientID string) (*appV5, byte) {
	t.Helper()
	ws, r := appDial(t, s, wsURL, hdr)
	if ws == nil {
		t.Fatalf("upgrade for %s refused: HTTP %d %s", clientID, r.status, r.body)
	}
	a := &appV5{t: t, id: clientID, msgs: make(chan *paho.Publish, 16), ends: make(chan appEnd, 1)}
	conn := websocket.NetConn(context.Background(), ws, websocket.MessageBinary)
	a.c = paho.NewClient(paho.ClientConfig{ClientID: clientID, Conn: paho5packets.NewThreadSafeConn(conn),
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
			select {
			case a.msgs <- pr.Packet:
			default:
			}
			return true, nil
		}},
		OnServerDisconnect: func(d *paho.Disconnect) {
			e := appEnd{code: d.ReasonCode, at: time.Now()}
			if d.Properties != nil {
				e.reason = d.Properties.ReasonString
			}
			a.end(e)
		},
		OnClientError: func(error) { a.end(appEnd{at: time.Now(), gone: true}) },
	})
	ctx, cancel := context.WithTimeout(context.Background(), appTimeout)
	defer cancel()
	ack, err := a.c.Connect(ctx, &paho.Connect{ClientID: clientID, KeepAlive: 60, CleanStart: true})
	if ack == nil {
		t.Fatalf("connect %s: no CONNACK: %v", clientID, err)
	}
	if ack.ReasonCode == appSuccess {
		t.Cleanup(func() { _ = a.c.Disconnect(&paho.Disconnect{}) })
	}
	return a, ack.ReasonCode
}

// appMustConnectV5 connects and fails unless the CONNACK is Success.
func appMustConnectV5(t testing.TB, s *moattest.Server, wsURL string, hdr http.Header, clientID string) *appV5 {
	t.Helper()
	a, code := appConnectV5(t, s, wsURL, hdr, clientID)
	if code != appSuccess {
		t.Fatalf("connect %s: CONNACK 0x%02X, want success", clientID, code)
	}
	return a
}

// end records the first way the connection ended.
func (a *appV5) end(e appEnd) { a.once.Do(func() { a.ends <- e }) }

// subscribe subscribes to filter at QoS 1 and returns the SUBACK's reason
// code.
func (a *appV5) subscribe(filter string) byte {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), appTimeout)
	defer cancel()
	sa, err := a.c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: filter, QoS: 1}}})
	if sa == nil || len(sa.Reasons) != 1 {
		a.t.Fatalf("%s: subscribe %s: %v %+v", a.id, filter, err, sa)
	}
	return sa.Reasons[0]
}

// mustSubscribe subscribes and fails unless QoS 1 is granted.
func (a *appV5) mustSubscribe(filter string) {
	a.t.Helper()
	if code := a.subscribe(filter); code != 1 {
		a.t.Fatalf("%s: subscribe %s: SUBACK 0x%02X, want QoS 1 granted", a.id, filter, code)
	}
}

// publish publishes at QoS 1 and returns the PUBACK's reason code.
func (a *appV5) publish(topic, payload string) byte {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), appTimeout)
	defer cancel()
	pr, err := a.c.Publish(ctx, &paho.Publish{Topic: topic, QoS: 1, Payload: []byte(payload)})
	if pr == nil {
		a.t.Fatalf("%s: publish %s: no PUBACK: %v", a.id, topic, err)
	}
	return pr.ReasonCode
}

// receive waits for payload on topic; other messages are skipped.
func (a *appV5) receive(topic, payload string) {
	a.t.Helper()
	deadline := time.After(appTimeout)
	for {
		select {
		case m := <-a.msgs:
			if m.Topic == topic && string(m.Payload) == payload {
				return
			}
		case <-deadline:
			a.t.Fatalf("%s: no message %q on %s", a.id, payload, topic)
		}
	}
}

// noMessage fails if a message arrives within d.
func (a *appV5) noMessage(d time.Duration) {
	a.t.Helper()
	select {
	case m := <-a.msgs:
		a.t.Fatalf("%s: unexpected message %q on %s", a.id, m.Payload, m.Topic)
	case <-time.After(d):
	}
}

// disconnected fails unless the server sends DISCONNECT with code within
// appLiveBound of since; it returns how long that took.
func (a *appV5) disconnected(code byte, since time.Time) time.Duration {
	a.t.Helper()
	select {
	case e := <-a.ends:
		d := e.at.Sub(since)
		switch {
		case e.gone:
			a.t.Fatalf("%s: closed without a DISCONNECT after %v, want DISCONNECT 0x%02X", a.id, d, code)
		case e.code != code:
			a.t.Fatalf("%s: DISCONNECT 0x%02X (%q) after %v, want 0x%02X", a.id, e.code, e.reason, d, code)
		case d > appLiveBound:
			a.t.Fatalf("%s: DISCONNECT 0x%02X came %v after the change, want within %v", a.id, code, d, appLiveBound)
		}
		a.t.Logf("%s: DISCONNECT 0x%02X %q %v after the change", a.id, e.code, e.reason, d)
		return d
	case <-time.After(appTimeout):
		a.t.Fatalf("%s: still connected %v after the change, want DISCONNECT 0x%02X", a.id, appTimeout, code)
	}
	return 0
}

// appPresigned counts the URLs appPresign made.
var appPresigned atomic.Int64

// appPresign is a wss:// URL for /mqtt presigned with creds (signing name
// iotdevicegateway; a session token is signed in the query, as the SDK
// signer places it). Each URL is new: X-Amz-Expires differs from call to
// call, so that two made in the same second are not one URL, which moat
// accepts once.
func appPresign(t testing.TB, s *moattest.Server, creds aws.Credentials) string {
	t.Helper()
	expires := 300 + appPresigned.Add(1)
	r, err := http.NewRequest(http.MethodGet, s.URL+"/mqtt?X-Amz-Expires="+strconv.FormatInt(expires, 10), nil)
	if err != nil {
		t.Fatal(err)
	}
	const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	signed, _, err := v4.NewSigner().PresignHTTP(context.Background(), creds, r, emptySHA256, "iotdevicegateway", s.Config.Region, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return "wss" + strings.TrimPrefix(signed, "https")
}

// appAdmin are the admin's credentials.
func appAdmin(s *moattest.Server) aws.Credentials {
	return aws.Credentials{AccessKeyID: s.AccessKey, SecretAccessKey: s.Secret}
}
