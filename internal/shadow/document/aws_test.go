package document

import (
	"bytes"
	"encoding/json"
	"testing"
)

// These cases replay exchanges with the real AWS IoT Device Shadow service
// that AWS published, and check that moat writes the same bytes. Sources:
//
//   - [sdk] aws-iot-device-sdk-js-v2, samples/node/shadow/README.md: the
//     output of the shadow sample against AWS IoT (2024-07-01);
//   - [guide] AWS IoT Developer Guide, using-device-shadows.md ("Simulating
//     Device Shadow service communications"), pretty-printed there and
//     compacted here;
//   - [moto] getmoto/moto issue 9237: boto3 update_thing_shadow against AWS
//     with {"state": null} (2025-08-29).
//
// The prior shadow is each exchange's "previous" document (or the state the
// text describes); what AWS returned is compared byte for byte.
func TestShadow_Apply_AWSTranscripts(t *testing.T) {
	tests := []struct {
		name      string
		prior     string // stored shadow; "" for a new one
		request   string
		now       int64
		accepted  string // "" to skip
		delta     string // "-" for none, "" to skip
		documents string // "" to skip
	}{
		{
			// [sdk] update-reported {"Color":"green"} on a new shadow.
			name:      "sdk create",
			request:   `{"state":{"reported":{"Color":"green"}},"clientToken":"2e073dae-7c50-458f-a495-c16fae14a406"}`,
			now:       1719853620,
			accepted:  `{"state":{"reported":{"Color":"green"}},"metadata":{"reported":{"Color":{"timestamp":1719853620}}},"version":1,"timestamp":1719853620,"clientToken":"2e073dae-7c50-458f-a495-c16fae14a406"}`,
			delta:     "-",
			documents: `{"previous":null,"current":{"state":{"reported":{"Color":"green"}},"metadata":{"reported":{"Color":{"timestamp":1719853620}}},"version":1},"timestamp":1719853620,"clientToken":"2e073dae-7c50-458f-a495-c16fae14a406"}`,
		},
		{
			// [sdk] update-desired {"Color":"red"} at version 4.
			name:      "sdk desired change",
			prior:     `{"state":{"desired":{"Color":"green"},"reported":{"Color":"green"}},"metadata":{"desired":{"Color":{"timestamp":1719855311}},"reported":{"Color":{"timestamp":1719853620}}},"version":4}`,
			request:   `{"state":{"desired":{"Color":"red"}},"clientToken":"79737dba-2252-406e-9204-3dec049eebce"}`,
			now:       1719855498,
			accepted:  `{"state":{"desired":{"Color":"red"}},"metadata":{"desired":{"Color":{"timestamp":1719855498}}},"version":5,"timestamp":1719855498,"clientToken":"79737dba-2252-406e-9204-3dec049eebce"}`,
			delta:     `{"version":5,"timestamp":1719855498,"state":{"Color":"red"},"metadata":{"Color":{"timestamp":1719855498}},"clientToken":"79737dba-2252-406e-9204-3dec049eebce"}`,
			documents: `{"previous":{"state":{"desired":{"Color":"green"},"reported":{"Color":"green"}},"metadata":{"desired":{"Color":{"timestamp":1719855311}},"reported":{"Color":{"timestamp":1719853620}}},"version":4},"current":{"state":{"desired":{"Color":"red"},"reported":{"Color":"green"}},"metadata":{"desired":{"Color":{"timestamp":1719855498}},"reported":{"Color":{"timestamp":1719853620}}},"version":5},"timestamp":1719855498,"clientToken":"79737dba-2252-406e-9204-3dec049eebce"}`,
		},
		{
			// [sdk] update-reported {"Color":"red"}: back in sync, no delta.
			name:      "sdk reported catches up",
			prior:     `{"state":{"desired":{"Color":"red"},"reported":{"Color":"green"}},"metadata":{"desired":{"Color":{"timestamp":1719855498}},"reported":{"Color":{"timestamp":1719853620}}},"version":5}`,
			request:   `{"state":{"reported":{"Color":"red"}},"clientToken":"1317558e-0f69-40d7-8bdd-d3301a1cd6f7"}`,
			now:       1719856038,
			accepted:  `{"state":{"reported":{"Color":"red"}},"metadata":{"reported":{"Color":{"timestamp":1719856038}}},"version":6,"timestamp":1719856038,"clientToken":"1317558e-0f69-40d7-8bdd-d3301a1cd6f7"}`,
			delta:     "-",
			documents: `{"previous":{"state":{"desired":{"Color":"red"},"reported":{"Color":"green"}},"metadata":{"desired":{"Color":{"timestamp":1719855498}},"reported":{"Color":{"timestamp":1719853620}}},"version":5},"current":{"state":{"desired":{"Color":"red"},"reported":{"Color":"red"}},"metadata":{"desired":{"Color":{"timestamp":1719855498}},"reported":{"Color":{"timestamp":1719856038}}},"version":6},"timestamp":1719856038,"clientToken":"1317558e-0f69-40d7-8bdd-d3301a1cd6f7"}`,
		},
		{
			// [sdk] update-reported {"Status":"Awful"}: the delta holds only
			// the out-of-sync key, with its desired timestamp.
			name:      "sdk delta of one key",
			prior:     `{"state":{"desired":{"Color":"red","Status":"Great"},"reported":{"Color":"red","Status":"Great"}},"metadata":{"desired":{"Color":{"timestamp":1719855498},"Status":{"timestamp":1719856710}},"reported":{"Color":{"timestamp":1719856038},"Status":{"timestamp":1719856694}}},"version":8}`,
			request:   `{"state":{"reported":{"Status":"Awful"}},"clientToken":"05ed8956-4958-4fcc-bdd8-e454182c3a45"}`,
			now:       1719857563,
			accepted:  `{"state":{"reported":{"Status":"Awful"}},"metadata":{"reported":{"Status":{"timestamp":1719857563}}},"version":9,"timestamp":1719857563,"clientToken":"05ed8956-4958-4fcc-bdd8-e454182c3a45"}`,
			delta:     `{"version":9,"timestamp":1719857563,"state":{"Status":"Great"},"metadata":{"Status":{"timestamp":1719856710}},"clientToken":"05ed8956-4958-4fcc-bdd8-e454182c3a45"}`,
			documents: `{"previous":{"state":{"desired":{"Color":"red","Status":"Great"},"reported":{"Color":"red","Status":"Great"}},"metadata":{"desired":{"Color":{"timestamp":1719855498},"Status":{"timestamp":1719856710}},"reported":{"Color":{"timestamp":1719856038},"Status":{"timestamp":1719856694}}},"version":8},"current":{"state":{"desired":{"Color":"red","Status":"Great"},"reported":{"Color":"red","Status":"Awful"}},"metadata":{"desired":{"Color":{"timestamp":1719855498},"Status":{"timestamp":1719856710}},"reported":{"Color":{"timestamp":1719856038},"Status":{"timestamp":1719857563}}},"version":9},"timestamp":1719857563,"clientToken":"05ed8956-4958-4fcc-bdd8-e454182c3a45"}`,
		},
		{
			// [guide] The app sets desired.ColorRGB; arrays get per-element
			// metadata.
			name:     "guide desired array",
			prior:    `{"state":{"reported":{"ID":"SmartLamp21","ColorRGB":[128,128,128]}},"metadata":{"reported":{"ID":{"timestamp":1591140517},"ColorRGB":[{"timestamp":1591140517},{"timestamp":1591140517},{"timestamp":1591140517}]}},"version":3}`,
			request:  `{"state":{"desired":{"ColorRGB":[255,255,0]}},"clientToken":"21b21b21-bfd2-4279-8c65-e2f697ff4fab"}`,
			now:      1591141596,
			accepted: `{"state":{"desired":{"ColorRGB":[255,255,0]}},"metadata":{"desired":{"ColorRGB":[{"timestamp":1591141596},{"timestamp":1591141596},{"timestamp":1591141596}]}},"version":4,"timestamp":1591141596,"clientToken":"21b21b21-bfd2-4279-8c65-e2f697ff4fab"}`,
			delta:    `{"version":4,"timestamp":1591141596,"state":{"ColorRGB":[255,255,0]},"metadata":{"ColorRGB":[{"timestamp":1591141596},{"timestamp":1591141596},{"timestamp":1591141596}]},"clientToken":"21b21b21-bfd2-4279-8c65-e2f697ff4fab"}`,
		},
		{
			// [guide] The device reports the new color.
			name:      "guide reported array",
			prior:     `{"state":{"desired":{"ColorRGB":[255,255,0]},"reported":{"ID":"SmartLamp21","ColorRGB":[128,128,128]}},"metadata":{"desired":{"ColorRGB":[{"timestamp":1591141596},{"timestamp":1591141596},{"timestamp":1591141596}]},"reported":{"ID":{"timestamp":1591140517},"ColorRGB":[{"timestamp":1591140517},{"timestamp":1591140517},{"timestamp":1591140517}]}},"version":4}`,
			request:   `{"state":{"reported":{"ColorRGB":[255,255,0]}},"clientToken":"a4dc2227-9213-4c6a-a6a5-053304f60258"}`,
			now:       1591142747,
			accepted:  `{"state":{"reported":{"ColorRGB":[255,255,0]}},"metadata":{"reported":{"ColorRGB":[{"timestamp":1591142747},{"timestamp":1591142747},{"timestamp":1591142747}]}},"version":5,"timestamp":1591142747,"clientToken":"a4dc2227-9213-4c6a-a6a5-053304f60258"}`,
			delta:     "-",
			documents: `{"previous":{"state":{"desired":{"ColorRGB":[255,255,0]},"reported":{"ID":"SmartLamp21","ColorRGB":[128,128,128]}},"metadata":{"desired":{"ColorRGB":[{"timestamp":1591141596},{"timestamp":1591141596},{"timestamp":1591141596}]},"reported":{"ID":{"timestamp":1591140517},"ColorRGB":[{"timestamp":1591140517},{"timestamp":1591140517},{"timestamp":1591140517}]}},"version":4},"current":{"state":{"desired":{"ColorRGB":[255,255,0]},"reported":{"ID":"SmartLamp21","ColorRGB":[255,255,0]}},"metadata":{"desired":{"ColorRGB":[{"timestamp":1591141596},{"timestamp":1591141596},{"timestamp":1591141596}]},"reported":{"ID":{"timestamp":1591140517},"ColorRGB":[{"timestamp":1591142747},{"timestamp":1591142747},{"timestamp":1591142747}]}},"version":5},"timestamp":1591142747,"clientToken":"a4dc2227-9213-4c6a-a6a5-053304f60258"}`,
		},
		{
			// [moto] {"state":null} at version 17.
			name:     "moto state null",
			prior:    `{"state":{"reported":{"a":1}},"metadata":{"reported":{"a":{"timestamp":1756452000}}},"version":17}`,
			request:  `{"state": null}`,
			now:      1756452769,
			accepted: `{"state":null,"metadata":{"timestamp":1756452769},"version":18,"timestamp":1756452769}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Shadow{}
			if tt.prior != "" {
				var err error
				if s, err = Unmarshal([]byte(tt.prior)); err != nil {
					t.Fatal(err)
				}
			}
			u, err := ParseUpdate([]byte(tt.request), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			res, err := s.Apply(u, tt.now, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			check := func(what, got, want string) {
				t.Helper()
				if want != "" && got != want {
					t.Errorf("%s:\n got %s\nwant %s", what, got, want)
				}
			}
			check("accepted", string(res.Accepted), tt.accepted)
			if tt.delta == "-" {
				if res.Delta != nil {
					t.Errorf("delta: got %s, want none", res.Delta)
				}
			} else {
				check("delta", string(res.Delta), tt.delta)
			}
			check("documents", string(res.Documents), tt.documents)
		})
	}
}

// TestShadow_Get_AWSTranscripts checks get/accepted against what AWS sent:
// [sdk] "get" at version 8 and [guide] GetThingShadow at version 5.
func TestShadow_Get_AWSTranscripts(t *testing.T) {
	tests := []struct {
		stored, token string
		now           int64
		want          string
	}{
		{
			stored: `{"state":{"desired":{"Color":"red","Status":"Great"},"reported":{"Color":"red","Status":"Great"}},"metadata":{"desired":{"Color":{"timestamp":1719855498},"Status":{"timestamp":1719856710}},"reported":{"Color":{"timestamp":1719856038},"Status":{"timestamp":1719856694}}},"version":8}`,
			token:  "e6e3123c-5526-404f-8006-a8cc44da0f23",
			now:    1719856723,
			want:   `{"state":{"desired":{"Color":"red","Status":"Great"},"reported":{"Color":"red","Status":"Great"}},"metadata":{"desired":{"Color":{"timestamp":1719855498},"Status":{"timestamp":1719856710}},"reported":{"Color":{"timestamp":1719856038},"Status":{"timestamp":1719856694}}},"version":8,"timestamp":1719856723,"clientToken":"e6e3123c-5526-404f-8006-a8cc44da0f23"}`,
		},
		{
			stored: `{"state":{"desired":{"ColorRGB":[255,255,0]},"reported":{"ID":"SmartLamp21","ColorRGB":[255,255,0]}},"metadata":{"desired":{"ColorRGB":[{"timestamp":1591141596},{"timestamp":1591141596},{"timestamp":1591141596}]},"reported":{"ID":{"timestamp":1591140517},"ColorRGB":[{"timestamp":1591142747},{"timestamp":1591142747},{"timestamp":1591142747}]}},"version":5}`,
			now:    1591143269,
			want: compact(t, `{
  "state": {"desired": {"ColorRGB": [255, 255, 0]},
            "reported": {"ID": "SmartLamp21", "ColorRGB": [255, 255, 0]}},
  "metadata": {"desired": {"ColorRGB": [{"timestamp": 1591141596}, {"timestamp": 1591141596}, {"timestamp": 1591141596}]},
               "reported": {"ID": {"timestamp": 1591140517},
                            "ColorRGB": [{"timestamp": 1591142747}, {"timestamp": 1591142747}, {"timestamp": 1591142747}]}},
  "version": 5,
  "timestamp": 1591143269
}`),
		},
	}
	for _, tt := range tests {
		s, err := Unmarshal([]byte(tt.stored))
		if err != nil {
			t.Fatal(err)
		}
		if got := string(s.Get(tt.now, tt.token)); got != tt.want {
			t.Errorf("Get:\n got %s\nwant %s", got, tt.want)
		}
	}
}

func compact(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
