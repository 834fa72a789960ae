package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/moat-iot/moat/internal/broker"
)

// setting is one configurable value: its flag, its config-file key, its
// environment variable (derived from the key), its help, and how to read and
// write it as text. The table below is the one list of settings; flags,
// environment variables and help are all generated from it.
type setting struct {
	flag  string // flag name without dashes: "max-request-body"
	key   string // config-file key path, dot-separated: "limits.max-request-body"
	arg   string // placeholder in help: "SIZE"
	group string // help section
	usage string // one or two sentences for help
	list  bool   // repeatable flag; the environment variable is comma-separated
	// profiled: the default comes from the --limits profile, and a value
	// given at any layer overrides the profile's (the --mqtt-* settings).
	profiled bool

	// get formats the current value for help ("" shows as "off" or "none").
	get func(c *Config) string
	// set parses one value from a flag or the environment and stores it;
	// for a list setting it appends.
	set func(c *Config, v string) error
	// reset empties a list setting (to a non-nil empty list) before a
	// layer's values are appended.
	reset func(c *Config)
}

// env is the setting's environment variable: MOAT_ plus the key in upper
// case, dashes and dots turned into underscores.
func (s *setting) env() string { return envName(s.key) }

func envName(key string) string {
	return "MOAT_" + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(key))
}

// Config-file flag: not a Config field, handled by Load before the others.
const (
	configFlag = "config"
	configEnv  = "MOAT_CONFIG"
)

// Help sections, in the order they are printed.
var groups = []string{"Listeners and storage", "Names in certificates and ARNs", "Keys", "Logging", "Limits (HTTPS)",
	"MQTT limits (docs/mqtt.md)", "Policy decision log", "Registry", "Device shadows", "Rules engine",
	"Identities (Cognito) and the credentials provider", "Custom authorizers and MQTT over WebSocket"}

func str(s setting, field func(c *Config) *string) setting {
	s.get, s.set = func(c *Config) string { return *field(c) },
		func(c *Config, v string) error { *field(c) = v; return nil }
	return s
}

func size(s setting, field func(c *Config) *int64) setting {
	s.get, s.set = func(c *Config) string { return FormatSize(*field(c)) },
		func(c *Config, v string) error {
			n, err := ParseSize(v)
			if err != nil {
				return err
			}
			*field(c) = n
			return nil
		}
	return s
}

func intSize(s setting, field func(c *Config) *int) setting {
	s.get, s.set = func(c *Config) string { return FormatSize(int64(*field(c))) },
		func(c *Config, v string) error {
			n, err := ParseSize(v)
			if err != nil {
				return err
			}
			if int64(int(n)) != n {
				return fmt.Errorf("invalid size %q: %w", v, errSizeTooLarge)
			}
			*field(c) = int(n)
			return nil
		}
	return s
}

func duration(s setting, field func(c *Config) *time.Duration) setting {
	s.get, s.set = func(c *Config) string { return field(c).String() },
		func(c *Config, v string) error {
			d, err := time.ParseDuration(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("invalid duration %q: want a Go duration such as 10s, 1m30s or 500ms", v)
			}
			*field(c) = d
			return nil
		}
	return s
}

var settings = []setting{
	str(setting{flag: "data-dir", key: "data-dir", arg: "DIR", group: groups[0],
		usage: "Directory for the database, the server CA (root-ca.pem), the server certificate and admin.credentials; created on first start."},
		func(c *Config) *string { return &c.DataDir }),
	str(setting{flag: "mqtt-addr", key: "mqtt-addr", arg: "ADDR", group: groups[0],
		usage: "MQTT over TLS listen address, host:port (devices authenticate with client certificates). Port 0 picks a free port."},
		func(c *Config) *string { return &c.MQTTAddr }),
	str(setting{flag: "https-addr", key: "https-addr", arg: "ADDR", group: groups[0],
		usage: "HTTPS listen address: AWS IoT control and data plane APIs, MQTT over WebSocket (/mqtt), identity API, console (/console), /health."},
		func(c *Config) *string { return &c.HTTPSAddr }),
	str(setting{flag: "metrics-addr", key: "metrics-addr", arg: "ADDR", group: groups[0],
		usage: "If set, also serve /metrics over plain HTTP without authentication at this address; bind it to loopback or a private network."},
		func(c *Config) *string { return &c.MetricsAddr }),

	{flag: "hostname", key: "hostname", arg: "NAME", group: groups[1], list: true,
		usage: "DNS name or IP address put in the server certificate; repeat for several. The first is the endpoint DescribeEndpoint returns. 127.0.0.1 and ::1 are always included.",
		get:   func(c *Config) string { return strings.Join(c.Hostnames, ",") },
		set:   func(c *Config, v string) error { c.Hostnames = append(c.Hostnames, v); return nil },
		reset: func(c *Config) { c.Hostnames = []string{} }},
	str(setting{flag: "region", key: "region", arg: "REGION", group: groups[1],
		usage: "AWS region name used in ARNs and expected in SigV4 signatures."},
		func(c *Config) *string { return &c.Region }),
	str(setting{flag: "account-id", key: "account-id", arg: "ID", group: groups[1],
		usage: "12-digit AWS account id used in ARNs."},
		func(c *Config) *string { return &c.AccountID }),

	str(setting{flag: "server-key-type", key: "server-key-type", arg: "TYPE", group: groups[2],
		usage: "Key type of the server CA and certificate when first created: ecdsa (P-256), rsa2048 or rsa3072."},
		func(c *Config) *string { return &c.ServerKeyType }),
	str(setting{flag: "device-key-type", key: "device-key-type", arg: "TYPE", group: groups[2],
		usage: "Key type CreateKeysAndCertificate generates for devices: ecdsa (P-256) or rsa2048."},
		func(c *Config) *string { return &c.DeviceKeyType }),

	str(setting{flag: "log-level", key: "log-level", arg: "LEVEL", group: groups[3],
		usage: "Least severe level logged: debug, info, warn or error."},
		func(c *Config) *string { return &c.LogLevel }),
	str(setting{flag: "log-format", key: "log-format", arg: "FORMAT", group: groups[3],
		usage: "Log format on stderr: text or json."},
		func(c *Config) *string { return &c.LogFormat }),

	size(setting{flag: "max-request-body", key: "limits.max-request-body", arg: "SIZE", group: groups[4],
		usage: "Largest HTTP request body accepted, 64KiB to 64MiB (the default fits the largest policy document the API allows)."},
		func(c *Config) *int64 { return &c.Limits.MaxRequestBody }),
	intSize(setting{flag: "max-header-bytes", key: "limits.max-header-bytes", arg: "SIZE", group: groups[4],
		usage: "Largest HTTP request header block accepted, 8KiB to 1MiB."},
		func(c *Config) *int { return &c.Limits.MaxHeaderBytes }),
	duration(setting{flag: "read-header-timeout", key: "limits.read-header-timeout", arg: "DURATION", group: groups[4],
		usage: "Time allowed to read an HTTP request's headers, 1s to 5m."},
		func(c *Config) *time.Duration { return &c.Limits.ReadHeaderTimeout }),
	duration(setting{flag: "read-timeout", key: "limits.read-timeout", arg: "DURATION", group: groups[4],
		usage: "Time allowed to read a whole HTTP request, body included, 1s to 1h."},
		func(c *Config) *time.Duration { return &c.Limits.ReadTimeout }),
	duration(setting{flag: "idle-timeout", key: "limits.idle-timeout", arg: "DURATION", group: groups[4],
		usage: "Time an idle keep-alive HTTP connection is kept open, 1s to 1h."},
		func(c *Config) *time.Duration { return &c.Limits.IdleTimeout }),
	duration(setting{flag: "shutdown-timeout", key: "limits.shutdown-timeout", arg: "DURATION", group: groups[4],
		usage: "Time allowed for a graceful stop after SIGINT/SIGTERM before in-flight work is cut off, 1s to 10m."},
		func(c *Config) *time.Duration { return &c.Limits.ShutdownTimeout }),

	str(setting{flag: "limits", key: "mqtt.limits", arg: "PROFILE", group: groups[5],
		usage: "MQTT limits profile. default: AWS IoT Core's sizes and counts, plus QoS 2, MQTT's wildcard rules and no publish rate cap. " +
			"aws-strict: refuse what AWS IoT Core refuses (QoS 2, over 100 publishes/s per connection, \"a/#\" matching \"a\", " +
			"retained messages on wildcard subscriptions). Each --mqtt-* setting given, at any layer, overrides the profile's value; " +
			"each shows its default and, where it differs, its aws-strict value."},
		func(c *Config) *string { return &c.MQTT.Limits }),
	mqttSize(setting{flag: "mqtt-max-packet-size", key: "mqtt.max-packet-size", group: groups[5],
		usage: "Largest MQTT packet accepted, fixed header included, 1KiB to 256MiB; MQTT 5 clients are told it. The default carries AWS's 128 KiB payload with room for topic and properties."},
		func(c *Config) **int { return &c.MQTT.MaxPacketSize }, func(l broker.Limits) int { return l.MaxPacketSize }),
	mqttCount(setting{flag: "mqtt-max-client-id-length", key: "mqtt.max-client-id-length", group: groups[5],
		usage: "Longest client id accepted, in bytes; 0: MQTT's own maximum (65535)."},
		func(c *Config) **int { return &c.MQTT.MaxClientIDLength }, func(l broker.Limits) int { return l.MaxClientIDLength }),
	mqttCount(setting{flag: "mqtt-max-topic-length", key: "mqtt.max-topic-length", group: groups[5],
		usage: "Longest topic name or filter, in bytes, a $aws/rules/RULE/ or $share/GROUP/ prefix not counted; 0: no limit."},
		func(c *Config) **int { return &c.MQTT.MaxTopicLength }, func(l broker.Limits) int { return l.Topic.MaxLength }),
	mqttCount(setting{flag: "mqtt-max-topic-levels", key: "mqtt.max-topic-levels", group: groups[5],
		usage: "Most levels (slashes plus one) in a topic name or filter, the same prefixes not counted; 0: no limit."},
		func(c *Config) **int { return &c.MQTT.MaxTopicLevels }, func(l broker.Limits) int { return l.Topic.MaxLevels }),
	mqttCount(setting{flag: "mqtt-max-filters-per-subscribe", key: "mqtt.max-filters-per-subscribe", group: groups[5],
		usage: "Most topic filters one SUBSCRIBE may carry; the filters beyond are refused in the SUBACK; 0: no limit."},
		func(c *Config) **int { return &c.MQTT.MaxFiltersPerSubscribe }, func(l broker.Limits) int { return l.MaxFiltersPerSubscribe }),
	mqttCount(setting{flag: "mqtt-max-subscriptions", key: "mqtt.max-subscriptions", group: groups[5],
		usage: "Most subscriptions one session may hold; further ones are refused in the SUBACK; 0: no limit."},
		func(c *Config) **int { return &c.MQTT.MaxSubscriptions }, func(l broker.Limits) int { return l.MaxSubscriptionsPerConnection }),
	mqttCount(setting{flag: "mqtt-max-publish-rate", key: "mqtt.max-publish-rate", group: groups[5],
		usage: "Most PUBLISH packets per second one connection may send; 0: no cap. Over it, MQTT 5 QoS 1/2 publishes are refused with 0x97, others close the connection."},
		func(c *Config) **int { return &c.MQTT.MaxPublishRate }, func(l broker.Limits) int { return l.MaxPublishRate }),
	mqttDuration(setting{flag: "mqtt-min-keep-alive", key: "mqtt.min-keep-alive", group: groups[5],
		usage: "Smallest keep-alive granted, whole seconds up to 65535s; a client asking less gets this (MQTT 5: Server Keep Alive); 0: no minimum."},
		func(c *Config) **time.Duration { return &c.MQTT.MinKeepAlive }, func(l broker.Limits) time.Duration { return keepAlive(l.MinKeepAlive) }),
	mqttDuration(setting{flag: "mqtt-max-keep-alive", key: "mqtt.max-keep-alive", group: groups[5],
		usage: "Largest keep-alive granted, whole seconds up to 65535s; a client asking more, or none (0), gets this; 0: no maximum. A connection silent for 1.5 keep-alives is closed."},
		func(c *Config) **time.Duration { return &c.MQTT.MaxKeepAlive }, func(l broker.Limits) time.Duration { return keepAlive(l.MaxKeepAlive) }),
	mqttCount(setting{flag: "mqtt-max-qos", key: "mqtt.max-qos", group: groups[5],
		usage: "Highest QoS: 2, or 1 as AWS (subscriptions granted QoS 1 at most, QoS 2 publishes and wills refused, MQTT 5 clients told Maximum QoS 1)."},
		func(c *Config) **int { return &c.MQTT.MaxQoS }, func(l broker.Limits) byte { return l.MaxQoS }),
	mqttCount(setting{flag: "mqtt-receive-maximum", key: "mqtt.receive-maximum", group: groups[5],
		usage: "QoS 1/2 messages in flight per direction: what a client may send unacknowledged (MQTT 5 Receive Maximum) and what moat sends a client that sets none; 1 to 65535."},
		func(c *Config) **int { return &c.MQTT.ReceiveMaximum }, func(l broker.Limits) uint16 { return l.ReceiveMaximum }),
	mqttCount(setting{flag: "mqtt-topic-alias-maximum", key: "mqtt.topic-alias-maximum", group: groups[5],
		usage: "Topic aliases an MQTT 5 client may use when publishing, 0 to 65535; 0 disables them."},
		func(c *Config) **int { return &c.MQTT.TopicAliasMaximum }, func(l broker.Limits) uint16 { return l.TopicAliasMaximum }),
	mqttCount(setting{flag: "mqtt-max-queued-messages", key: "mqtt.max-queued-messages", group: groups[5],
		usage: "Messages that may wait for one client beyond its in-flight window, online or offline; more are dropped and counted (moat_mqtt_messages_dropped_total). At least 1."},
		func(c *Config) **int { return &c.MQTT.MaxQueuedMessages }, func(l broker.Limits) int { return l.MaxQueuedMessages }),
	mqttDuration(setting{flag: "mqtt-session-expiry", key: "mqtt.session-expiry", group: groups[5],
		usage: "How long a persistent MQTT 3.1.1 session (clean session 0) outlives its connection, in whole seconds; 0 ends it with the connection."},
		func(c *Config) **time.Duration { return &c.MQTT.SessionExpiry }, func(l broker.Limits) time.Duration { return l.SessionExpiry }),
	mqttDuration(setting{flag: "mqtt-max-session-expiry", key: "mqtt.max-session-expiry", group: groups[5],
		usage: "Longest session expiry an MQTT 5 client may ask for, in whole seconds; longer requests get this; 0: --mqtt-session-expiry."},
		func(c *Config) **time.Duration { return &c.MQTT.MaxSessionExpiry }, func(l broker.Limits) time.Duration { return l.MaxSessionExpiry }),
	mqttDuration(setting{flag: "mqtt-write-timeout", key: "mqtt.write-timeout", group: groups[5],
		usage: "Time allowed for one write to a client; a client that does not read is disconnected. At least 100ms."},
		func(c *Config) **time.Duration { return &c.MQTT.WriteTimeout }, func(l broker.Limits) time.Duration { return l.WriteTimeout }),
	mqttDuration(setting{flag: "mqtt-connect-timeout", key: "mqtt.connect-timeout", group: groups[5],
		usage: "Time allowed from TCP accept to a complete CONNECT, TLS handshake included. At least 100ms."},
		func(c *Config) **time.Duration { return &c.MQTT.ConnectTimeout }, func(l broker.Limits) time.Duration { return l.ConnectTimeout }),
	mqttCount(setting{flag: "mqtt-max-concurrent-handshakes", key: "mqtt.max-concurrent-handshakes", group: groups[5],
		usage: "TLS handshakes in progress at once; further accepted connections wait their turn (reconnect storms). At least 1."},
		func(c *Config) **int { return &c.MQTT.MaxConcurrentHandshakes }, func(l broker.Limits) int { return l.MaxConcurrentHandshakes }),
	mqttCount(setting{flag: "mqtt-accept-rate", key: "mqtt.accept-rate", group: groups[5],
		usage: "Most new MQTT connections accepted per second, 0 to 1000000; 0: no cap."},
		func(c *Config) **int { return &c.MQTT.AcceptRate }, func(l broker.Limits) int { return l.AcceptRate }),
	mqttBool(setting{flag: "mqtt-parent-match", key: "mqtt.parent-match", group: groups[5],
		usage: "Whether \"a/#\" also matches \"a\" (MQTT: true; AWS: false)."},
		func(c *Config) **bool { return &c.MQTT.ParentMatch }, func(l broker.Limits) bool { return l.ParentMatch }),
	mqttBool(setting{flag: "mqtt-retained-on-wildcard", key: "mqtt.retained-on-wildcard", group: groups[5],
		usage: "Whether a subscription with a wildcard filter receives the retained messages it matches (MQTT: true; AWS: only exact filters, false)."},
		func(c *Config) **bool { return &c.MQTT.RetainedOnWildcard }, func(l broker.Limits) bool { return l.RetainedOnWildcard }),

	str(setting{flag: "decision-log", key: "decision-log.path", arg: "PATH", group: groups[6],
		usage: "Policy decision log: one JSON line per device authorization decision (every deny; allows with --decision-log-allows), with the statement that decided. " +
			"Empty: DATA/decisions.log; off: no log."},
		func(c *Config) *string { return &c.DecisionLog.Path }),
	boolean(setting{flag: "decision-log-allows", key: "decision-log.allows", group: groups[6],
		usage: "Also log allowed decisions, not only denies. Every decision is counted in moat_policy_decisions_total either way."},
		func(c *Config) *bool { return &c.DecisionLog.Allows }),
	size(setting{flag: "decision-log-max-size", key: "decision-log.max-size", arg: "SIZE", group: groups[6],
		usage: "Size at which the decision log is rotated to PATH.1, PATH.1 to PATH.2 and so on, 64KiB to 1GiB."},
		func(c *Config) *int64 { return &c.DecisionLog.MaxSize }),
	count(setting{flag: "decision-log-max-files", key: "decision-log.max-files", group: groups[6],
		usage: "Rotated decision log files kept, 1 to 100; the oldest is removed."},
		func(c *Config) *int { return &c.DecisionLog.MaxFiles }),
	count(setting{flag: "decision-log-buffer", key: "decision-log.buffer", group: groups[6],
		usage: "Decision log entries that may wait for the disk, 16 to 1048576; beyond, entries are dropped and counted (moat_decision_log_dropped_total), never waited for."},
		func(c *Config) *int { return &c.DecisionLog.Buffer }),

	duration(setting{flag: "thing-type-delete-delay", key: "thing-type-delete-delay", arg: "DURATION", group: groups[7],
		usage: "How long a thing type must have been deprecated before DeleteThingType deletes it (AWS: about 5 minutes), 0 to 24h; 0: no wait."},
		func(c *Config) *time.Duration { return &c.ThingTypeDeleteDelay }),

	intSize(setting{flag: "shadow-max-state-bytes", key: "shadow.max-state-bytes", arg: "SIZE", group: groups[8],
		usage: "Largest shadow state document (desired and reported, metadata excluded), 1KiB to 1MiB (AWS: 8KiB); larger updates are rejected with 413."},
		func(c *Config) *int { return &c.Shadow.MaxStateBytes }),
	count(setting{flag: "shadow-max-depth", key: "shadow.max-depth", group: groups[8],
		usage: "Levels of nesting allowed under desired and reported, 1 to 32 (AWS: 6)."},
		func(c *Config) *int { return &c.Shadow.MaxDepth }),
	count(setting{flag: "shadow-max-client-token", key: "shadow.max-client-token", group: groups[8],
		usage: "Longest clientToken of a shadow request, in bytes, 1 to 1024 (AWS: 64)."},
		func(c *Config) *int { return &c.Shadow.MaxClientToken }),
	count(setting{flag: "shadow-max-in-flight", key: "shadow.max-in-flight", group: groups[8],
		usage: "Shadow requests one MQTT connection may have waiting for their reply, 1 to 10000 (AWS: 10); more are rejected with 429."},
		func(c *Config) *int { return &c.Shadow.MaxInFlight }),
	duration(setting{flag: "shadow-tombstone-ttl", key: "shadow.tombstone-ttl", arg: "DURATION", group: groups[8],
		usage: "How long a deleted shadow's version is remembered, so that a shadow re-created within it continues from it (AWS: 48h), 1m to 720h."},
		func(c *Config) *time.Duration { return &c.Shadow.TombstoneTTL }),

	{flag: "rules-http-destination", key: "rules.http-destinations", arg: "URL", group: groups[9], list: true,
		usage: "A URL prefix rule actions (http, and lambda given as a URL) may send to, such as https://hooks.example.com/iot/; repeat for several. " +
			"None by default: moat sends nowhere it was not told to (AWS confirms destinations; here the operator lists them).",
		get: func(c *Config) string { return strings.Join(c.Rules.HTTPDestinations, ",") },
		set: func(c *Config, v string) error {
			c.Rules.HTTPDestinations = append(c.Rules.HTTPDestinations, v)
			return nil
		},
		reset: func(c *Config) { c.Rules.HTTPDestinations = []string{} }},
	count(setting{flag: "rules-queue-len", key: "rules.queue-len", group: groups[9],
		usage: "Messages that may wait for one rule's actions, 1 to 1000000; beyond, the publisher is held back for up to a second, then the message is dropped and counted (moat_rules_dropped_total)."},
		func(c *Config) *int { return &c.Rules.QueueLen }),
	count(setting{flag: "rules-workers", key: "rules.workers", group: groups[9],
		usage: "Messages one rule works on at once, 1 to 1024 (so a slow destination stalls its own rule only)."},
		func(c *Config) *int { return &c.Rules.Workers }),
	count(setting{flag: "rules-max-attempts", key: "rules.max-attempts", group: groups[9],
		usage: "Tries of a failing action before the rule's errorAction runs, 1 to 20 (backoff 100ms, x4 each, at most 5s)."},
		func(c *Config) *int { return &c.Rules.MaxAttempts }),
	duration(setting{flag: "rules-action-timeout", key: "rules.action-timeout", arg: "DURATION", group: groups[9],
		usage: "Bound of one attempt of one action, 100ms to 5m."},
		func(c *Config) *time.Duration { return &c.Rules.ActionTimeout }),
	count(setting{flag: "rules-max-hops", key: "rules.max-hops", group: groups[9],
		usage: "How many rule actions in a row may produce a message and still have rules run on it (a republish of a republish...), 1 to 64: loops end there."},
		func(c *Config) *int { return &c.Rules.MaxHops }),

	{flag: "crl", key: "crl", arg: "PATH", group: groups[2], list: true,
		usage: "A certificate revocation list file (PEM or DER) of a registered CA or of moat's device CA, matched by its signature; repeat for several. " +
			"Certificates on it are refused and their live connections closed; the file is reloaded when it changes, and one that fails to load leaves the previous in force.",
		get:   func(c *Config) string { return strings.Join(c.CRLs, ",") },
		set:   func(c *Config, v string) error { c.CRLs = append(c.CRLs, v); return nil },
		reset: func(c *Config) { c.CRLs = []string{} }},

	str(setting{flag: "server-cert", key: "tls.server-cert", arg: "PATH", group: groups[2],
		usage: "PEM file of an operator-provided server certificate (RSA 2048+ or ECDSA P-256/P-384, serverAuth), then its intermediates; served on the MQTT and HTTPS listeners " +
			"instead of moat's own, never renewed, read at start. Needs --server-key. root-ca.pem then holds its root: the file's last certificate if self-signed, else --server-ca."},
		func(c *Config) *string { return &c.TLS.Cert }),
	str(setting{flag: "server-key", key: "tls.server-key", arg: "PATH", group: groups[2],
		usage: "PEM file of the private key of --server-cert (not accessible by others)."},
		func(c *Config) *string { return &c.TLS.Key }),
	str(setting{flag: "server-ca", key: "tls.server-ca", arg: "PATH", group: groups[2],
		usage: "PEM file of the one root certificate --server-cert chains to, written to root-ca.pem for devices to trust; needed when the chain in --server-cert does not end in its self-signed root."},
		func(c *Config) *string { return &c.TLS.CA }),

	{flag: "oidc-provider", key: "identity.oidc-providers", arg: "SPEC", group: groups[10], list: true,
		usage: "An OpenID Connect issuer whose ID tokens identity pools may accept as logins: \"ISSUER JWKS [CLIENT_ID ...]\", separated by spaces, " +
			"e.g. \"https://login.example.com https://login.example.com/jwks.json app-1\". JWKS is an https URL or a file; the client ids are the audiences " +
			"accepted by pools that list the issuer in OpenIdConnectProviderARNs (arn:aws:iam::ACCOUNT:oidc-provider/login.example.com). Repeat for several.",
		get: func(c *Config) string { return strings.Join(c.Identity.OIDCProviders, ",") },
		set: func(c *Config, v string) error {
			c.Identity.OIDCProviders = append(c.Identity.OIDCProviders, v)
			return nil
		},
		reset: func(c *Config) { c.Identity.OIDCProviders = []string{} }},
	duration(setting{flag: "cognito-credential-duration", key: "identity.credential-duration", arg: "DURATION", group: groups[10],
		usage: "Life of the temporary credentials GetCredentialsForIdentity issues (AWS: 1h), 15m to 12h; capped by the role's maximum session."},
		func(c *Config) *time.Duration { return &c.Identity.CredentialDuration }),
	count(setting{flag: "cognito-max-identity-pools", key: "identity.max-identity-pools", group: groups[10],
		usage: "Identity pools the account may have (AWS: 1000), 1 to 100000."},
		func(c *Config) *int { return &c.Identity.MaxIdentityPools }),
	count(setting{flag: "cognito-max-identities-per-pool", key: "identity.max-identities-per-pool", group: groups[10],
		usage: "Identities one identity pool may have, 1 to 1000000000, so that a pool open to guests cannot fill the disk."},
		func(c *Config) *int { return &c.Identity.MaxIdentitiesPerPool }),
	count(setting{flag: "max-role-aliases", key: "identity.max-role-aliases", group: groups[10],
		usage: "Role aliases of the IoT credentials provider the account may have (AWS: 100), 1 to 100000."},
		func(c *Config) *int { return &c.Identity.MaxRoleAliases }),

	{flag: "authorizer-url", key: "authorizers.urls", arg: "URL", group: groups[11], list: true,
		usage: "A URL prefix custom authorizer functions (authorizerFunctionArn given as a URL) may be under, such as https://auth.example.com/iot/; repeat for several. " +
			"None by default: CreateAuthorizer refuses a function moat was not told it may call.",
		get: func(c *Config) string { return strings.Join(c.CustomAuth.URLs, ",") },
		set: func(c *Config, v string) error {
			c.CustomAuth.URLs = append(c.CustomAuth.URLs, v)
			return nil
		},
		reset: func(c *Config) { c.CustomAuth.URLs = []string{} }},
	duration(setting{flag: "authorizer-timeout", key: "authorizers.timeout", arg: "DURATION", group: groups[11],
		usage: "Longest wait for one custom authorizer function call (AWS: 5s), 100ms to 30s; a slow function refuses the connection."},
		func(c *Config) *time.Duration { return &c.CustomAuth.Timeout }),
	count(setting{flag: "authorizer-max-in-flight", key: "authorizers.max-in-flight", group: groups[11],
		usage: "Custom authorizer function calls in progress at once, 1 to 100000; beyond, connections are refused at once rather than queued."},
		func(c *Config) *int { return &c.CustomAuth.MaxInFlight }),
	str(setting{flag: "authorizer-ca-file", key: "authorizers.ca-file", arg: "PATH", group: groups[11],
		usage: "PEM file of CA certificates trusted for https:// authorizer functions, besides the system roots."},
		func(c *Config) *string { return &c.CustomAuth.CAFile }),
	count(setting{flag: "websocket-replay-cache", key: "websocket.replay-cache", group: groups[11],
		usage: "Presigned WebSocket URLs remembered so that each is accepted once until it expires, 1000 to 10000000; when full of unexpired URLs, new ones are refused (503)."},
		func(c *Config) *int { return &c.WebSocket.ReplayCache }),
}

// quoteDefault formats a default for help.
func quoteDefault(s *setting, v string) string {
	switch {
	case v == "" && s.flag == "metrics-addr":
		return "off"
	case v == "" && (s.flag == "rules-http-destination" || s.flag == "crl" || s.flag == "oidc-provider" || s.flag == "authorizer-url"):
		return "none"
	case v == "" && s.flag == "decision-log":
		return "DATA/" + DecisionLogFile
	case v == "":
		return `""`
	case s.arg == "SIZE" || s.arg == "DURATION" || s.arg == "N" || s.arg == "BOOL" || s.list:
		return v
	}
	return strconv.Quote(v)
}
