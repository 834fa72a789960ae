// Package packet is moat's MQTT 3.1.1 and 5.0 codec: it reads, validates and
// writes control packets and knows nothing about sessions, subscriptions or
// authorization. The broker imports it; it imports only the standard
// library.
//
// # Model
//
// Each of the 15 control packets is a struct (Connect, Connack, Publish,
// Puback, Pubrec, Pubrel, Pubcomp, Subscribe, Suback, Unsubscribe,
// Unsuback, Pingreq, Pingresp, Disconnect, Auth); a pointer to one
// satisfies the closed Packet interface. MQTT 5 properties live in one
// Properties struct embedded in the packets that have them; decoding
// refuses a property the packet may not carry (malformed, §2.2.2.2) or a
// property given twice that may appear once (protocol error), and encoding
// writes only the properties the packet may carry. A property is absent
// when its field is zero, except where zero is a meaningful value on the
// wire: those fields have a Has flag (HasSessionExpiry, HasMaximumQoS...).
//
// The protocol version is a parameter, never state: Append(dst, v) and
// ReadPacket(v) take it. Version 0 means "no CONNECT yet", where only a
// CONNECT is accepted ([MQTT-3.1.0-1]); the CONNECT's ProtocolLevel (V311
// or V5) is the version for the rest of the connection. MQTT 3.1
// ("MQIsdp", level 3) is refused with UnsupportedProtocolVersion, because
// AWS IoT Core supports only 3.1.1 and 5.
//
// # Reading
//
//	r := packet.NewReader(conn, maxPacketSize)   // or pass your own *bufio.Reader
//	p, err := r.ReadPacket(0)                    // the CONNECT
//	c := p.(*packet.Connect)
//	for {
//		p, err = r.ReadPacket(c.ProtocolLevel)
//		...
//	}
//
// ReadPacket reads the fixed header, checks the type's reserved flag bits,
// decodes the remaining length ([MQTT-1.5.5-1]: at most four bytes,
// minimally encoded) and refuses a packet larger than the limit with
// PacketTooLarge before reading or allocating its body. Only then does it
// allocate one buffer of exactly the body's size and decode it. Decode does
// the same on a byte slice.
//
// Ownership: a packet from ReadPacket owns its body buffer; byte fields
// (Publish.Payload, Connect.Password, CorrelationData, AuthData...) are
// slices of it and nothing else refers to it, so the broker may keep them,
// share them between subscribers and store them without copying, as long as
// nobody modifies them. Strings (topics, client ids, properties) are
// copies. A packet from Decode aliases the caller's slice instead.
//
// # Errors
//
// A packet that breaks the specification yields an *Error whose Code is the
// MQTT 5 reason code to report (MalformedPacket 0x81, ProtocolError 0x82,
// TopicNameInvalid 0x90, TopicAliasInvalid 0x94, PacketTooLarge 0x95,
// UnsupportedProtocolVersion 0x84, ClientIdentifierNotValid 0x85), with
// the clause it breaks ("MQTT-3.1.2-3"), a detail for logs, and the packet
// type and version. errors.Is matches an *Error against the sentinels
// (ErrMalformedPacket...) by code; CodeOf extracts the code from any error.
// Every reason code, its name and the packets that may carry it are one
// table in codes.go. After an error the stream is not resynchronised: the
// broker answers and closes.
//
// What the broker answers:
//
//   - CONNECT refused: the *Error's Version is the level the CONNECT
//     declared. For V5, send Connack{ReasonCode: e.Code} (0x81, 0x82, 0x84,
//     0x90, 0x95 are valid there). For 3.1.1 and unknown levels send the
//     3.1.1 form: Connack.Append with V311 maps 0x84 to return code 0x01
//     ([MQTT-3.1.2-2]) and 0x85 to 0x02 ([MQTT-3.1.3-8]); for other codes
//     3.1.1 says to close without CONNACK.
//   - Later packets: V5 sends Disconnect{ReasonCode: e.Code}, then closes;
//     3.1.1 closes.
//   - io.EOF, io.ErrUnexpectedEOF and transport errors are not protocol
//     errors: just close.
//
// Checks left to the broker because they need session state or policy:
// topic alias range (TopicAliasMaximum), receive maximum, packet identifier
// in use, a second CONNECT, Subscription Identifiers in a PUBLISH from a
// client ([MQTT-3.3.4-6]), topic filter wildcard placement and $share
// syntax (internal/topic), No Local on a shared subscription, DISCONNECT
// session expiry after a zero one, direction (a client sending CONNACK),
// AWS limits (client id 128 bytes, topic 256 bytes and 7 slashes, 8
// filters per SUBSCRIBE, QoS 2 unsupported), and UTF-8 payloads when the
// payload format indicator is 1 (not checked here, for speed).
//
// # Writing and fan-out
//
// Every packet has Append(dst, v), which appends the encoding for version v
// to dst without allocating when dst has room (two passes: size, then
// bytes). Write(w, p, v) encodes into a pooled buffer and writes it once.
// Encoding refuses only what cannot be framed (a field over 65535 bytes, a
// value out of range, a missing packet identifier); it does not re-run the
// decoder's semantic checks. For 3.1.1 it drops what 3.1.1 lacks:
// properties, ack reason codes, and it maps Connack and Suback failure codes
// to their 3.1.1 values.
//
// A PUBLISH delivered to many subscribers is encoded once per variant, not
// once per subscriber. Between subscribers of the same version only the
// fixed header flags (DUP, QoS, RETAIN), the packet identifier and so the
// remaining length differ; SharedPublish keeps one immutable encoding and
// writes each delivery as a new header, the shared topic, the delivery's
// packet identifier (if QoS > 0) and the shared properties and payload:
//
//	var shared [2]packet.SharedPublish            // per message: [0] 3.1.1, [1] 5
//	for _, sub := range matches {
//		sp := &shared[sub.Version-packet.V311]
//		if sp.Bytes() == nil {
//			*sp, err = packet.NewSharedPublish(msg, sub.Version)
//		}
//		qos := min(msg.QoS, sub.QoS)
//		if sub.MaxPacketSize > 0 && sp.Size(qos) > sub.MaxPacketSize {
//			continue // [MQTT-3.1.2-25]: too large for this client, drop
//		}
//		sub.enqueue(*sp, packet.Delivery{QoS: qos, PacketID: sub.nextID(), Retain: ...})
//	}
//	// in the subscriber's writer goroutine:
//	sp.WriteTo(bufw, d) // no allocation, payload copied once into bufw
//
// A SharedPublish is 48 bytes and safe for concurrent use, so queued and
// in-flight messages hold it (plus a Delivery) rather than a Publish or
// bytes of their own; a retransmission is the same value with Dup set.
// ParseSharedPublish wraps bytes encoded earlier (a retained message kept
// encoded). A delivery that needs other properties makes its own variant:
// MQTT 5 subscription identifiers, a server-to-client topic alias, or a
// message expiry reduced by time spent queued. Set them on a copy of the
// Publish (a shallow copy shares the payload) and encode that, or cache a
// SharedPublish per distinct set. The broker resolves an inbound topic
// alias to its topic and clears Properties.TopicAlias before fan-out.
//
// # Tests and fixtures
//
// Package packettest pairs raw bytes with the packet they decode to, or
// with the reason code and clause of their refusal, for every packet type
// in both versions; the codec tests use them, and the broker's raw-wire
// tests can too. FuzzDecode and FuzzDecodeSplit are seeded from them
// (testdata/fuzz; regenerate with go test -run TestWriteFuzzSeeds
// -write-seeds).
package packet
