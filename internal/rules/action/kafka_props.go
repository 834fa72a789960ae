package action

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// kafkaConfig is a validated set of Kafka clientProperties: the options of
// the producer that kafka actions with these properties share.
type kafkaConfig struct {
	id   string    // the properties in canonical form, secrets included: never logged
	opts []kgo.Opt // client options, without the logger
}

// Kafka client properties moat understands, as the AWS Kafka action names
// them (AWS IoT developer guide, "Apache Kafka", clientProperties).
const (
	propBootstrap        = "bootstrap.servers"
	propAcks             = "acks"
	propCompression      = "compression.type"
	propProtocol         = "security.protocol"
	propMechanism        = "sasl.mechanism"
	propPlainUser        = "sasl.plain.username"
	propPlainPass        = "sasl.plain.password"
	propScramUser        = "sasl.scram.username"
	propScramPass        = "sasl.scram.password"
	propTruststore       = "ssl.truststore"
	propTruststorePass   = "ssl.truststore.password"
	propKeystore         = "ssl.keystore"
	propKeystorePass     = "ssl.keystore.password"
	propKeyPass          = "ssl.key.password"
	propKeySerializer    = "key.serializer"
	propValueSerializer  = "value.serializer"
	maxStoreLen          = 65 << 10 // bytes of ssl.truststore and ssl.keystore (AWS: 65 KB)
	javaSerializerPrefix = "org.apache.kafka.common.serialization."
)

var knownKafkaProps = []string{
	propBootstrap, propAcks, propCompression, propProtocol, propMechanism,
	propPlainUser, propPlainPass, propScramUser, propScramPass,
	propTruststore, propTruststorePass, propKeystore, propKeystorePass, propKeyPass,
	propKeySerializer, propValueSerializer,
}

// parseKafkaConfig validates clientProperties and builds the producer
// options. The properties and their values:
//
//   - bootstrap.servers (required): host:port[,host:port...]; a missing
//     port is 9092.
//   - acks: "1" (the default, as in AWS), "0", "-1" or "all".
//   - compression.type: none (the default), gzip, snappy, lz4, zstd.
//   - security.protocol: SSL (the default, as in AWS), SASL_SSL, or
//     PLAINTEXT (a moat extension, for clusters on a trusted network).
//   - sasl.mechanism (with SASL_SSL only, and then required): PLAIN with
//     sasl.plain.username and sasl.plain.password, or SCRAM-SHA-512 or
//     SCRAM-SHA-256 with sasl.scram.username and sasl.scram.password.
//     GSSAPI (Kerberos) is not supported.
//   - ssl.truststore (with SSL or SASL_SSL): the CA certificates that
//     sign the brokers' certificates, as PEM text or base64 of PEM (AWS
//     takes a base64 Java truststore; moat does not read Java stores).
//     Without it, the system's roots are used. ssl.truststore.password is
//     accepted and unused: PEM has no password.
//   - ssl.keystore (with SSL or SASL_SSL): a client certificate chain and
//     its unencrypted private key, PEM or base64 of PEM, for brokers that
//     require client certificates. ssl.keystore.password is accepted and
//     unused; ssl.key.password (an encrypted key) is refused.
//   - key.serializer, value.serializer: accepted when they are
//     StringSerializer, ByteArraySerializer or ByteBufferSerializer (with
//     or without the org.apache.kafka.common.serialization. package):
//     keys are the rendered strings and values the rule's result, as
//     bytes.
//
// Values are used as written: substitution templates, such as AWS's
// ${get_secret(...)}, are refused (moat has no Secrets Manager). Any other
// property is refused by name.
func parseKafkaConfig(props map[string]string) (*kafkaConfig, error) {
	if len(props) == 0 {
		return nil, errors.New("kafka: clientProperties is required, with bootstrap.servers at least")
	}
	keys := slices.Sorted(maps.Keys(props))
	for _, k := range keys {
		switch {
		case strings.Contains(props[k], templateStart):
			return nil, fmt.Errorf("kafka: clientProperties[%q]: substitution templates (such as get_secret) are not supported by moat; give the value itself", k)
		case strings.HasPrefix(k, "sasl.kerberos."):
			return nil, fmt.Errorf("kafka: clientProperties[%q]: Kerberos (GSSAPI) is not supported by moat", k)
		case !slices.Contains(knownKafkaProps, k):
			return nil, fmt.Errorf("kafka: clientProperties[%q] is not supported by moat (supported: %s)", k, strings.Join(knownKafkaProps, ", "))
		}
	}
	c := &kafkaConfig{opts: []kgo.Opt{
		kgo.AllowAutoTopicCreation(), // as the Java producer: the cluster decides
		kgo.RecordPartitioner(newPartitioner()),
	}}
	for _, step := range []func(map[string]string) ([]kgo.Opt, error){
		bootstrapOpts, acksOpts, compressionOpts, serializerOpts, securityOpts,
	} {
		opts, err := step(props)
		if err != nil {
			return nil, fmt.Errorf("kafka: clientProperties%w", err)
		}
		c.opts = append(c.opts, opts...)
	}
	var id strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&id, "%q=%q\n", k, props[k])
	}
	c.id = id.String()
	return c, nil
}

// propErr is an error about property k; parseKafkaConfig prefixes it with
// "kafka: clientProperties".
func propErr(k, format string, args ...any) error {
	return fmt.Errorf("[%q]: "+format, append([]any{k}, args...)...)
}

func bootstrapOpts(p map[string]string) ([]kgo.Opt, error) {
	v, ok := p[propBootstrap]
	if !ok || strings.TrimSpace(v) == "" {
		return nil, propErr(propBootstrap, "is required")
	}
	var seeds []string
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		host, port, err := net.SplitHostPort(s)
		if err != nil && strings.Contains(err.Error(), "missing port") {
			host, port, err = s, "9092", nil
		}
		if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
			return nil, propErr(propBootstrap, "%q is not host:port", s)
		}
		seeds = append(seeds, net.JoinHostPort(host, port))
	}
	return []kgo.Opt{kgo.SeedBrokers(seeds...)}, nil
}

func acksOpts(p map[string]string) ([]kgo.Opt, error) {
	switch v := p[propAcks]; v {
	case "", "1":
		// Idempotent writes need acks=all.
		return []kgo.Opt{kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite()}, nil
	case "0":
		return []kgo.Opt{kgo.RequiredAcks(kgo.NoAck()), kgo.DisableIdempotentWrite()}, nil
	case "-1", "all":
		return []kgo.Opt{kgo.RequiredAcks(kgo.AllISRAcks())}, nil
	default:
		return nil, propErr(propAcks, "must be 0, 1, -1 or all, not %q", v)
	}
}

func compressionOpts(p map[string]string) ([]kgo.Opt, error) {
	codecs := map[string]kgo.CompressionCodec{
		"": kgo.NoCompression(), "none": kgo.NoCompression(), "gzip": kgo.GzipCompression(),
		"snappy": kgo.SnappyCompression(), "lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression(),
	}
	v := p[propCompression]
	c, ok := codecs[v]
	if !ok {
		return nil, propErr(propCompression, "must be none, gzip, snappy, lz4 or zstd, not %q", v)
	}
	return []kgo.Opt{kgo.ProducerBatchCompression(c)}, nil
}

func serializerOpts(p map[string]string) ([]kgo.Opt, error) {
	for _, k := range []string{propKeySerializer, propValueSerializer} {
		v, ok := p[k]
		if !ok {
			continue
		}
		switch strings.TrimPrefix(v, javaSerializerPrefix) {
		case "StringSerializer", "ByteArraySerializer", "ByteBufferSerializer":
		default:
			return nil, propErr(k, "must be StringSerializer, ByteArraySerializer or ByteBufferSerializer, not %q", v)
		}
	}
	return nil, nil
}

func securityOpts(p map[string]string) ([]kgo.Opt, error) {
	protocol := p[propProtocol]
	if protocol == "" {
		protocol = "SSL" // AWS: "The default value is SSL."
	}
	var opts []kgo.Opt
	switch protocol {
	case "PLAINTEXT":
		for _, k := range []string{propTruststore, propTruststorePass, propKeystore, propKeystorePass, propKeyPass} {
			if _, ok := p[k]; ok {
				return nil, propErr(k, "needs security.protocol SSL or SASL_SSL")
			}
		}
	case "SSL", "SASL_SSL":
		cfg, err := tlsConfig(p)
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(cfg))
	default:
		return nil, propErr(propProtocol, "must be SSL, SASL_SSL or PLAINTEXT, not %q", protocol)
	}
	mech, err := saslMechanism(p, protocol == "SASL_SSL")
	if err != nil {
		return nil, err
	}
	if mech != nil {
		opts = append(opts, kgo.SASL(mech))
	}
	return opts, nil
}

// saslMechanism returns the SASL mechanism the properties configure; nil
// when on is false (and then no SASL property may be set).
func saslMechanism(p map[string]string, on bool) (sasl.Mechanism, error) {
	m, has := p[propMechanism]
	if !on {
		for _, k := range []string{propMechanism, propPlainUser, propPlainPass, propScramUser, propScramPass} {
			if _, ok := p[k]; ok {
				return nil, propErr(k, "needs security.protocol SASL_SSL")
			}
		}
		return nil, nil
	}
	user, pass := propPlainUser, propPlainPass
	switch m {
	case "PLAIN":
	case "SCRAM-SHA-256", "SCRAM-SHA-512":
		user, pass = propScramUser, propScramPass
	case "GSSAPI":
		return nil, propErr(propMechanism, "Kerberos (GSSAPI) is not supported by moat")
	default:
		if !has {
			return nil, propErr(propMechanism, "is required with security.protocol SASL_SSL")
		}
		return nil, propErr(propMechanism, "must be PLAIN, SCRAM-SHA-512 or SCRAM-SHA-256, not %q", m)
	}
	for _, k := range []string{propPlainUser, propPlainPass, propScramUser, propScramPass} {
		if _, ok := p[k]; ok && k != user && k != pass {
			return nil, propErr(k, "does not go with sasl.mechanism %s", m)
		}
	}
	if p[user] == "" || p[pass] == "" {
		return nil, propErr(user, "and %s are required with sasl.mechanism %s", pass, m)
	}
	switch m {
	case "PLAIN":
		return plain.Auth{User: p[user], Pass: p[pass]}.AsMechanism(), nil
	case "SCRAM-SHA-256":
		return scram.Auth{User: p[user], Pass: p[pass]}.AsSha256Mechanism(), nil
	default:
		return scram.Auth{User: p[user], Pass: p[pass]}.AsSha512Mechanism(), nil
	}
}

// tlsConfig builds the TLS configuration of SSL and SASL_SSL: TLS 1.2 or
// later, the truststore's roots (else the system's), the keystore's
// client certificate if any. kgo sets the server name of each broker.
func tlsConfig(p map[string]string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if v, ok := p[propTruststore]; ok {
		b, err := pemValue(propTruststore, v)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
			return nil, propErr(propTruststore, "has no PEM certificate")
		}
		cfg.RootCAs = pool
	}
	if _, ok := p[propKeyPass]; ok {
		return nil, propErr(propKeyPass, "encrypted private keys are not supported by moat; give an unencrypted PEM key in ssl.keystore")
	}
	if v, ok := p[propKeystore]; ok {
		b, err := pemValue(propKeystore, v)
		if err != nil {
			return nil, err
		}
		cert, err := tls.X509KeyPair(b, b)
		if err != nil {
			return nil, propErr(propKeystore, "needs a PEM certificate and its unencrypted private key: %v", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	} else if _, ok := p[propKeystorePass]; ok {
		return nil, propErr(propKeystorePass, "needs ssl.keystore")
	}
	return cfg, nil
}

// pemValue returns the PEM text of a truststore or keystore property,
// given as PEM or as base64 of PEM.
func pemValue(k, v string) ([]byte, error) {
	if len(v) > maxStoreLen {
		return nil, propErr(k, "is longer than %d bytes", maxStoreLen)
	}
	if strings.Contains(v, "-----BEGIN ") {
		return []byte(v), nil
	}
	b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(v), ""))
	if err != nil || !bytes.Contains(b, []byte("-----BEGIN ")) {
		return nil, propErr(k, "must be PEM, or base64 of PEM (Java keystores are not supported by moat)")
	}
	return b, nil
}
