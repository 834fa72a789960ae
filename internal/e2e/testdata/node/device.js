'use strict';
// device.js drives the AWS IoT Device SDK for JavaScript (v1, npm
// aws-iot-device-sdk) against moat over MQTT over WebSocket, signed by the
// SDK itself with SigV4 (protocol 'wss') or with custom authorizer headers
// (protocol 'wss-custom-auth'), for moat's internal/e2e tests.
//
// Usage: node device.js '<options as JSON>'
//   host, port, region, clientId   where to connect, and as whom
//   accessKeyId, secretKey         the credentials the SDK signs with
//   sessionToken                   optional: temporary credentials' token
//                                  (the SDK appends it after signing)
//   customAuthHeaders              instead of the credentials: custom
//                                  authorizer headers of the upgrade
//                                  (protocol 'wss-custom-auth')
//   subscribe                      optional topic filter, subscribed at QoS 1
//                                  once connected
//   publish {topic, payload}       optional: published at QoS 1 after the
//                                  first message arrives (or right after
//                                  connecting when there is no subscribe)
//   timeoutMs                      the whole run's bound
//
// It reports what happens as JSON lines on stdout, one object each with an
// "event": connected, subscribed {granted}, message {topic, payload},
// published, failed {reason}, timeout. Exit status: 0 when the plan is
// done, 1 after "failed", 2 after "timeout". The SDK reconnects forever by
// itself; this script gives up at the first failure instead, so that a
// refused connection is reported rather than retried until the timeout.
// The server's root CA comes from NODE_EXTRA_CA_CERTS.

const awsIot = require('aws-iot-device-sdk');

const opts = JSON.parse(process.argv[2]);

const {report, finish, bound, subscribe, reportMessages} = require('./report');

bound(opts.timeoutMs);

const device = awsIot.device({
  protocol: opts.customAuthHeaders ? 'wss-custom-auth' : 'wss',
  host: opts.host,
  port: opts.port,
  region: opts.region,
  clientId: opts.clientId,
  accessKeyId: opts.accessKeyId,
  secretKey: opts.secretKey,
  sessionToken: opts.sessionToken,
  customAuthHeaders: opts.customAuthHeaders,
  keepalive: 30,
  // Be quick to notice a connection that does not come up.
  connectTimeout: 5000,
});

let connected = false;
let ending = false;
let lastError = '';

function end() {
  ending = true;
  device.end(false, () => finish(0, 'done', {}));
}

function publish() {
  if (!opts.publish) {
    end();
    return;
  }
  device.publish(opts.publish.topic, opts.publish.payload, {qos: 1}, (err) => {
    if (err) {
      finish(1, 'failed', {reason: 'publish: ' + err.message});
      return;
    }
    report('published', {topic: opts.publish.topic});
    end();
  });
}

device.on('connect', () => {
  if (connected) {
    return; // a reconnection: the plan is already under way
  }
  connected = true;
  report('connected', {});
  if (!opts.subscribe) {
    publish();
    return;
  }
  subscribe(device, opts.subscribe);
});

reportMessages(device, () => publish());

device.on('error', (err) => {
  lastError = err && err.message ? err.message : String(err);
  if (!connected) {
    finish(1, 'failed', {reason: lastError});
  }
});

device.on('close', () => {
  if (!connected) {
    finish(1, 'failed', {reason: lastError || 'the connection closed before a CONNACK'});
  } else if (!ending) {
    finish(1, 'failed', {reason: 'the connection closed: ' + (lastError || 'by the server')});
  }
});
