package iotsql

import (
	"testing"
)

// benchSQL is the typical rule.
const benchSQL = "SELECT a, b.c AS c, d, topic(2) AS device FROM 'sensors/+/data' WHERE temperature > 30"

// benchPayload returns a 200-byte device message with the given
// temperature (3 characters).
func benchPayload(temp string) []byte {
	p := `{"device_id":"thermo-0042","a":17,"b":{"c":"living room","unit":"C"},"d":[1,2,3],"humidity":48.25,"battery":0.87,` +
		`"fw":"1.4.2-rc","ts":1717171717171,"status":"ok","temperature":` + temp + `,"flags":{"x":true}}`
	return []byte(p)
}

func benchInput(b *testing.B, temp string) *Input {
	in := &Input{Topic: "sensors/thermo-0042/data", Payload: benchPayload(temp), ClientID: "thermo-0042", Timestamp: 1717171717171}
	if len(in.Payload) != 200 {
		b.Fatalf("payload is %d bytes, want 200", len(in.Payload))
	}
	return in
}

// BenchmarkEval_WhereFalse: the WHERE clause rejects the message; this
// must not allocate.
func BenchmarkEval_WhereFalse(b *testing.B) {
	q, err := Parse(benchSQL, "")
	if err != nil {
		b.Fatal(err)
	}
	in := benchInput(b, "21.5")
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	b.SetBytes(int64(len(in.Payload)))
	for b.Loop() {
		out, matched, err := q.Eval(in, buf)
		if matched || err != nil || out != nil {
			b.Fatal("matched")
		}
	}
}

// BenchmarkEval_Match: the WHERE clause accepts the message and the SELECT
// builds the output in the reused buffer.
func BenchmarkEval_Match(b *testing.B) {
	q, err := Parse(benchSQL, "")
	if err != nil {
		b.Fatal(err)
	}
	in := benchInput(b, "31.5")
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	b.SetBytes(int64(len(in.Payload)))
	for b.Loop() {
		out, matched, err := q.Eval(in, buf)
		if !matched || err != nil {
			b.Fatal("not matched", err)
		}
		buf = out[:0]
	}
}

// BenchmarkEval_SelectStar: SELECT * re-emits the payload compactly.
func BenchmarkEval_SelectStar(b *testing.B) {
	q, err := Parse("SELECT * FROM 'sensors/+/data' WHERE status = 'ok'", "2016-03-23")
	if err != nil {
		b.Fatal(err)
	}
	in := benchInput(b, "31.5")
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		out, matched, err := q.Eval(in, buf)
		if !matched || err != nil {
			b.Fatal("not matched", err)
		}
		buf = out[:0]
	}
}

// BenchmarkEval_MatchParallel runs the typical rule on all cores.
func BenchmarkEval_MatchParallel(b *testing.B) {
	q, err := Parse(benchSQL, "")
	if err != nil {
		b.Fatal(err)
	}
	in := benchInput(b, "31.5")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		buf := make([]byte, 0, 512)
		for pb.Next() {
			out, _, _ := q.Eval(in, buf)
			buf = out[:0]
		}
	})
}

// BenchmarkParse compiles the typical rule.
func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(benchSQL, ""); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTemplate_Render renders a republish topic.
func BenchmarkTemplate_Render(b *testing.B) {
	t, err := ParseTemplate("alerts/${topic(2)}/${upper(status)}", "")
	if err != nil {
		b.Fatal(err)
	}
	in := benchInput(b, "31.5")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := t.Render(in); err != nil {
			b.Fatal(err)
		}
	}
}
