package action

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// newCluster starts an in-process Kafka cluster with topic "telemetry"
// (3 partitions) and returns its bootstrap.servers.
func newCluster(t *testing.T, opts ...kfake.Opt) string {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(3, "telemetry")}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return strings.Join(c.ListenAddrs(), ",")
}

// consume reads n records from topic, failing the test after 10 s.
func consume(t *testing.T, servers, topic string, n int, opts ...kgo.Opt) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(strings.Split(servers, ",")...),
		kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := testCtx(t, 10*time.Second)
	var recs []*kgo.Record
	for len(recs) < n {
		f := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("got %d records of %d: %v", len(recs), n, err)
		}
		recs = append(recs, f.Records()...)
	}
	return recs
}

// kafkaJSON returns a kafka action on bootstrap.servers servers with the
// other members given as JSON (without braces) and extra properties.
func kafkaJSON(servers, members, props string) string {
	if props != "" {
		props = "," + props
	}
	return `{"kafka":{"destinationArn":"arn:aws:iot:us-east-1:000000000000:ruledestination/vpc/d",` + members +
		`,"clientProperties":{"bootstrap.servers":"` + servers + `","security.protocol":"PLAINTEXT"` + props + `}}}`
}

// TestKafka_Do checks the record a kafka action produces: the rendered
// topic, key, partition and headers, and the rule's result as value.
func TestKafka_Do(t *testing.T) {
	servers := newCluster(t)
	deps := testDeps(t)
	a := mustNew(t, kafkaJSON(servers, `"topic":"${dest}","key":"${clientid()}","partition":"${p}",`+
		`"headers":[{"key":"source","value":"${topic()}"},{"key":"static","value":"v"}]`, ""), deps)
	in := input("lamps/lamp-1", "c-1", `{"dest":"telemetry","p":2}`)
	if err := a.Do(testCtx(t, 10*time.Second), &Message{Payload: []byte(`{"t":21}`), In: in}); err != nil {
		t.Fatalf("Do: %v", err)
	}
	recs := consume(t, servers, "telemetry", 1)
	r := recs[0]
	if string(r.Key) != "c-1" || r.Partition != 2 || string(r.Value) != `{"t":21}` {
		t.Errorf("record key %q partition %d value %q; want c-1, 2, {\"t\":21}", r.Key, r.Partition, r.Value)
	}
	want := []kgo.RecordHeader{{Key: "source", Value: []byte("lamps/lamp-1")}, {Key: "static", Value: []byte("v")}}
	if len(r.Headers) != len(want) {
		t.Fatalf("headers %v, want %v", r.Headers, want)
	}
	for i := range want {
		if r.Headers[i].Key != want[i].Key || string(r.Headers[i].Value) != string(want[i].Value) {
			t.Errorf("header %d = %s: %q, want %s: %q", i, r.Headers[i].Key, r.Headers[i].Value, want[i].Key, want[i].Value)
		}
	}
}

// TestKafka_Do_keyPartitioning checks that without a partition, records
// with the same key go to the same partition, and that the producer
// settings AWS documents all produce.
func TestKafka_Do_keyPartitioning(t *testing.T) {
	servers := newCluster(t)
	props := []string{
		`"acks":"0"`, `"acks":"1"`, `"acks":"all"`, `"acks":"-1"`,
		`"compression.type":"none"`, `"compression.type":"gzip"`, `"compression.type":"snappy"`,
		`"compression.type":"lz4"`, `"compression.type":"zstd"`,
		`"key.serializer":"StringSerializer","value.serializer":"org.apache.kafka.common.serialization.ByteBufferSerializer"`,
	}
	deps := testDeps(t)
	for _, p := range props {
		a := mustNew(t, kafkaJSON(servers, `"topic":"telemetry","key":"lamp-7"`, p), deps)
		if err := a.Do(testCtx(t, 10*time.Second), &Message{Payload: []byte(p)}); err != nil {
			t.Fatalf("%s: Do: %v", p, err)
		}
	}
	recs := consume(t, servers, "telemetry", len(props))
	for _, r := range recs {
		if r.Partition != recs[0].Partition || string(r.Key) != "lamp-7" {
			t.Errorf("record %q: key %q partition %d; want lamp-7 in partition %d", r.Value, r.Key, r.Partition, recs[0].Partition)
		}
	}
	if n := deps.Kafka.len(); n != len(props) {
		t.Errorf("%d producers for %d distinct property sets", n, len(props))
	}
}

// TestKafkaClients_shared checks that actions with the same properties
// share one producer, created at the first Do, closed with the last
// action or with the set.
func TestKafkaClients_shared(t *testing.T) {
	servers := newCluster(t, kfake.AllowAutoTopicCreation()) // for "other"
	deps := testDeps(t)
	a := mustNew(t, kafkaJSON(servers, `"topic":"telemetry"`, ""), deps)
	b := mustNew(t, kafkaJSON(servers, `"topic":"other","key":"k"`, ""), deps)
	c := mustNew(t, kafkaJSON(servers, `"topic":"telemetry"`, `"acks":"all"`), deps)
	if n := deps.Kafka.len(); n != 0 {
		t.Fatalf("%d producers before any Do, want 0", n)
	}
	ctx := testCtx(t, 10*time.Second)
	for _, x := range []Action{a, b, c} {
		if err := x.Do(ctx, &Message{Payload: []byte("{}")}); err != nil {
			t.Fatal(err)
		}
	}
	if n := deps.Kafka.len(); n != 2 {
		t.Errorf("%d producers, want 2 (a and b share one)", n)
	}
	a.(*kafkaAction).Close()
	if n := deps.Kafka.len(); n != 2 {
		t.Errorf("%d producers after closing a, want 2 (b holds the shared one)", n)
	}
	if err := b.Do(ctx, &Message{Payload: []byte("{}")}); err != nil {
		t.Errorf("b after closing a: %v", err)
	}
	b.(*kafkaAction).Close()
	if n := deps.Kafka.len(); n != 1 {
		t.Errorf("%d producers after closing a and b, want 1", n)
	}
	deps.Kafka.Close()
	if n := deps.Kafka.len(); n != 0 {
		t.Errorf("%d producers after Close, want 0", n)
	}
	if err := c.Do(ctx, &Message{Payload: []byte("{}")}); err == nil {
		t.Error("Do succeeded after KafkaClients.Close")
	}
	d := mustNew(t, kafkaJSON(servers, `"topic":"telemetry"`, `"acks":"0"`), deps)
	if err := d.Do(ctx, &Message{Payload: []byte("{}")}); !errors.Is(err, errKafkaClosed) {
		t.Errorf("a new action after Close: %v, want errKafkaClosed", err)
	}
}

// TestKafka_Do_down checks that a cluster that is down makes Do fail with
// a retryable error when ctx ends, not later.
func TestKafka_Do_down(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	a := mustNew(t, kafkaJSON(addr, `"topic":"telemetry"`, ""), testDeps(t))
	start := time.Now()
	err = a.Do(testCtx(t, 300*time.Millisecond), &Message{Payload: []byte("{}")})
	if !errors.Is(err, context.DeadlineExceeded) || isPermanent(err) {
		t.Fatalf("Do error %v, want a retryable context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Do took %v after a 300ms deadline", d)
	}
}

// TestKafka_Do_invalidRendering checks that a topic or partition that
// renders invalid is a permanent error and nothing is produced.
func TestKafka_Do_invalidRendering(t *testing.T) {
	servers := newCluster(t)
	deps := testDeps(t)
	cases := map[string]struct{ members, in string }{
		"topic with a space":     {`"topic":"${dest}"`, `{"dest":"a b"}`},
		"empty topic":            {`"topic":"${dest}"`, `{}`},
		"partition not a number": {`"topic":"telemetry","partition":"${p}"`, `{"p":"first"}`},
		"negative partition":     {`"topic":"telemetry","partition":"${p}"`, `{"p":-1}`},
		"failing key template":   {`"topic":"telemetry","key":"${fail()}"`, `{}`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			a := mustNew(t, kafkaJSON(servers, c.members, ""), deps)
			err := a.Do(testCtx(t, 5*time.Second), &Message{Payload: []byte("{}"), In: input("t", "c", c.in)})
			if !isPermanent(err) {
				t.Errorf("Do error %v, want a permanent error", err)
			}
		})
	}
	if n := deps.Kafka.len(); n != 0 {
		t.Errorf("%d producers: a record was attempted", n)
	}
}

// TestKafka_Do_tooLarge checks that an error the cluster or the client
// marks as not retriable, here a record over the 1 MB batch limit, is
// permanent.
func TestKafka_Do_tooLarge(t *testing.T) {
	servers := newCluster(t)
	a := mustNew(t, kafkaJSON(servers, `"topic":"telemetry"`, ""), testDeps(t))
	err := a.Do(testCtx(t, 10*time.Second), &Message{Payload: make([]byte, 2<<20)})
	if !isPermanent(err) || !errors.Is(err, kerr.MessageTooLarge) {
		t.Errorf("Do error %v, want a permanent MESSAGE_TOO_LARGE", err)
	}
}

// TestKafka_Do_security checks SASL_SSL with SCRAM and PLAIN, and SSL
// with a client certificate, against a TLS cluster whose CA is given as
// ssl.truststore (PEM, and base64 of PEM).
func TestKafka_Do_security(t *testing.T) {
	pki := newTestPKI(t)
	t.Run("SASL_SSL SCRAM-SHA-512", func(t *testing.T) {
		servers := newCluster(t, kfake.TLS(pki.serverTLS(false)), kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-512", "iot", "pw"))
		props := `"security.protocol":"SASL_SSL","sasl.mechanism":"SCRAM-SHA-512","sasl.scram.username":"iot","sasl.scram.password":"pw",` +
			`"ssl.truststore":` + jsonString(pki.caPEM)
		produceOne(t, servers, props)
		// A wrong password: the producer retries connecting until ctx
		// ends, and the error says why it failed.
		wrong := strings.Replace(props, `"pw"`, `"wrong"`, 1)
		a := mustNew(t, strings.Replace(kafkaJSON(servers, `"topic":"telemetry"`, wrong), `"security.protocol":"PLAINTEXT",`, "", 1), testDeps(t))
		err := a.Do(testCtx(t, 2*time.Second), &Message{Payload: []byte("{}")})
		// (kfake hangs up on a failed SCRAM exchange: the cause is EOF.)
		if err == nil || isPermanent(err) || !strings.Contains(err.Error(), "(last connection attempt: ") {
			t.Errorf("Do with a wrong password: %v, want a retryable error with the connection failure", err)
		}
	})
	t.Run("SASL_SSL PLAIN", func(t *testing.T) {
		servers := newCluster(t, kfake.TLS(pki.serverTLS(false)), kfake.EnableSASL(), kfake.Superuser("PLAIN", "iot", "pw"))
		props := `"security.protocol":"SASL_SSL","sasl.mechanism":"PLAIN","sasl.plain.username":"iot","sasl.plain.password":"pw",` +
			`"ssl.truststore":` + jsonString(b64(pki.caPEM))
		produceOne(t, servers, props)
	})
	t.Run("SSL with a client certificate", func(t *testing.T) {
		servers := newCluster(t, kfake.TLS(pki.serverTLS(true)))
		props := `"security.protocol":"SSL","ssl.truststore":` + jsonString(pki.caPEM) + `,"ssl.keystore":` + jsonString(pki.clientPEM)
		produceOne(t, servers, props)
	})
	t.Run("SSL without the CA", func(t *testing.T) {
		servers := newCluster(t, kfake.TLS(pki.serverTLS(false)))
		a := mustNew(t, strings.Replace(kafkaJSON(servers, `"topic":"telemetry"`, `"security.protocol":"SSL"`), `"security.protocol":"PLAINTEXT",`, "", 1), testDeps(t))
		err := a.Do(testCtx(t, 2*time.Second), &Message{Payload: []byte("{}")})
		if err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("Do against an untrusted cluster: %v, want the certificate failure", err)
		}
	})
}

// produceOne produces one record with the security properties props
// (which replace PLAINTEXT) and reads it back with the same properties.
func produceOne(t *testing.T, servers, props string) {
	t.Helper()
	def := strings.Replace(kafkaJSON(servers, `"topic":"telemetry"`, props), `"security.protocol":"PLAINTEXT",`, "", 1)
	a := mustNew(t, def, testDeps(t))
	if err := a.Do(testCtx(t, 10*time.Second), &Message{Payload: []byte(`{"secure":true}`)}); err != nil {
		t.Fatalf("Do: %v", err)
	}
	var d struct {
		Kafka struct {
			ClientProperties map[string]string `json:"clientProperties"`
		} `json:"kafka"`
	}
	if err := json.Unmarshal([]byte(def), &d); err != nil {
		t.Fatal(err)
	}
	cfg, err := parseKafkaConfig(d.Kafka.ClientProperties)
	if err != nil {
		t.Fatal(err)
	}
	recs := consume(t, servers, "telemetry", 1, cfg.opts...)
	if string(recs[0].Value) != `{"secure":true}` {
		t.Errorf("value %q", recs[0].Value)
	}
}

// b64 encodes s in standard base64.
func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// testPKI is a CA with a server certificate for 127.0.0.1 and a client
// certificate.
type testPKI struct {
	caPEM     string
	ca        *x509.Certificate
	pool      *x509.CertPool
	server    tls.Certificate
	clientPEM string // certificate and key
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	p := &testPKI{ca: ca, pool: x509.NewCertPool(), caPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}))}
	p.pool.AddCert(ca)
	issue := func(serial int64, usage x509.ExtKeyUsage, ip net.IP) (certPEM, keyPEM []byte) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "test"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		}
		if ip != nil {
			tmpl.IPAddresses = []net.IP{ip}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kder, _ := x509.MarshalECPrivateKey(key)
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	}
	sc, sk := issue(2, x509.ExtKeyUsageServerAuth, net.IPv4(127, 0, 0, 1))
	if p.server, err = tls.X509KeyPair(sc, sk); err != nil {
		t.Fatal(err)
	}
	cc, ck := issue(3, x509.ExtKeyUsageClientAuth, nil)
	p.clientPEM = string(cc) + string(ck)
	return p
}

// serverTLS is the cluster's TLS configuration; clientAuth requires a
// client certificate from the test CA.
func (p *testPKI) serverTLS(clientAuth bool) *tls.Config {
	c := &tls.Config{Certificates: []tls.Certificate{p.server}, MinVersion: tls.VersionTLS12}
	if clientAuth {
		c.ClientAuth, c.ClientCAs = tls.RequireAndVerifyClientCert, p.pool
	}
	return c
}
