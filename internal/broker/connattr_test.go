package broker_test

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"

	paho5packets "github.com/eclipse/paho.golang/packets"
	"github.com/eclipse/paho.golang/paho"

	"github.com/moat-iot/moat/internal/moattest"
)

// TestConnectAttributes checks the iot:ConnectAttributes condition key: a
// policy that denies connections asking for a will (LastWill) or a
// persistent session (PersistentConnect) refuses them, and allows the
// same client without.
func TestConnectAttributes(t *testing.T) {
	srv := moattest.Start(t)
	doc := strings.NewReplacer("REGION", srv.Config.Region, "ACCOUNT", srv.Config.AccountID).Replace(`{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:REGION:ACCOUNT:client/lamp-1"},
 {"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:REGION:ACCOUNT:topic/lamp-1/*"},
 {"Effect":"Deny","Action":"iot:Connect","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"iot:ConnectAttributes":["LastWill","PersistentConnect"]}}}]}`)
	d := srv.NewDevice(t, "lamp-1", doc)
	connect := func(cp *paho.Connect) (*paho.Connack, error) {
		conn, err := tls.Dial("tcp", srv.MQTTAddr, srv.MQTTTLS(&d))
		if err != nil {
			t.Fatal(err)
		}
		c := paho.NewClient(paho.ClientConfig{ClientID: "lamp-1", Conn: paho5packets.NewThreadSafeConn(conn)})
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		defer cancel()
		ack, err := c.Connect(ctx, cp)
		if err == nil {
			_ = c.Disconnect(&paho.Disconnect{})
		}
		conn.Close()
		return ack, err
	}
	expiry := uint32(600)
	tests := []struct {
		name    string
		cp      *paho.Connect
		allowed bool
	}{
		// a plain clean connection carries no connect attribute
		{"plain", &paho.Connect{ClientID: "lamp-1", KeepAlive: 30, CleanStart: true}, true},
		// a will makes it LastWill
		{"will", &paho.Connect{ClientID: "lamp-1", KeepAlive: 30, CleanStart: true,
			WillMessage: &paho.WillMessage{Topic: "lamp-1/status", Payload: []byte("gone")}}, false},
		// a session expiry makes it PersistentConnect
		{"persistent", &paho.Connect{ClientID: "lamp-1", KeepAlive: 30, CleanStart: false,
			Properties: &paho.ConnectProperties{SessionExpiryInterval: &expiry}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ack, err := connect(tt.cp)
			if tt.allowed && err != nil {
				t.Fatalf("refused: %v %v", ack, err)
			}
			if !tt.allowed && (ack == nil || ack.ReasonCode != 0x87) {
				t.Fatalf("ack %v err %v, want CONNACK 0x87", ack, err)
			}
		})
	}
}

// TestDomainName checks ${iot:DomainName}: the server name the client
// asked for in TLS (SNI) is bound for policies.
func TestDomainName(t *testing.T) {
	srv := moattest.Start(t)
	doc := strings.NewReplacer("REGION", srv.Config.Region, "ACCOUNT", srv.Config.AccountID).Replace(`{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:REGION:ACCOUNT:client/lamp-1","Condition":{"StringEquals":{"iot:DomainName":"localhost"}}}]}`)
	d := srv.NewDevice(t, "lamp-1", doc)
	for _, tt := range []struct {
		sni     string
		allowed bool
	}{{"localhost", true}, {"127.0.0.1", false}} {
		cfg := srv.MQTTTLS(&d)
		cfg.ServerName = tt.sni
		conn, err := tls.Dial("tcp", srv.MQTTAddr, cfg)
		if err != nil {
			t.Fatal(err)
		}
		c := paho.NewClient(paho.ClientConfig{ClientID: "lamp-1", Conn: paho5packets.NewThreadSafeConn(conn)})
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		ack, err := c.Connect(ctx, &paho.Connect{ClientID: "lamp-1", KeepAlive: 30, CleanStart: true})
		cancel()
		if tt.allowed != (err == nil) {
			t.Fatalf("SNI %q: ack %v err %v, want allowed=%v", tt.sni, ack, err, tt.allowed)
		}
		if err == nil {
			_ = c.Disconnect(&paho.Disconnect{})
		}
		conn.Close()
	}
}
