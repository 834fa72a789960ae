package action

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/moat-iot/moat/internal/mqtt/packet"
	"github.com/moat-iot/moat/internal/topic"
)

// republishDef is the RepublishAction shape.
type republishDef struct {
	RoleARN *string         `json:"roleArn"`
	Topic   *string         `json:"topic"`
	QoS     *int            `json:"qos"`
	Headers *mqttHeadersDef `json:"headers"`
}

// mqttHeadersDef is the MqttHeaders shape. Every member may contain
// substitution templates.
type mqttHeadersDef struct {
	PayloadFormatIndicator *string       `json:"payloadFormatIndicator"`
	ContentType            *string       `json:"contentType"`
	ResponseTopic          *string       `json:"responseTopic"`
	CorrelationData        *string       `json:"correlationData"`
	MessageExpiry          *string       `json:"messageExpiry"`
	UserProperties         []keyValueDef `json:"userProperties"`
}

// keyValueDef is the UserProperty, HttpActionHeader and KafkaActionHeader
// shape.
type keyValueDef struct {
	Key   *string `json:"key"`
	Value *string `json:"value"`
}

// Limits of the MqttHeaders shape (botocore model).
const (
	maxHeaderLen      = 1024 // bytes of each MqttHeaders string, as written
	maxUserProperties = 100
)

// republish publishes the rule's result to an MQTT topic through the
// broker, as moat itself: no IoT policy applies (AWS checks the rule's
// role instead, which moat ignores).
type republish struct {
	pub   Publisher
	topic text // without AWS's "$$" escape of a leading "$"
	raw   string
	qos   byte
	props []header
	users []userProperty
}

// header is one MQTT 5 property of a republish.
type header struct {
	name string // member of MqttHeaders, for errors
	val  text
	set  func(p *packet.Properties, s string) error
}

// userProperty is one MQTT 5 user property; key and value may be
// templates.
type userProperty struct{ key, value text }

func newRepublish(def json.RawMessage, deps *Deps) (Action, error) {
	var d republishDef
	if err := decode(kindRepublish, def, &d); err != nil {
		return nil, err
	}
	if d.RoleARN == nil || *d.RoleARN == "" {
		return nil, errors.New("republish: roleArn is required (moat does not use it)")
	}
	if d.Topic == nil || *d.Topic == "" {
		return nil, errors.New("republish: topic is required")
	}
	if deps.Publisher == nil {
		return nil, errors.New("republish: no broker to publish to")
	}
	r := &republish{pub: deps.Publisher, raw: *d.Topic}
	if d.QoS != nil {
		if *d.QoS != 0 && *d.QoS != 1 {
			return nil, fmt.Errorf("republish: qos must be 0 or 1, not %d", *d.QoS)
		}
		r.qos = byte(*d.QoS)
	}
	// "To republish to a reserved topic, which begins with $, use $$
	// instead" (AWS IoT developer guide, Republish).
	name := *d.Topic
	if strings.HasPrefix(name, "$$") {
		name = name[1:]
	}
	var err error
	if r.topic, err = parseText(deps, "republish: topic", name); err != nil {
		return nil, err
	}
	if r.topic.constant() {
		if err := checkRepublishTopic(r.topic.raw); err != nil {
			return nil, fmt.Errorf("republish: topic %q: %w", r.raw, err)
		}
	} else if err := checkTopicPrefix(r.topic.prefix()); err != nil {
		return nil, fmt.Errorf("republish: topic %q: %w", r.raw, err)
	}
	if d.Headers != nil {
		if err := r.parseHeaders(deps, d.Headers); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// parseHeaders compiles the MQTT 5 headers and checks the constant ones.
func (r *republish) parseHeaders(deps *Deps, h *mqttHeadersDef) error {
	for _, f := range []struct {
		name string
		val  *string
		set  func(p *packet.Properties, s string) error
	}{
		{"payloadFormatIndicator", h.PayloadFormatIndicator, setPayloadFormat},
		{"contentType", h.ContentType, setContentType},
		{"responseTopic", h.ResponseTopic, setResponseTopic},
		{"correlationData", h.CorrelationData, setCorrelationData},
		{"messageExpiry", h.MessageExpiry, setMessageExpiry},
	} {
		if f.val == nil {
			continue
		}
		field := "republish: headers." + f.name
		if len(*f.val) > maxHeaderLen {
			return fmt.Errorf("%s: longer than %d bytes", field, maxHeaderLen)
		}
		v, err := parseText(deps, field, *f.val)
		if err != nil {
			return err
		}
		if v.constant() {
			if err := f.set(new(packet.Properties), v.raw); err != nil {
				return fmt.Errorf("%s: %w", field, err)
			}
		}
		r.props = append(r.props, header{name: f.name, val: v, set: f.set})
	}
	if len(h.UserProperties) > maxUserProperties {
		return fmt.Errorf("republish: headers.userProperties: more than %d", maxUserProperties)
	}
	for i, kv := range h.UserProperties {
		field := fmt.Sprintf("republish: headers.userProperties[%d]", i)
		if kv.Key == nil || kv.Value == nil {
			return fmt.Errorf("%s: key and value are required", field)
		}
		if len(*kv.Key) > maxHeaderLen || len(*kv.Value) > maxHeaderLen {
			return fmt.Errorf("%s: key and value must be at most %d bytes", field, maxHeaderLen)
		}
		k, err := parseText(deps, field+".key", *kv.Key)
		if err != nil {
			return err
		}
		v, err := parseText(deps, field+".value", *kv.Value)
		if err != nil {
			return err
		}
		for _, t := range []text{k, v} {
			if t.constant() {
				if err := checkMQTTString(t.raw); err != nil {
					return fmt.Errorf("%s: %w", field, err)
				}
			}
		}
		r.users = append(r.users, userProperty{key: k, value: v})
	}
	return nil
}

func (r *republish) name() string     { return NameRepublish }
func (r *republish) resource() string { return r.raw }

// Do publishes m.Payload to the rendered topic with the rendered headers.
// A topic or header that renders to an invalid value, and a publish the
// broker refuses for the message itself (invalid topic or payload format,
// too large, not authorized), are *Permanent errors; other broker
// failures are retryable.
func (r *republish) Do(ctx context.Context, m *Message) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("republish: %w", err)
	}
	in := m.In
	name, err := r.topic.render("republish: topic", in)
	if err != nil {
		return err
	}
	if !r.topic.constant() {
		if err := checkRepublishTopic(name); err != nil {
			return permanent("republish: topic %q: %w", name, err)
		}
	}
	// The broker keeps the payload after PublishDerived returns (queued
	// for subscribers), and the engine reuses m.Payload: copy it.
	p := &packet.Publish{Topic: name, QoS: r.qos, Payload: bytes.Clone(m.Payload)}
	if p.Payload == nil {
		p.Payload = []byte{}
	}
	for _, h := range r.props {
		s, err := h.val.render("republish: headers."+h.name, in)
		if err != nil {
			return err
		}
		if err := h.set(&p.Properties, s); err != nil {
			return permanent("republish: headers.%s: %w", h.name, err)
		}
	}
	for i, u := range r.users {
		field := fmt.Sprintf("republish: headers.userProperties[%d]", i)
		k, err := u.key.render(field+".key", in)
		if err != nil {
			return err
		}
		v, err := u.value.render(field+".value", in)
		if err != nil {
			return err
		}
		if err := errors.Join(checkMQTTString(k), checkMQTTString(v)); err != nil {
			return permanent("%s: %w", field, err)
		}
		p.Properties.UserProperties = append(p.Properties.UserProperties, packet.UserProperty{Key: k, Value: v})
	}
	if p.Properties.PayloadFormat == 1 && !utf8.Valid(p.Payload) {
		// MQTT 5 §3.3.2.3.2: a payload marked UTF-8 must be UTF-8.
		return permanent("republish: the payload is not UTF-8 but headers.payloadFormatIndicator is UTF8_DATA")
	}
	rc := r.pub.PublishDerived(p, m.Hops)
	if !rc.IsError() {
		return nil
	}
	err = fmt.Errorf("republish to %q: the broker refused the message: %v", name, rc)
	switch rc {
	case packet.TopicNameInvalid, packet.PayloadFormatInvalid, packet.PacketTooLarge, packet.NotAuthorized:
		return &Permanent{Err: err}
	}
	return err
}

// checkRepublishTopic checks a topic to republish to: a valid topic name
// within AWS IoT's limits, and not one of the reserved topics AWS does not
// let rules publish to.
func checkRepublishTopic(name string) error {
	if err := topic.ValidateName(name, topic.AWSLimits()); err != nil {
		return err
	}
	return checkTopicPrefix(name)
}

// checkTopicPrefix refuses topics that start with a Basic Ingest prefix
// ($aws/rules/: Basic Ingest topics reach rules, not the broker, and a
// rule feeding rules by them would bypass the broker's loop count) or are
// reserved job topics ($aws/things/{thingName}/jobs/...: "Republishing to
// reserved job topics is not supported", AWS IoT developer guide). s may
// be only the constant start of a templated topic.
func checkTopicPrefix(s string) error {
	if strings.HasPrefix(s, topic.BasicIngestPrefix) {
		return errors.New("rules cannot republish to Basic Ingest topics ($aws/rules/...)")
	}
	// Job topics have a level after "jobs"; a prefix is refused once it
	// reaches that level.
	levels := strings.SplitN(s, "/", 5)
	if len(levels) == 5 && levels[0] == "$aws" && levels[1] == "things" && levels[3] == "jobs" {
		return errors.New("rules cannot republish to reserved job topics ($aws/things/{thingName}/jobs/...)")
	}
	return nil
}

// checkMQTTString checks s as an MQTT UTF-8 Encoded String: well-formed
// UTF-8 [MQTT-1.5.4-1], no U+0000 [MQTT-1.5.4-2], at most 65535 bytes.
func checkMQTTString(s string) error {
	switch {
	case len(s) > 65535:
		return errors.New("longer than 65535 bytes")
	case !utf8.ValidString(s):
		return errors.New("not well-formed UTF-8")
	case strings.IndexByte(s, 0) >= 0:
		return errors.New("contains U+0000")
	}
	return nil
}

// Setters of the MQTT 5 properties from rendered MqttHeaders values; an
// empty value leaves the property out.

func setPayloadFormat(p *packet.Properties, s string) error {
	switch s {
	case "", "UNSPECIFIED_BYTES":
		p.PayloadFormat = 0
	case "UTF8_DATA":
		p.PayloadFormat = 1
	default:
		return fmt.Errorf("must be UNSPECIFIED_BYTES or UTF8_DATA, not %q", s)
	}
	return nil
}

func setContentType(p *packet.Properties, s string) error {
	if err := checkMQTTString(s); err != nil {
		return err
	}
	p.ContentType = s
	return nil
}

func setResponseTopic(p *packet.Properties, s string) error {
	if s == "" {
		p.ResponseTopic = ""
		return nil
	}
	// [MQTT-3.3.2-14]: the Response Topic is a topic name.
	if err := topic.ValidateName(s, topic.Limits{}); err != nil {
		return err
	}
	p.ResponseTopic = s
	return nil
}

func setCorrelationData(p *packet.Properties, s string) error {
	if s == "" {
		p.CorrelationData = nil
		return nil
	}
	// MqttHeaders: "This binary data must be based64-encoded."
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return errors.New("must be base64")
	}
	p.CorrelationData = b
	return nil
}

func setMessageExpiry(p *packet.Properties, s string) error {
	if s == "" {
		p.MessageExpiry = 0
		return nil
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return fmt.Errorf("must be a whole number of seconds from 0 to 4294967295, not %q", s)
	}
	p.MessageExpiry = uint32(n) // 0: no expiry
	return nil
}
