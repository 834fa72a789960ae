package main

import (
	"errors"
	"testing"
)

func TestPayloadRoundTrip(t *testing.T) {
	b := make([]byte, 64)
	putPayload(b, 1234567890123, 42, 7)
	sent, seq, pub, err := readPayload(b)
	if err != nil || sent != 1234567890123 || seq != 42 || pub != 7 {
		t.Fatalf("readPayload = %d %d %d %v", sent, seq, pub, err)
	}
	putPayload(b[:payloadHeader], -1, 1<<32-1, 1<<32-1) // exactly the header
	if sent, seq, pub, _ := readPayload(b[:payloadHeader]); sent != -1 || seq != 1<<32-1 || pub != 1<<32-1 {
		t.Errorf("extremes: %d %d %d", sent, seq, pub)
	}
	if _, _, _, err := readPayload(b[:payloadHeader-1]); !errors.Is(err, errPayload) {
		t.Errorf("short payload: err = %v, want errPayload", err)
	}
	b[17]++ // another run's message
	if _, _, _, err := readPayload(b[:payloadHeader]); !errors.Is(err, errStale) {
		t.Errorf("other run: err = %v, want errStale", err)
	}
	if t0, t1 := now(), now(); t1 < t0 {
		t.Errorf("now() went back: %d then %d", t0, t1)
	}
}

func TestSeqSet(t *testing.T) {
	var s seqSet
	for _, seq := range []uint32{0, 1, 63, 64, 65, 1000, 100000} {
		if !s.add(seq) {
			t.Errorf("add(%d): first time reported as seen", seq)
		}
	}
	if s.add(64) {
		t.Error("add(64) twice: want duplicate")
	}
	for _, c := range []struct {
		from, to uint32
		want     int
	}{{0, 0, 0}, {0, 1, 1}, {0, 64, 3}, {0, 66, 5}, {1, 65, 3}, {64, 1001, 3}, {0, 200000, 7}, {100001, 300000, 0}, {2, 63, 0}} {
		if got := s.countRange(c.from, c.to); got != c.want {
			t.Errorf("countRange(%d, %d) = %d, want %d", c.from, c.to, got, c.want)
		}
	}
}
