package storetest

import (
	"fmt"
	"sort"
	"sync"
	"testing"

	"github.com/moat-iot/moat/internal/store"
)

// queued is message n for a session, with Seq unset.
func queued(clientID string, n int) store.QueuedMessage {
	return store.QueuedMessage{
		ClientID:   clientID,
		Topic:      fmt.Sprintf("t/%d", n),
		Payload:    []byte(fmt.Sprintf("m%d\x00", n)),
		QoS:        1,
		Retain:     n%2 == 0,
		Properties: []byte{0x01, 0x01},
		ExpiresAt:  ts(n + 60),
		CreatedAt:  ts(n),
	}
}

// enqueue runs EnqueueMessages in its own Update and returns its result.
func enqueue(t *testing.T, s store.Store, ms ...store.QueuedMessage) []store.QueuedMessage {
	t.Helper()
	var out []store.QueuedMessage
	update(t, s, func(tx store.Tx) error {
		var err error
		out, err = tx.EnqueueMessages(ms)
		return err
	})
	return out
}

// queue returns the whole queue of a session, read in pages of 3.
func queue(t *testing.T, s store.Store, clientID string) []store.QueuedMessage {
	t.Helper()
	var all []store.QueuedMessage
	after := int64(0)
	for {
		var page []store.QueuedMessage
		view(t, s, func(tx store.Tx) error {
			var err error
			page, err = tx.QueuedMessages(clientID, after, 3)
			return err
		})
		if len(page) > 3 {
			t.Fatalf("QueuedMessages returned %d messages, limit 3", len(page))
		}
		all = append(all, page...)
		if len(page) < 3 {
			return all
		}
		after = page[len(page)-1].Seq
	}
}

// seqs returns the Seqs of ms.
func seqs(ms []store.QueuedMessage) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.Seq
	}
	return out
}

// testQueue checks EnqueueMessages across sessions (Seq per session, in
// call order), reading back in pages, UpdateQueuedMessage,
// DeleteQueuedMessages, and that a Seq is never reused after deletes.
func testQueue(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error {
		for _, id := range []string{"q1", "q2", "q3"} {
			if err := tx.PutSession(session(id, 1)); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.QueuedMessages("q1", 0, 10)
		wantErr(t, "empty queue", err, nil)
		if len(got) != 0 {
			t.Fatalf("new session has queued messages: %+v", got)
		}
		got, err = tx.QueuedMessages("nope", 0, 10)
		wantErr(t, "queue of a missing session", err, nil)
		if len(got) != 0 {
			t.Fatalf("missing session has queued messages: %+v", got)
		}
		return nil
	})

	// One call spanning two sessions, interleaved: Seqs increase per
	// session in call order, starting at 1.
	in := []store.QueuedMessage{queued("q2", 0), queued("q1", 1), queued("q2", 2), queued("q1", 3), queued("q1", 4)}
	out := enqueue(t, s, in...)
	wantEqual(t, "seqs", seqs(out), []int64{1, 1, 2, 2, 3})
	for i := range in {
		want := in[i]
		want.Seq = out[i].Seq
		wantEqual(t, fmt.Sprintf("returned message %d", i), out[i], want)
	}
	if in[0].Seq != 0 {
		t.Fatalf("EnqueueMessages changed its argument: Seq %d", in[0].Seq)
	}
	q1 := queue(t, s, "q1")
	wantEqual(t, "q1", q1, []store.QueuedMessage{out[1], out[3], out[4]})
	wantEqual(t, "q2", queue(t, s, "q2"), []store.QueuedMessage{out[0], out[2]})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.QueuedMessages("q1", 1, 1)
		wantErr(t, "after 1, limit 1", err, nil)
		wantEqual(t, "after 1, limit 1", got, []store.QueuedMessage{out[3]})
		got, err = tx.QueuedMessages("q1", 3, 10)
		wantErr(t, "after the last", err, nil)
		if len(got) != 0 {
			t.Fatalf("messages after the last: %+v", got)
		}
		return nil
	})

	// Sent and PacketID change; nothing else does.
	m := q1[1]
	m.PacketID, m.Sent = 65535, true
	m.Topic, m.Payload = "ignored", []byte("ignored")
	update(t, s, func(tx store.Tx) error { return tx.UpdateQueuedMessage(m) })
	want := q1[1]
	want.PacketID, want.Sent = 65535, true
	wantEqual(t, "updated message", queue(t, s, "q1")[1], want)
	for _, bad := range []store.QueuedMessage{{ClientID: "q1", Seq: 99}, {ClientID: "q3", Seq: 2}, {ClientID: "nope", Seq: 1}} {
		err := s.Update(bg(), func(tx store.Tx) error { return tx.UpdateQueuedMessage(bad) })
		wantErr(t, fmt.Sprintf("update missing %s/%d", bad.ClientID, bad.Seq), err, store.ErrNotFound)
	}

	// Deleting the tail (and seqs that do not exist) does not free its
	// Seqs: the next message gets 4, not 2.
	update(t, s, func(tx store.Tx) error { return tx.DeleteQueuedMessages("q1", []int64{2, 3, 3, 77, -1}) })
	update(t, s, func(tx store.Tx) error { return tx.DeleteQueuedMessages("q1", nil) })
	update(t, s, func(tx store.Tx) error { return tx.DeleteQueuedMessages("nope", []int64{1}) })
	wantEqual(t, "q1 after delete", seqs(queue(t, s, "q1")), []int64{1})
	wantEqual(t, "q2 untouched", seqs(queue(t, s, "q2")), []int64{1, 2})
	out = enqueue(t, s, queued("q1", 5), queued("q1", 6))
	wantEqual(t, "seqs after delete", seqs(out), []int64{4, 5})
	update(t, s, func(tx store.Tx) error { return tx.DeleteQueuedMessages("q1", []int64{1, 4, 5}) })
	out = enqueue(t, s, queued("q1", 7))
	wantEqual(t, "seqs after emptying", seqs(out), []int64{6})

	// Replacing the session keeps its queue and its counter.
	update(t, s, func(tx store.Tx) error { return tx.PutSession(session("q1", 9)) })
	wantEqual(t, "queue after PutSession", seqs(queue(t, s, "q1")), []int64{6})
	out = enqueue(t, s, queued("q1", 8))
	wantEqual(t, "seq after PutSession", seqs(out), []int64{7})

	// An empty call does nothing.
	if got := enqueue(t, s); len(got) != 0 {
		t.Fatalf("EnqueueMessages(nil) = %+v", got)
	}

	// Binary payloads and properties, zero times.
	ps := payloads()
	keys := make([]string, 0, len(ps))
	for k := range ps {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var bin []store.QueuedMessage
	for _, k := range keys {
		bin = append(bin, store.QueuedMessage{ClientID: "q3", Topic: k, Payload: ps[k], Properties: ps[k], QoS: 2})
	}
	enqueue(t, s, bin...)
	got := queue(t, s, "q3")
	if len(got) != len(keys) {
		t.Fatalf("q3 has %d messages, want %d", len(got), len(keys))
	}
	for i, k := range keys {
		if got[i].Topic != k || got[i].Seq != int64(i+1) || got[i].QoS != 2 {
			t.Fatalf("message %d: %+v", i, got[i])
		}
		wantBytes(t, k+" payload", got[i].Payload, ps[k])
		wantBytes(t, k+" properties", got[i].Properties, ps[k])
		if !got[i].ExpiresAt.IsZero() || !got[i].CreatedAt.IsZero() {
			t.Fatalf("%s: zero times came back as %v, %v", k, got[i].ExpiresAt, got[i].CreatedAt)
		}
	}
}

// testQueueMissingSession checks that enqueueing to a missing session is
// ErrNotFound and that the whole call, including messages for sessions
// that exist, is undone with the failing Update.
func testQueueMissingSession(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error { return tx.PutSession(session("here", 1)) })
	err := s.Update(bg(), func(tx store.Tx) error {
		_, err := tx.EnqueueMessages([]store.QueuedMessage{queued("here", 1), queued("gone", 2)})
		return err
	})
	wantErr(t, "enqueue to a missing session", err, store.ErrNotFound)
	if q := queue(t, s, "here"); len(q) != 0 {
		t.Fatalf("a failed enqueue left %d messages", len(q))
	}
	// A failing fn undoes its enqueue too, and the next one starts at 1.
	err = s.Update(bg(), func(tx store.Tx) error {
		if _, err := tx.EnqueueMessages([]store.QueuedMessage{queued("here", 1)}); err != nil {
			return err
		}
		return errBoom
	})
	wantErr(t, "failing update", err, errBoom)
	if q := queue(t, s, "here"); len(q) != 0 {
		t.Fatalf("a rolled-back enqueue left %d messages", len(q))
	}
	wantEqual(t, "seq after rollbacks", seqs(enqueue(t, s, queued("here", 3))), []int64{1})
	// Writes are refused in a View.
	s.View(bg(), func(tx store.Tx) error {
		if _, err := tx.EnqueueMessages([]store.QueuedMessage{queued("here", 4)}); err == nil {
			t.Error("EnqueueMessages inside View succeeded")
		}
		return nil
	})
	wantEqual(t, "queue after View", seqs(queue(t, s, "here")), []int64{1})
}

// testDeleteSessionQueue checks that DeleteSession removes the whole queue,
// that enqueueing to it then fails, and that a session created again under
// the same client id starts with an empty queue.
func testDeleteSessionQueue(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error {
		if err := tx.PutSession(session("d1", 1)); err != nil {
			return err
		}
		return tx.PutSession(session("d2", 1))
	})
	var ms []store.QueuedMessage
	for i := range 10 {
		ms = append(ms, queued("d1", i), queued("d2", i))
	}
	enqueue(t, s, ms...)
	update(t, s, func(tx store.Tx) error { return tx.DeleteSession("d1") })
	if q := queue(t, s, "d1"); len(q) != 0 {
		t.Fatalf("deleted session still has %d queued messages", len(q))
	}
	if q := queue(t, s, "d2"); len(q) != 10 {
		t.Fatalf("other session has %d queued messages, want 10", len(q))
	}
	err := s.Update(bg(), func(tx store.Tx) error {
		_, err := tx.EnqueueMessages([]store.QueuedMessage{queued("d1", 1)})
		return err
	})
	wantErr(t, "enqueue to a deleted session", err, store.ErrNotFound)
	err = s.Update(bg(), func(tx store.Tx) error {
		return tx.UpdateQueuedMessage(store.QueuedMessage{ClientID: "d1", Seq: 1, Sent: true})
	})
	wantErr(t, "update a message of a deleted session", err, store.ErrNotFound)
	update(t, s, func(tx store.Tx) error { return tx.PutSession(session("d1", 2)) })
	if q := queue(t, s, "d1"); len(q) != 0 {
		t.Fatalf("re-created session has %d queued messages", len(q))
	}
	// A failing DeleteSession keeps the queue.
	err = s.Update(bg(), func(tx store.Tx) error {
		if err := tx.DeleteSession("d2"); err != nil {
			return err
		}
		return errBoom
	})
	wantErr(t, "failing delete", err, errBoom)
	if q := queue(t, s, "d2"); len(q) != 10 {
		t.Fatalf("rolled-back DeleteSession left %d queued messages, want 10", len(q))
	}
}

// testQueueConcurrent enqueues from many goroutines at once (so calls share
// group-commit batches): every acknowledged message is queued once, Seqs
// per session are 1..n without gaps or repeats, and each caller's own
// messages keep their order.
func testQueueConcurrent(t *testing.T, s store.Store) {
	const workers, rounds = 16, 10
	ids := []string{"cc1", "cc2"}
	update(t, s, func(tx store.Tx) error {
		for _, id := range ids {
			if err := tx.PutSession(session(id, 1)); err != nil {
				return err
			}
		}
		return nil
	})
	var wg sync.WaitGroup
	var mu sync.Mutex
	seqOf := map[string]int64{} // topic -> Seq on cc1
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				// Two messages to cc1, one to cc2.
				topic := func(k int) string { return fmt.Sprintf("w%02d/r%02d/%d", w, r, k) }
				ms := []store.QueuedMessage{{ClientID: "cc1", Topic: topic(0)}, {ClientID: "cc2", Topic: topic(1)}, {ClientID: "cc1", Topic: topic(2)}}
				var out []store.QueuedMessage
				err := s.Update(bg(), func(tx store.Tx) error {
					var err error
					out, err = tx.EnqueueMessages(ms)
					return err
				})
				if err != nil {
					t.Error(err)
					return
				}
				if out[2].Seq != out[0].Seq+1 {
					t.Errorf("one call's Seqs on cc1 are %d and %d, want consecutive", out[0].Seq, out[2].Seq)
				}
				mu.Lock()
				seqOf[out[0].Topic], seqOf[out[2].Topic] = out[0].Seq, out[2].Seq
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for i, id := range ids {
		n := workers * rounds * (2 - i)
		q := queue(t, s, id)
		if len(q) != n {
			t.Fatalf("%s has %d messages, want %d", id, len(q), n)
		}
		for j, m := range q {
			if m.Seq != int64(j+1) {
				t.Fatalf("%s: message %d has Seq %d", id, j, m.Seq)
			}
			if id == "cc1" && seqOf[m.Topic] != m.Seq {
				t.Fatalf("%s: %s stored with Seq %d, returned with %d", id, m.Topic, m.Seq, seqOf[m.Topic])
			}
		}
	}
}
