package config

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/broker"
	"github.com/moat-iot/moat/internal/topic"
)

func TestMQTT_FileMirror(t *testing.T) {
	// The mqttFile mirror has the same keys as MQTT, in the same order.
	got := yamlKeys(reflect.TypeFor[MQTT](), "")
	mirror := yamlKeys(reflect.TypeFor[mqttFile](), "")
	if !slices.Equal(got, mirror) {
		t.Fatalf("MQTT keys %v, mqttFile keys %v", got, mirror)
	}
}

func TestMQTT_EverySettingIsProfiled(t *testing.T) {
	// Every mqtt.* key except the profile takes its default from the
	// profile, and every broker limit has a setting: 21 of them.
	n := 0
	for _, s := range settings {
		if !strings.HasPrefix(s.key, "mqtt.") || s.key == "mqtt.limits" {
			if s.profiled {
				t.Errorf("--%s is profiled but not an MQTT limit", s.flag)
			}
			continue
		}
		if !s.profiled || s.flag != "mqtt-"+strings.TrimPrefix(s.key, "mqtt.") {
			t.Errorf("--%s (key %s): want a profiled setting named after its key", s.flag, s.key)
		}
		n++
	}
	if n != 21 {
		t.Fatalf("%d MQTT limit settings, want 21", n)
	}
}

func TestBrokerLimits_Profiles(t *testing.T) {
	// With no single setting, the profile's limits come through unchanged,
	// and they are valid.
	c := Default()
	if got, want := c.BrokerLimits(), broker.DefaultLimits(); got != want {
		t.Fatalf("default profile: got %+v, want %+v", got, want)
	}
	c.MQTT.Limits = LimitsAWSStrict
	if got, want := c.BrokerLimits(), broker.AWSStrictLimits(); got != want {
		t.Fatalf("aws-strict profile: got %+v, want %+v", got, want)
	}
	for _, p := range []string{LimitsDefault, LimitsAWSStrict} {
		c.MQTT.Limits = p
		if err := c.Validate(); err != nil {
			t.Fatalf("profile %s: Validate = %v", p, err)
		}
		if err := c.BrokerLimits().Validate(); err != nil {
			t.Fatalf("profile %s: broker Validate = %v", p, err)
		}
	}
}

// allMQTTFlags sets every single MQTT limit to a value that neither
// profile has; allMQTTLimits is the broker.Limits they give.
var allMQTTFlags = []string{
	"--mqtt-max-packet-size", "1MiB", "--mqtt-max-client-id-length", "64", "--mqtt-max-topic-length", "512",
	"--mqtt-max-topic-levels", "16", "--mqtt-max-filters-per-subscribe", "32", "--mqtt-max-subscriptions", "500",
	"--mqtt-max-publish-rate", "250", "--mqtt-min-keep-alive", "10s", "--mqtt-max-keep-alive", "1h",
	"--mqtt-max-qos", "1", "--mqtt-receive-maximum", "20", "--mqtt-topic-alias-maximum", "0",
	"--mqtt-max-queued-messages", "5000", "--mqtt-session-expiry", "2h", "--mqtt-max-session-expiry", "24h",
	"--mqtt-write-timeout", "5s", "--mqtt-connect-timeout", "3s", "--mqtt-max-concurrent-handshakes", "64",
	"--mqtt-accept-rate", "300", "--mqtt-parent-match", "false", "--mqtt-retained-on-wildcard=false",
}

var allMQTTLimits = broker.Limits{
	MaxPacketSize: MiB, MaxClientIDLength: 64, Topic: topic.Limits{MaxLength: 512, MaxLevels: 16},
	MaxFiltersPerSubscribe: 32, MaxSubscriptionsPerConnection: 500, MaxPublishRate: 250,
	MinKeepAlive: 10, MaxKeepAlive: 3600, MaxQoS: 1, ReceiveMaximum: 20, TopicAliasMaximum: 0,
	MaxQueuedMessages: 5000, SessionExpiry: 2 * time.Hour, MaxSessionExpiry: 24 * time.Hour,
	WriteTimeout: 5 * time.Second, ConnectTimeout: 3 * time.Second, MaxConcurrentHandshakes: 64,
	AcceptRate: 300, ParentMatch: false, RetainedOnWildcard: false,
}

func TestLoad_MQTTPrecedence(t *testing.T) {
	strict := broker.AWSStrictLimits()
	def := broker.DefaultLimits()
	with := func(l broker.Limits, f func(l *broker.Limits)) broker.Limits { f(&l); return l }
	tests := []struct {
		name string
		file string
		env  map[string]string
		args []string
		want broker.Limits
	}{
		// Nothing given: the default profile.
		{"defaults", "", nil, nil, def},
		// The profile alone, from any layer.
		{"profile flag", "", nil, []string{"--limits", "aws-strict"}, strict},
		{"profile env", "", map[string]string{"MOAT_MQTT_LIMITS": "aws-strict"}, nil, strict},
		{"profile file", "mqtt:\n  limits: aws-strict\n", nil, nil, strict},
		// A single setting overrides its profile's value and only that:
		// aws-strict with QoS 2 is still strict about everything else.
		{"strict with qos 2", "", nil, []string{"--limits", "aws-strict", "--mqtt-max-qos", "2"},
			with(strict, func(l *broker.Limits) { l.MaxQoS = 2 })},
		// A single setting from a lower layer still beats the profile from
		// a higher one: the profile gives base values, not a reset.
		{"file single under flag profile", "mqtt:\n  max-publish-rate: 500\n", nil, []string{"--limits", "aws-strict"},
			with(strict, func(l *broker.Limits) { l.MaxPublishRate = 500 })},
		{"env single under flag profile", "", map[string]string{"MOAT_MQTT_PARENT_MATCH": "true"}, []string{"--limits", "aws-strict"},
			with(strict, func(l *broker.Limits) { l.ParentMatch = true })},
		{"file single, env profile", "mqtt:\n  max-qos: 1\n", map[string]string{"MOAT_MQTT_LIMITS": "default"}, nil,
			with(def, func(l *broker.Limits) { l.MaxQoS = 1 })},
		// The same single setting at several layers: flags > env > file.
		{"single flag over env over file", "mqtt:\n  max-subscriptions: 100\n",
			map[string]string{"MOAT_MQTT_MAX_SUBSCRIPTIONS": "200"}, []string{"--mqtt-max-subscriptions", "300"},
			with(def, func(l *broker.Limits) { l.MaxSubscriptionsPerConnection = 300 })},
		{"single env over file", "mqtt:\n  max-subscriptions: 100\n",
			map[string]string{"MOAT_MQTT_MAX_SUBSCRIPTIONS": "200"}, nil,
			with(def, func(l *broker.Limits) { l.MaxSubscriptionsPerConnection = 200 })},
		// Given as 0 is not "not given": 0 turns a limit off.
		{"zero given", "mqtt:\n  max-subscriptions: 0\n  max-topic-levels: 0\n", nil, nil,
			with(def, func(l *broker.Limits) { l.MaxSubscriptionsPerConnection, l.Topic.MaxLevels = 0, 0 })},
		// An empty value in the file is "not given": the profile's value.
		{"empty file value", "mqtt:\n  limits: aws-strict\n  max-qos:\n  max-publish-rate:\n", nil, nil, strict},
		// File forms: sizes with units, durations, booleans.
		{"file forms", "mqtt:\n  max-packet-size: 64KiB\n  max-keep-alive: 10m\n  retained-on-wildcard: false\n", nil, nil,
			with(def, func(l *broker.Limits) { l.MaxPacketSize, l.MaxKeepAlive, l.RetainedOnWildcard = 64*KiB, 600, false })},
		// Environment forms.
		{"env forms", "", map[string]string{"MOAT_MQTT_MAX_PACKET_SIZE": "262144", "MOAT_MQTT_SESSION_EXPIRY": "0s",
			"MOAT_MQTT_MAX_KEEP_ALIVE": "0s"}, nil,
			with(def, func(l *broker.Limits) { l.MaxPacketSize, l.SessionExpiry, l.MaxKeepAlive = 256*KiB, 0, 0 })},
		// Every single setting reaches its broker limit, whatever the profile.
		{"all flags, default", "", nil, allMQTTFlags, allMQTTLimits},
		{"all flags, strict", "", nil, append([]string{"--limits", "aws-strict"}, allMQTTFlags...), allMQTTLimits},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range tt.env {
				env[k] = v
			}
			if tt.file != "" {
				env["MOAT_CONFIG"] = writeFile(t, tt.file)
			}
			c, err := Load(tt.args, envMap(env))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if got := c.BrokerLimits(); got != tt.want {
				t.Fatalf("BrokerLimits:\n got %+v\nwant %+v", got, tt.want)
			}
			if err := c.BrokerLimits().Validate(); err != nil {
				t.Fatalf("broker Validate: %v", err)
			}
		})
	}
}

func TestLoad_MQTTErrors(t *testing.T) {
	tests := []struct {
		name string
		file string
		env  map[string]string
		args []string
		want []string // substrings of the error
	}{
		// Values that do not parse are refused while parsing, named by flag
		// or variable.
		{"qos not a number", "", nil, []string{"--mqtt-max-qos", "two"}, []string{`invalid value "two" for flag --mqtt-max-qos`, "whole number"}},
		{"bool", "", nil, []string{"--mqtt-parent-match", "maybe"}, []string{"--mqtt-parent-match", "want true or false"}},
		{"bool needs a value", "", nil, []string{"--mqtt-parent-match"}, []string{"flag needs an argument: --mqtt-parent-match"}},
		{"size", "", nil, []string{"--mqtt-max-packet-size", "big"}, []string{"--mqtt-max-packet-size", "invalid size"}},
		{"duration", "", nil, []string{"--mqtt-min-keep-alive", "30"}, []string{"--mqtt-min-keep-alive", "invalid duration"}},
		{"env number", "", map[string]string{"MOAT_MQTT_ACCEPT_RATE": "fast"}, nil, []string{"MOAT_MQTT_ACCEPT_RATE: invalid number"}},
		{"env empty counts as set", "", map[string]string{"MOAT_MQTT_MAX_QOS": ""}, nil, []string{"MOAT_MQTT_MAX_QOS: invalid number"}},
		// Values out of range are refused by Validate, naming the flag.
		{"profile", "", nil, []string{"--limits", "aws"}, []string{`--limits: must be one of default, aws-strict, got "aws"`}},
		{"qos 0", "", nil, []string{"--mqtt-max-qos", "0"}, []string{"--mqtt-max-qos: must be between 1 and 2, got 0"}},
		{"qos 3", "", nil, []string{"--mqtt-max-qos", "3"}, []string{"--mqtt-max-qos: must be between 1 and 2, got 3"}},
		{"receive maximum 0", "", nil, []string{"--mqtt-receive-maximum", "0"}, []string{"--mqtt-receive-maximum: must be between 1 and 65535"}},
		{"receive maximum too big", "", nil, []string{"--mqtt-receive-maximum", "65536"}, []string{"--mqtt-receive-maximum: must be between 1 and 65535, got 65536"}},
		{"alias maximum", "", nil, []string{"--mqtt-topic-alias-maximum", "-1"}, []string{"--mqtt-topic-alias-maximum: must be between 0 and 65535"}},
		{"packet size small", "", nil, []string{"--mqtt-max-packet-size", "100"}, []string{"--mqtt-max-packet-size: must be between 1KiB and 268435460 bytes, got 100"}},
		{"packet size big", "", nil, []string{"--mqtt-max-packet-size", "1GiB"}, []string{"--mqtt-max-packet-size: must be between"}},
		{"client id", "", nil, []string{"--mqtt-max-client-id-length", "70000"}, []string{"--mqtt-max-client-id-length: must be between 0 and 65535"}},
		{"negative count", "", nil, []string{"--mqtt-max-subscriptions", "-1"}, []string{"--mqtt-max-subscriptions: must be between 0"}},
		{"rate", "", nil, []string{"--mqtt-max-publish-rate", "-5"}, []string{"--mqtt-max-publish-rate: must be between 0 and 1000000"}},
		{"accept rate", "", nil, []string{"--mqtt-accept-rate", "2000000000"}, []string{"--mqtt-accept-rate: must be between 0 and 1000000"}},
		{"queue", "", nil, []string{"--mqtt-max-queued-messages", "0"}, []string{"--mqtt-max-queued-messages: must be between 1"}},
		{"handshakes", "", nil, []string{"--mqtt-max-concurrent-handshakes", "0"}, []string{"--mqtt-max-concurrent-handshakes: must be between 1"}},
		{"keep-alive fraction", "", nil, []string{"--mqtt-min-keep-alive", "1500ms"}, []string{"--mqtt-min-keep-alive: must be a whole number of seconds, got 1.5s"}},
		{"keep-alive too long", "", nil, []string{"--mqtt-max-keep-alive", "24h"}, []string{"--mqtt-max-keep-alive: must be between 0s and 18h12m15s"}},
		{"keep-alive negative", "", nil, []string{"--mqtt-min-keep-alive", "-1s"}, []string{"--mqtt-min-keep-alive: must be between 0s"}},
		{"expiry fraction", "", nil, []string{"--mqtt-session-expiry", "1.5s"}, []string{"--mqtt-session-expiry: must be a whole number of seconds"}},
		{"expiry negative", "", nil, []string{"--mqtt-max-session-expiry", "-1h"}, []string{"--mqtt-max-session-expiry: must be between 0s"}},
		{"write timeout", "", nil, []string{"--mqtt-write-timeout", "0s"}, []string{"--mqtt-write-timeout: must be at least 100ms, got 0s"}},
		{"connect timeout", "", nil, []string{"--mqtt-connect-timeout", "1ms"}, []string{"--mqtt-connect-timeout: must be at least 100ms"}},
		// The keep-alive bounds are checked together, against the
		// profile's value of the one not given.
		{"min above profile max", "", nil, []string{"--mqtt-min-keep-alive", "30m"},
			[]string{"--mqtt-min-keep-alive: 30m0s is above --mqtt-max-keep-alive 20m0s (the value of --limits default)"}},
		{"max below profile min", "", nil, []string{"--limits", "aws-strict", "--mqtt-max-keep-alive", "10s"},
			[]string{"--mqtt-max-keep-alive: 10s is below --mqtt-min-keep-alive 30s (the value of --limits aws-strict)"}},
		{"min above given max", "", nil, []string{"--mqtt-min-keep-alive", "2m", "--mqtt-max-keep-alive", "1m"},
			[]string{"--mqtt-min-keep-alive: 2m0s is above --mqtt-max-keep-alive 1m0s"}},
		// Errors say where a value came from.
		{"from env", "", map[string]string{"MOAT_MQTT_MAX_QOS": "3"}, nil, []string{"--mqtt-max-qos (set by MOAT_MQTT_MAX_QOS): must be between 1 and 2"}},
		{"from file", "mqtt:\n  receive-maximum: 0\n", nil, nil, []string{"--mqtt-receive-maximum (set by config file", "must be between 1 and 65535"}},
		{"profile from file", "mqtt:\n  limits: strict\n", nil, nil, []string{"--limits (set by config file", `got "strict"`}},
		// The file is strict about MQTT keys and types too.
		{"unknown mqtt key", "mqtt:\n  max-qso: 1\n", nil, nil, []string{`line 2: unknown key "mqtt.max-qso"`}},
		{"flag name as key", "mqtt:\n  mqtt-max-qos: 1\n", nil, nil, []string{`unknown key "mqtt.mqtt-max-qos"`}},
		{"profile at top level", "limits: aws-strict\n", nil, nil, []string{"line 1"}},
		{"file bad type", "mqtt:\n  max-qos: [1]\n", nil, nil, []string{"line 2"}},
		{"file bad bool", "mqtt:\n  parent-match: sometimes\n", nil, nil, []string{"line 2"}},
		{"file bad size", "mqtt:\n  max-packet-size: lots\n", nil, nil, []string{"line 2", "invalid size"}},
		{"file int duration", "mqtt:\n  max-keep-alive: 1200\n", nil, nil, []string{"line 2", "time.Duration"}},
		// Several problems are reported together.
		{"several", "", nil, []string{"--mqtt-max-qos", "3", "--mqtt-receive-maximum", "0"}, []string{"--mqtt-max-qos:", "--mqtt-receive-maximum:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range tt.env {
				env[k] = v
			}
			if tt.file != "" {
				env["MOAT_CONFIG"] = writeFile(t, tt.file)
			}
			_, err := Load(tt.args, envMap(env))
			if err == nil {
				t.Fatalf("Load succeeded, want an error containing %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestValidate_MQTTEdges(t *testing.T) {
	// Every single setting at both ends of its range is valid, for both
	// profiles, and gives limits the broker accepts.
	i := func(n int) *int { return &n }
	d := func(x time.Duration) *time.Duration { return &x }
	b := func(v bool) *bool { return &v }
	low := MQTT{
		MaxPacketSize: i(KiB), MaxClientIDLength: i(0), MaxTopicLength: i(0), MaxTopicLevels: i(0),
		MaxFiltersPerSubscribe: i(0), MaxSubscriptions: i(0), MaxPublishRate: i(0), MinKeepAlive: d(0),
		MaxKeepAlive: d(0), MaxQoS: i(1), ReceiveMaximum: i(1), TopicAliasMaximum: i(0), MaxQueuedMessages: i(1),
		SessionExpiry: d(0), MaxSessionExpiry: d(0), WriteTimeout: d(100 * time.Millisecond),
		ConnectTimeout: d(100 * time.Millisecond), MaxConcurrentHandshakes: i(1), AcceptRate: i(0),
		ParentMatch: b(false), RetainedOnWildcard: b(false),
	}
	high := MQTT{
		MaxPacketSize: i(268435460), MaxClientIDLength: i(65535), MaxTopicLength: i(65535), MaxTopicLevels: i(65535),
		MaxFiltersPerSubscribe: i(65535), MaxSubscriptions: i(1 << 30), MaxPublishRate: i(1_000_000),
		MinKeepAlive: d(65535 * time.Second), MaxKeepAlive: d(65535 * time.Second), MaxQoS: i(2),
		ReceiveMaximum: i(65535), TopicAliasMaximum: i(65535), MaxQueuedMessages: i(1 << 30),
		SessionExpiry: d((1<<32 - 2) * time.Second), MaxSessionExpiry: d((1<<32 - 2) * time.Second),
		WriteTimeout: d(time.Hour), ConnectTimeout: d(time.Hour), MaxConcurrentHandshakes: i(1 << 20),
		AcceptRate: i(1_000_000), ParentMatch: b(true), RetainedOnWildcard: b(true),
	}
	for _, profile := range []string{LimitsDefault, LimitsAWSStrict} {
		for name, m := range map[string]MQTT{"low": low, "high": high} {
			c := Default()
			m.Limits = profile
			c.MQTT = m
			if err := c.Validate(); err != nil {
				t.Fatalf("%s/%s: Validate = %v", profile, name, err)
			}
			if err := c.BrokerLimits().Validate(); err != nil {
				t.Fatalf("%s/%s: broker Validate = %v", profile, name, err)
			}
		}
	}
	// The broker's limits built from the "high" values keep them (no
	// narrowing on the way).
	c := Default()
	c.MQTT = high
	c.MQTT.Limits = LimitsDefault
	l := c.BrokerLimits()
	if l.MaxKeepAlive != 65535 || l.ReceiveMaximum != 65535 || l.SessionExpiry != (1<<32-2)*time.Second || l.MaxPacketSize != 268435460 {
		t.Fatalf("high values narrowed: %+v", l)
	}
}

func TestConfig_CopySharesNoState(t *testing.T) {
	// Setting a limit on a copy of a Config leaves the original alone
	// (set stores a new pointer, never writes through an old one).
	a := Default()
	s := settingFor(t, "mqtt-max-qos")
	if err := s.set(&a, "1"); err != nil {
		t.Fatal(err)
	}
	b := a
	if err := s.set(&b, "2"); err != nil {
		t.Fatal(err)
	}
	if a.BrokerLimits().MaxQoS != 1 || b.BrokerLimits().MaxQoS != 2 {
		t.Fatalf("copies share state: %d, %d", a.BrokerLimits().MaxQoS, b.BrokerLimits().MaxQoS)
	}
}

func settingFor(t *testing.T, flag string) *setting {
	t.Helper()
	for i := range settings {
		if settings[i].flag == flag {
			return &settings[i]
		}
	}
	t.Fatalf("no setting --%s", flag)
	return nil
}

func TestWriteHelp_MQTT(t *testing.T) {
	// Help lists the profile and every MQTT limit with its default, the
	// aws-strict value where it differs, its variable, and the rule that
	// combines them.
	var b strings.Builder
	if err := WriteHelp(&b); err != nil {
		t.Fatal(err)
	}
	flat := strings.Join(strings.Fields(b.String()), " ")
	for _, w := range []string{
		"MQTT limits (docs/mqtt.md):",
		`--limits PROFILE`, `(default: "default"; env MOAT_MQTT_LIMITS)`,
		"--mqtt-max-packet-size SIZE", "(default: 146KiB; env MOAT_MQTT_MAX_PACKET_SIZE)",
		"--mqtt-max-qos N", "(default: 2; aws-strict: 1; env MOAT_MQTT_MAX_QOS)",
		"--mqtt-max-publish-rate N", "(default: 0; aws-strict: 100; env MOAT_MQTT_MAX_PUBLISH_RATE)",
		"--mqtt-parent-match BOOL", "(default: true; aws-strict: false; env MOAT_MQTT_PARENT_MATCH)",
		"--mqtt-retained-on-wildcard BOOL", "(default: true; aws-strict: false; env MOAT_MQTT_RETAINED_ON_WILDCARD)",
		"--mqtt-max-keep-alive DURATION", "(default: 20m0s; env MOAT_MQTT_MAX_KEEP_ALIVE)",
		"--mqtt-session-expiry DURATION", "(default: 1h0m0s; env MOAT_MQTT_SESSION_EXPIRY)",
		MQTTPrecedenceRule,
		"mqtt: limits: aws-strict max-subscriptions: 100",
	} {
		if !strings.Contains(flat, w) {
			t.Fatalf("help does not mention %q:\n%s", w, b.String())
		}
	}
}

func TestWriteHelp_ExampleMQTT(t *testing.T) {
	// The help's example file raises one limit over aws-strict.
	var b strings.Builder
	WriteHelp(&b)
	_, example, _ := strings.Cut(b.String(), "Example:\n")
	c, err := Load([]string{"--config", writeFile(t, example)}, envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := broker.AWSStrictLimits()
	want.MaxSubscriptionsPerConnection = 100
	if got := c.BrokerLimits(); got != want {
		t.Fatalf("example: got %+v, want %+v", got, want)
	}
}
