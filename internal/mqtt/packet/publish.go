package packet

// Publish is a PUBLISH packet (§3.3).
//
// Ownership: a decoded Publish owns its memory. Topic is a string of its
// own; Payload, CorrelationData and similar byte fields alias the packet
// body, a buffer allocated for this packet alone and referenced by nothing
// else in this package, so the broker may keep and share them (fan out,
// retain, queue) for as long as it likes. Nobody may modify them once
// shared.
type Publish struct {
	Dup      bool
	QoS      byte // 0, 1 or 2
	Retain   bool
	Topic    string // may be empty in MQTT 5 when Properties.TopicAlias is set
	PacketID uint16 // QoS 1 and 2 only; non-zero
	// Properties (MQTT 5). A broker must refuse SubscriptionIDs from a client
	// ([MQTT-3.3.4-6]); the codec allows them because a server sends them.
	Properties Properties
	Payload    []byte
}

// PUBLISH fixed header flags (§3.3.1).
const (
	pubRetain = 0x01
	pubQoS    = 0x06
	pubDup    = 0x08
)

func (*Publish) Type() Type { return TypePublish }

func (p *Publish) decode(d *decoder, flags byte, v Version) {
	p.Dup = flags&pubDup != 0
	p.QoS = flags & pubQoS >> 1
	p.Retain = flags&pubRetain != 0
	// QoS 3 and DUP with QoS 0 are refused by checkFlags before the body is read.

	// [MQTT-3.3.2-1] the topic name is a UTF-8 Encoded String.
	topic := d.rawString("topic name")
	if d.ok() && hasWildcard(topic) {
		// [MQTT-3.3.2-2] a topic name has no wildcard characters.
		d.fail(newErr(TopicNameInvalid, "MQTT-3.3.2-2", "wildcard in topic name %q", topic))
	}
	if p.QoS > 0 {
		p.PacketID = d.u16("packet identifier")
		if d.ok() && p.PacketID == 0 {
			// [MQTT-2.2.1-3] (3.1.1: [MQTT-2.3.1-1]) QoS > 0 needs a non-zero id.
			d.fail(protocolErr("MQTT-2.2.1-3", "packet identifier 0"))
		}
	}
	if v == V5 {
		p.Properties.decode(d, TypePublish)
	}
	if d.ok() && len(topic) == 0 && p.Properties.TopicAlias == 0 {
		// [MQTT-4.7.3-1] a topic name is at least one character; MQTT 5 allows
		// an empty one only with a topic alias (§3.3.2.3.4).
		d.fail(newErr(TopicNameInvalid, "MQTT-4.7.3-1", "empty topic name without topic alias"))
	}
	if d.ok() && len(topic) > 0 {
		p.Topic = string(topic)
	}
	p.Payload = d.rest()
}

// Append appends the PUBLISH for version v. In 3.1.1 the properties are
// dropped; a broker resolves inbound topic aliases before forwarding.
func (p *Publish) Append(dst []byte, v Version) ([]byte, error) {
	if err := checkVersion(v); err != nil {
		return dst, err
	}
	flags, err := publishFlags(p.QoS, p.Dup, p.Retain)
	if err != nil {
		return dst, err
	}
	if p.QoS > 0 && p.PacketID == 0 {
		return dst, ErrValueOutOfRange
	}
	var s sizer
	s.str(len(p.Topic))
	if p.QoS > 0 {
		s.n += 2
	}
	var props int
	if v == V5 {
		props = p.Properties.propsSize(TypePublish, &s)
	}
	s.n += len(p.Payload)
	if s.err != nil {
		return dst, s.err
	}
	dst, err = appendHeader(dst, TypePublish, flags, s.n)
	if err != nil {
		return dst, err
	}
	dst = appendString(dst, p.Topic)
	if p.QoS > 0 {
		dst = appendUint16(dst, p.PacketID)
	}
	if v == V5 {
		dst = p.Properties.appendTo(dst, TypePublish, props)
	}
	return append(dst, p.Payload...), nil
}

func publishFlags(qos byte, dup, retain bool) (byte, error) {
	if qos > 2 {
		return 0, ErrValueOutOfRange
	}
	f := qos << 1
	if dup {
		f |= pubDup
	}
	if retain {
		f |= pubRetain
	}
	return f, nil
}

// Puback is a PUBACK packet (§3.4): the answer to a QoS 1 PUBLISH.
type Puback struct {
	PacketID   uint16
	ReasonCode ReasonCode // MQTT 5 only; 3.1.1 has none
	Properties Properties
}

// Pubrec is a PUBREC packet (§3.5): first answer to a QoS 2 PUBLISH.
type Pubrec struct {
	PacketID   uint16
	ReasonCode ReasonCode // MQTT 5 only
	Properties Properties
}

// Pubrel is a PUBREL packet (§3.6): the answer to a PUBREC.
type Pubrel struct {
	PacketID   uint16
	ReasonCode ReasonCode // MQTT 5 only
	Properties Properties
}

// Pubcomp is a PUBCOMP packet (§3.7): the answer to a PUBREL.
type Pubcomp struct {
	PacketID   uint16
	ReasonCode ReasonCode // MQTT 5 only
	Properties Properties
}

func (*Puback) Type() Type  { return TypePuback }
func (*Pubrec) Type() Type  { return TypePubrec }
func (*Pubrel) Type() Type  { return TypePubrel }
func (*Pubcomp) Type() Type { return TypePubcomp }

func (a *Puback) decode(d *decoder, _ byte, v Version) {
	decodeAck(d, TypePuback, v, &a.PacketID, &a.ReasonCode, &a.Properties)
}
func (a *Pubrec) decode(d *decoder, _ byte, v Version) {
	decodeAck(d, TypePubrec, v, &a.PacketID, &a.ReasonCode, &a.Properties)
}
func (a *Pubrel) decode(d *decoder, _ byte, v Version) {
	decodeAck(d, TypePubrel, v, &a.PacketID, &a.ReasonCode, &a.Properties)
}
func (a *Pubcomp) decode(d *decoder, _ byte, v Version) {
	decodeAck(d, TypePubcomp, v, &a.PacketID, &a.ReasonCode, &a.Properties)
}

func (a *Puback) Append(dst []byte, v Version) ([]byte, error) {
	return appendAck(dst, TypePuback, v, a.PacketID, a.ReasonCode, &a.Properties)
}
func (a *Pubrec) Append(dst []byte, v Version) ([]byte, error) {
	return appendAck(dst, TypePubrec, v, a.PacketID, a.ReasonCode, &a.Properties)
}
func (a *Pubrel) Append(dst []byte, v Version) ([]byte, error) {
	return appendAck(dst, TypePubrel, v, a.PacketID, a.ReasonCode, &a.Properties)
}
func (a *Pubcomp) Append(dst []byte, v Version) ([]byte, error) {
	return appendAck(dst, TypePubcomp, v, a.PacketID, a.ReasonCode, &a.Properties)
}

// decodeAck decodes PUBACK, PUBREC, PUBREL and PUBCOMP, which share a layout:
// packet id, then in MQTT 5 an optional reason code and optional properties
// (§3.4.2.1: a remaining length of 2 means Success and no properties).
func decodeAck(d *decoder, t Type, v Version, id *uint16, rc *ReasonCode, p *Properties) {
	*id = d.u16("packet identifier")
	if d.ok() && *id == 0 {
		// [MQTT-2.2.1-3] packet identifiers are non-zero, so no ack can carry 0.
		d.fail(protocolErr("MQTT-2.2.1-3", "packet identifier 0"))
		return
	}
	if v == V5 && d.left() > 0 {
		*rc = ReasonCode(d.u8("reason code"))
		if d.ok() && !rc.ValidFor(t) {
			d.fail(protocolErr("", "%s reason code 0x%02x", t, byte(*rc)))
			return
		}
		if d.left() > 0 {
			p.decode(d, t)
		}
	}
	d.end(t)
}

func appendAck(dst []byte, t Type, v Version, id uint16, rc ReasonCode, p *Properties) ([]byte, error) {
	if err := checkVersion(v); err != nil {
		return dst, err
	}
	if id == 0 {
		return dst, ErrValueOutOfRange
	}
	flags := byte(0)
	if t == TypePubrel {
		flags = 0x02
	}
	var s sizer
	s.n = 2 + 1 // packet id, reason code
	var props int
	if v == V5 {
		props = p.propsSize(t, &s)
		// §3.4.2.1: omit reason code and properties when they say nothing.
		if props == 0 {
			s.n--
			if rc == Success {
				s.n--
			}
		}
	}
	if v != V5 {
		s.n = 2
	}
	if s.err != nil {
		return dst, s.err
	}
	dst, err := appendHeader(dst, t, flags, s.n)
	if err != nil {
		return dst, err
	}
	dst = appendUint16(dst, id)
	if v == V5 && s.n > 2 {
		dst = append(dst, byte(rc))
		if props > 0 {
			dst = p.appendTo(dst, t, props)
		}
	}
	return dst, nil
}
