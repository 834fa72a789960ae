package action

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/mqtt/packet"
)

// TestRepublish_Do checks what republish hands the broker: the rendered
// topic, the QoS, a copy of the payload, every MQTT 5 header, and the
// derivation count.
func TestRepublish_Do(t *testing.T) {
	cases := []struct {
		name    string
		def     string
		in      string // payload of the incoming message on lamps/lamp-1/state from client c-1
		topic   string
		qos     byte
		props   packet.Properties
		payload string
	}{{
		// A constant topic, QoS 0 by default, no properties.
		name: "constant", def: `{"republish":{"topic":"out/all","roleArn":"r"}}`,
		topic: "out/all", payload: `{"on":true}`,
	}, {
		// Templates in the topic see the incoming message.
		name: "templated topic", def: `{"republish":{"topic":"out/${topic(2)}/${clientid()}/${room}","roleArn":"r","qos":1}}`,
		in: `{"room":"kitchen"}`, topic: "out/lamp-1/c-1/kitchen", qos: 1, payload: `{"on":true}`,
	}, {
		// "$$" writes a reserved topic's leading "$", as AWS documents.
		name: "reserved topic", def: `{"republish":{"topic":"$$aws/things/${topic(2)}/shadow/update","roleArn":"r"}}`,
		topic: "$aws/things/lamp-1/shadow/update", payload: `{"on":true}`,
	}, {
		// Every MQTT 5 header, constant.
		name: "constant headers",
		def: `{"republish":{"topic":"out","roleArn":"r","headers":{"payloadFormatIndicator":"UTF8_DATA","contentType":"application/json",` +
			`"responseTopic":"replies/lamp","correlationData":"cnVsZSBjb3JyZWxhdGlvbiBkYXRh","messageExpiry":"60",` +
			`"userProperties":[{"key":"ruleKey1","value":"ruleValue1"},{"key":"ruleKey2","value":"ruleValue2"},{"key":"ruleKey1","value":"again"}]}}}`,
		topic: "out", payload: `{"on":true}`,
		props: packet.Properties{PayloadFormat: 1, ContentType: "application/json", ResponseTopic: "replies/lamp",
			CorrelationData: []byte("rule correlation data"), MessageExpiry: 60,
			UserProperties: []packet.UserProperty{{Key: "ruleKey1", Value: "ruleValue1"}, {Key: "ruleKey2", Value: "ruleValue2"}, {Key: "ruleKey1", Value: "again"}}},
	}, {
		// Every MQTT 5 header, templated.
		name: "templated headers",
		def: `{"republish":{"topic":"out","roleArn":"r","headers":{"payloadFormatIndicator":"${fmt}","contentType":"${ct}",` +
			`"responseTopic":"replies/${clientid()}","correlationData":"${cd}","messageExpiry":"${ttl}",` +
			`"userProperties":[{"key":"${k}","value":"from ${topic(1)}"}]}}}`,
		in:    `{"fmt":"UNSPECIFIED_BYTES","ct":"text/plain","cd":"AAEC","ttl":3600,"k":"origin"}`,
		topic: "out", payload: `{"on":true}`,
		props: packet.Properties{ContentType: "text/plain", ResponseTopic: "replies/c-1", CorrelationData: []byte{0, 1, 2},
			MessageExpiry: 3600, UserProperties: []packet.UserProperty{{Key: "origin", Value: "from lamps"}}},
	}, {
		// Headers that render empty are left out.
		name: "empty headers",
		def: `{"republish":{"topic":"out","roleArn":"r","headers":{"payloadFormatIndicator":"${x}","contentType":"${x}",` +
			`"responseTopic":"${x}","correlationData":"${x}","messageExpiry":"${x}"}}}`,
		topic: "out", payload: `{"on":true}`,
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			deps := testDeps(t)
			a := mustNew(t, c.def, deps)
			payload := []byte(c.payload)
			in := input("lamps/lamp-1/state", "c-1", c.in)
			if err := a.Do(testCtx(t, time.Second), &Message{Payload: payload, In: in, Hops: 3}); err != nil {
				t.Fatalf("Do: %v", err)
			}
			copy(payload, "XXXX") // the engine reuses its buffer
			pubs := deps.Publisher.(*recorder).all()
			if len(pubs) != 1 {
				t.Fatalf("%d publishes, want 1", len(pubs))
			}
			p := pubs[0]
			if p.p.Topic != c.topic || p.p.QoS != c.qos || p.p.Retain || string(p.p.Payload) != c.payload || p.hops != 3 {
				t.Errorf("published topic %q qos %d retain %v payload %q hops %d; want %q, %d, false, %q, 3",
					p.p.Topic, p.p.QoS, p.p.Retain, p.p.Payload, p.hops, c.topic, c.qos, c.payload)
			}
			if !reflect.DeepEqual(p.p.Properties, c.props) {
				t.Errorf("properties\n got %+v\nwant %+v", p.p.Properties, c.props)
			}
		})
	}
}

// TestRepublish_Do_errors checks which failures are permanent: values
// that render invalid are, a broker that is busy is not.
func TestRepublish_Do_errors(t *testing.T) {
	cases := []struct {
		name      string
		def       string
		in        string
		payload   string
		rc        packet.ReasonCode
		permanent bool
		published bool
	}{
		{name: "topic renders a wildcard", def: `{"republish":{"topic":"out/${dest}","roleArn":"r"}}`, in: `{"dest":"a/#"}`, permanent: true},
		{name: "topic renders empty", def: `{"republish":{"topic":"${dest}","roleArn":"r"}}`, in: `{}`, permanent: true},
		{name: "topic renders Basic Ingest", def: `{"republish":{"topic":"${dest}","roleArn":"r"}}`, in: `{"dest":"$aws/rules/r/x"}`, permanent: true},
		{name: "topic renders a job topic", def: `{"republish":{"topic":"$$aws/things/${dest}/jobs/get","roleArn":"r"}}`, in: `{"dest":"lamp"}`, permanent: true},
		{name: "topic renders too long", def: `{"republish":{"topic":"${dest}","roleArn":"r"}}`, in: `{"dest":"` + strings.Repeat("a", 300) + `"}`, permanent: true},
		{name: "template fails", def: `{"republish":{"topic":"out/${fail()}","roleArn":"r"}}`, permanent: true},
		{name: "correlationData renders non-base64", def: `{"republish":{"topic":"out","roleArn":"r","headers":{"correlationData":"${cd}"}}}`, in: `{"cd":"***"}`, permanent: true},
		{name: "messageExpiry renders a word", def: `{"republish":{"topic":"out","roleArn":"r","headers":{"messageExpiry":"${ttl}"}}}`, in: `{"ttl":"soon"}`, permanent: true},
		{name: "payloadFormatIndicator renders junk", def: `{"republish":{"topic":"out","roleArn":"r","headers":{"payloadFormatIndicator":"${f}"}}}`, in: `{"f":"TEXT"}`, permanent: true},
		{name: "responseTopic renders a wildcard", def: `{"republish":{"topic":"out","roleArn":"r","headers":{"responseTopic":"${rt}"}}}`, in: `{"rt":"a/+"}`, permanent: true},
		{name: "user property renders U+0000", def: `{"republish":{"topic":"out","roleArn":"r","headers":{"userProperties":[{"key":"k","value":"${v}"}]}}}`, in: `{"v":"a\u0000b"}`, permanent: true},
		{name: "UTF8_DATA with a binary payload", def: `{"republish":{"topic":"out","roleArn":"r","headers":{"payloadFormatIndicator":"UTF8_DATA"}}}`, payload: "\xff\xfe", permanent: true},
		{name: "no subscribers is success", def: `{"republish":{"topic":"out","roleArn":"r"}}`, rc: packet.NoMatchingSubscribers, published: true},
		{name: "broker over quota is retryable", def: `{"republish":{"topic":"out","roleArn":"r"}}`, rc: packet.QuotaExceeded, published: true},
		{name: "broker refusing the topic is permanent", def: `{"republish":{"topic":"out","roleArn":"r"}}`, rc: packet.TopicNameInvalid, permanent: true, published: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			deps := testDeps(t)
			rec := deps.Publisher.(*recorder)
			rec.rc = c.rc
			a := mustNew(t, c.def, deps)
			payload := c.payload
			if payload == "" {
				payload = "{}"
			}
			err := a.Do(testCtx(t, time.Second), &Message{Payload: []byte(payload), In: input("in/x", "c-1", c.in)})
			wantErr := c.permanent || c.rc.IsError()
			if (err != nil) != wantErr {
				t.Fatalf("Do error %v, want error %v", err, wantErr)
			}
			if err != nil && isPermanent(err) != c.permanent {
				t.Errorf("Do error %v: permanent %v, want %v", err, isPermanent(err), c.permanent)
			}
			if n := len(rec.all()); (n == 1) != c.published {
				t.Errorf("%d publishes, want published %v", n, c.published)
			}
		})
	}
}

// TestRepublish_Do_canceled checks that a canceled context stops Do
// before it publishes.
func TestRepublish_Do_canceled(t *testing.T) {
	deps := testDeps(t)
	a := mustNew(t, `{"republish":{"topic":"out","roleArn":"r"}}`, deps)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := a.Do(ctx, &Message{Payload: []byte("{}")}); err == nil {
		t.Fatal("Do succeeded with a canceled context")
	}
	if n := len(deps.Publisher.(*recorder).all()); n != 0 {
		t.Errorf("%d publishes after cancel", n)
	}
}

// TestRepublish_Do_concurrent checks that one republish action serves
// concurrent messages, each with its own rendering (run with -race).
func TestRepublish_Do_concurrent(t *testing.T) {
	deps := testDeps(t)
	a := mustNew(t, `{"republish":{"topic":"out/${clientid()}","roleArn":"r","headers":{"userProperties":[{"key":"n","value":"${n}"}]}}}`, deps)
	const n = 50
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := input("in", fmt.Sprintf("c-%d", i), fmt.Sprintf(`{"n":%d}`, i))
			if err := a.Do(testCtx(t, time.Second), &Message{Payload: in.Payload, In: in}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	pubs := deps.Publisher.(*recorder).all()
	if len(pubs) != n {
		t.Fatalf("%d publishes, want %d", len(pubs), n)
	}
	for _, p := range pubs {
		var i int
		if _, err := fmt.Sscanf(p.p.Topic, "out/c-%d", &i); err != nil || p.p.Properties.UserProperties[0].Value != fmt.Sprint(i) {
			t.Errorf("topic %q with user property %v: renderings mixed up", p.p.Topic, p.p.Properties.UserProperties)
		}
	}
}
