package packet

// Subscribe is a SUBSCRIBE packet (§3.8). Decoding checks the framing and
// the option bits; the broker (with internal/topic) validates each filter's
// wildcards and $share syntax and answers bad ones per filter in SUBACK
// (MQTT 5 code 0x8F) or by closing (3.1.1), including No Local on a shared
// subscription ([MQTT-3.8.3-4]).
type Subscribe struct {
	PacketID uint16
	// Properties: at most one SubscriptionIDs entry, and user properties.
	Properties    Properties
	Subscriptions []Subscription // at least one
}

// Subscription is one topic filter and its options (§3.8.3.1).
type Subscription struct {
	Filter string
	QoS    byte // maximum QoS, 0-2
	// MQTT 5 only; 3.1.1 encodes only QoS.
	NoLocal           bool
	RetainAsPublished bool
	RetainHandling    byte // 0 send retained, 1 only for new subscriptions, 2 never
}

// Subscription option bits (§3.8.3.1).
const (
	subQoS            = 0x03
	subNoLocal        = 0x04
	subRetainAsPub    = 0x08
	subRetainHandling = 0x30
	subReserved       = 0xC0
)

func (*Subscribe) Type() Type { return TypeSubscribe }

func (s *Subscribe) decode(d *decoder, _ byte, v Version) {
	s.PacketID = decodePacketID(d)
	if v == V5 {
		s.Properties.decode(d, TypeSubscribe)
	}
	for d.ok() && d.left() > 0 {
		// [MQTT-3.8.3-1] filters are UTF-8 Encoded Strings.
		f := d.rawString("topic filter")
		opts := d.u8("subscription options")
		if !d.ok() {
			return
		}
		if len(f) == 0 {
			// [MQTT-4.7.3-1] a topic filter is at least one character.
			d.fail(protocolErr("MQTT-4.7.3-1", "empty topic filter"))
			return
		}
		sub := Subscription{Filter: string(f), QoS: opts & subQoS}
		if v == V5 {
			if opts&subReserved != 0 {
				// [MQTT-3.8.3-5] reserved option bits are 0.
				d.fail(malformed("MQTT-3.8.3-5", "reserved subscription option bits set"))
				return
			}
			sub.NoLocal = opts&subNoLocal != 0
			sub.RetainAsPublished = opts&subRetainAsPub != 0
			sub.RetainHandling = opts & subRetainHandling >> 4
			if sub.RetainHandling == 3 {
				// §3.8.3.1: retain handling 3 is a Protocol Error.
				d.fail(protocolErr("", "retain handling 3"))
				return
			}
		} else if opts&^subQoS != 0 {
			// [MQTT-3-8.3-4] (3.1.1) the upper six bits of requested QoS are 0.
			d.fail(malformed("MQTT-3-8.3-4", "reserved requested QoS bits set"))
			return
		}
		if sub.QoS == 3 {
			// §3.8.3.1 (3.1.1: [MQTT-3-8.3-4]) QoS 3 is malformed.
			d.fail(malformed("MQTT-3-8.3-4", "requested QoS 3"))
			return
		}
		s.Subscriptions = append(s.Subscriptions, sub)
	}
	if d.ok() && len(s.Subscriptions) == 0 {
		// [MQTT-3.8.3-2] (3.1.1: [MQTT-3.8.3-3]) at least one filter.
		d.fail(protocolErr("MQTT-3.8.3-2", "SUBSCRIBE without topic filters"))
	}
}

// Append appends the SUBSCRIBE for version v.
func (s *Subscribe) Append(dst []byte, v Version) ([]byte, error) {
	if err := checkVersion(v); err != nil {
		return dst, err
	}
	if s.PacketID == 0 {
		return dst, ErrValueOutOfRange
	}
	var sz sizer
	sz.n = 2
	var props int
	if v == V5 {
		props = s.Properties.propsSize(TypeSubscribe, &sz)
	}
	for i := range s.Subscriptions {
		sub := &s.Subscriptions[i]
		if sub.QoS > 2 || sub.RetainHandling > 2 {
			return dst, ErrValueOutOfRange
		}
		sz.str(len(sub.Filter))
		sz.n++
	}
	if sz.err != nil {
		return dst, sz.err
	}
	dst, err := appendHeader(dst, TypeSubscribe, 0x02, sz.n)
	if err != nil {
		return dst, err
	}
	dst = appendUint16(dst, s.PacketID)
	if v == V5 {
		dst = s.Properties.appendTo(dst, TypeSubscribe, props)
	}
	for i := range s.Subscriptions {
		sub := &s.Subscriptions[i]
		opts := sub.QoS
		if v == V5 {
			if sub.NoLocal {
				opts |= subNoLocal
			}
			if sub.RetainAsPublished {
				opts |= subRetainAsPub
			}
			opts |= sub.RetainHandling << 4
		}
		dst = append(appendString(dst, sub.Filter), opts)
	}
	return dst, nil
}

// Suback is a SUBACK packet (§3.9): one reason code per requested filter, in
// order. In 3.1.1 the codes are 0x00-0x02 (granted QoS) or 0x80 (failure);
// Append maps any MQTT 5 failure code to 0x80 there.
type Suback struct {
	PacketID    uint16
	Properties  Properties
	ReasonCodes []ReasonCode
}

func (*Suback) Type() Type { return TypeSuback }

func (s *Suback) decode(d *decoder, _ byte, v Version) {
	s.PacketID = decodePacketID(d)
	if v == V5 {
		s.Properties.decode(d, TypeSuback)
	}
	s.ReasonCodes = decodeCodes(d, TypeSuback, v)
}

func (s *Suback) Append(dst []byte, v Version) ([]byte, error) {
	return appendCodesAck(dst, TypeSuback, v, s.PacketID, &s.Properties, s.ReasonCodes)
}

// Unsubscribe is an UNSUBSCRIBE packet (§3.10).
type Unsubscribe struct {
	PacketID   uint16
	Properties Properties // user properties only
	Filters    []string   // at least one
}

func (*Unsubscribe) Type() Type { return TypeUnsubscribe }

func (u *Unsubscribe) decode(d *decoder, _ byte, v Version) {
	u.PacketID = decodePacketID(d)
	if v == V5 {
		u.Properties.decode(d, TypeUnsubscribe)
	}
	for d.ok() && d.left() > 0 {
		// [MQTT-3.10.3-1] filters are UTF-8 Encoded Strings.
		f := d.rawString("topic filter")
		if d.ok() && len(f) == 0 {
			// [MQTT-4.7.3-1] a topic filter is at least one character.
			d.fail(protocolErr("MQTT-4.7.3-1", "empty topic filter"))
		}
		if d.ok() {
			u.Filters = append(u.Filters, string(f))
		}
	}
	if d.ok() && len(u.Filters) == 0 {
		// [MQTT-3.10.3-2] at least one filter.
		d.fail(protocolErr("MQTT-3.10.3-2", "UNSUBSCRIBE without topic filters"))
	}
}

func (u *Unsubscribe) Append(dst []byte, v Version) ([]byte, error) {
	if err := checkVersion(v); err != nil {
		return dst, err
	}
	if u.PacketID == 0 {
		return dst, ErrValueOutOfRange
	}
	var sz sizer
	sz.n = 2
	var props int
	if v == V5 {
		props = u.Properties.propsSize(TypeUnsubscribe, &sz)
	}
	for _, f := range u.Filters {
		sz.str(len(f))
	}
	if sz.err != nil {
		return dst, sz.err
	}
	dst, err := appendHeader(dst, TypeUnsubscribe, 0x02, sz.n)
	if err != nil {
		return dst, err
	}
	dst = appendUint16(dst, u.PacketID)
	if v == V5 {
		dst = u.Properties.appendTo(dst, TypeUnsubscribe, props)
	}
	for _, f := range u.Filters {
		dst = appendString(dst, f)
	}
	return dst, nil
}

// Unsuback is an UNSUBACK packet (§3.11). 3.1.1 has no payload, so
// ReasonCodes is empty there and Append ignores it.
type Unsuback struct {
	PacketID    uint16
	Properties  Properties
	ReasonCodes []ReasonCode // MQTT 5: one per filter, in order
}

func (*Unsuback) Type() Type { return TypeUnsuback }

func (u *Unsuback) decode(d *decoder, _ byte, v Version) {
	u.PacketID = decodePacketID(d)
	if v == V5 {
		u.Properties.decode(d, TypeUnsuback)
		u.ReasonCodes = decodeCodes(d, TypeUnsuback, v)
	}
	d.end(TypeUnsuback)
}

func (u *Unsuback) Append(dst []byte, v Version) ([]byte, error) {
	codes := u.ReasonCodes
	if v != V5 {
		codes = nil
	}
	return appendCodesAck(dst, TypeUnsuback, v, u.PacketID, &u.Properties, codes)
}

// decodePacketID reads a packet identifier that must be non-zero.
func decodePacketID(d *decoder) uint16 {
	id := d.u16("packet identifier")
	if d.ok() && id == 0 {
		// [MQTT-2.2.1-3] (3.1.1: [MQTT-2.3.1-1]) identifiers are non-zero.
		d.fail(protocolErr("MQTT-2.2.1-3", "packet identifier 0"))
	}
	return id
}

// decodeCodes reads the reason code list of a SUBACK or UNSUBACK: the rest of
// the packet, at least one code, each valid for t.
func decodeCodes(d *decoder, t Type, v Version) []ReasonCode {
	b := d.rest()
	if !d.ok() {
		return nil
	}
	if len(b) == 0 {
		// §3.9.3, §3.11.3: one code per filter, and a request has at least one.
		d.fail(protocolErr("", "%s without reason codes", t))
		return nil
	}
	codes := make([]ReasonCode, len(b))
	for i, c := range b {
		rc := ReasonCode(c)
		ok := rc.ValidFor(t)
		if v == V311 {
			// 3.1.1 §3.9.3: 0x00, 0x01, 0x02 or 0x80.
			ok = rc <= GrantedQoS2 || rc == V3SubackFailure
		}
		if !ok {
			d.fail(protocolErr("", "%s reason code 0x%02x", t, c))
			return nil
		}
		codes[i] = rc
	}
	return codes
}

func appendCodesAck(dst []byte, t Type, v Version, id uint16, p *Properties, codes []ReasonCode) ([]byte, error) {
	if err := checkVersion(v); err != nil {
		return dst, err
	}
	if id == 0 {
		return dst, ErrValueOutOfRange
	}
	var sz sizer
	sz.n = 2 + len(codes)
	var props int
	if v == V5 {
		props = p.propsSize(t, &sz)
	}
	if sz.err != nil {
		return dst, sz.err
	}
	dst, err := appendHeader(dst, t, 0, sz.n)
	if err != nil {
		return dst, err
	}
	dst = appendUint16(dst, id)
	if v == V5 {
		dst = p.appendTo(dst, t, props)
	}
	for _, c := range codes {
		if v == V311 && c.IsError() {
			c = V3SubackFailure
		}
		dst = append(dst, byte(c))
	}
	return dst, nil
}
