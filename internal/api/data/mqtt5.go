package data

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/moat-iot/moat/internal/mqtt/packet"
)

// The MQTT 5 headers of Publish (botocore iot-data PublishRequest).
const (
	// HeaderUserProperties is the base64 of a JSON array of single-member
	// objects, e.g. [{"deviceName":"alpha"},{"deviceCnt":"45"}]; the SDKs
	// and the CLI encode it (the member is a jsonvalue).
	HeaderUserProperties = "X-Amz-Mqtt5-User-Properties"
	// HeaderPayloadFormat is UNSPECIFIED_BYTES or UTF8_DATA.
	HeaderPayloadFormat = "X-Amz-Mqtt5-Payload-Format-Indicator"
	// HeaderCorrelationData is base64 of the correlation data.
	HeaderCorrelationData = "X-Amz-Mqtt5-Correlation-Data"
)

// Payload format indicator values of HeaderPayloadFormat.
const (
	FormatUnspecified = "UNSPECIFIED_BYTES"
	FormatUTF8        = "UTF8_DATA"
)

// ParseUserProperties decodes HeaderUserProperties: standard base64
// (padding optional) of a JSON array whose elements are objects with
// exactly one member whose value is a string. Pairs keep their order and a
// name may repeat, as MQTT 5 user properties (§3.3.2.3.7). Names and
// values must be MQTT UTF-8 strings (no U+0000, at most 65535 bytes). ""
// means absent (nil). Anything else is an error saying what is wrong. A
// member repeated inside one object counts once, the last value winning
// (encoding/json); to repeat a name, use two objects.
func ParseUserProperties(h string) ([]packet.UserProperty, error) {
	if h == "" {
		return nil, nil
	}
	raw, err := decodeBase64(h)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('[') {
		return nil, errors.New("must be a JSON array of objects, base64-encoded")
	}
	var out []packet.UserProperty
	for i := 0; dec.More(); i++ {
		var obj map[string]json.RawMessage
		if err := dec.Decode(&obj); err != nil || obj == nil {
			return nil, fmt.Errorf("element %d must be a JSON object", i)
		}
		if len(obj) != 1 {
			return nil, fmt.Errorf("element %d must have exactly one member, has %d", i, len(obj))
		}
		for k, rv := range obj {
			var v string
			if len(rv) == 0 || rv[0] != '"' || json.Unmarshal(rv, &v) != nil {
				return nil, fmt.Errorf("element %d: the value of %q must be a string", i, k)
			}
			if err := mqttString(k); err != nil {
				return nil, fmt.Errorf("element %d: name %v", i, err)
			}
			if err := mqttString(v); err != nil {
				return nil, fmt.Errorf("element %d: value of %q %v", i, k, err)
			}
			out = append(out, packet.UserProperty{Key: k, Value: v})
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim(']') {
		return nil, errors.New("must be a JSON array of objects, base64-encoded")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("has data after the JSON array")
	}
	return out, nil
}

// ParsePayloadFormat decodes HeaderPayloadFormat to the MQTT 5 payload
// format indicator: 0 for UNSPECIFIED_BYTES or absent, 1 for UTF8_DATA.
func ParsePayloadFormat(h string) (byte, error) {
	switch h {
	case "", FormatUnspecified:
		return 0, nil
	case FormatUTF8:
		return 1, nil
	}
	return 0, fmt.Errorf("must be %s or %s, got %q", FormatUnspecified, FormatUTF8, h)
}

// ParseCorrelationData decodes HeaderCorrelationData (standard base64,
// padding optional); "" means absent (nil).
func ParseCorrelationData(h string) ([]byte, error) {
	if h == "" {
		return nil, nil
	}
	b, err := decodeBase64(h)
	if err != nil {
		return nil, err
	}
	if len(b) > 65535 {
		return nil, errors.New("is longer than 65535 bytes, the MQTT maximum")
	}
	if len(b) == 0 {
		return nil, nil
	}
	return b, nil
}

func decodeBase64(h string) ([]byte, error) {
	h = strings.TrimSpace(h)
	enc := base64.StdEncoding
	if len(h)%4 != 0 {
		enc = base64.RawStdEncoding
	}
	b, err := enc.DecodeString(h)
	if err != nil {
		return nil, errors.New("is not valid base64")
	}
	return b, nil
}

// mqttString checks what MQTT 5 requires of a UTF-8 string (§1.5.4):
// well-formed UTF-8, no U+0000, at most 65535 bytes.
func mqttString(s string) error {
	switch {
	case len(s) > 65535:
		return errors.New("is longer than 65535 bytes, the MQTT maximum")
	case !utf8.ValidString(s):
		return errors.New("is not valid UTF-8")
	case strings.IndexByte(s, 0) >= 0:
		return errors.New("contains U+0000")
	}
	return nil
}
