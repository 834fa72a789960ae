package data

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/moat-iot/moat/internal/api"
	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/broker"
	"github.com/moat-iot/moat/internal/mqtt/packet"
	"github.com/moat-iot/moat/internal/topic"
)

// ReservedPrefix starts AWS IoT's reserved topics; a retained publish to
// one is refused, as AWS refuses it.
const ReservedPrefix = "$aws/"

// publish serves Publish: POST /topics/{topic}?qos=&retain=&contentType=
// &responseTopic=&messageExpiry= with the x-amz-mqtt5-* headers and the raw
// payload as the body. Order: parse and validate everything (any failure
// is InvalidRequestException 400 and nothing is published), check the size
// of the MQTT PUBLISH it becomes (RequestEntityTooLargeException 413),
// authorize iot:Publish (and iot:RetainPublish) on the topic
// (ForbiddenException 403), then route it through the broker. The answer
// is an empty 200 once the broker has taken the message: retained messages
// and QoS 1 copies for persistent sessions are stored by then.
func (a *API) publish(ctx context.Context, r *api.Request) (any, error) {
	p, err := a.parsePublish(r)
	if err != nil {
		return nil, err
	}
	acts := []broker.Action{broker.ActPublish}
	if p.Retain {
		acts = append(acts, broker.ActRetainPublish)
	}
	if err := a.allow(ctx, r, acts, p.Topic); err != nil {
		return nil, err
	}
	if code := a.Broker.Publish(p); code.IsError() {
		return nil, awsapi.Internal(&packet.Error{Code: code, Reason: "broker refused the message"})
	}
	return nil, nil
}

// parsePublish turns a Publish request into the MQTT PUBLISH it stands
// for, refusing anything malformed with InvalidRequestException.
func (a *API) parsePublish(r *api.Request) (*packet.Publish, error) {
	name := r.PathValue("topic")
	if err := topic.ValidateName(name, a.Limits.Topic); err != nil {
		return nil, awsapi.Errorf(awsapi.InvalidRequest, "The topic %q is not valid: %v.", name, topicReason(err))
	}
	q, err := singleQuery(r.URL.Query(), "qos", "retain", "contentType", "responseTopic", "messageExpiry")
	if err != nil {
		return nil, err
	}
	p := &packet.Publish{Topic: name, Payload: r.Body}
	switch s := q["qos"]; s {
	case "", "0":
	case "1":
		p.QoS = 1
	default:
		// The model's Qos is 0..1; AWS IoT has no QoS 2.
		return nil, awsapi.Errorf(awsapi.InvalidRequest, "qos must be 0 or 1, got %q.", s)
	}
	switch s := q["retain"]; {
	case s == "" || strings.EqualFold(s, "false"):
	case strings.EqualFold(s, "true"):
		p.Retain = true
	default:
		return nil, awsapi.Errorf(awsapi.InvalidRequest, "retain must be true or false, got %q.", s)
	}
	if p.Retain && strings.HasPrefix(name, ReservedPrefix) {
		return nil, awsapi.Errorf(awsapi.InvalidRequest, "Retained messages cannot be published to the reserved topic %q.", name)
	}
	if err := a.parseProperties(r, q, &p.Properties); err != nil {
		return nil, err
	}
	if p.Properties.PayloadFormat == 1 && !utf8.Valid(p.Payload) {
		// MQTT 5 §3.3.2.3.2: the payload must then be UTF-8 (0x99 Payload
		// format invalid on MQTT).
		return nil, awsapi.Errorf(awsapi.InvalidRequest, "The payload is not valid UTF-8, but x-amz-mqtt5-payload-format-indicator is UTF8_DATA.")
	}
	if err := a.checkSize(p); err != nil {
		return nil, err
	}
	return p, nil
}

// parseProperties reads the MQTT 5 properties of a Publish from the query
// and the x-amz-mqtt5-* headers.
func (a *API) parseProperties(r *api.Request, q map[string]string, pr *packet.Properties) error {
	if s := q["contentType"]; s != "" {
		if err := mqttString(s); err != nil {
			return awsapi.Errorf(awsapi.InvalidRequest, "contentType %v.", err)
		}
		pr.ContentType = s
	}
	if s := q["responseTopic"]; s != "" {
		// [MQTT-3.3.2-14]: a topic name, so no wildcards.
		if err := topic.ValidateName(s, a.Limits.Topic); err != nil {
			return awsapi.Errorf(awsapi.InvalidRequest, "responseTopic %q is not a valid topic name: %v.", s, topicReason(err))
		}
		pr.ResponseTopic = s
	}
	if s := q["messageExpiry"]; s != "" {
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return awsapi.Errorf(awsapi.InvalidRequest, "messageExpiry must be a whole number of seconds from 0 to 4294967295, got %q.", s)
		}
		pr.MessageExpiry = uint32(n) // 0: no expiry, as when absent
	}
	h, err := singleHeader(r, HeaderUserProperties)
	if err != nil {
		return err
	}
	if pr.UserProperties, err = ParseUserProperties(h); err != nil {
		return awsapi.Errorf(awsapi.InvalidRequest, "%s %v.", HeaderUserProperties, err)
	}
	if h, err = singleHeader(r, HeaderPayloadFormat); err != nil {
		return err
	}
	if pr.PayloadFormat, err = ParsePayloadFormat(h); err != nil {
		return awsapi.Errorf(awsapi.InvalidRequest, "%s %v.", HeaderPayloadFormat, err)
	}
	if h, err = singleHeader(r, HeaderCorrelationData); err != nil {
		return err
	}
	if pr.CorrelationData, err = ParseCorrelationData(h); err != nil {
		return awsapi.Errorf(awsapi.InvalidRequest, "%s %v.", HeaderCorrelationData, err)
	}
	return nil
}

// checkSize refuses a message whose MQTT 5 PUBLISH (the largest form:
// properties included, with a packet identifier) would be over the
// broker's maximum packet size, the bound an MQTT client's PUBLISH has.
// Encoding also checks each property's MQTT limits.
func (a *API) checkSize(p *packet.Publish) error {
	q := *p
	if q.QoS > 0 {
		q.PacketID = 1
	}
	b, err := q.Append(nil, packet.V5)
	if err != nil {
		return &awsapi.Error{Code: awsapi.InvalidRequest, Message: "The message cannot be carried by MQTT: " + err.Error() + ".", Cause: err}
	}
	if max := a.Limits.MaxPacketSize; max > 0 && len(b) > max {
		return awsapi.Errorf(awsapi.RequestEntityTooLarge,
			"The message is %d bytes as an MQTT PUBLISH (payload %d bytes); the maximum is %d bytes.", len(b), len(p.Payload), max)
	}
	return nil
}

// singleQuery returns the named query parameters; one given more than once
// is refused rather than guessed at. Parameters not named are ignored, as
// AWS ignores them.
func singleQuery(v url.Values, names ...string) (map[string]string, error) {
	out := make(map[string]string, len(names))
	for _, n := range names {
		switch vs := v[n]; len(vs) {
		case 0:
		case 1:
			out[n] = vs[0]
		default:
			return nil, awsapi.Errorf(awsapi.InvalidRequest, "The query parameter %s is given %d times.", n, len(vs))
		}
	}
	return out, nil
}

// singleHeader returns a header's value, "" when absent; a header given
// more than once is refused.
func singleHeader(r *api.Request, name string) (string, error) {
	vs := r.Header.Values(name)
	switch len(vs) {
	case 0:
		return "", nil
	case 1:
		return vs[0], nil
	}
	return "", awsapi.Errorf(awsapi.InvalidRequest, "The header %s is given %d times.", name, len(vs))
}

// topicReason is a topic error without its prefix, e.g. "empty" or
// "wildcard character in a topic name (byte 3)".
func topicReason(err error) string {
	return strings.TrimPrefix(err.Error(), "topic: invalid topic name: ")
}
