package packet_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/moat-iot/moat/internal/mqtt/packet"
)

func TestReasonCode_String(t *testing.T) {
	tests := []struct {
		code packet.ReasonCode
		want string
	}{
		{packet.Success, "success"},                                         // shared byte 0x00
		{packet.PacketTooLarge, "packet too large"},                         // 0x95
		{packet.UnsupportedProtocolVersion, "unsupported protocol version"}, // 0x84
		{packet.ReasonCode(0x03), "reason code 0x3"},                        // undefined byte
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			// String names defined codes and shows undefined bytes in hex.
			if got := tt.code.String(); got != tt.want {
				t.Fatalf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReasonCode_V3Connack(t *testing.T) {
	tests := []struct {
		in, want packet.ReasonCode
	}{
		{packet.Success, packet.V3Accepted},                                       // accepted
		{packet.UnsupportedProtocolVersion, packet.V3UnacceptableProtocolVersion}, // 0x84 -> 0x01
		{packet.ClientIdentifierNotValid, packet.V3IdentifierRejected},            // 0x85 -> 0x02
		{packet.ServerBusy, packet.V3ServerUnavailable},                           // anything else -> 0x03
		{packet.BadUserNameOrPassword, packet.V3BadUserNameOrPassword},            // 0x86 -> 0x04
		{packet.NotAuthorized, packet.V3NotAuthorized},                            // 0x87 -> 0x05
		{packet.Banned, packet.V3NotAuthorized},                                   // 0x8A -> 0x05
		{packet.V3NotAuthorized, packet.V3NotAuthorized},                          // raw 3.1.1 codes pass through
	}
	for _, tt := range tests {
		t.Run(tt.in.String(), func(t *testing.T) {
			// MQTT 5 CONNACK codes map to the closest 3.1.1 return code, and
			// Connack.Append applies the mapping.
			if got := tt.in.V3Connack(); got != tt.want {
				t.Fatalf("V3Connack(%v) = %#x, want %#x", tt.in, byte(got), byte(tt.want))
			}
			b, err := packet.Encode(&packet.Connack{ReasonCode: tt.in}, packet.V311)
			if err != nil || b[3] != byte(tt.want) {
				t.Fatalf("encoded % x, %v", b, err)
			}
		})
	}
}

func TestError_IsAndCodeOf(t *testing.T) {
	_, _, err := packet.Decode([]byte{0x30, 0x04, 0x00, 0x02, 'a', '#'}, packet.V311)
	wrapped := fmt.Errorf("conn 7: %w", err)
	tests := []struct {
		name string
		err  error
		code packet.ReasonCode
		is   error
	}{
		{"direct", err, packet.TopicNameInvalid, packet.ErrTopicNameInvalid},      // the *Error itself
		{"wrapped", wrapped, packet.TopicNameInvalid, packet.ErrTopicNameInvalid}, // through %w
		{"other", errors.New("x"), packet.UnspecifiedError, nil},                  // not a packet error
		{"nil", nil, packet.Success, nil},                                         // no error
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// errors.Is matches by code; CodeOf extracts the code.
			if got := packet.CodeOf(tt.err); got != tt.code {
				t.Fatalf("CodeOf = %v, want %v", got, tt.code)
			}
			if tt.is != nil && !errors.Is(tt.err, tt.is) {
				t.Fatalf("errors.Is(%v, %v) = false", tt.err, tt.is)
			}
			if tt.is != nil && errors.Is(tt.err, packet.ErrMalformedPacket) {
				t.Fatalf("errors.Is matched a different code")
			}
		})
	}
	if s := err.Error(); !strings.Contains(s, "topic name invalid") || !strings.Contains(s, "PUBLISH") || !strings.Contains(s, "MQTT-3.3.2-2") {
		t.Fatalf("Error() = %q lacks code, packet or clause", s)
	}
}

func TestReasonCode_ValidFor(t *testing.T) {
	tests := []struct {
		name string
		code packet.ReasonCode
		typ  packet.Type
		ok   bool
	}{
		{"granted-qos1-suback", packet.GrantedQoS1, packet.TypeSuback, true},           // SUBACK grants
		{"granted-qos1-puback", packet.GrantedQoS1, packet.TypePuback, false},          // not a PUBACK code
		{"will-disconnect", packet.DisconnectWithWill, packet.TypeDisconnect, true},    // client DISCONNECT 0x04
		{"too-large-connack", packet.PacketTooLarge, packet.TypeConnack, true},         // CONNACK may say 0x95
		{"too-large-puback", packet.PacketTooLarge, packet.TypePuback, false},          // PUBACK may not
		{"reauth-auth", packet.ReAuthenticate, packet.TypeAuth, true},                  // AUTH 0x19
		{"not-found-pubrel", packet.PacketIdentifierNotFound, packet.TypePubrel, true}, // PUBREL 0x92
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The code table lists where each code may appear (§2.4).
			if got := tt.code.ValidFor(tt.typ); got != tt.ok {
				t.Fatalf("ValidFor = %v, want %v", got, tt.ok)
			}
		})
	}
}
