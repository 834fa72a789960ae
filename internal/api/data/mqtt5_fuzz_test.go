package data_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/moat-iot/moat/internal/api/data"
)

// FuzzParseUserProperties checks the x-amz-mqtt5-user-properties parser
// on any header value: it never panics; what it accepts are MQTT strings
// (UTF-8, no U+0000, at most 65535 bytes) and survive a round trip through
// the form the SDKs send. Seeds are in testdata/fuzz/FuzzParseUserProperties;
// the input is the decoded JSON, which the target base64-encodes (and also
// tries raw, as a header value).
func FuzzParseUserProperties(f *testing.F) {
	f.Add(`[{"deviceName":"alpha"},{"deviceCnt":"45"}]`)
	f.Add(`[]`)
	f.Add(`[{"a":"b","c":"d"}]`)
	f.Add(`[{"a":null}]`)
	f.Add(`[{"\u0000":"x"}]`)
	f.Fuzz(func(t *testing.T, doc string) {
		for _, h := range []string{base64.StdEncoding.EncodeToString([]byte(doc)), doc} {
			props, err := data.ParseUserProperties(h)
			if err != nil {
				continue
			}
			objs := make([]map[string]string, 0, len(props))
			for _, p := range props {
				for _, s := range []string{p.Key, p.Value} {
					if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 || len(s) > 65535 {
						t.Fatalf("accepted %q from %q", s, h)
					}
				}
				objs = append(objs, map[string]string{p.Key: p.Value})
			}
			again, _ := json.Marshal(objs)
			back, err := data.ParseUserProperties(base64.StdEncoding.EncodeToString(again))
			if err != nil || len(back) != len(props) {
				t.Fatalf("round trip of %q: %v %v", again, back, err)
			}
			for i := range back {
				if back[i] != props[i] {
					t.Fatalf("round trip %d: %v != %v", i, back[i], props[i])
				}
			}
		}
	})
}

// FuzzParseCorrelationData checks the x-amz-mqtt5-correlation-data parser:
// no panic, and what it accepts is what was encoded.
func FuzzParseCorrelationData(f *testing.F) {
	f.Add([]byte{1, 2, 3})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, h := range []string{base64.StdEncoding.EncodeToString(b), base64.RawStdEncoding.EncodeToString(b)} {
			got, err := data.ParseCorrelationData(h)
			if err != nil && len(b) <= 65535 {
				t.Fatalf("%q: %v", h, err)
			}
			if err == nil && !bytes.Equal(got, b) && !(len(b) == 0 && got == nil) {
				t.Fatalf("%q: got %x, want %x", h, got, b)
			}
		}
		_, _ = data.ParseCorrelationData(string(b))
	})
}
