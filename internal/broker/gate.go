package broker

import (
	"context"
	"crypto/x509"
	"net"
	"time"

	"github.com/moat-iot/moat/internal/mqtt/packet"
)

// Action is what a client asks to do; each is checked against the
// connection's Permissions.
type Action uint8

// Actions, as the IoT policy actions of the same names.
const (
	ActConnect       Action = iota + 1 // resource: the client id
	ActPublish                         // resource: the topic name
	ActRetainPublish                   // resource: the topic name
	ActSubscribe                       // resource: the topic filter, $share prefix included
	ActReceive                         // resource: the topic name
)

func (a Action) String() string {
	switch a {
	case ActConnect:
		return "iot:Connect"
	case ActPublish:
		return "iot:Publish"
	case ActRetainPublish:
		return "iot:RetainPublish"
	case ActSubscribe:
		return "iot:Subscribe"
	case ActReceive:
		return "iot:Receive"
	}
	return "unknown"
}

// ConnInfo is what the gate knows about a connecting client.
type ConnInfo struct {
	ClientID         string
	PeerCertificates []*x509.Certificate // the verified TLS chain as sent; [0] is the client's
	RemoteAddr       net.Addr
	Username         string
	Password         []byte
	CleanStart       bool
	Version          packet.Version
	// Persistent: the client asked for a session that outlives the
	// connection; HasWill: the CONNECT carries a will (AWS's
	// iot:ConnectAttributes PersistentConnect and LastWill).
	Persistent bool
	HasWill    bool
	// ServerName is the TLS SNI the client connected to (iot:DomainName).
	ServerName string
	// Transport names the way in: TransportTLS (MQTT over TLS on the MQTT
	// port), TransportALPNCert or TransportALPNCustomAuth (MQTT over TLS on
	// the HTTPS port, by ALPN), TransportWebSocket.
	Transport string
	// Authenticated is the principal the transport already authenticated
	// before MQTT began (the WebSocket upgrade: SigV4 presigned URL or
	// custom authorizer headers), as an auth.Principal; nil if none, in
	// which case the Gate authenticates from PeerCertificates or the
	// CONNECT's username and password.
	Authenticated any
}

// Transports (ConnInfo.Transport).
const (
	TransportTLS            = "mqtt"
	TransportALPNCert       = "mqtt-alpn-x-amzn-mqtt-ca"
	TransportALPNCustomAuth = "mqtt-alpn-mqtt"
	TransportWebSocket      = "wss"
)

// Gate authenticates and authorizes connections; the server implements it
// with internal/auth and internal/policy. The broker never decides who a
// client is or what it may do by itself.
type Gate interface {
	// Admit decides a CONNECT. It returns the connection's permissions, or
	// a refusal whose code and reason the client receives.
	Admit(ctx context.Context, info ConnInfo) (Permissions, *Refusal)
}

// Permissions are one connection's rights. Implementations cache decisions;
// Allow is called on every publish and every delivery, so it must be fast
// and safe for concurrent use.
type Permissions interface {
	// Allow reports whether the action on resource is allowed.
	Allow(a Action, resource string) bool
	// Principal names the connection's identity for logs (e.g. cert/ID).
	Principal() string
}

// Expirer is implemented by Permissions whose credential stops being valid
// at a known time (a certificate's notAfter): the broker closes the
// connection then, with DISCONNECT 0x8C for MQTT 5, as it does for a
// certificate made INACTIVE. The zero time means never.
type Expirer interface {
	ValidUntil() time.Time
}

// Refusal is a refused CONNECT: the MQTT 5 reason code (mapped to the
// closest 3.1.1 return code for 3.1.1 clients) and a reason string that
// names what was refused, never policy contents.
type Refusal struct {
	Code   packet.ReasonCode
	Reason string
	// Principal names the identity that was refused, for the server log
	// (e.g. cert/ID); never sent to the client.
	Principal string
}

func (r *Refusal) Error() string { return r.Code.String() + ": " + r.Reason }
