package action

import (
	"maps"
	"strings"
	"testing"
)

// TestParseKafkaConfig checks the clientProperties that moat accepts and
// the error for each it refuses.
func TestParseKafkaConfig(t *testing.T) {
	pki := newTestPKI(t)
	plain := map[string]string{"bootstrap.servers": "k1:9092", "security.protocol": "PLAINTEXT"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{"bootstrap.servers": "k1:9092,k2:9093"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	sasl := func(kv ...string) map[string]string {
		return with(append([]string{"security.protocol", "SASL_SSL"}, kv...)...)
	}
	valid := map[string]map[string]string{
		"plaintext":                       plain,
		"SSL by default":                  with(),
		"port defaults to 9092":           with("bootstrap.servers", "k1, [::1]:9093"),
		"acks and compression":            with("acks", "all", "compression.type", "zstd"),
		"serializers":                     with("key.serializer", "org.apache.kafka.common.serialization.StringSerializer", "value.serializer", "ByteArraySerializer"),
		"truststore PEM":                  with("ssl.truststore", pki.caPEM, "ssl.truststore.password", "unused"),
		"truststore base64":               with("ssl.truststore", b64(pki.caPEM)),
		"keystore":                        with("ssl.keystore", pki.clientPEM, "ssl.keystore.password", "unused"),
		"SASL PLAIN":                      sasl("sasl.mechanism", "PLAIN", "sasl.plain.username", "u", "sasl.plain.password", "p"),
		"SASL SCRAM-SHA-256":              sasl("sasl.mechanism", "SCRAM-SHA-256", "sasl.scram.username", "u", "sasl.scram.password", "p"),
		"SASL SCRAM-SHA-512 + truststore": sasl("sasl.mechanism", "SCRAM-SHA-512", "sasl.scram.username", "u", "sasl.scram.password", "p", "ssl.truststore", pki.caPEM),
	}
	for name, props := range valid {
		if _, err := parseKafkaConfig(props); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	invalid := []struct {
		name  string
		props map[string]string
		want  string
	}{
		{"empty", map[string]string{}, "clientProperties is required"},
		{"no bootstrap.servers", map[string]string{"acks": "1"}, `["bootstrap.servers"]: is required`},
		{"bad bootstrap.servers", with("bootstrap.servers", "k1:9092,k2:port"), `"k2:port" is not host:port`},
		{"bootstrap.servers without host", with("bootstrap.servers", ":9092"), `":9092" is not host:port`},
		{"bootstrap.servers port 0", with("bootstrap.servers", "k1:0"), `"k1:0" is not host:port`},
		{"acks 2", with("acks", "2"), `["acks"]: must be 0, 1, -1 or all, not "2"`},
		{"compression brotli", with("compression.type", "brotli"), `["compression.type"]: must be none, gzip, snappy, lz4 or zstd`},
		{"protocol SASL_PLAINTEXT", with("security.protocol", "SASL_PLAINTEXT"), `["security.protocol"]: must be SSL, SASL_SSL or PLAINTEXT`},
		{"SASL_SSL without mechanism", sasl(), `["sasl.mechanism"]: is required with security.protocol SASL_SSL`},
		{"GSSAPI", sasl("sasl.mechanism", "GSSAPI"), "Kerberos (GSSAPI) is not supported by moat"},
		{"kerberos property", with("sasl.kerberos.service.name", "kafka"), "Kerberos (GSSAPI) is not supported by moat"},
		{"unknown mechanism", sasl("sasl.mechanism", "OAUTHBEARER"), `must be PLAIN, SCRAM-SHA-512 or SCRAM-SHA-256, not "OAUTHBEARER"`},
		{"PLAIN without password", sasl("sasl.mechanism", "PLAIN", "sasl.plain.username", "u"), `["sasl.plain.username"]: and sasl.plain.password are required`},
		{"SCRAM with PLAIN credentials", sasl("sasl.mechanism", "SCRAM-SHA-512", "sasl.plain.username", "u", "sasl.plain.password", "p"),
			`["sasl.plain.username"]: does not go with sasl.mechanism SCRAM-SHA-512`},
		{"mechanism without SASL_SSL", with("sasl.mechanism", "PLAIN"), `["sasl.mechanism"]: needs security.protocol SASL_SSL`},
		{"credentials without SASL_SSL", with("sasl.scram.password", "p"), `["sasl.scram.password"]: needs security.protocol SASL_SSL`},
		{"truststore with PLAINTEXT", map[string]string{"bootstrap.servers": "k:1", "security.protocol": "PLAINTEXT", "ssl.truststore": pki.caPEM},
			`["ssl.truststore"]: needs security.protocol SSL or SASL_SSL`},
		{"truststore not PEM", with("ssl.truststore", b64("\xfe\xedJKS")), `["ssl.truststore"]: must be PEM, or base64 of PEM`},
		{"truststore without certificate", with("ssl.truststore", "-----BEGIN NOTHING-----\n-----END NOTHING-----\n"), `["ssl.truststore"]: has no PEM certificate`},
		{"truststore too large", with("ssl.truststore", strings.Repeat("A", maxStoreLen+1)), "is longer than"},
		{"keystore without key", with("ssl.keystore", pki.caPEM), `["ssl.keystore"]: needs a PEM certificate and its unencrypted private key`},
		{"encrypted key", with("ssl.keystore", pki.clientPEM, "ssl.key.password", "p"), "encrypted private keys are not supported by moat"},
		{"keystore password alone", with("ssl.keystore.password", "p"), `["ssl.keystore.password"]: needs ssl.keystore`},
		{"serializer", with("value.serializer", "io.confluent.kafka.serializers.KafkaAvroSerializer"), `["value.serializer"]: must be StringSerializer`},
		{"unknown property", with("linger.ms", "5"), `clientProperties["linger.ms"] is not supported by moat`},
		{"get_secret", with("ssl.truststore", "${get_secret('ts','SecretBinary','arn:aws:iam::1:role/r')}"), "substitution templates (such as get_secret)"},
	}
	for _, c := range invalid {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseKafkaConfig(c.props)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want it to contain %q", err, c.want)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "kafka: clientProperties") {
				t.Errorf("error %q does not start with kafka: clientProperties", err)
			}
		})
	}
}

// TestParseKafkaConfig_id checks that equal properties share a producer
// and different ones do not, whatever their order.
func TestParseKafkaConfig_id(t *testing.T) {
	id := func(m map[string]string) string {
		c, err := parseKafkaConfig(m)
		if err != nil {
			t.Fatal(err)
		}
		return c.id
	}
	a := id(map[string]string{"bootstrap.servers": "k:1", "acks": "all", "security.protocol": "PLAINTEXT"})
	b := id(map[string]string{"security.protocol": "PLAINTEXT", "acks": "all", "bootstrap.servers": "k:1"})
	c := id(map[string]string{"bootstrap.servers": "k:1", "acks": "1", "security.protocol": "PLAINTEXT"})
	if a != b {
		t.Error("the same properties in another order have another id")
	}
	if a == c {
		t.Error("different properties have the same id")
	}
	// A value that looks like the separator and another property cannot
	// make two sets collide.
	sasl := map[string]string{"bootstrap.servers": "k:1", "security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN", "sasl.plain.username": "u"}
	d := maps.Clone(sasl)
	d["sasl.plain.password"] = "p\n\"ssl.truststore.password\"=\"q\""
	e := maps.Clone(sasl)
	e["sasl.plain.password"], e["ssl.truststore.password"] = "p", "q"
	if id(d) == id(e) {
		t.Error("a value with an embedded separator collides with another set")
	}
}
