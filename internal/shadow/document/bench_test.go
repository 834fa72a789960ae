package document

import "testing"

// benchStored is a typical small shadow: a few desired and reported keys,
// one nested object, one array.
const benchStored = `{"state":{"desired":{"color":"red","brightness":80,"mode":{"auto":true,"schedule":"night"}},` +
	`"reported":{"color":"green","brightness":80,"mode":{"auto":true,"schedule":"day"},"firmware":"1.4.2","rssi":-61,"sensors":[21.5,22.0,40]}},` +
	`"metadata":{"desired":{"color":{"timestamp":1700000000},"brightness":{"timestamp":1700000000},"mode":{"auto":{"timestamp":1700000000},"schedule":{"timestamp":1700000000}}},` +
	`"reported":{"color":{"timestamp":1700000001},"brightness":{"timestamp":1700000001},"mode":{"auto":{"timestamp":1700000001},"schedule":{"timestamp":1700000001}},"firmware":{"timestamp":1700000001},"rssi":{"timestamp":1700000001},"sensors":[{"timestamp":1700000001},{"timestamp":1700000001},{"timestamp":1700000001}]}},` +
	`"version":41}`

// benchUpdate is a typical device report: a few keys, one of them nested.
const benchUpdate = `{"state":{"reported":{"color":"red","rssi":-58,"mode":{"schedule":"night"}}},"clientToken":"c0ffee-42"}`

// BenchmarkApply measures Apply (with its three documents) and Marshal of
// the result: the CPU cost of one update after parsing.
func BenchmarkApply(b *testing.B) {
	s, err := Unmarshal([]byte(benchStored))
	if err != nil {
		b.Fatal(err)
	}
	u, err := ParseUpdate([]byte(benchUpdate), Limits{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		res, err := s.Apply(u, 1700000100, Limits{})
		if err != nil {
			b.Fatal(err)
		}
		_ = res.Shadow.Marshal()
	}
}

// BenchmarkParseUpdate measures parsing and validating the update.
func BenchmarkParseUpdate(b *testing.B) {
	payload := []byte(benchUpdate)
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		if _, err := ParseUpdate(payload, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUnmarshal measures reading the stored shadow back.
func BenchmarkUnmarshal(b *testing.B) {
	stored := []byte(benchStored)
	b.ReportAllocs()
	b.SetBytes(int64(len(stored)))
	for b.Loop() {
		if _, err := Unmarshal(stored); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdate measures the whole update path of the service: Unmarshal
// the stored shadow, ParseUpdate, Apply, Marshal.
func BenchmarkUpdate(b *testing.B) {
	stored, payload := []byte(benchStored), []byte(benchUpdate)
	b.ReportAllocs()
	for b.Loop() {
		s, err := Unmarshal(stored)
		if err != nil {
			b.Fatal(err)
		}
		u, err := ParseUpdate(payload, Limits{})
		if err != nil {
			b.Fatal(err)
		}
		res, err := s.Apply(u, 1700000100, Limits{})
		if err != nil {
			b.Fatal(err)
		}
		_ = res.Shadow.Marshal()
	}
}

// BenchmarkGet measures the get/accepted document.
func BenchmarkGet(b *testing.B) {
	s, err := Unmarshal([]byte(benchStored))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = s.Get(1700000100, "c0ffee-42")
	}
}
