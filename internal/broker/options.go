package broker

import (
	"errors"
	"fmt"
	"time"

	"github.com/moat-iot/moat/internal/topic"
)

// Limits are the broker's explicit bounds. Sizes and counts default to AWS
// IoT Core's values (reference §10.2), so that what works on moat works on
// AWS; per-connection rate caps are off by default; QoS 2 and the MQTT
// features AWS lacks are offered on top. docs/mqtt.md lists every
// difference from the MQTT specification and from AWS with its setting.
// A zero field means "no limit" unless its comment says otherwise.
type Limits struct {
	// MaxPacketSize is the largest MQTT packet accepted, in bytes, fixed
	// header included. AWS: 128 KiB of payload; the default 131072+topic
	// and header room is 146 KiB. Must be > 0.
	MaxPacketSize int
	// MaxClientIDLength in bytes (AWS 128). 0: the MQTT maximum.
	MaxClientIDLength int
	// Topic limits for names and filters (AWS 256 bytes, 8 levels).
	Topic topic.Limits
	// MaxFiltersPerSubscribe is the number of filters one SUBSCRIBE may
	// carry (AWS 8).
	MaxFiltersPerSubscribe int
	// MaxSubscriptionsPerConnection (AWS 50).
	MaxSubscriptionsPerConnection int
	// MaxPublishRate is the number of PUBLISH packets a connection may send
	// per second (AWS 100); 0 turns the cap off (the default).
	MaxPublishRate int
	// MinKeepAlive and MaxKeepAlive bound the keep-alive a client asks for,
	// in seconds (AWS 30..1200). A client outside is clamped (MQTT 5 is told
	// through Server Keep Alive); a keep-alive of 0 becomes MaxKeepAlive.
	MinKeepAlive, MaxKeepAlive uint16
	// MaxQoS is the highest QoS granted: 2 (default) or 1 (AWS).
	MaxQoS byte
	// ReceiveMaximum is how many QoS 1/2 messages a client may have in
	// flight towards the broker, and the most the broker has in flight
	// towards a client (less if the client's own Receive Maximum is lower)
	// (AWS 100). Must be 1..65535.
	ReceiveMaximum uint16
	// TopicAliasMaximum is the number of topic aliases a client may use
	// towards the broker (MQTT 5; AWS 8). 0 disables them.
	TopicAliasMaximum uint16
	// MaxQueuedMessages is how many messages may wait for one client
	// (online or offline) beyond its in-flight window; a message arriving at
	// a full queue is dropped and counted (moat_mqtt_messages_dropped_total
	// {reason="queue_full"}). Must be > 0.
	MaxQueuedMessages int
	// SessionExpiry is the expiry of a persistent MQTT 3.1.1 session and
	// the cap for MQTT 5 (AWS 1 hour).
	SessionExpiry time.Duration
	// MaxSessionExpiry caps what an MQTT 5 client may ask for (AWS 7 days
	// when raised). 0: SessionExpiry.
	MaxSessionExpiry time.Duration
	// WriteTimeout bounds one write to a client; a client that does not
	// read is disconnected. Must be > 0.
	WriteTimeout time.Duration
	// ConnectTimeout bounds the time from TCP accept to CONNECT (TLS
	// handshake included). Must be > 0.
	ConnectTimeout time.Duration
	// MaxConcurrentHandshakes bounds TLS handshakes in progress; more
	// accepted connections wait (admission control for reconnect storms).
	// Must be > 0.
	MaxConcurrentHandshakes int
	// AcceptRate caps new connections per second; 0: no cap.
	AcceptRate int
	// ParentMatch: whether "a/#" matches "a" (MQTT: yes; AWS: no).
	ParentMatch bool
	// RetainedOnWildcard: whether a wildcard SUBSCRIBE receives retained
	// messages (MQTT: yes; AWS (2023): only exact-match filters).
	RetainedOnWildcard bool
}

// DefaultLimits are AWS IoT Core's sizes and counts with MQTT's features on
// top: QoS 2, no rate cap, MQTT's wildcard rules.
func DefaultLimits() Limits {
	return Limits{
		MaxPacketSize:                 128*1024 + 18*1024,
		MaxClientIDLength:             128,
		Topic:                         topic.AWSLimits(),
		MaxFiltersPerSubscribe:        8,
		MaxSubscriptionsPerConnection: 50,
		MinKeepAlive:                  30,
		MaxKeepAlive:                  1200,
		MaxQoS:                        2,
		ReceiveMaximum:                100,
		TopicAliasMaximum:             8,
		MaxQueuedMessages:             1000,
		SessionExpiry:                 time.Hour,
		MaxSessionExpiry:              7 * 24 * time.Hour,
		WriteTimeout:                  30 * time.Second,
		ConnectTimeout:                20 * time.Second,
		MaxConcurrentHandshakes:       512,
		ParentMatch:                   true,
		RetainedOnWildcard:            true,
	}
}

// AWSStrictLimits refuses exactly what AWS IoT Core refuses: QoS 2, more
// than 100 publishes per second per connection, parent matching of "#",
// retained messages on wildcard subscriptions, sessions longer than AWS's
// default hour.
func AWSStrictLimits() Limits {
	l := DefaultLimits()
	l.MaxQoS = 1
	l.MaxPublishRate = 100
	l.ParentMatch = false
	l.RetainedOnWildcard = false
	l.MaxSessionExpiry = time.Hour // AWS's default; an account may raise it
	return l
}

// Validate checks the limits.
func (l Limits) Validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf("broker limits: "+format, args...))
		}
	}
	check(l.MaxPacketSize > 0, "MaxPacketSize must be > 0 bytes")
	check(l.MaxClientIDLength >= 0 && l.MaxClientIDLength <= 65535, "MaxClientIDLength must be 0..65535")
	check(l.MaxFiltersPerSubscribe >= 0, "MaxFiltersPerSubscribe must be >= 0")
	check(l.MaxSubscriptionsPerConnection >= 0, "MaxSubscriptionsPerConnection must be >= 0")
	check(l.MaxPublishRate >= 0, "MaxPublishRate must be >= 0")
	check(l.MinKeepAlive <= l.MaxKeepAlive || l.MaxKeepAlive == 0, "MinKeepAlive must be <= MaxKeepAlive")
	check(l.MaxQoS == 1 || l.MaxQoS == 2, "MaxQoS must be 1 or 2")
	check(l.ReceiveMaximum > 0, "ReceiveMaximum must be 1..65535")
	check(l.MaxQueuedMessages > 0, "MaxQueuedMessages must be > 0")
	check(l.SessionExpiry >= 0 && l.MaxSessionExpiry >= 0, "session expiries must be >= 0")
	check(l.WriteTimeout > 0, "WriteTimeout must be > 0")
	check(l.ConnectTimeout > 0, "ConnectTimeout must be > 0")
	check(l.MaxConcurrentHandshakes > 0, "MaxConcurrentHandshakes must be > 0")
	check(l.AcceptRate >= 0 && l.AcceptRate <= 1_000_000, "AcceptRate must be 0..1000000 per second")
	if err := l.Topic.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// maxSessionExpiry is the cap of an MQTT 5 session expiry.
func (l Limits) maxSessionExpiry() time.Duration {
	if l.MaxSessionExpiry == 0 {
		return l.SessionExpiry
	}
	return l.MaxSessionExpiry
}
