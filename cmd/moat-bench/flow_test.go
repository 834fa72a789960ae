package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/mqtt/packet"
)

// fakeBroker is an mTLS listener whose broker side each test scripts
// packet by packet with packet.Encode.
type fakeBroker struct {
	t    *testing.T
	ln   net.Listener
	dir  string
	conn net.Conn
	r    *packet.Reader
	v    packet.Version
}

func newFakeBroker(t *testing.T) *fakeBroker {
	t.Helper()
	dir := t.TempDir()
	g := &certsConfig{out: dir, prefix: "t-", pubs: 1, subs: 1, keyType: "ecdsa-p256", server: true, days: 1}
	if err := genCerts(g, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key"))
	if err != nil {
		t.Fatal(err)
	}
	pem, _ := os.ReadFile(filepath.Join(dir, "ca.crt"))
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return &fakeBroker{t: t, ln: ln, dir: dir}
}

// accept takes the client's connection, checks its CONNECT and certificate
// CN and answers CONNACK ack.
func (b *fakeBroker) accept(wantID string, ack *packet.Connack) {
	nc, err := b.ln.Accept()
	if err != nil {
		b.t.Error(err)
		return
	}
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	b.conn, b.r = nc, packet.NewReader(nc, 0)
	p, err := b.r.ReadPacket(0)
	if err != nil {
		b.t.Errorf("read CONNECT: %v", err)
		return
	}
	c := p.(*packet.Connect)
	b.v = c.ProtocolLevel
	if cn := nc.(*tls.Conn).ConnectionState().PeerCertificates[0].Subject.CommonName; c.ClientID != wantID || cn != wantID || !c.CleanStart {
		b.t.Errorf("CONNECT client id %q, certificate CN %q, clean %v; want %q", c.ClientID, cn, c.CleanStart, wantID)
	}
	b.send(ack)
}

func (b *fakeBroker) send(p packet.Packet) {
	raw, err := packet.Encode(p, b.v)
	if err == nil {
		_, err = b.conn.Write(raw)
	}
	if err != nil {
		b.t.Errorf("send %v: %v", p.Type(), err)
	}
}

// expect reads the next packet and checks its type.
func (b *fakeBroker) expect(want packet.Type) packet.Packet {
	p, err := b.r.ReadPacket(b.v)
	if err != nil {
		b.t.Fatalf("want %v: %v", want, err)
	}
	if p.Type() != want {
		b.t.Fatalf("got %v, want %v", p.Type(), want)
	}
	return p
}

// dial connects the client id to the fake broker, which answers ack.
func (b *fakeBroker) dial(v packet.Version, id string, ack *packet.Connack) *conn {
	b.t.Helper()
	cfg := &config{endpoint: endpoint{broker: b.ln.Addr().String(), caFile: filepath.Join(b.dir, "ca.crt"), certDir: b.dir}}
	ids, err := newIdentities(cfg)
	if err != nil {
		b.t.Fatal(err)
	}
	tc, err := ids.config(id)
	if err != nil {
		b.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); b.accept(id, ack) }()
	d := &dialer{addr: cfg.broker, version: v, timeout: 10 * time.Second}
	c, err := d.connect(context.Background(), id, tc, 1024)
	<-done
	if err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(func() { c.nc.Close() })
	return c
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestPublisherFlows(t *testing.T) {
	for _, v := range []packet.Version{packet.V311, packet.V5} {
		for _, qos := range []byte{1, 2} {
			t.Run(fmt.Sprintf("v%v/qos%d", v, qos), func(t *testing.T) {
				b := newFakeBroker(t)
				ack := &packet.Connack{}
				if v == packet.V5 {
					ack.Properties.ReceiveMaximum = 2 // caps -inflight 10
				}
				c := b.dial(v, "t-pub-0", ack)
				p := newPublisher(c, 0, "t-pub-0/data", qos, 64, 10)
				if v == packet.V5 && cap(p.free) != 2 {
					t.Fatalf("inflight %d, want the broker's Receive Maximum 2", cap(p.free))
				}
				readErr := make(chan error, 1)
				go func() { readErr <- p.readLoop() }()
				stop := make(chan struct{})
				for seq := range uint32(2) {
					if err := p.publish(seq, stop); err != nil {
						t.Fatal(err)
					}
				}
				var ids []uint16
				for seq := range uint32(2) {
					m := b.expect(packet.TypePublish).(*packet.Publish)
					_, gotSeq, pub, err := readPayload(m.Payload)
					if m.QoS != qos || m.Topic != "t-pub-0/data" || len(m.Payload) != 64 || err != nil || gotSeq != seq || pub != 0 || m.PacketID == 0 {
						t.Fatalf("PUBLISH %+v: seq %d pub %d err %v", m, gotSeq, pub, err)
					}
					ids = append(ids, m.PacketID)
				}
				if ids[0] == ids[1] || p.inflight() != 2 {
					t.Fatalf("packet ids %v, inflight %d", ids, p.inflight())
				}
				for _, id := range ids {
					if qos == 1 {
						b.send(&packet.Puback{PacketID: id})
						continue
					}
					b.send(&packet.Pubrec{PacketID: id})
					if rel := b.expect(packet.TypePubrel).(*packet.Pubrel); rel.PacketID != id {
						t.Fatalf("PUBREL %d, want %d", rel.PacketID, id)
					}
					b.send(&packet.Pubcomp{PacketID: id})
				}
				waitUntil(t, "flows to complete", func() bool { return p.acked.Load() == 2 && p.inflight() == 0 })
				b.send(&packet.Puback{PacketID: ids[0]}) // not in flight any more
				waitUntil(t, "the stray ack to count", func() bool { return p.errs.Load() == 1 })
				b.conn.Close()
				if err := <-readErr; err == nil {
					t.Error("readLoop returned nil after the connection closed")
				}
			})
		}
	}
}

func TestSubscriberFlows(t *testing.T) {
	for _, v := range []packet.Version{packet.V311, packet.V5} {
		for _, qos := range []byte{1, 2} {
			t.Run(fmt.Sprintf("v%v/qos%d", v, qos), func(t *testing.T) {
				b := newFakeBroker(t)
				c := b.dial(v, "t-sub-0", &packet.Connack{})
				var phase atomic.Int32
				phase.Store(phaseMeasure)
				sub := newSubscriber(c, 1, &phase)
				subDone := make(chan error, 1)
				go func() {
					if err := sub.subscribe([]string{"t-pub-0/data"}, qos, 5*time.Second); err != nil {
						subDone <- err
						return
					}
					subDone <- nil
				}()
				s := b.expect(packet.TypeSubscribe).(*packet.Subscribe)
				if len(s.Subscriptions) != 1 || s.Subscriptions[0].Filter != "t-pub-0/data" || s.Subscriptions[0].QoS != qos {
					t.Fatalf("SUBSCRIBE %+v", s)
				}
				b.send(&packet.Suback{PacketID: s.PacketID, ReasonCodes: []packet.ReasonCode{packet.ReasonCode(qos)}})
				if err := <-subDone; err != nil {
					t.Fatal(err)
				}
				readErr := make(chan error, 1)
				go func() { readErr <- sub.readLoop() }()

				payload := make([]byte, 32)
				putPayload(payload, now(), 0, 0)
				deliver := func(id uint16, dup bool) {
					b.send(&packet.Publish{QoS: qos, Dup: dup, Topic: "t-pub-0/data", PacketID: id, Payload: payload})
				}
				// Message seq 0 as id 7; at QoS 2 the broker retransmits it
				// before PUBREL, which must not count as a second delivery.
				deliver(7, false)
				if qos == 1 {
					if a := b.expect(packet.TypePuback).(*packet.Puback); a.PacketID != 7 {
						t.Fatalf("PUBACK %d", a.PacketID)
					}
				} else {
					b.expect(packet.TypePubrec)
					deliver(7, true)
					if r := b.expect(packet.TypePubrec).(*packet.Pubrec); r.PacketID != 7 {
						t.Fatalf("PUBREC %d", r.PacketID)
					}
					b.send(&packet.Pubrel{PacketID: 7})
					if cp := b.expect(packet.TypePubcomp).(*packet.Pubcomp); cp.PacketID != 7 {
						t.Fatalf("PUBCOMP %d", cp.PacketID)
					}
				}
				// The same message again under a new id: an application
				// duplicate (the broker delivered it twice).
				deliver(8, false)
				if qos == 1 {
					b.expect(packet.TypePuback)
				} else {
					b.expect(packet.TypePubrec)
					b.send(&packet.Pubrel{PacketID: 8})
					b.expect(packet.TypePubcomp)
				}
				b.conn.Close()
				<-readErr
				if sub.delivered != 1 || sub.dup != 1 || sub.errs != 0 || sub.bad != 0 || sub.hist.Count() != 1 {
					t.Errorf("delivered %d dup %d errs %d bad %d latencies %d; want 1 1 0 0 1",
						sub.delivered, sub.dup, sub.errs, sub.bad, sub.hist.Count())
				}
			})
		}
	}
}

func TestConnackRefused(t *testing.T) {
	b := newFakeBroker(t)
	cfg := &config{endpoint: endpoint{broker: b.ln.Addr().String(), caFile: filepath.Join(b.dir, "ca.crt"), certDir: b.dir}}
	ids, _ := newIdentities(cfg)
	tc, err := ids.config("t-pub-0")
	if err != nil {
		t.Fatal(err)
	}
	go b.accept("t-pub-0", &packet.Connack{ReasonCode: packet.ReasonCode(0x87)})
	d := &dialer{addr: cfg.broker, version: packet.V5, timeout: 10 * time.Second}
	if _, err := d.connect(context.Background(), "t-pub-0", tc, 64); err == nil || !bytes.Contains([]byte(err.Error()), []byte("refused by broker")) {
		t.Errorf("err = %v, want a refusal", err)
	}
	if _, err := ids.config("t-nobody"); err == nil {
		t.Error("missing identity: want an error")
	}
}
