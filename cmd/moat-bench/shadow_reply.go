package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// The wire side of the shadow mode: the update request it sends, the
// clientToken that ties a reply to its request, and the parsing of the
// service's replies (AWS IoT Developer Guide, "Device Shadow MQTT topics"
// and "Device Shadow service documents").

// appendUpdate appends the update request document of one update: the
// reported counter, filler bytes of padding, and the clientToken tok.
//
//	{"state":{"reported":{"counter":3,"data":"xxxx"}},"clientToken":"..."}
func appendUpdate(dst []byte, counter int, filler string, tok []byte) []byte {
	dst = append(dst, `{"state":{"reported":{"counter":`...)
	dst = strconv.AppendInt(dst, int64(counter), 10)
	dst = append(dst, `,"data":"`...)
	dst = append(dst, filler...)
	dst = append(dst, `"}},"clientToken":"`...)
	dst = append(dst, tok...)
	return append(dst, `"}`...)
}

// tokenPrefix starts every clientToken of this run: the run id, so a
// reply to an earlier run's request (still queued in the broker) is not
// taken for one of ours.
var tokenPrefix = fmt.Sprintf("%08x-", runID)

// appendToken appends the clientToken of request k of connection conn:
// <run id, 8 hex digits>-<conn>-<k>, at most 29 bytes (AWS allows 64).
func appendToken(dst []byte, conn, k int) []byte {
	dst = append(dst, tokenPrefix...)
	dst = strconv.AppendInt(dst, int64(conn), 10)
	dst = append(dst, '-')
	return strconv.AppendInt(dst, int64(k), 10)
}

// parseToken returns the connection and request numbers of a token made by
// appendToken in this run; ok is false for anything else.
func parseToken(tok string) (conn, k int, ok bool) {
	rest, found := strings.CutPrefix(tok, tokenPrefix)
	if !found {
		return 0, 0, false
	}
	c, n, found := strings.Cut(rest, "-")
	if !found {
		return 0, 0, false
	}
	conn, ok1 := parseDecimal(c)
	k, ok2 := parseDecimal(n)
	return conn, k, ok1 && ok2
}

// parseDecimal parses the canonical decimal form of 0..999999999: digits
// only, no sign, no leading zero.
func parseDecimal(s string) (int, bool) {
	if s == "" || len(s) > 9 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// replyKind is the kind of message the shadow service published below a
// shadow's update/ topic.
type replyKind uint8

const (
	// replyOther is a topic the mode does not wait for: update/documents,
	// update/delta (both arrive with -sub-filter wildcard), or any topic
	// AWS may add below update/.
	replyOther replyKind = iota
	replyAccepted
	replyRejected
)

func (k replyKind) String() string {
	switch k {
	case replyAccepted:
		return "accepted"
	case replyRejected:
		return "rejected"
	default:
		return "other"
	}
}

// shadowReply is one message of the shadow service on an update/ topic.
type shadowReply struct {
	Thing   string    // from the topic
	Name    string    // named shadow; "" for the classic shadow
	Kind    replyKind // from the topic
	Suffix  string    // the topic level after update/, e.g. "accepted"
	Token   string    // clientToken (accepted and rejected)
	Code    int       // rejected: the error code, an HTTP status (400, 404, 409, 429, ...)
	Message string    // rejected: the error message
}

// Errors of parseShadowReply.
var (
	// errReplyTopic: the topic is not $aws/things/T/shadow[/name/N]/update/X.
	errReplyTopic = errors.New("not a shadow update reply topic")
	// errReplyDocument: an accepted or rejected payload without the
	// fields the contract gives it.
	errReplyDocument = errors.New("bad shadow reply document")
)

// parseShadowReply parses a message published on
// $aws/things/{thing}/shadow[/name/{name}]/update/{suffix}. For accepted
// and rejected it also reads the clientToken (required: the mode always
// sends one and the service echoes it) and, for rejected, the error code
// and message of the error document {"code":N,"message":"...",
// "clientToken":"..."}. Other payloads are not read.
func parseShadowReply(topic string, payload []byte) (shadowReply, error) {
	var r shadowReply
	rest, ok := strings.CutPrefix(topic, "$aws/things/")
	if !ok {
		return r, fmt.Errorf("%w: %q", errReplyTopic, topic)
	}
	r.Thing, rest, _ = strings.Cut(rest, "/")
	rest, ok = strings.CutPrefix(rest, "shadow/")
	if !ok || !validAWSName(r.Thing, awsThingNameMax) {
		return r, fmt.Errorf("%w: %q", errReplyTopic, topic)
	}
	if rest, ok = strings.CutPrefix(rest, "name/"); ok {
		r.Name, rest, _ = strings.Cut(rest, "/")
		if !validAWSName(r.Name, awsShadowNameMax) {
			return r, fmt.Errorf("%w: %q", errReplyTopic, topic)
		}
	}
	r.Suffix, ok = strings.CutPrefix(rest, "update/")
	if !ok || r.Suffix == "" || strings.ContainsAny(r.Suffix, "/+#") {
		return r, fmt.Errorf("%w: %q", errReplyTopic, topic)
	}
	switch r.Suffix {
	case "accepted":
		r.Kind = replyAccepted
	case "rejected":
		r.Kind = replyRejected
	default:
		return r, nil
	}
	var doc struct {
		ClientToken *string `json:"clientToken"`
		Code        int     `json:"code"`
		Message     string  `json:"message"`
	}
	if err := json.Unmarshal(payload, &doc); err != nil {
		return r, fmt.Errorf("%w on %s: %w", errReplyDocument, r.Suffix, err)
	}
	if doc.ClientToken == nil {
		return r, fmt.Errorf("%w on %s: no clientToken", errReplyDocument, r.Suffix)
	}
	r.Token = *doc.ClientToken
	if r.Kind == replyRejected {
		if doc.Code < 100 || doc.Code > 599 {
			return r, fmt.Errorf("%w on rejected: code %d, want an HTTP status", errReplyDocument, doc.Code)
		}
		r.Code, r.Message = doc.Code, doc.Message
	}
	return r, nil
}
