package main

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/mqtt/packet"
)

// shadowAction is what the scripted shadow service does with one update.
type shadowAction struct {
	reject int  // answer update/rejected with this code; 0 = accept
	drop   bool // answer nothing
	refuse bool // MQTT 5: PUBACK 0x87 Not authorized, and no reply
}

// shadowFake is a scripted broker with a shadow service that follows AWS
// IoT's MQTT contract, and a referee: an mTLS listener that accepts any
// number of connections and, on each, answers CONNECT, SUBSCRIBE and
// PINGREQ, acknowledges update requests at QoS 1 and answers each with a
// PUBLISH on update/accepted or update/rejected echoing its clientToken,
// as script decides. It holds its answers until the connection has had
// window requests without a reply for holdFull, or nothing came for
// flushAfter, so the client fills its window, and it fails the test when a
// client exceeds the window, sends to a thing that is not its own, repeats a clientToken or
// breaks MQTT.
type shadowFake struct {
	t       *testing.T
	ln      net.Listener
	dir     string // ca.crt, server and client identities
	conns   int    // the run's -conns and -things: which things each client owns
	things  int
	prefix  string // -clientid-prefix
	named   string // -named
	window  int    // the window the clients must keep
	checkCN bool   // per-client certificates: the CN must be the client id
	recvMax uint16 // MQTT 5 CONNACK Receive Maximum; 0 = none
	script  func(thing string, counter int) shadowAction

	wg sync.WaitGroup
	mu sync.Mutex // guards the fields below
	// Observations, read by the test after the run.
	tokens     map[string]bool
	counters   map[string][]int // per thing, in arrival order
	maxOut     int              // most requests without a reply on one connection
	replies    int              // replies published at QoS 1
	clientAcks int              // the client's PUBACKs for them
}

// The fake answers the requests pending on a connection flushAfter after
// the last packet, or holdFull after the window filled.
const (
	flushAfter = 100 * time.Millisecond
	holdFull   = 20 * time.Millisecond
)

func newShadowFake(t *testing.T, conns, things, window int) *shadowFake {
	t.Helper()
	b := newFakeBroker(t)
	f := &shadowFake{t: t, ln: b.ln, dir: b.dir, conns: conns, things: things, prefix: "t-shadow",
		window: window, tokens: map[string]bool{}, counters: map[string][]int{},
		script: func(string, int) shadowAction { return shadowAction{} }}
	var names []string
	for i := range conns {
		names = append(names, shadowClientID(f.prefix, i))
	}
	g := &certsConfig{out: b.dir, names: strings.Join(names, ","), keyType: "ecdsa-p256", days: 1}
	if err := genCerts(g, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	go f.acceptLoop()
	t.Cleanup(func() { f.ln.Close(); f.wg.Wait() })
	return f
}

func (f *shadowFake) acceptLoop() {
	for {
		nc, err := f.ln.Accept()
		if err != nil {
			return
		}
		f.wg.Go(func() {
			defer nc.Close()
			if err := f.serve(nc); err != nil {
				f.t.Errorf("fake broker: %v", err)
			}
		})
	}
}

// fakeSession is the broker side of one connection.
type fakeSession struct {
	f        *shadowFake
	nc       net.Conn
	v        packet.Version
	id       string
	owned    map[string]bool // update topics of the client's things
	want     []string        // the filters the client must subscribe to
	wildcard bool            // it subscribes to update/+
	filters  []string        // the filters it subscribed to
	qos      byte            // granted QoS of the reply subscriptions
	pending  []pendingUpdate
	nextID   uint16
	unacked  map[uint16]bool // replies at QoS 1 without the client's PUBACK
}

type pendingUpdate struct {
	thing, token string
	reported     json.RawMessage
	act          shadowAction
}

// serve runs one connection until the client disconnects.
func (f *shadowFake) serve(nc net.Conn) error {
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	r := packet.NewReader(nc, 0)
	p, err := r.ReadPacket(0)
	if err != nil {
		return fmt.Errorf("read CONNECT: %w", err)
	}
	c, ok := p.(*packet.Connect)
	if !ok || !c.CleanStart {
		return fmt.Errorf("want a clean-start CONNECT, got %+v", p)
	}
	s := &fakeSession{f: f, nc: nc, v: c.ProtocolLevel, id: c.ClientID, owned: map[string]bool{}, unacked: map[uint16]bool{}}
	if cn := nc.(*tls.Conn).ConnectionState().PeerCertificates[0].Subject.CommonName; f.checkCN && cn != c.ClientID {
		return fmt.Errorf("client id %q with certificate CN %q", c.ClientID, cn)
	}
	ack := &packet.Connack{}
	ack.Properties.ReceiveMaximum = f.recvMax
	if err := s.send(ack); err != nil {
		return err
	}
	pkts := make(chan packet.Packet)
	readErr := make(chan error, 1)
	quit := make(chan struct{})
	defer close(quit)
	go func() {
		defer close(pkts)
		for {
			p, err := r.ReadPacket(s.v)
			if err != nil {
				readErr <- err
				return
			}
			select {
			case pkts <- p:
			case <-quit:
				return
			}
		}
	}()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		select {
		case p, ok := <-pkts:
			if !ok {
				return fmt.Errorf("%s: connection ended without DISCONNECT: %w", s.id, <-readErr)
			}
			if _, ok := p.(*packet.Disconnect); ok {
				return s.finish()
			}
			if err := s.handle(p); err != nil {
				return fmt.Errorf("%s: %w", s.id, err)
			}
			if len(s.pending) >= f.window {
				timer.Reset(holdFull) // time for a request beyond the window to show
			} else {
				timer.Reset(flushAfter)
			}
		case <-timer.C:
			if err := s.flush(); err != nil {
				return err
			}
		}
	}
}

// finish checks the session at DISCONNECT.
func (s *fakeSession) finish() error {
	if len(s.pending) > 0 {
		return fmt.Errorf("%s: DISCONNECT with %d requests unanswered", s.id, len(s.pending))
	}
	if len(s.unacked) > 0 {
		return fmt.Errorf("%s: DISCONNECT with %d QoS 1 replies not acknowledged", s.id, len(s.unacked))
	}
	return nil
}

func (s *fakeSession) send(p packet.Packet) error {
	raw, err := packet.Encode(p, s.v)
	if err == nil {
		_, err = s.nc.Write(raw)
	}
	return err
}

func (s *fakeSession) handle(p packet.Packet) error {
	switch m := p.(type) {
	case *packet.Subscribe:
		return s.subscribe(m)
	case *packet.Publish:
		return s.update(m)
	case *packet.Puback:
		if !s.unacked[m.PacketID] {
			return fmt.Errorf("PUBACK %d for no reply in flight", m.PacketID)
		}
		delete(s.unacked, m.PacketID)
		s.f.mu.Lock()
		s.f.clientAcks++
		s.f.mu.Unlock()
		return nil
	case *packet.Pingreq:
		return s.send(&packet.Pingresp{})
	}
	return fmt.Errorf("unexpected %v", p.Type())
}

// subscribe checks that the client subscribes to the replies of exactly
// its own things, at most 8 filters per SUBSCRIBE, and grants it.
func (s *fakeSession) subscribe(m *packet.Subscribe) error {
	if len(m.Subscriptions) > 8 {
		return fmt.Errorf("SUBSCRIBE with %d filters, AWS allows 8", len(m.Subscriptions))
	}
	ack := &packet.Suback{PacketID: m.PacketID}
	for _, sub := range m.Subscriptions {
		s.filters = append(s.filters, sub.Filter)
		s.qos = sub.QoS
		ack.ReasonCodes = append(ack.ReasonCodes, packet.ReasonCode(sub.QoS))
	}
	if s.want == nil { // the first SUBSCRIBE: which things are this client's
		var idx int
		if _, err := fmt.Sscanf(s.id, s.f.prefix+"-%d", &idx); err != nil {
			return fmt.Errorf("client id %q: want %s-N", s.id, s.f.prefix)
		}
		lo, hi := thingRange(s.f.things, s.f.conns, idx)
		s.wildcard = strings.HasSuffix(s.filters[0], "/update/+")
		for i := lo; i < hi; i++ {
			th := shadowThing("bench-thing-", i)
			s.owned[shadowTopic(th, s.f.named, "update")] = true
			if s.wildcard {
				s.want = append(s.want, shadowTopic(th, s.f.named, "update/+"))
				continue
			}
			s.want = append(s.want, shadowTopic(th, s.f.named, "update/accepted"), shadowTopic(th, s.f.named, "update/rejected"))
		}
	}
	if len(s.filters) > len(s.want) || !slices.Equal(s.want[:len(s.filters)], s.filters) {
		return fmt.Errorf("filters %q, want a prefix of %q", s.filters, s.want)
	}
	return s.send(ack)
}

// update takes one update request: checks topic and document, acknowledges
// it at QoS 1 and queues its answer.
func (s *fakeSession) update(m *packet.Publish) error {
	if !s.owned[m.Topic] || len(s.filters) != len(s.want) {
		return fmt.Errorf("update on %q before subscribing to its replies (filters %q)", m.Topic, s.filters)
	}
	thing := strings.Split(m.Topic, "/")[2]
	var doc struct {
		State struct {
			Reported json.RawMessage `json:"reported"`
		} `json:"state"`
		ClientToken string `json:"clientToken"`
	}
	if err := json.Unmarshal(m.Payload, &doc); err != nil {
		return fmt.Errorf("update document %q: %w", m.Payload, err)
	}
	var rep struct {
		Counter *int `json:"counter"`
	}
	if err := json.Unmarshal(doc.State.Reported, &rep); err != nil || rep.Counter == nil || doc.ClientToken == "" || len(doc.ClientToken) > 64 {
		return fmt.Errorf("update document %s: want state.reported.counter and a clientToken of 1..64 bytes", m.Payload)
	}
	f := s.f
	f.mu.Lock()
	dup := f.tokens[doc.ClientToken]
	f.tokens[doc.ClientToken] = true
	f.counters[thing] = append(f.counters[thing], *rep.Counter)
	f.mu.Unlock()
	if dup {
		return fmt.Errorf("clientToken %q used twice", doc.ClientToken)
	}
	act := f.script(thing, *rep.Counter)
	if m.QoS == 1 {
		ack := &packet.Puback{PacketID: m.PacketID}
		if act.refuse {
			ack.ReasonCode = 0x87
		}
		if err := s.send(ack); err != nil {
			return err
		}
	}
	if act.refuse {
		return nil
	}
	s.pending = append(s.pending, pendingUpdate{thing: thing, token: doc.ClientToken, reported: doc.State.Reported, act: act})
	f.mu.Lock()
	f.maxOut = max(f.maxOut, len(s.pending))
	f.mu.Unlock()
	if len(s.pending) > f.window {
		return fmt.Errorf("%d update requests without a reply: the window is %d", len(s.pending), f.window)
	}
	return nil
}

// flush answers every pending request as the script said.
func (s *fakeSession) flush() error {
	for _, u := range s.pending {
		var suffix string
		var body any
		switch {
		case u.act.drop:
			continue
		case u.act.reject != 0:
			suffix = "update/rejected"
			body = map[string]any{"code": u.act.reject, "message": "scripted rejection", "timestamp": 1700000000, "clientToken": u.token}
		default:
			suffix = "update/accepted"
			body = map[string]any{"state": map[string]any{"reported": u.reported}, "version": 7, "timestamp": 1700000000, "clientToken": u.token}
		}
		// update/documents goes only to a wildcard subscription; before
		// accepted here, so the client still reads (and acknowledges) it.
		if suffix == "update/accepted" && s.wildcard {
			docs := map[string]any{"previous": nil, "current": map[string]any{"state": map[string]any{"reported": u.reported}}, "clientToken": u.token}
			if err := s.publish(shadowTopic(u.thing, s.f.named, "update/documents"), docs); err != nil {
				return err
			}
		}
		if err := s.publish(shadowTopic(u.thing, s.f.named, suffix), body); err != nil {
			return err
		}
	}
	s.pending = s.pending[:0]
	return nil
}

// publish sends a reply at the subscription's QoS.
func (s *fakeSession) publish(topic string, body any) error {
	payload, err := json.Marshal(body)
	if err != nil {
		return err
	}
	p := &packet.Publish{Topic: topic, QoS: s.qos, Payload: payload}
	if s.qos == 1 {
		s.nextID = s.nextID%65535 + 1
		p.PacketID = s.nextID
		s.unacked[p.PacketID] = true
		s.f.mu.Lock()
		s.f.replies++
		s.f.mu.Unlock()
	}
	return s.send(p)
}
