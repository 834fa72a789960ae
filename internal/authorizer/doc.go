// Package authorizer is AWS IoT Core's custom authentication: authorizers
// (the control-plane resource of CreateAuthorizer and friends) and their
// invocation when a device connects with a token or a username and
// password instead of a certificate or SigV4.
//
// # The model
//
// An authorizer names a function, optionally a tokenKeyName (where the
// client's token is found: a header, a query parameter, or a parameter of
// the MQTT CONNECT username's query string) and the RSA public keys that
// sign tokens. When a client connects naming the authorizer (or naming
// none while a default authorizer is set), Authenticate:
//
//  1. resolves the authorizer; an unknown or INACTIVE one refuses;
//  2. if signing is enabled (the default), verifies the
//     x-amz-customauthorizer-signature, base64 of an RSA-SHA256 PKCS#1 v1.5
//     signature over the raw token, with any of the authorizer's keys; a
//     missing token or signature, or one that verifies with no key,
//     refuses WITHOUT calling the function;
//  3. POSTs AWS's request event (reference §7.3: token,
//     signatureVerified, protocols, protocolData with only the parts that
//     apply, connectionMetadata.id) to the function as JSON;
//  4. reads AWS's response document (§7.4) and checks it: isAuthenticated
//     (required), principalId ([a-zA-Z0-9]{1,128}), at most 10
//     policyDocuments (JSON strings or objects, each an IoT policy that
//     internal/policy parses), refreshAfterInSeconds and
//     disconnectAfterInSeconds (300 to 86400; 86400 when absent);
//  5. returns an auth.Principal of KindAuthorizer whose Grant carries the
//     policies, which then decide every action of that connection or
//     request as IoT policies do.
//
// Every failure is a refusal: an error wrapping ErrDenied, and one of its
// children that says which step failed. Nothing is ever allowed because
// the function is slow, down or confused.
//
// # The function
//
// moat cannot run AWS Lambda. authorizerFunctionArn is the http:// or
// https:// URL of an endpoint the operator runs (an AWS Lambda function
// URL works too); it takes the request event as a POST with
// Content-Type application/json and answers 2xx with the response
// document as its body. A Lambda ARN (arn:aws:lambda:...) is accepted by
// CreateAuthorizer, so that scripts written for AWS run unchanged, but
// every invocation of it is refused with ErrUnsupportedFunction. An
// http:// URL carries every device's token and password in the clear: use
// it only for a function on the same host or a network you trust.
//
// The client that calls functions follows no redirects (a redirect would
// carry the token to a URL the operator never named), uses no proxy from
// the environment (the token, password and headers of every connecting
// device would pass through it; the function is the operator's own
// service), verifies TLS with the system roots plus Options.CAFile, and
// gives each call Options.Timeout (5 s, as AWS). Options.AllowURL lets the
// operator restrict the URLs an authorizer may name, as the rules
// engine's destination allow list does. At most Options.MaxInFlight calls
// run at once; one more is refused at once with ErrBusy rather than
// queued, so a slow function cannot pile up connections.
//
// # Live connections
//
// The broker keeps the Request a connection authenticated with and calls
// Authenticate again with it after Grant.RefreshAfter (the ConnectionID
// stays the same, so the function can tell a refresh from a new
// connection), closes the connection after Grant.DisconnectAfter, and
// re-checks the connections of an authorizer when Service.OnChange names
// it (after UpdateAuthorizer and DeleteAuthorizer of it,
// SetDefaultAuthorizer naming it, and ClearDefaultAuthorizer while it was
// the default): re-authentication with an authorizer made INACTIVE refuses
// with ErrInactive, with one deleted ErrUnknownAuthorizer, and a
// connection that named no authorizer after the default was cleared
// ErrNoAuthorizer.
//
// # Storage
//
// Authorizers are store objects of kind Kind keyed by name, the default
// authorizer an object of kind DefaultKind; each change is one store
// transaction, and bad input changes nothing.
package authorizer
