package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/moat-iot/moat/internal/broker"
	"github.com/moat-iot/moat/internal/mqtt/packet"
)

// Values accepted for MQTT.Limits, the MQTT limits profile.
const (
	// LimitsDefault is broker.DefaultLimits: AWS IoT Core's sizes and
	// counts, with QoS 2, MQTT's wildcard rules and no publish rate cap.
	LimitsDefault = "default"
	// LimitsAWSStrict is broker.AWSStrictLimits: refuses what AWS IoT Core
	// refuses, QoS 2 and more than 100 publishes/s per connection included.
	LimitsAWSStrict = "aws-strict"
)

// MQTT are the broker's settings (docs/mqtt.md). Limits picks the profile
// that gives every limit its value; each other field, when set (non-nil),
// overrides the profile's value for that one limit, whichever layer set it
// (a flag, the environment or the config file). A nil field is "not given":
// the profile's value applies. A field set to 0 is given as 0, which for
// most limits means "no limit" (see the flag help).
//
// BrokerLimits turns an MQTT into broker.Limits. Counts are ints and the
// keep-alive bounds and expiries are durations here, whatever type the
// broker uses; Validate checks that they fit it.
type MQTT struct {
	// Limits is the profile: LimitsDefault (default) or LimitsAWSStrict.
	Limits string `yaml:"limits"`

	MaxPacketSize           *int           `yaml:"max-packet-size"`           // bytes
	MaxClientIDLength       *int           `yaml:"max-client-id-length"`      // bytes
	MaxTopicLength          *int           `yaml:"max-topic-length"`          // bytes
	MaxTopicLevels          *int           `yaml:"max-topic-levels"`          // levels
	MaxFiltersPerSubscribe  *int           `yaml:"max-filters-per-subscribe"` // filters
	MaxSubscriptions        *int           `yaml:"max-subscriptions"`         // per session
	MaxPublishRate          *int           `yaml:"max-publish-rate"`          // PUBLISH/s per connection
	MinKeepAlive            *time.Duration `yaml:"min-keep-alive"`            // whole seconds
	MaxKeepAlive            *time.Duration `yaml:"max-keep-alive"`            // whole seconds
	MaxQoS                  *int           `yaml:"max-qos"`                   // 1 or 2
	ReceiveMaximum          *int           `yaml:"receive-maximum"`           // 1..65535
	TopicAliasMaximum       *int           `yaml:"topic-alias-maximum"`       // 0..65535
	MaxQueuedMessages       *int           `yaml:"max-queued-messages"`       // per client
	SessionExpiry           *time.Duration `yaml:"session-expiry"`            // whole seconds
	MaxSessionExpiry        *time.Duration `yaml:"max-session-expiry"`        // whole seconds
	WriteTimeout            *time.Duration `yaml:"write-timeout"`             //
	ConnectTimeout          *time.Duration `yaml:"connect-timeout"`           //
	MaxConcurrentHandshakes *int           `yaml:"max-concurrent-handshakes"` //
	AcceptRate              *int           `yaml:"accept-rate"`               // connections/s
	ParentMatch             *bool          `yaml:"parent-match"`              //
	RetainedOnWildcard      *bool          `yaml:"retained-on-wildcard"`      //
}

// ProfileLimits returns the limits of the profile m.Limits names, before
// any single setting; the default profile's for an unknown name (Validate
// reports that).
func (m MQTT) ProfileLimits() broker.Limits {
	if m.Limits == LimitsAWSStrict {
		return broker.AWSStrictLimits()
	}
	return broker.DefaultLimits()
}

// BrokerLimits returns the broker limits c configures: the profile's
// (--limits), with every single --mqtt-* setting that was given at any
// layer in place of the profile's value. Call it on a Config that passed
// Validate; on others, out-of-range values are converted without checks.
func (c Config) BrokerLimits() broker.Limits {
	m := c.MQTT
	l := m.ProfileLimits()
	setInt(&l.MaxPacketSize, m.MaxPacketSize)
	setInt(&l.MaxClientIDLength, m.MaxClientIDLength)
	setInt(&l.Topic.MaxLength, m.MaxTopicLength)
	setInt(&l.Topic.MaxLevels, m.MaxTopicLevels)
	setInt(&l.MaxFiltersPerSubscribe, m.MaxFiltersPerSubscribe)
	setInt(&l.MaxSubscriptionsPerConnection, m.MaxSubscriptions)
	setInt(&l.MaxPublishRate, m.MaxPublishRate)
	setSeconds(&l.MinKeepAlive, m.MinKeepAlive)
	setSeconds(&l.MaxKeepAlive, m.MaxKeepAlive)
	setInt(&l.MaxQoS, m.MaxQoS)
	setInt(&l.ReceiveMaximum, m.ReceiveMaximum)
	setInt(&l.TopicAliasMaximum, m.TopicAliasMaximum)
	setInt(&l.MaxQueuedMessages, m.MaxQueuedMessages)
	setValue(&l.SessionExpiry, m.SessionExpiry)
	setValue(&l.MaxSessionExpiry, m.MaxSessionExpiry)
	setValue(&l.WriteTimeout, m.WriteTimeout)
	setValue(&l.ConnectTimeout, m.ConnectTimeout)
	setInt(&l.MaxConcurrentHandshakes, m.MaxConcurrentHandshakes)
	setInt(&l.AcceptRate, m.AcceptRate)
	setValue(&l.ParentMatch, m.ParentMatch)
	setValue(&l.RetainedOnWildcard, m.RetainedOnWildcard)
	return l
}

func setInt[T int | uint16 | byte](dst *T, v *int) {
	if v != nil {
		*dst = T(*v)
	}
}

func setSeconds(dst *uint16, v *time.Duration) {
	if v != nil {
		*dst = uint16(*v / time.Second)
	}
}

func setValue[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// Allowed ranges of the MQTT settings that the broker does not bound
// itself (inclusive).
const (
	minMQTTPacketSize = 1 * KiB
	maxMQTTPacketSize = packet.MaxPacketSize
	maxUint16         = 1<<16 - 1
	// maxRate bounds the per-second rates: the broker turns the accept rate
	// into a ticker period, which must stay above zero.
	maxRate = 1_000_000
	// maxExpirySeconds: MQTT 5 carries the session expiry in seconds in a
	// four-byte integer whose largest value means "never expires".
	maxExpirySeconds = 1<<32 - 2
	minMQTTTimeout   = 100 * time.Millisecond
)

// validateMQTT checks the MQTT settings, calling bad for each problem.
// Only given settings are checked one by one (the profiles' values are
// valid); the keep-alive bounds are checked together with what the profile
// gives the other one; finally the resulting broker.Limits must pass its
// own Validate.
func (c Config) validateMQTT(report func(flag, format string, args ...any)) {
	m := c.MQTT
	problems := 0
	bad := func(flag, format string, args ...any) {
		problems++
		report(flag, format, args...)
	}
	if m.Limits != LimitsDefault && m.Limits != LimitsAWSStrict {
		bad("limits", "must be one of %s, %s, got %q", LimitsDefault, LimitsAWSStrict, m.Limits)
	}
	ints := []struct {
		flag     string
		v        *int
		min, max int
		what     string
	}{
		{"mqtt-max-packet-size", m.MaxPacketSize, minMQTTPacketSize, maxMQTTPacketSize, ""},
		{"mqtt-max-client-id-length", m.MaxClientIDLength, 0, maxUint16, "0 means MQTT's own maximum, 65535"},
		{"mqtt-max-topic-length", m.MaxTopicLength, 0, maxUint16, "0 means no limit"},
		{"mqtt-max-topic-levels", m.MaxTopicLevels, 0, maxUint16, "0 means no limit"},
		{"mqtt-max-filters-per-subscribe", m.MaxFiltersPerSubscribe, 0, maxUint16, "0 means no limit"},
		{"mqtt-max-subscriptions", m.MaxSubscriptions, 0, 1 << 30, "0 means no limit"},
		{"mqtt-max-publish-rate", m.MaxPublishRate, 0, maxRate, "0 turns the cap off"},
		{"mqtt-max-qos", m.MaxQoS, 1, 2, ""},
		{"mqtt-receive-maximum", m.ReceiveMaximum, 1, maxUint16, ""},
		{"mqtt-topic-alias-maximum", m.TopicAliasMaximum, 0, maxUint16, "0 disables topic aliases"},
		{"mqtt-max-queued-messages", m.MaxQueuedMessages, 1, 1 << 30, ""},
		{"mqtt-max-concurrent-handshakes", m.MaxConcurrentHandshakes, 1, 1 << 20, ""},
		{"mqtt-accept-rate", m.AcceptRate, 0, maxRate, "0 turns the cap off"},
	}
	for _, f := range ints {
		if f.v == nil || (*f.v >= f.min && *f.v <= f.max) {
			continue
		}
		note := ""
		if f.what != "" {
			note = " (" + f.what + ")"
		}
		if f.flag == "mqtt-max-packet-size" {
			bad(f.flag, "must be between %s and %d bytes, got %d", FormatSize(int64(f.min)), f.max, *f.v)
			continue
		}
		bad(f.flag, "must be between %d and %d%s, got %d", f.min, f.max, note, *f.v)
	}

	seconds := []struct {
		flag string
		v    *time.Duration
		max  time.Duration
		what string
	}{
		{"mqtt-min-keep-alive", m.MinKeepAlive, maxUint16 * time.Second, "0 means no minimum"},
		{"mqtt-max-keep-alive", m.MaxKeepAlive, maxUint16 * time.Second, "0 means no maximum"},
		{"mqtt-session-expiry", m.SessionExpiry, maxExpirySeconds * time.Second, "0 ends a session with its connection"},
		{"mqtt-max-session-expiry", m.MaxSessionExpiry, maxExpirySeconds * time.Second, "0 means --mqtt-session-expiry"},
	}
	for _, f := range seconds {
		switch {
		case f.v == nil:
		case *f.v < 0 || *f.v > f.max:
			bad(f.flag, "must be between 0s and %v (%s), got %v", f.max, f.what, *f.v)
		case *f.v%time.Second != 0:
			bad(f.flag, "must be a whole number of seconds, got %v", *f.v)
		}
	}
	for _, f := range []struct {
		flag string
		v    *time.Duration
	}{{"mqtt-write-timeout", m.WriteTimeout}, {"mqtt-connect-timeout", m.ConnectTimeout}} {
		if f.v != nil && *f.v < minMQTTTimeout {
			bad(f.flag, "must be at least %v, got %v", minMQTTTimeout, *f.v)
		}
	}

	// The keep-alive bounds together, whichever of them was given.
	l := c.BrokerLimits()
	if (m.MinKeepAlive != nil || m.MaxKeepAlive != nil) && l.MaxKeepAlive != 0 && l.MinKeepAlive > l.MaxKeepAlive {
		minV := time.Duration(l.MinKeepAlive) * time.Second
		maxV := time.Duration(l.MaxKeepAlive) * time.Second
		if m.MinKeepAlive != nil {
			bad("mqtt-min-keep-alive", "%v is above --mqtt-max-keep-alive %v%s", minV, maxV, fromProfile(m.MaxKeepAlive, m.Limits))
		} else {
			bad("mqtt-max-keep-alive", "%v is below --mqtt-min-keep-alive %v%s", maxV, minV, fromProfile(m.MinKeepAlive, m.Limits))
		}
	}

	// The checks above cover broker.Limits.Validate; this is the safety
	// net should the broker add a rule.
	if problems == 0 {
		if err := l.Validate(); err != nil {
			bad("limits", "the resulting MQTT limits are not valid: %v", err)
		}
	}
}

// fromProfile says where the other value of a pair came from when it was
// not given.
func fromProfile(v *time.Duration, profile string) string {
	if v != nil {
		return ""
	}
	return " (the value of --limits " + profile + ")"
}

// mqttSetting builds a setting for one optional MQTT limit: get shows the
// given value, or the profile's when none was given; set stores a given
// value. base reads the profile's value from the broker limits.
func mqttSetting[T any](s setting, field func(c *Config) **T, base func(l broker.Limits) T,
	format func(T) string, parse func(string) (T, error)) setting {
	s.profiled = true
	s.get = func(c *Config) string {
		if p := *field(c); p != nil {
			return format(*p)
		}
		return format(base(c.MQTT.ProfileLimits()))
	}
	s.set = func(c *Config, v string) error {
		x, err := parse(v)
		if err != nil {
			return err
		}
		*field(c) = &x
		return nil
	}
	return s
}

// mqttCount is an optional whole-number MQTT setting.
func mqttCount[B int | uint16 | byte](s setting, field func(c *Config) **int, base func(l broker.Limits) B) setting {
	s.arg = "N"
	return mqttSetting(s, field, func(l broker.Limits) int { return int(base(l)) }, strconv.Itoa, parseCount)
}

// mqttSize is an optional byte-size MQTT setting.
func mqttSize(s setting, field func(c *Config) **int, base func(l broker.Limits) int) setting {
	s.arg = "SIZE"
	return mqttSetting(s, field, base, func(n int) string { return FormatSize(int64(n)) }, func(v string) (int, error) {
		n, err := ParseSize(v)
		if err != nil {
			return 0, err
		}
		if int64(int(n)) != n {
			return 0, fmt.Errorf("invalid size %q: %w", v, errSizeTooLarge)
		}
		return int(n), nil
	})
}

// mqttDuration is an optional duration MQTT setting.
func mqttDuration(s setting, field func(c *Config) **time.Duration, base func(l broker.Limits) time.Duration) setting {
	s.arg = "DURATION"
	return mqttSetting(s, field, base, time.Duration.String, parseDuration)
}

// mqttBool is an optional true/false MQTT setting.
func mqttBool(s setting, field func(c *Config) **bool, base func(l broker.Limits) bool) setting {
	s.arg = "BOOL"
	return mqttSetting(s, field, base, strconv.FormatBool, func(v string) (bool, error) {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return false, fmt.Errorf("invalid value %q: want true or false", v)
		}
		return b, nil
	})
}

func keepAlive(sec uint16) time.Duration { return time.Duration(sec) * time.Second }

func parseCount(v string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return 0, fmt.Errorf("invalid number %q: want a whole number such as 100", v)
	}
	return n, nil
}

func parseDuration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: want a Go duration such as 10s, 1m30s or 500ms", v)
	}
	return d, nil
}

// mqttFile is the file form of MQTT: the packet size may carry a unit.
type mqttFile struct {
	Limits                  string         `yaml:"limits"`
	MaxPacketSize           *byteSize      `yaml:"max-packet-size"`
	MaxClientIDLength       *int           `yaml:"max-client-id-length"`
	MaxTopicLength          *int           `yaml:"max-topic-length"`
	MaxTopicLevels          *int           `yaml:"max-topic-levels"`
	MaxFiltersPerSubscribe  *int           `yaml:"max-filters-per-subscribe"`
	MaxSubscriptions        *int           `yaml:"max-subscriptions"`
	MaxPublishRate          *int           `yaml:"max-publish-rate"`
	MinKeepAlive            *time.Duration `yaml:"min-keep-alive"`
	MaxKeepAlive            *time.Duration `yaml:"max-keep-alive"`
	MaxQoS                  *int           `yaml:"max-qos"`
	ReceiveMaximum          *int           `yaml:"receive-maximum"`
	TopicAliasMaximum       *int           `yaml:"topic-alias-maximum"`
	MaxQueuedMessages       *int           `yaml:"max-queued-messages"`
	SessionExpiry           *time.Duration `yaml:"session-expiry"`
	MaxSessionExpiry        *time.Duration `yaml:"max-session-expiry"`
	WriteTimeout            *time.Duration `yaml:"write-timeout"`
	ConnectTimeout          *time.Duration `yaml:"connect-timeout"`
	MaxConcurrentHandshakes *int           `yaml:"max-concurrent-handshakes"`
	AcceptRate              *int           `yaml:"accept-rate"`
	ParentMatch             *bool          `yaml:"parent-match"`
	RetainedOnWildcard      *bool          `yaml:"retained-on-wildcard"`
}

// UnmarshalYAML decodes the mqtt: mapping of a config file, accepting a
// packet size with a unit ("146KiB"). Keys absent from the mapping keep
// their value; a key with an empty value is "not given" (the profile's
// value applies). It uses the callback form of yaml.Unmarshaler so that the
// strict (KnownFields) setting of the enclosing decoder still applies.
func (m *MQTT) UnmarshalYAML(unmarshal func(any) error) error {
	f := mqttFile{
		Limits: m.Limits, MaxClientIDLength: m.MaxClientIDLength, MaxTopicLength: m.MaxTopicLength,
		MaxTopicLevels: m.MaxTopicLevels, MaxFiltersPerSubscribe: m.MaxFiltersPerSubscribe,
		MaxSubscriptions: m.MaxSubscriptions, MaxPublishRate: m.MaxPublishRate, MinKeepAlive: m.MinKeepAlive,
		MaxKeepAlive: m.MaxKeepAlive, MaxQoS: m.MaxQoS, ReceiveMaximum: m.ReceiveMaximum,
		TopicAliasMaximum: m.TopicAliasMaximum, MaxQueuedMessages: m.MaxQueuedMessages,
		SessionExpiry: m.SessionExpiry, MaxSessionExpiry: m.MaxSessionExpiry, WriteTimeout: m.WriteTimeout,
		ConnectTimeout: m.ConnectTimeout, MaxConcurrentHandshakes: m.MaxConcurrentHandshakes,
		AcceptRate: m.AcceptRate, ParentMatch: m.ParentMatch, RetainedOnWildcard: m.RetainedOnWildcard,
	}
	if m.MaxPacketSize != nil {
		b := byteSize(*m.MaxPacketSize)
		f.MaxPacketSize = &b
	}
	if err := unmarshal(&f); err != nil {
		return err
	}
	var size *int
	if f.MaxPacketSize != nil {
		if int64(int(*f.MaxPacketSize)) != int64(*f.MaxPacketSize) {
			return fmt.Errorf("max-packet-size: %s is too large", FormatSize(int64(*f.MaxPacketSize)))
		}
		n := int(*f.MaxPacketSize)
		size = &n
	}
	*m = MQTT{
		Limits: f.Limits, MaxPacketSize: size, MaxClientIDLength: f.MaxClientIDLength, MaxTopicLength: f.MaxTopicLength,
		MaxTopicLevels: f.MaxTopicLevels, MaxFiltersPerSubscribe: f.MaxFiltersPerSubscribe,
		MaxSubscriptions: f.MaxSubscriptions, MaxPublishRate: f.MaxPublishRate, MinKeepAlive: f.MinKeepAlive,
		MaxKeepAlive: f.MaxKeepAlive, MaxQoS: f.MaxQoS, ReceiveMaximum: f.ReceiveMaximum,
		TopicAliasMaximum: f.TopicAliasMaximum, MaxQueuedMessages: f.MaxQueuedMessages,
		SessionExpiry: f.SessionExpiry, MaxSessionExpiry: f.MaxSessionExpiry, WriteTimeout: f.WriteTimeout,
		ConnectTimeout: f.ConnectTimeout, MaxConcurrentHandshakes: f.MaxConcurrentHandshakes,
		AcceptRate: f.AcceptRate, ParentMatch: f.ParentMatch, RetainedOnWildcard: f.RetainedOnWildcard,
	}
	return nil
}
