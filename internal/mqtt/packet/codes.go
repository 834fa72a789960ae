package packet

import (
	"errors"
	"fmt"
	"strconv"
)

// ReasonCode is an MQTT 5 reason code (MQTT 5 §2.4). Codes below 0x80 report
// success; codes from 0x80 report failure. The same byte goes on the wire in
// CONNACK, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK, DISCONNECT and
// AUTH. For MQTT 3.1.1 the codec translates on encode (see V3Connack).
type ReasonCode byte

// MQTT 5 reason codes (§2.4). Several codes share a byte: 0x00 is Success,
// Normal disconnection and Granted QoS 0 depending on the packet.
const (
	Success                             ReasonCode = 0x00
	NormalDisconnection                 ReasonCode = 0x00
	GrantedQoS0                         ReasonCode = 0x00
	GrantedQoS1                         ReasonCode = 0x01
	GrantedQoS2                         ReasonCode = 0x02
	DisconnectWithWill                  ReasonCode = 0x04
	NoMatchingSubscribers               ReasonCode = 0x10
	NoSubscriptionExisted               ReasonCode = 0x11
	ContinueAuthentication              ReasonCode = 0x18
	ReAuthenticate                      ReasonCode = 0x19
	UnspecifiedError                    ReasonCode = 0x80
	MalformedPacket                     ReasonCode = 0x81
	ProtocolError                       ReasonCode = 0x82
	ImplementationSpecificError         ReasonCode = 0x83
	UnsupportedProtocolVersion          ReasonCode = 0x84
	ClientIdentifierNotValid            ReasonCode = 0x85
	BadUserNameOrPassword               ReasonCode = 0x86
	NotAuthorized                       ReasonCode = 0x87
	ServerUnavailable                   ReasonCode = 0x88
	ServerBusy                          ReasonCode = 0x89
	Banned                              ReasonCode = 0x8A
	ServerShuttingDown                  ReasonCode = 0x8B
	BadAuthenticationMethod             ReasonCode = 0x8C
	KeepAliveTimeout                    ReasonCode = 0x8D
	SessionTakenOver                    ReasonCode = 0x8E
	TopicFilterInvalid                  ReasonCode = 0x8F
	TopicNameInvalid                    ReasonCode = 0x90
	PacketIdentifierInUse               ReasonCode = 0x91
	PacketIdentifierNotFound            ReasonCode = 0x92
	ReceiveMaximumExceeded              ReasonCode = 0x93
	TopicAliasInvalid                   ReasonCode = 0x94
	PacketTooLarge                      ReasonCode = 0x95
	MessageRateTooHigh                  ReasonCode = 0x96
	QuotaExceeded                       ReasonCode = 0x97
	AdministrativeAction                ReasonCode = 0x98
	PayloadFormatInvalid                ReasonCode = 0x99
	RetainNotSupported                  ReasonCode = 0x9A
	QoSNotSupported                     ReasonCode = 0x9B
	UseAnotherServer                    ReasonCode = 0x9C
	ServerMoved                         ReasonCode = 0x9D
	SharedSubscriptionsNotSupported     ReasonCode = 0x9E
	ConnectionRateExceeded              ReasonCode = 0x9F
	MaximumConnectTime                  ReasonCode = 0xA0
	SubscriptionIdentifiersNotSupported ReasonCode = 0xA1
	WildcardSubscriptionsNotSupported   ReasonCode = 0xA2
)

// MQTT 3.1.1 CONNACK return codes (3.1.1 §3.2.2.3). Decoding a 3.1.1 CONNACK
// yields these raw values; encoding maps MQTT 5 codes to them (V3Connack).
const (
	V3Accepted                    ReasonCode = 0x00
	V3UnacceptableProtocolVersion ReasonCode = 0x01
	V3IdentifierRejected          ReasonCode = 0x02
	V3ServerUnavailable           ReasonCode = 0x03
	V3BadUserNameOrPassword       ReasonCode = 0x04
	V3NotAuthorized               ReasonCode = 0x05
)

// V3SubackFailure is the only failure return code of a 3.1.1 SUBACK.
const V3SubackFailure ReasonCode = 0x80

// codeInfo is one row of the reason code table: its name and the packet types
// (bit i = Type i) that may carry it in MQTT 5.
type codeInfo struct {
	name    string
	packets uint16
}

func types(ts ...Type) uint16 {
	var m uint16
	for _, t := range ts {
		m |= 1 << t
	}
	return m
}

// codeTable is the one table of MQTT 5 reason codes (§2.4, and the per-packet
// lists in §3.2.2.2, §3.4.2.1, §3.5.2.1, §3.6.2.1, §3.7.2.1, §3.9.3,
// §3.11.3, §3.14.2.1, §3.15.2.1).
var codeTable = [256]codeInfo{
	0x00: {"success", types(TypeConnack, TypePuback, TypePubrec, TypePubrel, TypePubcomp, TypeSuback, TypeUnsuback, TypeDisconnect, TypeAuth)},
	0x01: {"granted QoS 1", types(TypeSuback)},
	0x02: {"granted QoS 2", types(TypeSuback)},
	0x04: {"disconnect with will message", types(TypeDisconnect)},
	0x10: {"no matching subscribers", types(TypePuback, TypePubrec)},
	0x11: {"no subscription existed", types(TypeUnsuback)},
	0x18: {"continue authentication", types(TypeAuth)},
	0x19: {"re-authenticate", types(TypeAuth)},
	0x80: {"unspecified error", types(TypeConnack, TypePuback, TypePubrec, TypeSuback, TypeUnsuback, TypeDisconnect)},
	0x81: {"malformed packet", types(TypeConnack, TypeDisconnect)},
	0x82: {"protocol error", types(TypeConnack, TypeDisconnect)},
	0x83: {"implementation specific error", types(TypeConnack, TypePuback, TypePubrec, TypeSuback, TypeUnsuback, TypeDisconnect)},
	0x84: {"unsupported protocol version", types(TypeConnack)},
	0x85: {"client identifier not valid", types(TypeConnack)},
	0x86: {"bad user name or password", types(TypeConnack)},
	0x87: {"not authorized", types(TypeConnack, TypePuback, TypePubrec, TypeSuback, TypeUnsuback, TypeDisconnect)},
	0x88: {"server unavailable", types(TypeConnack)},
	0x89: {"server busy", types(TypeConnack, TypeDisconnect)},
	0x8A: {"banned", types(TypeConnack)},
	0x8B: {"server shutting down", types(TypeDisconnect)},
	0x8C: {"bad authentication method", types(TypeConnack, TypeDisconnect)},
	0x8D: {"keep alive timeout", types(TypeDisconnect)},
	0x8E: {"session taken over", types(TypeDisconnect)},
	0x8F: {"topic filter invalid", types(TypeSuback, TypeUnsuback, TypeDisconnect)},
	0x90: {"topic name invalid", types(TypeConnack, TypePuback, TypePubrec, TypeDisconnect)},
	0x91: {"packet identifier in use", types(TypePuback, TypePubrec, TypeSuback, TypeUnsuback)},
	0x92: {"packet identifier not found", types(TypePubrel, TypePubcomp)},
	0x93: {"receive maximum exceeded", types(TypeDisconnect)},
	0x94: {"topic alias invalid", types(TypeDisconnect)},
	0x95: {"packet too large", types(TypeConnack, TypeDisconnect)},
	0x96: {"message rate too high", types(TypeDisconnect)},
	0x97: {"quota exceeded", types(TypeConnack, TypePuback, TypePubrec, TypeSuback, TypeDisconnect)},
	0x98: {"administrative action", types(TypeDisconnect)},
	0x99: {"payload format invalid", types(TypeConnack, TypePuback, TypePubrec, TypeDisconnect)},
	0x9A: {"retain not supported", types(TypeConnack, TypeDisconnect)},
	0x9B: {"QoS not supported", types(TypeConnack, TypeDisconnect)},
	0x9C: {"use another server", types(TypeConnack, TypeDisconnect)},
	0x9D: {"server moved", types(TypeConnack, TypeDisconnect)},
	0x9E: {"shared subscriptions not supported", types(TypeSuback, TypeDisconnect)},
	0x9F: {"connection rate exceeded", types(TypeConnack, TypeDisconnect)},
	0xA0: {"maximum connect time", types(TypeDisconnect)},
	0xA1: {"subscription identifiers not supported", types(TypeSuback, TypeDisconnect)},
	0xA2: {"wildcard subscriptions not supported", types(TypeSuback, TypeDisconnect)},
}

// String returns the MQTT 5 name of the code, or "reason code 0xNN" for a
// byte that MQTT 5 does not define.
func (c ReasonCode) String() string {
	if n := codeTable[c].name; n != "" {
		return n
	}
	return "reason code 0x" + strconv.FormatUint(uint64(c), 16)
}

// IsError reports whether c is a failure code (0x80 and above).
func (c ReasonCode) IsError() bool { return c >= 0x80 }

// ValidFor reports whether MQTT 5 allows c in a packet of type t.
func (c ReasonCode) ValidFor(t Type) bool { return codeTable[c].packets&(1<<t) != 0 }

// V3Connack maps a reason code to the MQTT 3.1.1 CONNACK return code that
// means the closest thing (3.1.1 §3.2.2.3). Codes below 0x80 are returned
// unchanged so raw 3.1.1 return codes (0x00-0x05) pass through.
func (c ReasonCode) V3Connack() ReasonCode {
	switch {
	case c < 0x80:
		return c
	case c == UnsupportedProtocolVersion:
		return V3UnacceptableProtocolVersion
	case c == ClientIdentifierNotValid:
		return V3IdentifierRejected
	case c == BadUserNameOrPassword:
		return V3BadUserNameOrPassword
	case c == NotAuthorized, c == Banned, c == BadAuthenticationMethod:
		return V3NotAuthorized
	default:
		return V3ServerUnavailable
	}
}

// Error is a decoding failure. Code is the MQTT 5 reason code a broker sends
// (in CONNACK before a session exists, in DISCONNECT after) before it closes
// the connection; MQTT 3.1.1 has no such packet, so a 3.1.1 broker closes the
// connection (except for a CONNECT: see Connect). Errors match with errors.Is
// by Code alone, so errors.Is(err, ErrMalformedPacket) holds for every
// malformed packet whatever the detail.
type Error struct {
	Code    ReasonCode // reason code for the peer
	Clause  string     // normative statement broken, e.g. "MQTT-3.1.2-3"; "" if none
	Reason  string     // what was wrong, for logs; never sent to the peer by this package
	Type    Type       // type of the packet being decoded; 0 if unknown
	Version Version    // protocol version used to decode; for a CONNECT, the level it declared (0 if not read)
}

func (e *Error) Error() string {
	s := "mqtt: " + e.Code.String()
	if e.Type != 0 {
		s += " in " + e.Type.String()
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	if e.Clause != "" {
		s += " [" + e.Clause + "]"
	}
	return s
}

// Is reports whether target is an *Error with the same Code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Sentinels for errors.Is. Decoding errors are fresh *Error values carrying
// detail; they match these by Code.
var (
	ErrMalformedPacket            = &Error{Code: MalformedPacket}
	ErrProtocolError              = &Error{Code: ProtocolError}
	ErrPacketTooLarge             = &Error{Code: PacketTooLarge}
	ErrTopicNameInvalid           = &Error{Code: TopicNameInvalid}
	ErrTopicAliasInvalid          = &Error{Code: TopicAliasInvalid}
	ErrUnsupportedProtocolVersion = &Error{Code: UnsupportedProtocolVersion}
	ErrClientIdentifierNotValid   = &Error{Code: ClientIdentifierNotValid}
)

// Encoding errors. Encoding refuses only what would break the framing; it
// does not re-run the decoder's semantic checks.
var (
	// ErrFieldTooLong: a string or binary field is longer than 65535 bytes.
	ErrFieldTooLong = errors.New("mqtt: encode: field longer than 65535 bytes")
	// ErrValueOutOfRange: a QoS above 2, a variable byte integer above
	// 268435455, or a zero packet identifier where one is required.
	ErrValueOutOfRange = errors.New("mqtt: encode: value out of range")
	// ErrVersion: the version is not 4 (3.1.1) or 5, or the packet does not
	// exist in that version (AUTH in 3.1.1).
	ErrVersion = errors.New("mqtt: encode: unsupported protocol version for packet")
)

// CodeOf returns the reason code carried by err, or UnspecifiedError if err
// is not (and does not wrap) an *Error, and Success for nil.
func CodeOf(err error) ReasonCode {
	if err == nil {
		return Success
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return UnspecifiedError
}

func newErr(code ReasonCode, clause, format string, args ...any) *Error {
	r := format
	if len(args) > 0 {
		r = fmt.Sprintf(format, args...)
	}
	return &Error{Code: code, Clause: clause, Reason: r}
}

func malformed(clause, format string, args ...any) *Error {
	return newErr(MalformedPacket, clause, format, args...)
}

func protocolErr(clause, format string, args ...any) *Error {
	return newErr(ProtocolError, clause, format, args...)
}
