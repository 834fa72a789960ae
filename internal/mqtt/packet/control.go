package packet

// Pingreq is a PINGREQ packet (§3.12). It has no fields.
type Pingreq struct{}

// Pingresp is a PINGRESP packet (§3.13). It has no fields.
type Pingresp struct{}

func (*Pingreq) Type() Type  { return TypePingreq }
func (*Pingresp) Type() Type { return TypePingresp }

func (*Pingreq) decode(d *decoder, _ byte, _ Version)  { d.end(TypePingreq) }
func (*Pingresp) decode(d *decoder, _ byte, _ Version) { d.end(TypePingresp) }

// Append appends the two bytes C0 00.
func (*Pingreq) Append(dst []byte, v Version) ([]byte, error) {
	if err := checkVersion(v); err != nil {
		return dst, err
	}
	return append(dst, byte(TypePingreq)<<4, 0), nil
}

// Append appends the two bytes D0 00.
func (*Pingresp) Append(dst []byte, v Version) ([]byte, error) {
	if err := checkVersion(v); err != nil {
		return dst, err
	}
	return append(dst, byte(TypePingresp)<<4, 0), nil
}

// Disconnect is a DISCONNECT packet (§3.14). In 3.1.1 it has no fields and
// only a client sends it; in MQTT 5 either side may, with a reason code.
type Disconnect struct {
	ReasonCode ReasonCode // MQTT 5; 0 = normal disconnection
	// Properties (MQTT 5): session expiry (client only; a broker refuses a
	// non-zero value when the CONNECT had 0, [MQTT-3.14.2-2]), reason string,
	// server reference, user properties.
	Properties Properties
}

func (*Disconnect) Type() Type { return TypeDisconnect }

func (p *Disconnect) decode(d *decoder, _ byte, v Version) {
	if v == V5 {
		decodeCodeProps(d, TypeDisconnect, &p.ReasonCode, &p.Properties)
	}
	// 3.1.1 §3.14: no variable header, no payload.
	d.end(TypeDisconnect)
}

func (p *Disconnect) Append(dst []byte, v Version) ([]byte, error) {
	return appendCodeProps(dst, TypeDisconnect, v, p.ReasonCode, &p.Properties)
}

// Auth is an AUTH packet (§3.15), MQTT 5 only (type 15 is reserved in 3.1.1).
type Auth struct {
	ReasonCode ReasonCode // Success, ContinueAuthentication or ReAuthenticate
	Properties Properties // authentication method and data, reason string, user properties
}

func (*Auth) Type() Type { return TypeAuth }

func (p *Auth) decode(d *decoder, _ byte, _ Version) {
	decodeCodeProps(d, TypeAuth, &p.ReasonCode, &p.Properties)
	d.end(TypeAuth)
}

func (p *Auth) Append(dst []byte, v Version) ([]byte, error) {
	if v != V5 {
		return dst, ErrVersion
	}
	return appendCodeProps(dst, TypeAuth, v, p.ReasonCode, &p.Properties)
}

// decodeCodeProps decodes the MQTT 5 DISCONNECT and AUTH body: an optional
// reason code, then optional properties (§3.14.2.1, §3.15.2.1: a remaining
// length of 0 means Success and no properties).
func decodeCodeProps(d *decoder, t Type, rc *ReasonCode, p *Properties) {
	if d.left() == 0 {
		return
	}
	*rc = ReasonCode(d.u8("reason code"))
	if d.ok() && !rc.ValidFor(t) {
		// [MQTT-3.15.2-1] for AUTH; §3.14.2.1 for DISCONNECT.
		clause := ""
		if t == TypeAuth {
			clause = "MQTT-3.15.2-1"
		}
		d.fail(protocolErr(clause, "%s reason code 0x%02x", t, byte(*rc)))
		return
	}
	if d.left() > 0 {
		p.decode(d, t)
	}
}

func appendCodeProps(dst []byte, t Type, v Version, rc ReasonCode, p *Properties) ([]byte, error) {
	if err := checkVersion(v); err != nil {
		return dst, err
	}
	if v != V5 {
		return append(dst, byte(t)<<4, 0), nil
	}
	var sz sizer
	sz.n = 1
	props := p.propsSize(t, &sz)
	if props == 0 {
		sz.n-- // no property length
		if rc == Success {
			sz.n-- // no reason code
		}
	}
	if sz.err != nil {
		return dst, sz.err
	}
	dst, err := appendHeader(dst, t, 0, sz.n)
	if err != nil {
		return dst, err
	}
	if sz.n > 0 {
		dst = append(dst, byte(rc))
	}
	if props > 0 {
		dst = p.appendTo(dst, t, props)
	}
	return dst, nil
}
