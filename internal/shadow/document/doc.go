// Package document is the pure part of the Device Shadow service: it parses
// and validates shadow requests, merges updates into shadows, computes the
// delta, keeps the metadata and the version, and writes every document the
// service publishes or returns, byte for byte as AWS IoT does. It does no I/O
// and reads no clock: callers pass the time (epoch seconds).
//
// # Model
//
// A Shadow holds two sections, desired and reported, each a JSON object or
// absent, the metadata (the time each leaf was last set) and a version. The
// service keeps shadows with Marshal and Unmarshal, and per request:
//
//   - update: u, err := ParseUpdate(payload, lim); res, err := shadow.Apply(u,
//     now, lim); store res.Shadow, publish res.Accepted on update/accepted,
//     res.Delta (when not nil) on update/delta and res.Documents on
//     update/documents;
//   - get: tok, err := ClientToken(payload, lim); publish shadow.Get(now, tok)
//     on get/accepted, or a NoShadowError when the shadow does not exist;
//   - delete: publish Deleted(version, now, tok) on delete/accepted, with
//     the deleted shadow's version plus one (see Deleted), and keep that
//     version for the shadow's next update: &Shadow{Version: version};
//   - any failure: publish ErrorDocument(err, now, tok) on .../rejected, or
//     return it with err.Code over HTTP.
//
// # Behaviour that devices see
//
// Versions: a shadow's first update gives version 1 and every accepted update
// one more, an update of {"state":null} included; update/accepted and
// update/delta carry the same (new) version, update/documents the old one in
// previous and the new one in current. A request with a version that is not
// the shadow's is 409 Version conflict.
//
// Documents keep the client's JSON: numbers exactly as written, strings as
// sent (any UTF-8), members in the order they were first set. Output is
// compact JSON without HTML escaping.
//
// Metadata mirrors the state: every leaf has {"timestamp":T}, an array has an
// array of its elements' metadata, an object an object of its members'.
// update/accepted reports the metadata of what the request sent, nulls
// included ({"desired":null} gives "metadata":{"desired":{"timestamp":T}},
// {"state":null} gives "metadata":{"timestamp":T}).
//
// Limits (see Limits): the state of a request and of a shadow, counted as the
// compact JSON of desired plus reported, is at most 8192 bytes (413); desired
// and reported nest at most 6 levels (400); a clientToken is at most 64 bytes
// (400).
//
// The decisions AWS does not document (how numbers compare, what an empty
// object does, which errors come first, what delete/accepted's version is)
// are explained where they are made: numberEqual, Shadow.Apply,
// ParseUpdate, Deleted.
package document
