package e2e

// Helpers of the users_* tests (IAM users, roles and live re-checks): the
// data plane's publish over HTTPS signed with any credentials, presigned
// MQTT-over-WebSocket URLs, MQTT 5 (paho.golang over coder/websocket) and
// MQTT 3.1.1 (paho.mqtt.golang's own wss://) clients, and AWS error
// codes. Every name starts with "users" so that the package's other test
// files may define their own.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/coder/websocket"
	paho5packets "github.com/eclipse/paho.golang/packets"
	paho "github.com/eclipse/paho.golang/paho"
	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/moat-iot/moat/internal/moattest"
)

// usersTimeout bounds every wait of these tests.
const usersTimeout = 5 * time.Second

// usersLiveBound is how soon a change must reach a live connection
// (issue 9 §5).
const usersLiveBound = time.Second

// usersEmptyHash is the SHA-256 of an empty payload, hex.
const usersEmptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// The AWS managed policies for AWS IoT, by ARN.
const (
	usersDataAccess     = "arn:aws:iam::aws:policy/AWSIoTDataAccess"
	usersConfigReadOnly = "arn:aws:iam::aws:policy/AWSIoTConfigReadOnlyAccess"
)

// usersNotAuthorized is MQTT 5's reason code Not authorized (0x87), of a
// refused CONNECT, SUBSCRIBE or PUBLISH and of the DISCONNECT that closes
// a connection whose principal may no longer connect.
const usersNotAuthorized byte = 0x87

// usersProvider gives credentials (with their session token, if any) to
// an SDK client.
func usersProvider(c aws.Credentials) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)
}

// usersErrorCode is the AWS error code of an SDK error and its HTTP
// status; the test fails when err is not an AWS API error.
func usersErrorCode(t testing.TB, err error) (string, int) {
	t.Helper()
	if err == nil {
		t.Fatal("the call succeeded; want an error")
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("not an AWS API error: %v", err)
	}
	status := 0
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return ae.ErrorCode(), status
}

// usersWantError fails unless err is the AWS error code with status.
func usersWantError(t testing.TB, err error, code string, status int) {
	t.Helper()
	got, st := usersErrorCode(t, err)
	if got != code || st != status {
		t.Fatalf("error %s (HTTP %d), want %s (HTTP %d): %v", got, st, code, status, err)
	}
}

// usersResponse is a data-plane answer: its status, its error type
// (X-Amzn-ErrorType without the ":url" suffix), and its body.
type usersResponse struct {
	status  int
	errType string
	body    string
}

// usersPublish publishes payload on topic over HTTPS (iot-data Publish,
// POST /topics/{topic}?qos=1) signed with creds for the signing name
// iotdata; a session token is sent as X-Amz-Security-Token, as the SDKs
// do.
func usersPublish(t testing.TB, s *moattest.Server, creds aws.Credentials, topic, payload string) usersResponse {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/topics/"+url.PathEscape(topic)+"?qos=1", strings.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(payload))
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "iotdata", s.Config.Region, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		t.Fatalf("publish %s: %v", topic, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	et, _, _ := strings.Cut(resp.Header.Get("X-Amzn-ErrorType"), ":")
	return usersResponse{status: resp.StatusCode, errType: et, body: string(b)}
}

// usersWantPublished fails unless the publish was accepted.
func usersWantPublished(t testing.TB, r usersResponse) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("publish: HTTP %d %s %s, want 200", r.status, r.errType, r.body)
	}
}

// usersWantForbidden fails unless the publish was refused with iot-data's
// ForbiddenException whose message contains want.
func usersWantForbidden(t testing.TB, r usersResponse, want string) {
	t.Helper()
	if r.status != http.StatusForbidden || r.errType != "ForbiddenException" || !strings.Contains(r.body, want) {
		t.Fatalf("publish: HTTP %d %s %s, want 403 ForbiddenException mentioning %q", r.status, r.errType, r.body, want)
	}
}

// usersSignedAt hands out signing times: now, or a second before the
// last one handed out for the same access key, so that no two presigned
// URLs of one key are the same. (SigV4 signs to the second: two URLs
// presigned with the same credentials in the same second are identical,
// and moat accepts each URL once.)
var usersSignedAt = struct {
	sync.Mutex
	last map[string]time.Time
}{last: map[string]time.Time{}}

func usersSigningTime(key string) time.Time {
	usersSignedAt.Lock()
	defer usersSignedAt.Unlock()
	at := time.Now().Truncate(time.Second)
	if last, ok := usersSignedAt.last[key]; ok && !at.Before(last) {
		at = last.Add(-time.Second)
	}
	usersSignedAt.last[key] = at
	return at
}

// usersPresign returns a wss:// URL of the server's /mqtt presigned with
// creds for the signing name iotdevicegateway, at a signing time no other
// URL of the same key has (usersSigningTime). With appendToken, the
// session token is left out of the signature and appended to the signed
// URL (the v1 AWS IoT device SDKs' placement); otherwise it is signed in
// the canonical query (the SDK signer's).
func usersPresign(t testing.TB, s *moattest.Server, creds aws.Credentials, appendToken bool) string {
	t.Helper()
	return usersPresignAt(t, s, creds, appendToken, usersSigningTime(creds.AccessKeyID))
}

// usersPresignAt is usersPresign signed at at.
func usersPresignAt(t testing.TB, s *moattest.Server, creds aws.Credentials, appendToken bool, at time.Time) string {
	t.Helper()
	r, err := http.NewRequest(http.MethodGet, s.URL+"/mqtt", nil)
	if err != nil {
		t.Fatal(err)
	}
	token := creds.SessionToken
	if appendToken {
		creds.SessionToken = ""
	}
	signed, _, err := v4.NewSigner().PresignHTTP(context.Background(), creds, r, usersEmptyHash, "iotdevicegateway", s.Config.Region, at)
	if err != nil {
		t.Fatal(err)
	}
	if appendToken && token != "" {
		signed += "&X-Amz-Security-Token=" + url.QueryEscape(token)
	}
	return "wss" + strings.TrimPrefix(signed, "https")
}

// usersDial opens a WebSocket with subprotocol mqtt to wsURL. A refused
// upgrade returns a nil connection, the HTTP status and body.
func usersDial(t testing.TB, s *moattest.Server, wsURL string) (*websocket.Conn, int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), usersTimeout)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPClient: s.HTTPClient(), Subprotocols: []string{"mqtt"}})
	if err == nil {
		t.Cleanup(func() { _ = ws.CloseNow() })
		return ws, http.StatusSwitchingProtocols, ""
	}
	if resp == nil {
		t.Fatalf("websocket dial: %v", err)
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	_ = resp.Body.Close()
	return nil, resp.StatusCode, string(b)
}

// usersWantRefusedUpgrade fails unless the upgrade to wsURL is refused
// with status and a body containing want.
func usersWantRefusedUpgrade(t testing.TB, s *moattest.Server, wsURL string, status int, want string) {
	t.Helper()
	ws, st, body := usersDial(t, s, wsURL)
	if ws != nil || st != status || !strings.Contains(body, want) {
		t.Fatalf("upgrade: HTTP %d %q, want %d mentioning %q", st, body, status, want)
	}
	t.Logf("upgrade refused: HTTP %d %s", st, strings.TrimSpace(body))
}

// usersDisconnect is how an MQTT 5 connection ended: the server's
// DISCONNECT reason code (0 with gone set when it closed without one)
// and when the client saw it.
type usersDisconnect struct {
	code   byte
	reason string
	at     time.Time
	gone   bool // closed without a DISCONNECT
}

// usersV5 is a paho.golang MQTT 5 client over a WebSocket.
type usersV5 struct {
	t    testing.TB
	c    *paho.Client
	msgs chan *paho.Publish
	ends chan usersDisconnect
	once sync.Once
}

// usersConnectV5 dials wsURL and sends CONNECT with clientID. It returns
// the client and the CONNACK's reason code; the test fails when the
// upgrade is refused or no CONNACK comes.
func usersConnectV5(t testing.TB, s *moattest.Server, wsURL, clientID string) (*usersV5, byte) {
	t.Helper()
	ws, st, body := usersDial(t, s, wsURL)
	if ws == nil {
		t.Fatalf("upgrade refused: HTTP %d %q", st, body)
	}
	u := &usersV5{t: t, msgs: make(chan *paho.Publish, 16), ends: make(chan usersDisconnect, 1)}
	conn := websocket.NetConn(context.Background(), ws, websocket.MessageBinary)
	u.c = paho.NewClient(paho.ClientConfig{ClientID: clientID, Conn: paho5packets.NewThreadSafeConn(conn),
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
			select {
			case u.msgs <- pr.Packet:
			default:
			}
			return true, nil
		}},
		OnServerDisconnect: func(d *paho.Disconnect) {
			e := usersDisconnect{code: d.ReasonCode, at: time.Now()}
			if d.Properties != nil {
				e.reason = d.Properties.ReasonString
			}
			u.end(e)
		},
		OnClientError: func(error) { u.end(usersDisconnect{at: time.Now(), gone: true}) },
	})
	ctx, cancel := context.WithTimeout(context.Background(), usersTimeout)
	defer cancel()
	ack, err := u.c.Connect(ctx, &paho.Connect{ClientID: clientID, KeepAlive: 60, CleanStart: true})
	if ack == nil {
		t.Fatalf("connect %s: no CONNACK: %v", clientID, err)
	}
	if ack.ReasonCode == 0 {
		t.Cleanup(func() { _ = u.c.Disconnect(&paho.Disconnect{}) })
	}
	return u, ack.ReasonCode
}

// usersMustConnectV5 connects and fails unless the CONNACK is Success.
func usersMustConnectV5(t testing.TB, s *moattest.Server, wsURL, clientID string) *usersV5 {
	t.Helper()
	u, code := usersConnectV5(t, s, wsURL, clientID)
	if code != 0 {
		t.Fatalf("connect %s: CONNACK 0x%02X, want success", clientID, code)
	}
	return u
}

// end records the first way the connection ended.
func (u *usersV5) end(e usersDisconnect) {
	u.once.Do(func() { u.ends <- e })
}

// subscribe subscribes to filter at QoS 1 and returns the SUBACK's reason
// code.
func (u *usersV5) subscribe(filter string) byte {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), usersTimeout)
	defer cancel()
	sa, err := u.c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: filter, QoS: 1}}})
	if sa == nil || len(sa.Reasons) != 1 {
		u.t.Fatalf("subscribe %s: %v %+v", filter, err, sa)
	}
	return sa.Reasons[0]
}

// publish publishes at QoS 1 and returns the PUBACK's reason code.
func (u *usersV5) publish(topic, payload string) byte {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), usersTimeout)
	defer cancel()
	pr, err := u.c.Publish(ctx, &paho.Publish{Topic: topic, QoS: 1, Payload: []byte(payload)})
	if pr == nil {
		u.t.Fatalf("publish %s: no PUBACK: %v", topic, err)
	}
	return pr.ReasonCode
}

// receive waits for a message on topic with payload.
func (u *usersV5) receive(topic, payload string) {
	u.t.Helper()
	deadline := time.After(usersTimeout)
	for {
		select {
		case m := <-u.msgs:
			if m.Topic == topic && string(m.Payload) == payload {
				return
			}
		case <-deadline:
			u.t.Fatalf("no message %q on %s", payload, topic)
		}
	}
}

// roundTrip subscribes to topic, publishes payload on it and receives it:
// the connection is alive and allowed to do all three.
func (u *usersV5) roundTrip(topic, payload string) {
	u.t.Helper()
	if code := u.subscribe(topic); code > 2 {
		u.t.Fatalf("subscribe %s: SUBACK 0x%02X", topic, code)
	}
	if code := u.publish(topic, payload); code != 0 {
		u.t.Fatalf("publish %s: PUBACK 0x%02X", topic, code)
	}
	u.receive(topic, payload)
}

// disconnected waits for the connection to end after since and fails
// unless the server sent DISCONNECT with code within usersLiveBound of
// since (0 if it came first). It returns how long that took.
func (u *usersV5) disconnected(code byte, since time.Time) time.Duration {
	u.t.Helper()
	select {
	case e := <-u.ends:
		d := e.at.Sub(since)
		if e.gone {
			u.t.Fatalf("the connection closed without a DISCONNECT after %v, want DISCONNECT 0x%02X", d, code)
		}
		if e.code != code {
			u.t.Fatalf("DISCONNECT 0x%02X (%q) after %v, want 0x%02X", e.code, e.reason, d, code)
		}
		if d > usersLiveBound {
			u.t.Fatalf("DISCONNECT 0x%02X came %v after the change, want within %v", code, d, usersLiveBound)
		}
		if d < 0 {
			// The re-check runs as soon as the change commits, which
			// may be before the API's response reaches the test.
			d = 0
		}
		u.t.Logf("DISCONNECT 0x%02X %q %v after the change returned", e.code, e.reason, d)
		return d
	case <-time.After(usersTimeout):
		u.t.Fatalf("still connected %v after the change, want DISCONNECT 0x%02X", usersTimeout, code)
	}
	return 0
}

// stillConnected fails if the connection ends within d, then checks that
// it still works (round trip on topic).
func (u *usersV5) stillConnected(d time.Duration, topic string) {
	u.t.Helper()
	select {
	case e := <-u.ends:
		u.t.Fatalf("disconnected (0x%02X %q, closed without DISCONNECT: %v), want the connection kept", e.code, e.reason, e.gone)
	case <-time.After(d):
	}
	u.roundTrip(topic, "still here")
}

// usersConnectV3 connects paho.mqtt.golang (MQTT 3.1.1) to a presigned
// wss:// URL; it returns the client, or the connect error.
func usersConnectV3(t testing.TB, s *moattest.Server, wsURL, clientID string) (mqtt.Client, error) {
	t.Helper()
	// Protocol version 4 only: without it paho falls back to MQTT 3.1
	// after a refused CONNECT, with the same (spent) URL.
	opts := mqtt.NewClientOptions().AddBroker(wsURL).SetClientID(clientID).SetProtocolVersion(4).
		SetTLSConfig(&tls.Config{RootCAs: s.RootCAs, MinVersion: tls.VersionTLS12}).
		SetAutoReconnect(false).SetConnectRetry(false).SetConnectTimeout(usersTimeout)
	c := mqtt.NewClient(opts)
	tok := c.Connect()
	if !tok.WaitTimeout(usersTimeout) {
		t.Fatalf("connect %s: timed out", clientID)
	}
	if err := tok.Error(); err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c, nil
}

// usersRoundTripV3 subscribes to topic, publishes payload on it and
// receives it with a 3.1.1 client.
func usersRoundTripV3(t testing.TB, c mqtt.Client, topic, payload string) {
	t.Helper()
	msgs := make(chan mqtt.Message, 4)
	if tok := c.Subscribe(topic, 1, func(_ mqtt.Client, m mqtt.Message) { msgs <- m }); !tok.WaitTimeout(usersTimeout) || tok.Error() != nil {
		t.Fatalf("subscribe %s: %v", topic, tok.Error())
	}
	if tok := c.Publish(topic, 1, false, payload); !tok.WaitTimeout(usersTimeout) || tok.Error() != nil {
		t.Fatalf("publish %s: %v", topic, tok.Error())
	}
	select {
	case m := <-msgs:
		if m.Topic() != topic || !bytes.Equal(m.Payload(), []byte(payload)) {
			t.Fatalf("got %s %q, want %s %q", m.Topic(), m.Payload(), topic, payload)
		}
	case <-time.After(usersTimeout):
		t.Fatalf("no message on %s", topic)
	}
}

// usersAssumeRole has the caller assume roleARN for 900 s and returns the
// temporary credentials.
func usersAssumeRole(t testing.TB, s *moattest.Server, caller aws.CredentialsProvider, roleARN, session string) aws.Credentials {
	t.Helper()
	out, err := s.STS(caller).AssumeRole(context.Background(), &sts.AssumeRoleInput{RoleArn: aws.String(roleARN),
		RoleSessionName: aws.String(session), DurationSeconds: aws.Int32(900)})
	if err != nil {
		t.Fatalf("AssumeRole %s: %v", roleARN, err)
	}
	c := out.Credentials
	return aws.Credentials{AccessKeyID: aws.ToString(c.AccessKeyId), SecretAccessKey: aws.ToString(c.SecretAccessKey),
		SessionToken: aws.ToString(c.SessionToken), CanExpire: true, Expires: aws.ToTime(c.Expiration)}
}

// usersTrustUser is a trust policy letting userARN assume the role.
func usersTrustUser(userARN string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + userARN + `"},"Action":"sts:AssumeRole"}]}`
}

// usersPolicy is an identity policy document with one Allow statement of
// actions on resource.
func usersPolicy(resource string, actions ...string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["` + strings.Join(actions, `","`) + `"],"Resource":"` + resource + `"}]}`
}

// usersWantMessage waits for payload on got.
func usersWantMessage(t testing.TB, got <-chan string, payload string) {
	t.Helper()
	select {
	case m := <-got:
		if m != payload {
			t.Fatalf("received %q, want %q", m, payload)
		}
	case <-time.After(usersTimeout):
		t.Fatalf("no message %q", payload)
	}
}

// usersMetric reads one sample of the server's /metrics (as the admin):
// series is the metric name with its labels as the exposition format
// prints them, e.g. moat_mqtt_rechecks_total{outcome="kept"}. A series not
// exported yet is 0.
func usersMetric(t testing.TB, s *moattest.Server, series string) float64 {
	t.Helper()
	resp, body := s.Do(t, http.MethodGet, "/metrics", nil, "iot", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: HTTP %d %s", resp.StatusCode, body)
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("metric %s: %v", line, err)
			}
			return f
		}
	}
	return 0
}

// usersAdmin are the server's admin credentials.
func usersAdmin(s *moattest.Server) aws.Credentials {
	return aws.Credentials{AccessKeyID: s.AccessKey, SecretAccessKey: s.Secret}
}
