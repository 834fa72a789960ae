package packet

import "strconv"

// PropertyID identifies an MQTT 5 property (§2.2.2.2).
type PropertyID byte

// MQTT 5 property identifiers (§2.2.2.2).
const (
	PropPayloadFormat        PropertyID = 0x01
	PropMessageExpiry        PropertyID = 0x02
	PropContentType          PropertyID = 0x03
	PropResponseTopic        PropertyID = 0x08
	PropCorrelationData      PropertyID = 0x09
	PropSubscriptionID       PropertyID = 0x0B
	PropSessionExpiry        PropertyID = 0x11
	PropAssignedClientID     PropertyID = 0x12
	PropServerKeepAlive      PropertyID = 0x13
	PropAuthMethod           PropertyID = 0x15
	PropAuthData             PropertyID = 0x16
	PropRequestProblemInfo   PropertyID = 0x17
	PropWillDelay            PropertyID = 0x18
	PropRequestResponseInfo  PropertyID = 0x19
	PropResponseInfo         PropertyID = 0x1A
	PropServerReference      PropertyID = 0x1C
	PropReasonString         PropertyID = 0x1F
	PropReceiveMaximum       PropertyID = 0x21
	PropTopicAliasMaximum    PropertyID = 0x22
	PropTopicAlias           PropertyID = 0x23
	PropMaximumQoS           PropertyID = 0x24
	PropRetainAvailable      PropertyID = 0x25
	PropUserProperty         PropertyID = 0x26
	PropMaximumPacketSize    PropertyID = 0x27
	PropWildcardSubAvailable PropertyID = 0x28
	PropSubIDAvailable       PropertyID = 0x29
	PropSharedSubAvailable   PropertyID = 0x2A

	maxPropertyID = 0x2A
)

// contextWill stands for the will properties of a CONNECT where a packet
// Type selects the allowed properties; 0 is no packet's type.
const contextWill Type = 0

// propInfo is one row of the property table: its name and where it may appear
// (bit t = packet Type t; bit 0 = CONNECT will properties).
type propInfo struct {
	name  string
	where uint16
}

const ackTypes = 1<<TypePuback | 1<<TypePubrec | 1<<TypePubrel | 1<<TypePubcomp

var propTable = [maxPropertyID + 1]propInfo{
	PropPayloadFormat:        {"payload format indicator", types(TypePublish, contextWill)},
	PropMessageExpiry:        {"message expiry interval", types(TypePublish, contextWill)},
	PropContentType:          {"content type", types(TypePublish, contextWill)},
	PropResponseTopic:        {"response topic", types(TypePublish, contextWill)},
	PropCorrelationData:      {"correlation data", types(TypePublish, contextWill)},
	PropSubscriptionID:       {"subscription identifier", types(TypePublish, TypeSubscribe)},
	PropSessionExpiry:        {"session expiry interval", types(TypeConnect, TypeConnack, TypeDisconnect)},
	PropAssignedClientID:     {"assigned client identifier", types(TypeConnack)},
	PropServerKeepAlive:      {"server keep alive", types(TypeConnack)},
	PropAuthMethod:           {"authentication method", types(TypeConnect, TypeConnack, TypeAuth)},
	PropAuthData:             {"authentication data", types(TypeConnect, TypeConnack, TypeAuth)},
	PropRequestProblemInfo:   {"request problem information", types(TypeConnect)},
	PropWillDelay:            {"will delay interval", types(contextWill)},
	PropRequestResponseInfo:  {"request response information", types(TypeConnect)},
	PropResponseInfo:         {"response information", types(TypeConnack)},
	PropServerReference:      {"server reference", types(TypeConnack, TypeDisconnect)},
	PropReasonString:         {"reason string", ackTypes | types(TypeConnack, TypeSuback, TypeUnsuback, TypeDisconnect, TypeAuth)},
	PropReceiveMaximum:       {"receive maximum", types(TypeConnect, TypeConnack)},
	PropTopicAliasMaximum:    {"topic alias maximum", types(TypeConnect, TypeConnack)},
	PropTopicAlias:           {"topic alias", types(TypePublish)},
	PropMaximumQoS:           {"maximum QoS", types(TypeConnack)},
	PropRetainAvailable:      {"retain available", types(TypeConnack)},
	PropUserProperty:         {"user property", 0xFFFF &^ types(TypePingreq, TypePingresp)},
	PropMaximumPacketSize:    {"maximum packet size", types(TypeConnect, TypeConnack)},
	PropWildcardSubAvailable: {"wildcard subscription available", types(TypeConnack)},
	PropSubIDAvailable:       {"subscription identifier available", types(TypeConnack)},
	PropSharedSubAvailable:   {"shared subscription available", types(TypeConnack)},
}

func (id PropertyID) String() string {
	if id <= maxPropertyID && propTable[id].name != "" {
		return propTable[id].name
	}
	return "property 0x" + strconv.FormatUint(uint64(id), 16)
}

// allowedIn reports whether property id may appear in context t (a packet
// type, or contextWill).
func (id PropertyID) allowedIn(t Type) bool {
	return id <= maxPropertyID && propTable[id].where&(1<<t) != 0
}

// UserProperty is one name/value pair (§3.1.2.11.8). Pairs keep their order
// and a name may repeat.
type UserProperty struct {
	Key, Value string
}

// Properties holds the MQTT 5 properties of a packet (or of a will). One
// struct serves every packet; encoding writes only the properties allowed
// in the packet being encoded and silently skips the rest, and decoding
// refuses a property that is not allowed there.
//
// Presence: a property is absent when its field is the zero value, except
// the fields with a Has flag, where zero is a meaningful value on the wire
// and the flag says whether the property is present. Decoding sets the Has
// flags; when building a packet, set them together with the value.
type Properties struct {
	// PUBLISH and will properties.
	PayloadFormat   byte     // 0x01: 1 = payload is UTF-8; 0 = unspecified bytes (absent)
	MessageExpiry   uint32   // 0x02: seconds; 0 = absent (no expiry)
	ContentType     string   // 0x03: "" = absent
	ResponseTopic   string   // 0x08: "" = absent
	CorrelationData []byte   // 0x09: nil = absent
	SubscriptionIDs []uint32 // 0x0B: 1..268435455 each; several in a server PUBLISH, at most one in SUBSCRIBE
	TopicAlias      uint16   // 0x23: PUBLISH only; 0 = absent
	WillDelay       uint32   // 0x18: will only; seconds; 0 = absent

	// CONNECT, CONNACK, DISCONNECT, AUTH properties.
	SessionExpiry         uint32 // 0x11: seconds; 0xFFFFFFFF = never; present if HasSessionExpiry
	HasSessionExpiry      bool
	AssignedClientID      string // 0x12: CONNACK; "" = absent
	ServerKeepAlive       uint16 // 0x13: CONNACK; seconds; present if HasServerKeepAlive
	HasServerKeepAlive    bool
	AuthMethod            string // 0x15: "" = absent
	AuthData              []byte // 0x16: nil = absent; needs AuthMethod
	RequestProblemInfo    byte   // 0x17: CONNECT; 0 or 1; present if HasRequestProblemInfo (absent means 1)
	HasRequestProblemInfo bool
	RequestResponseInfo   byte   // 0x19: CONNECT; 0 or 1; 0 = absent
	ResponseInfo          string // 0x1A: CONNACK; "" = absent
	ServerReference       string // 0x1C: CONNACK, DISCONNECT; "" = absent
	ReceiveMaximum        uint16 // 0x21: 0 = absent (means 65535)
	TopicAliasMaximum     uint16 // 0x22: 0 = absent (no aliases)
	MaximumPacketSize     uint32 // 0x27: bytes; 0 = absent (no limit)

	// CONNACK capability properties; absent means "available" (1), or for
	// MaximumQoS, QoS 2. Each is 0 or 1 and present if its Has flag is set.
	MaximumQoS              byte // 0x24
	HasMaximumQoS           bool
	RetainAvailable         byte // 0x25
	HasRetainAvailable      bool
	WildcardSubAvailable    byte // 0x28
	HasWildcardSubAvailable bool
	SubIDAvailable          byte // 0x29
	HasSubIDAvailable       bool
	SharedSubAvailable      byte // 0x2A
	HasSharedSubAvailable   bool

	// Any packet but PINGREQ/PINGRESP.
	ReasonString   string         // 0x1F: acks, CONNACK, DISCONNECT, AUTH; "" = absent
	UserProperties []UserProperty // 0x26: in order, repeatable
}

// decode reads a property length and the properties that follow, for
// context t.
func (p *Properties) decode(d *decoder, t Type) {
	n := int(d.varint("property length"))
	if !d.ok() {
		return
	}
	if n > d.left() {
		d.fail(malformed("", "property length %d exceeds the packet", n))
		return
	}
	end := d.off + n
	sub := decoder{b: d.b[:end], off: d.off}
	var seen uint64
	for sub.ok() && sub.left() > 0 {
		id := PropertyID(sub.u8("property identifier"))
		if !id.allowedIn(t) {
			// §2.2.2.2: an identifier not valid for the packet type is malformed.
			sub.fail(malformed("", "%s not allowed in %s", id, ctxName(t)))
			break
		}
		bit := uint64(1) << id
		repeatable := id == PropUserProperty || (id == PropSubscriptionID && t == TypePublish)
		if seen&bit != 0 && !repeatable {
			// §2.2.2.2 and each property's section: "It is a Protocol Error
			// to include the <property> more than once."
			sub.fail(protocolErr("", "%s more than once in %s", id, ctxName(t)))
			break
		}
		seen |= bit
		p.decodeOne(&sub, id, t)
	}
	if sub.ok() && p.AuthData != nil && p.AuthMethod == "" {
		// §3.1.2.11.10, §3.2.2.3.18, §3.15.2.2.3: data without a method.
		sub.fail(protocolErr("", "authentication data without authentication method"))
	}
	d.fail2(sub.err)
	d.off = end
}

func (d *decoder) fail2(e *Error) {
	if e != nil {
		d.fail(e)
	}
}

func ctxName(t Type) string {
	if t == contextWill {
		return "will properties"
	}
	return t.String()
}

// flag reads a one-byte property that must be 0 or 1.
func flag(d *decoder, id PropertyID) byte {
	v := d.u8(id.String())
	if v > 1 {
		d.fail(protocolErr("", "%s must be 0 or 1, got %d", id, v))
	}
	return v
}

func (p *Properties) decodeOne(d *decoder, id PropertyID, t Type) {
	what := id.String()
	switch id {
	case PropPayloadFormat:
		p.PayloadFormat = flag(d, id)
	case PropMessageExpiry:
		p.MessageExpiry = d.u32(what)
	case PropContentType:
		p.ContentType = d.str(what)
	case PropResponseTopic:
		b := d.rawString(what)
		if d.ok() && (len(b) == 0 || hasWildcard(b)) {
			// [MQTT-3.3.2-14] the response topic is a topic name.
			d.fail(newErr(TopicNameInvalid, "MQTT-3.3.2-14", "response topic is not a valid topic name"))
		}
		p.ResponseTopic = string(b)
	case PropCorrelationData:
		p.CorrelationData = d.binary(what)
	case PropSubscriptionID:
		v := d.varint(what)
		if d.ok() && v == 0 {
			// §3.3.2.3.8: "It is a Protocol Error if the Subscription Identifier has a value of 0."
			d.fail(protocolErr("", "subscription identifier 0"))
		}
		p.SubscriptionIDs = append(p.SubscriptionIDs, v)
	case PropSessionExpiry:
		p.SessionExpiry, p.HasSessionExpiry = d.u32(what), true
	case PropAssignedClientID:
		p.AssignedClientID = d.str(what)
	case PropServerKeepAlive:
		p.ServerKeepAlive, p.HasServerKeepAlive = d.u16(what), true
	case PropAuthMethod:
		p.AuthMethod = d.str(what)
		if d.ok() && p.AuthMethod == "" {
			// An empty method would be indistinguishable from an absent one.
			d.fail(protocolErr("", "empty authentication method"))
		}
	case PropAuthData:
		p.AuthData = d.binary(what)
	case PropRequestProblemInfo:
		p.RequestProblemInfo, p.HasRequestProblemInfo = flag(d, id), true
	case PropWillDelay:
		p.WillDelay = d.u32(what)
	case PropRequestResponseInfo:
		p.RequestResponseInfo = flag(d, id)
	case PropResponseInfo:
		p.ResponseInfo = d.str(what)
	case PropServerReference:
		p.ServerReference = d.str(what)
	case PropReasonString:
		p.ReasonString = d.str(what)
	case PropReceiveMaximum:
		p.ReceiveMaximum = d.u16(what)
		if d.ok() && p.ReceiveMaximum == 0 {
			// §3.1.2.11.3, §3.2.2.3.3: a value of 0 is a Protocol Error.
			d.fail(protocolErr("", "receive maximum 0"))
		}
	case PropTopicAliasMaximum:
		p.TopicAliasMaximum = d.u16(what)
	case PropTopicAlias:
		p.TopicAlias = d.u16(what)
		if d.ok() && p.TopicAlias == 0 {
			// [MQTT-3.3.2-8] a topic alias of 0 is not permitted; §3.3.4
			// answers it with DISCONNECT 0x94.
			d.fail(newErr(TopicAliasInvalid, "MQTT-3.3.2-8", "topic alias 0"))
		}
	case PropMaximumQoS:
		p.MaximumQoS, p.HasMaximumQoS = flag(d, id), true
	case PropRetainAvailable:
		p.RetainAvailable, p.HasRetainAvailable = flag(d, id), true
	case PropUserProperty:
		k := d.str(what)
		v := d.str(what)
		if d.ok() {
			p.UserProperties = append(p.UserProperties, UserProperty{k, v})
		}
	case PropMaximumPacketSize:
		p.MaximumPacketSize = d.u32(what)
		if d.ok() && p.MaximumPacketSize == 0 {
			// §3.1.2.11.4, §3.2.2.3.6: a value of 0 is a Protocol Error.
			d.fail(protocolErr("", "maximum packet size 0"))
		}
	case PropWildcardSubAvailable:
		p.WildcardSubAvailable, p.HasWildcardSubAvailable = flag(d, id), true
	case PropSubIDAvailable:
		p.SubIDAvailable, p.HasSubIDAvailable = flag(d, id), true
	case PropSharedSubAvailable:
		p.SharedSubAvailable, p.HasSharedSubAvailable = flag(d, id), true
	}
}

// size returns the encoded length of the properties allowed in context t,
// without the property length prefix.
func (p *Properties) size(t Type, s *sizer) int {
	n0 := s.n
	in := func(id PropertyID) bool { return id.allowedIn(t) }
	if p.PayloadFormat != 0 && in(PropPayloadFormat) {
		s.n += 2
	}
	if p.MessageExpiry != 0 && in(PropMessageExpiry) {
		s.n += 5
	}
	if p.ContentType != "" && in(PropContentType) {
		s.n++
		s.str(len(p.ContentType))
	}
	if p.ResponseTopic != "" && in(PropResponseTopic) {
		s.n++
		s.str(len(p.ResponseTopic))
	}
	if p.CorrelationData != nil && in(PropCorrelationData) {
		s.n++
		s.str(len(p.CorrelationData))
	}
	if in(PropSubscriptionID) {
		for _, v := range p.SubscriptionIDs {
			s.n++
			s.varint(v)
		}
	}
	if p.HasSessionExpiry && in(PropSessionExpiry) {
		s.n += 5
	}
	if p.AssignedClientID != "" && in(PropAssignedClientID) {
		s.n++
		s.str(len(p.AssignedClientID))
	}
	if p.HasServerKeepAlive && in(PropServerKeepAlive) {
		s.n += 3
	}
	if p.AuthMethod != "" && in(PropAuthMethod) {
		s.n++
		s.str(len(p.AuthMethod))
	}
	if p.AuthData != nil && in(PropAuthData) {
		s.n++
		s.str(len(p.AuthData))
	}
	if p.HasRequestProblemInfo && in(PropRequestProblemInfo) {
		s.n += 2
	}
	if p.WillDelay != 0 && in(PropWillDelay) {
		s.n += 5
	}
	if p.RequestResponseInfo != 0 && in(PropRequestResponseInfo) {
		s.n += 2
	}
	if p.ResponseInfo != "" && in(PropResponseInfo) {
		s.n++
		s.str(len(p.ResponseInfo))
	}
	if p.ServerReference != "" && in(PropServerReference) {
		s.n++
		s.str(len(p.ServerReference))
	}
	if p.ReasonString != "" && in(PropReasonString) {
		s.n++
		s.str(len(p.ReasonString))
	}
	if p.ReceiveMaximum != 0 && in(PropReceiveMaximum) {
		s.n += 3
	}
	if p.TopicAliasMaximum != 0 && in(PropTopicAliasMaximum) {
		s.n += 3
	}
	if p.TopicAlias != 0 && in(PropTopicAlias) {
		s.n += 3
	}
	if p.HasMaximumQoS && in(PropMaximumQoS) {
		s.n += 2
	}
	if p.HasRetainAvailable && in(PropRetainAvailable) {
		s.n += 2
	}
	if in(PropUserProperty) {
		for _, u := range p.UserProperties {
			s.n++
			s.str(len(u.Key))
			s.str(len(u.Value))
		}
	}
	if p.MaximumPacketSize != 0 && in(PropMaximumPacketSize) {
		s.n += 5
	}
	if p.HasWildcardSubAvailable && in(PropWildcardSubAvailable) {
		s.n += 2
	}
	if p.HasSubIDAvailable && in(PropSubIDAvailable) {
		s.n += 2
	}
	if p.HasSharedSubAvailable && in(PropSharedSubAvailable) {
		s.n += 2
	}
	return s.n - n0
}

// appendTo appends the property length n (from size) and the properties
// allowed in context t, in identifier order.
func (p *Properties) appendTo(dst []byte, t Type, n int) []byte {
	dst = appendVarint(dst, uint32(n))
	if n == 0 {
		return dst
	}
	in := func(id PropertyID) bool { return id.allowedIn(t) }
	if p.PayloadFormat != 0 && in(PropPayloadFormat) {
		dst = append(dst, byte(PropPayloadFormat), p.PayloadFormat)
	}
	if p.MessageExpiry != 0 && in(PropMessageExpiry) {
		dst = appendUint32(append(dst, byte(PropMessageExpiry)), p.MessageExpiry)
	}
	if p.ContentType != "" && in(PropContentType) {
		dst = appendString(append(dst, byte(PropContentType)), p.ContentType)
	}
	if p.ResponseTopic != "" && in(PropResponseTopic) {
		dst = appendString(append(dst, byte(PropResponseTopic)), p.ResponseTopic)
	}
	if p.CorrelationData != nil && in(PropCorrelationData) {
		dst = appendBinary(append(dst, byte(PropCorrelationData)), p.CorrelationData)
	}
	if in(PropSubscriptionID) {
		for _, v := range p.SubscriptionIDs {
			dst = appendVarint(append(dst, byte(PropSubscriptionID)), v)
		}
	}
	if p.HasSessionExpiry && in(PropSessionExpiry) {
		dst = appendUint32(append(dst, byte(PropSessionExpiry)), p.SessionExpiry)
	}
	if p.AssignedClientID != "" && in(PropAssignedClientID) {
		dst = appendString(append(dst, byte(PropAssignedClientID)), p.AssignedClientID)
	}
	if p.HasServerKeepAlive && in(PropServerKeepAlive) {
		dst = appendUint16(append(dst, byte(PropServerKeepAlive)), p.ServerKeepAlive)
	}
	if p.AuthMethod != "" && in(PropAuthMethod) {
		dst = appendString(append(dst, byte(PropAuthMethod)), p.AuthMethod)
	}
	if p.AuthData != nil && in(PropAuthData) {
		dst = appendBinary(append(dst, byte(PropAuthData)), p.AuthData)
	}
	if p.HasRequestProblemInfo && in(PropRequestProblemInfo) {
		dst = append(dst, byte(PropRequestProblemInfo), p.RequestProblemInfo)
	}
	if p.WillDelay != 0 && in(PropWillDelay) {
		dst = appendUint32(append(dst, byte(PropWillDelay)), p.WillDelay)
	}
	if p.RequestResponseInfo != 0 && in(PropRequestResponseInfo) {
		dst = append(dst, byte(PropRequestResponseInfo), p.RequestResponseInfo)
	}
	if p.ResponseInfo != "" && in(PropResponseInfo) {
		dst = appendString(append(dst, byte(PropResponseInfo)), p.ResponseInfo)
	}
	if p.ServerReference != "" && in(PropServerReference) {
		dst = appendString(append(dst, byte(PropServerReference)), p.ServerReference)
	}
	if p.ReasonString != "" && in(PropReasonString) {
		dst = appendString(append(dst, byte(PropReasonString)), p.ReasonString)
	}
	if p.ReceiveMaximum != 0 && in(PropReceiveMaximum) {
		dst = appendUint16(append(dst, byte(PropReceiveMaximum)), p.ReceiveMaximum)
	}
	if p.TopicAliasMaximum != 0 && in(PropTopicAliasMaximum) {
		dst = appendUint16(append(dst, byte(PropTopicAliasMaximum)), p.TopicAliasMaximum)
	}
	if p.TopicAlias != 0 && in(PropTopicAlias) {
		dst = appendUint16(append(dst, byte(PropTopicAlias)), p.TopicAlias)
	}
	if p.HasMaximumQoS && in(PropMaximumQoS) {
		dst = append(dst, byte(PropMaximumQoS), p.MaximumQoS)
	}
	if p.HasRetainAvailable && in(PropRetainAvailable) {
		dst = append(dst, byte(PropRetainAvailable), p.RetainAvailable)
	}
	if in(PropUserProperty) {
		for _, u := range p.UserProperties {
			dst = appendString(append(dst, byte(PropUserProperty)), u.Key)
			dst = appendString(dst, u.Value)
		}
	}
	if p.MaximumPacketSize != 0 && in(PropMaximumPacketSize) {
		dst = appendUint32(append(dst, byte(PropMaximumPacketSize)), p.MaximumPacketSize)
	}
	if p.HasWildcardSubAvailable && in(PropWildcardSubAvailable) {
		dst = append(dst, byte(PropWildcardSubAvailable), p.WildcardSubAvailable)
	}
	if p.HasSubIDAvailable && in(PropSubIDAvailable) {
		dst = append(dst, byte(PropSubIDAvailable), p.SubIDAvailable)
	}
	if p.HasSharedSubAvailable && in(PropSharedSubAvailable) {
		dst = append(dst, byte(PropSharedSubAvailable), p.SharedSubAvailable)
	}
	return dst
}

// propsSize returns the full encoded size of a properties section for t:
// length prefix plus properties. inner receives the length without prefix.
func (p *Properties) propsSize(t Type, s *sizer) (inner int) {
	inner = p.size(t, s)
	s.varint(uint32(min(inner, MaxRemainingLength+1)))
	return inner
}
