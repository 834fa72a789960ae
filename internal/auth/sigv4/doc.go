// Package sigv4 verifies AWS Signature Version 4 (AWS4-HMAC-SHA256) on
// incoming HTTP requests, so that the AWS CLI, the AWS SDKs and the AWS IoT
// device SDKs can call moat with ordinary AWS credentials.
//
// # Model
//
// A client holding an access key id and a secret signs a canonical form of
// its request:
//
//	CanonicalRequest = Method \n CanonicalURI \n CanonicalQuery \n
//	                   CanonicalHeaders \n SignedHeaders \n PayloadHash
//	StringToSign     = AWS4-HMAC-SHA256 \n X-Amz-Date \n Scope \n hex(SHA256(CanonicalRequest))
//	Scope            = YYYYMMDD/region/service/aws4_request
//	SigningKey       = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, YYYYMMDD), region), service), "aws4_request")
//	Signature        = hex(HMAC(SigningKey, StringToSign))
//
// and sends the access key id, scope, signed header names and signature
// either in the Authorization header or, for presigned URLs (MQTT over
// WebSocket), in the X-Amz-* query parameters. A Verifier rebuilds the
// canonical request from what arrived, looks the secret up through its
// Lookup, and compares signatures in constant time. It is a leaf: no
// server state, no caches, standard library only.
//
// Verify needs the request as the server received it and the body the
// caller has already read (the caller bounds its size):
//
//	v := &sigv4.Verifier{Lookup: store.Secret, Services: []string{"iotdata", "iotdevicegateway"}}
//	res, err := v.Verify(r.Context(), r, body)
//	var e *sigv4.Error
//	if errors.As(err, &e) { /* write e.Code / e.Message with e.HTTPStatus() */ }
//
// # What the server must preserve
//
// The canonical URI of non-S3 services is the path exactly as sent on the
// wire, percent-encoded once more: the Go SDK sends a topic label as
// /topics/%24aws%2Fthings%2F... and signs /topics/%2524aws%252Fthings%252F...;
// botocore does the same; curl-style raw paths (/topics/$aws/...) sign as
// /topics/%24aws/.... Verify therefore reads the path from r.RequestURI
// (falling back to r.URL.EscapedPath() only when RequestURI is empty), never
// from r.URL.Path, which is decoded and loses the %2F / '/' distinction.
// Middleware that rewrites r.URL or r.RequestURI (path cleaning, prefix
// stripping) must run after verification or keep RequestURI intact, and
// r.Host must be the Host header as received (with its port).
//
// # Compatibility choices
//
// Where real clients are known to differ, Verify accepts each variant (it
// tries at most a handful of canonical requests, one in the usual case):
//   - path: as sent, or with dot segments and repeated slashes removed
//     (botocore and the AWS test suite normalise, the Go SDK does not);
//   - presigned query: with X-Amz-Security-Token in the canonical query
//     (Go SDK, aws-c-auth) or without it (AWS IoT device SDKs append the
//     token after signing);
//   - header values with tabs: trimmed as the Go SDK does or as botocore does;
//   - presigned with an empty body: payload hash of "" (IoT device SDKs) or
//     UNSIGNED-PAYLOAD.
//
// Every variant still binds method, host, all signed headers and all other
// query parameters, so none lets a request through that the key holder did
// not sign (path normalisation aside, which AWS applies too).
//
// # Security choices
//
//   - host must be among the signed headers; a signed header missing from
//     the request fails verification.
//   - X-Amz-Date must be YYYYMMDD'T'HHMMSS'Z', its day must equal the scope
//     date, and it must lie within MaxSkew (15 minutes) of the server clock
//     in both directions. Presigned URLs with X-Amz-Expires (1..604800 s)
//     are valid until X-Amz-Date + X-Amz-Expires instead; a URL dated in the
//     future beyond MaxSkew is refused either way. Replay inside that window
//     is not prevented here (AWS does not either).
//   - X-Amz-Content-Sha256, when sent, is used as the payload hash; a hex
//     value must equal the SHA-256 of the received body (else the request
//     is refused), and UNSIGNED-PAYLOAD is accepted but reported in
//     Result.UnsignedPayload because the body is then unauthenticated.
//     Without the header the body's own hash is signed, as the SDKs do for
//     iot and iot-data.
//   - A credential with a session token requires X-Amz-Security-Token equal
//     to it (constant-time compare); a long-term key carrying a token is
//     refused. The token need not be signed (AWS allows it unsigned).
//   - A query string with an invalid escape or a ';' is refused rather than
//     half-parsed, so no parameter reaches a handler unsigned.
//   - Duplicated Authorization, X-Amz-Date, X-Amz-Content-Sha256,
//     X-Amz-Security-Token or X-Amz-* presign parameters are refused, as is
//     a request carrying both an Authorization header and presigned
//     parameters.
//   - Errors carry an AWS code and a fixed, safe message; they never contain
//     the secret, the computed signature or the canonical request. The
//     Lookup's own error stays internal (Unwrap) and becomes InternalFailure.
//   - Signing keys are derived per request (four HMACs) rather than cached,
//     so no secret-derived material outlives a call.
//
// # Errors
//
// Every failure is an *Error; errors.Is matches its kind:
//
//	ErrMissingAuth     MissingAuthenticationTokenException 403
//	ErrMalformed       IncompleteSignatureException        400
//	ErrScope           InvalidSignatureException           403
//	ErrExpired         InvalidSignatureException           403 "Signature expired: ..."
//	ErrMismatch        InvalidSignatureException           403 (ErrPayloadMismatch is a child)
//	ErrUnknownKey      UnrecognizedClientException         403
//	ErrInvalidToken    UnrecognizedClientException         403
//	ErrInternal        InternalFailure                     500
//
// IncompleteSignatureException is 400 as in AWS's common-errors table and
// in the JSON services (DynamoDB, Cloud9); API Gateway fronts answer 403.
// The AWS SDKs classify by X-Amzn-ErrorType, not by status, so either works.
package sigv4
