package main

import (
	"encoding/binary"
	"errors"
	"math/bits"
	"math/rand/v2"
	"time"
)

// payloadHeader is the size of the header every benchmark message starts
// with: the send time (8 bytes, nanoseconds since the process's epoch on
// the monotonic clock), the sequence number, the publisher index and the
// run id (4 bytes each), all big-endian. The rest of the payload is
// padding, so -size must be at least this.
const payloadHeader = 20

// runID tells this run's messages from those a broker still delivers from
// an earlier run (data left in its sockets when that run's publishers went).
var runID = rand.Uint32()

// epoch is the origin of payload timestamps. Publishers and subscribers run
// in the same process, so monotonic time since epoch is comparable across
// them and immune to wall-clock steps.
var epoch = time.Now()

// now returns monotonic nanoseconds since epoch.
func now() int64 { return int64(time.Since(epoch)) }

// errPayload reports a message that was not sent by this benchmark run.
var errPayload = errors.New("payload shorter than the benchmark header")

// putPayload writes the header into b (len(b) >= payloadHeader).
func putPayload(b []byte, sent int64, seq, pub uint32) {
	binary.BigEndian.PutUint64(b[0:8], uint64(sent))
	binary.BigEndian.PutUint32(b[8:12], seq)
	binary.BigEndian.PutUint32(b[12:16], pub)
	binary.BigEndian.PutUint32(b[16:20], runID)
}

// errStale reports a message of another run.
var errStale = errors.New("message from another run")

// readPayload decodes the header of b.
func readPayload(b []byte) (sent int64, seq, pub uint32, err error) {
	if len(b) < payloadHeader {
		return 0, 0, 0, errPayload
	}
	if binary.BigEndian.Uint32(b[16:20]) != runID {
		return 0, 0, 0, errStale
	}
	return int64(binary.BigEndian.Uint64(b[0:8])), binary.BigEndian.Uint32(b[8:12]),
		binary.BigEndian.Uint32(b[12:16]), nil
}

// seqSet records which sequence numbers of one publisher a subscriber has
// seen: a bitset that grows with the highest sequence number, so memory is
// proportional to the messages actually sent (1 bit each).
type seqSet struct {
	words []uint64
}

// add marks seq and reports whether it was new.
func (s *seqSet) add(seq uint32) bool {
	w := int(seq / 64)
	if w >= len(s.words) {
		s.words = append(s.words, make([]uint64, w+1-len(s.words)+len(s.words)/2)...)
	}
	bit := uint64(1) << (seq % 64)
	if s.words[w]&bit != 0 {
		return false
	}
	s.words[w] |= bit
	return true
}

// countRange returns how many of the sequence numbers in [from, to) are set.
func (s *seqSet) countRange(from, to uint32) int {
	n := 0
	for seq := from; seq < to; {
		w := int(seq / 64)
		if w >= len(s.words) {
			break
		}
		word := s.words[w] >> (seq % 64)
		span := 64 - seq%64
		if to-seq < span {
			word &= 1<<(to-seq) - 1
			span = to - seq
		}
		n += bits.OnesCount64(word)
		seq += span
	}
	return n
}
