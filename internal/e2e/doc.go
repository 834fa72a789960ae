// Package e2e holds end-to-end tests that drive a whole moat (started by
// internal/moattest on random loopback ports) with clients nobody here
// wrote: the AWS SDK for Go v2, boto3, the AWS CLI, Paho (MQTT 3.1.1 and
// 5, over TLS and WebSocket) and the AWS IoT Device SDK for JavaScript.
// Each test is about what a user sees across surfaces: who may do what,
// on every transport, and that a change to a principal's rights bites on
// its live connections at once. The package has no non-test code.
package e2e
