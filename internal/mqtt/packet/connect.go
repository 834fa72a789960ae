package packet

// Connect is a CONNECT packet (§3.1). Decoding checks everything the packet
// alone determines; a broker still decides client identifier policy
// (length, characters), authentication, and what to do with a second CONNECT
// on a connection ([MQTT-3.1.0-2]).
type Connect struct {
	// ProtocolName and ProtocolLevel are as read. Append ignores both: it
	// always writes "MQTT" and the version it is given.
	ProtocolName  string
	ProtocolLevel Version
	CleanStart    bool   // Clean Session in 3.1.1
	KeepAlive     uint16 // seconds; 0 = no keep alive
	Properties    Properties
	ClientID      string // may be empty
	Will          *Will  // nil = no will
	// Username is present if HasUsername (a present empty name is allowed);
	// Append also writes it when non-empty.
	Username    string
	HasUsername bool
	Password    []byte // nil = absent; aliases the packet body when decoded
}

// Will is the will message of a CONNECT (§3.1.2.5, §3.1.3.2).
type Will struct {
	QoS        byte
	Retain     bool
	Properties Properties // MQTT 5 will properties
	Topic      string
	Payload    []byte // aliases the packet body when decoded
}

// Connect flags (§3.1.2.3).
const (
	connReserved   = 0x01
	connCleanStart = 0x02
	connWill       = 0x04
	connWillQoS    = 0x18
	connWillRetain = 0x20
	connPassword   = 0x40
	connUsername   = 0x80
)

func (*Connect) Type() Type { return TypeConnect }

func (c *Connect) decode(d *decoder, _ byte, _ Version) {
	name := d.rawString("protocol name")
	level := Version(d.u8("protocol level"))
	if !d.ok() {
		return
	}
	c.ProtocolLevel = level
	switch string(name) {
	case "MQTT":
		c.ProtocolName = "MQTT"
	case "MQIsdp":
		c.ProtocolName = "MQIsdp"
	default:
		// [MQTT-3.1.2-1] an unknown protocol name: the server may close the
		// connection without CONNACK; it must not go on as MQTT.
		d.fail(protocolErr("MQTT-3.1.2-1", "protocol name %q", name))
		return
	}
	if c.ProtocolName != "MQTT" || (level != V311 && level != V5) {
		// [MQTT-3.1.2-2] unsupported level: CONNACK 0x01 (3.1.1) or 0x84 (5),
		// then close. MQTT 3.1 ("MQIsdp", level 3) is refused here too: AWS
		// IoT Core supports 3.1.1 and 5 only.
		d.fail(newErr(UnsupportedProtocolVersion, "MQTT-3.1.2-2", "protocol %s level %d", c.ProtocolName, level))
		return
	}
	flags := d.u8("connect flags")
	c.KeepAlive = d.u16("keep alive")
	if !d.ok() {
		return
	}
	if flags&connReserved != 0 {
		// [MQTT-3.1.2-3] the reserved flag must be 0.
		d.fail(malformed("MQTT-3.1.2-3", "reserved connect flag set"))
		return
	}
	c.CleanStart = flags&connCleanStart != 0
	willQoS := flags & connWillQoS >> 3
	if flags&connWill == 0 {
		if willQoS != 0 {
			// [MQTT-3.1.2-11] (3.1.1: [MQTT-3.1.2-13]) no will, so will QoS 0.
			d.fail(malformed("MQTT-3.1.2-11", "will QoS without will flag"))
			return
		}
		if flags&connWillRetain != 0 {
			// [MQTT-3.1.2-13] (3.1.1: [MQTT-3.1.2-15]) no will, so will retain 0.
			d.fail(malformed("MQTT-3.1.2-13", "will retain without will flag"))
			return
		}
	} else if willQoS == 3 {
		// [MQTT-3.1.2-12] (3.1.1: [MQTT-3.1.2-14]) will QoS 3 is malformed.
		d.fail(malformed("MQTT-3.1.2-12", "will QoS 3"))
		return
	}
	if level == V311 && flags&connPassword != 0 && flags&connUsername == 0 {
		// [MQTT-3.1.2-22] (3.1.1 only) a password needs a user name.
		d.fail(protocolErr("MQTT-3.1.2-22", "password flag without user name flag"))
		return
	}
	if level == V5 {
		c.Properties.decode(d, TypeConnect)
	}
	// [MQTT-3.1.3-3] the client identifier comes first; [MQTT-3.1.3-4] it is
	// a UTF-8 Encoded String.
	c.ClientID = d.str("client identifier")
	if flags&connWill != 0 {
		w := &Will{QoS: willQoS, Retain: flags&connWillRetain != 0}
		if level == V5 {
			w.Properties.decode(d, contextWill)
		}
		// [MQTT-3.1.3-11] (3.1.1: [MQTT-3.1.3-10]) the will topic is a UTF-8 string.
		topic := d.rawString("will topic")
		if d.ok() && (len(topic) == 0 || hasWildcard(topic)) {
			// [MQTT-4.7.3-1] [MQTT-3.3.2-2] it is a topic name: non-empty, no wildcards.
			d.fail(newErr(TopicNameInvalid, "MQTT-3.3.2-2", "will topic %q is not a topic name", topic))
		}
		w.Topic = string(topic)
		w.Payload = d.binary("will payload")
		c.Will = w
	}
	if flags&connUsername != 0 {
		// [MQTT-3.1.3-12] (3.1.1: [MQTT-3.1.3-11]) the user name is a UTF-8 string.
		c.Username, c.HasUsername = d.str("user name"), true
	}
	if flags&connPassword != 0 {
		c.Password = d.binary("password")
	}
	d.end(TypeConnect)
	if d.ok() && level == V311 && c.ClientID == "" && !c.CleanStart {
		// [MQTT-3.1.3-8] (3.1.1) an empty client id needs a clean session:
		// CONNACK 0x02 (identifier rejected), then close.
		d.fail(newErr(ClientIdentifierNotValid, "MQTT-3.1.3-8", "empty client identifier without clean session"))
	}
}

// Append appends the CONNECT for version v ("MQTT", level v).
func (c *Connect) Append(dst []byte, v Version) ([]byte, error) {
	if err := checkVersion(v); err != nil {
		return dst, err
	}
	var s sizer
	s.n = 2 + 4 + 1 + 1 + 2 // protocol name, level, flags, keep alive
	var props, willProps int
	if v == V5 {
		props = c.Properties.propsSize(TypeConnect, &s)
	}
	s.str(len(c.ClientID))
	flags := byte(0)
	if c.CleanStart {
		flags |= connCleanStart
	}
	if w := c.Will; w != nil {
		if w.QoS > 2 {
			return dst, ErrValueOutOfRange
		}
		flags |= connWill | w.QoS<<3
		if w.Retain {
			flags |= connWillRetain
		}
		if v == V5 {
			willProps = w.Properties.propsSize(contextWill, &s)
		}
		s.str(len(w.Topic))
		s.str(len(w.Payload))
	}
	if c.HasUsername || c.Username != "" {
		flags |= connUsername
		s.str(len(c.Username))
	}
	if c.Password != nil {
		flags |= connPassword
		s.str(len(c.Password))
	}
	if s.err != nil {
		return dst, s.err
	}
	dst, err := appendHeader(dst, TypeConnect, 0, s.n)
	if err != nil {
		return dst, err
	}
	dst = append(dst, 0, 4, 'M', 'Q', 'T', 'T', byte(v), flags)
	dst = appendUint16(dst, c.KeepAlive)
	if v == V5 {
		dst = c.Properties.appendTo(dst, TypeConnect, props)
	}
	dst = appendString(dst, c.ClientID)
	if w := c.Will; w != nil {
		if v == V5 {
			dst = w.Properties.appendTo(dst, contextWill, willProps)
		}
		dst = appendString(dst, w.Topic)
		dst = appendBinary(dst, w.Payload)
	}
	if flags&connUsername != 0 {
		dst = appendString(dst, c.Username)
	}
	if c.Password != nil {
		dst = appendBinary(dst, c.Password)
	}
	return dst, nil
}

// Connack is a CONNACK packet (§3.2).
type Connack struct {
	SessionPresent bool
	// ReasonCode is the MQTT 5 reason code. For 3.1.1, Append writes
	// ReasonCode.V3Connack() and decoding yields the raw return code (0-5).
	ReasonCode ReasonCode
	Properties Properties
}

func (*Connack) Type() Type { return TypeConnack }

func (c *Connack) decode(d *decoder, _ byte, v Version) {
	flags := d.u8("acknowledge flags")
	c.ReasonCode = ReasonCode(d.u8("reason code"))
	if !d.ok() {
		return
	}
	if flags&^1 != 0 {
		// §3.2.2.1: bits 7-1 of the acknowledge flags are reserved, 0.
		d.fail(malformed("", "reserved CONNACK flags set"))
		return
	}
	c.SessionPresent = flags == 1
	if v == V5 && !c.ReasonCode.ValidFor(TypeConnack) || v == V311 && c.ReasonCode > V3NotAuthorized {
		// §3.2.2.2 (3.1.1 §3.2.2.3): only the listed codes.
		d.fail(protocolErr("", "CONNACK reason code 0x%02x", byte(c.ReasonCode)))
		return
	}
	if c.SessionPresent && c.ReasonCode != Success {
		// [MQTT-3.2.2-6] (3.1.1: [MQTT-3.2.2-4]) a refusal has session present 0.
		d.fail(protocolErr("MQTT-3.2.2-6", "session present with a failure code"))
		return
	}
	if v == V5 {
		c.Properties.decode(d, TypeConnack)
	}
	d.end(TypeConnack)
}

// Append appends the CONNACK for version v.
func (c *Connack) Append(dst []byte, v Version) ([]byte, error) {
	if err := checkVersion(v); err != nil {
		return dst, err
	}
	var s sizer
	s.n = 2
	rc := c.ReasonCode
	var props int
	if v == V5 {
		props = c.Properties.propsSize(TypeConnack, &s)
	} else {
		rc = rc.V3Connack()
	}
	if s.err != nil {
		return dst, s.err
	}
	dst, err := appendHeader(dst, TypeConnack, 0, s.n)
	if err != nil {
		return dst, err
	}
	flags := byte(0)
	if c.SessionPresent {
		flags = 1
	}
	dst = append(dst, flags, byte(rc))
	if v == V5 {
		dst = c.Properties.appendTo(dst, TypeConnack, props)
	}
	return dst, nil
}
