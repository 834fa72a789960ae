package decisionlog_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	paho5packets "github.com/eclipse/paho.golang/packets"
	"github.com/eclipse/paho.golang/paho"

	"github.com/moat-iot/moat/internal/decisionlog"
	"github.com/moat-iot/moat/internal/moattest"
)

// secretDeny is the seed's device policy plus a Deny on CLIENT/secret.
const secretDeny = `{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": "iot:Connect", "Resource": "arn:aws:iot:us-east-1:000000000000:client/${iot:Connection.Thing.ThingName}"},
    {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"], "Resource": "arn:aws:iot:us-east-1:000000000000:topic/${iot:ClientId}/*"},
    {"Sid": "NoSecrets", "Effect": "Deny", "Action": "iot:Publish", "Resource": "arn:aws:iot:us-east-1:000000000000:topic/${iot:ClientId}/secret"}
  ]
}`

type logLine struct {
	Principal, Thing, ClientID, SourceIP, Action, Resource, Decision, Policy, PolicyVersion, Sid string
	Statement                                                                                    *int
	Variables                                                                                    map[string]string
}

// TestDecisionLog_MQTTDeny checks that a publish denied by a real MQTT 5
// client over mutual TLS lands in DATA/decisions.log with the deciding
// statement, and that a refused CONNECT lands there as an implicit deny.
// The server opens the decision log in the data dir by default.
func TestDecisionLog_MQTTDeny(t *testing.T) {
	srv := moattest.Start(t)
	path := filepath.Join(srv.Dir, decisionlog.FileName)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the server did not open %s: %v", path, err)
	}
	dev := srv.NewDevice(t, "lamp-1", secretDeny)

	// A refused connect: client id "lamp-9" is not the thing's name.
	if _, _, err := connect(t, srv, &dev, "lamp-9"); err == nil {
		t.Fatal("connect as lamp-9 was allowed")
	}
	c, _, err := connect(t, srv, &dev, "lamp-1")
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pr, err := c.Publish(ctx, &paho.Publish{Topic: "lamp-1/secret", QoS: 1, Payload: []byte("x")})
	if err == nil && pr.ReasonCode != 0x87 {
		t.Fatalf("publish to lamp-1/secret: reason %#x, want 0x87", pr.ReasonCode)
	}

	var connectDeny, publishDeny *logLine
	deadline := time.Now().Add(5 * time.Second)
	for (connectDeny == nil || publishDeny == nil) && time.Now().Before(deadline) {
		connectDeny, publishDeny = nil, nil
		for _, l := range readLog(t, path) {
			switch {
			case l.Action == "iot:Connect" && l.ClientID == "lamp-9":
				connectDeny = &l
			case l.Action == "iot:Publish" && l.Resource == "arn:aws:iot:us-east-1:000000000000:topic/lamp-1/secret":
				publishDeny = &l
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	if publishDeny == nil || connectDeny == nil {
		t.Fatalf("decisions.log lacks the denies: connect %v, publish %v\n%v", connectDeny, publishDeny, readLog(t, path))
	}
	if l := publishDeny; l.Decision != "EXPLICIT_DENY" || l.Principal != dev.CertificateID || l.Thing != "lamp-1" || l.ClientID != "lamp-1" ||
		l.SourceIP != "127.0.0.1" || l.Policy != "lamp-1-policy" || l.PolicyVersion != "1" || l.Statement == nil || *l.Statement != 2 ||
		l.Sid != "NoSecrets" || l.Variables["iot:ClientId"] != "lamp-1" {
		t.Fatalf("publish deny: %+v", *l)
	}
	if l := connectDeny; l.Decision != "IMPLICIT_DENY" || l.Statement != nil || l.Policy != "" || l.Resource != "arn:aws:iot:us-east-1:000000000000:client/lamp-9" {
		t.Fatalf("connect deny: %+v", *l)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("decisions.log mode: %v, %v", st.Mode(), err)
	}
}

func connect(t *testing.T, srv *moattest.Server, d *moattest.Device, id string) (*paho.Client, *paho.Connack, error) {
	t.Helper()
	conn, err := tls.Dial("tcp", srv.MQTTAddr, srv.MQTTTLS(d))
	if err != nil {
		return nil, nil, err
	}
	c := paho.NewClient(paho.ClientConfig{ClientID: id, Conn: paho5packets.NewThreadSafeConn(conn)})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ack, err := c.Connect(ctx, &paho.Connect{ClientID: id, KeepAlive: 30, CleanStart: true})
	if err == nil {
		t.Cleanup(func() { _ = c.Disconnect(&paho.Disconnect{}) })
	} else {
		conn.Close()
	}
	return c, ack, err
}

func readLog(t *testing.T, path string) []logLine {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []logLine
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l logLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("bad line %q: %v", sc.Text(), err)
		}
		out = append(out, l)
	}
	return out
}
