package shadow

import (
	"context"
	"errors"
	"strings"

	"github.com/moat-iot/moat/internal/shadow/document"
	"github.com/moat-iot/moat/internal/store"
)

// ErrClosed is returned by the calls below once the service stopped.
var ErrClosed = errors.New("shadow: service closed")

// Get returns the shadow's document (GetThingShadow). Errors are
// *document.Error with AWS's code and message, or ErrClosed.
func (s *Service) Get(ctx context.Context, k Key) ([]byte, error) {
	return s.call(ctx, &request{op: opGet, key: k})
}

// Update applies an update request (UpdateThingShadow) and returns the
// update/accepted document; the accepted, delta and documents messages
// are published as for an MQTT update.
func (s *Service) Update(ctx context.Context, k Key, payload []byte) ([]byte, error) {
	return s.call(ctx, &request{op: opUpdate, key: k, payload: payload})
}

// Delete deletes the shadow (DeleteThingShadow) and returns the
// delete/accepted document, also published on MQTT.
func (s *Service) Delete(ctx context.Context, k Key) ([]byte, error) {
	return s.call(ctx, &request{op: opDelete, key: k})
}

// DeleteThing deletes every shadow of a deleted thing, through the thing's
// shard so that nothing cached outlives it.
func (s *Service) DeleteThing(ctx context.Context, thing string) error {
	_, err := s.call(ctx, &request{key: Key{Thing: thing}, forget: true})
	return err
}

func (s *Service) call(ctx context.Context, r *request) ([]byte, error) {
	if !r.forget {
		if err := r.key.Check(); err != nil {
			return nil, &document.Error{Code: 400, Message: strings.TrimSuffix(err.Error(), ".")}
		}
		s.m.requests.WithLabelValues("https", r.op.String()).Inc()
	}
	r.reply = make(chan result, 1)
	if !s.shardOf(r.key).offer(r) {
		select {
		case <-s.stop:
			return nil, ErrClosed
		default:
			return nil, &document.Error{Code: 429, Message: "Too many requests"}
		}
	}
	select {
	case res := <-r.reply:
		if res.err != nil {
			return nil, res.err
		}
		return res.doc, nil
	case <-ctx.Done():
		// The request stays queued and is applied; only its answer is lost.
		return nil, ctx.Err()
	}
}

// NamedShadows lists the names of a thing's named shadows, in name
// order, one page at a time (ListNamedShadowsForThing).
func (s *Service) NamedShadows(ctx context.Context, thing string, p store.Page) ([]string, string, error) {
	var names []string
	var next string
	err := s.st.View(ctx, func(tx store.Tx) error {
		rows, n, err := tx.ListShadows(thing, p)
		if err != nil {
			return err
		}
		names = make([]string, len(rows))
		for i, r := range rows {
			names[i] = r.ShadowName
		}
		next = n
		return nil
	})
	return names, next, err
}
