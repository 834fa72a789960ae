'use strict';
// mqttjs.js drives MQTT.js (npm mqtt, v5) against moat over MQTT over
// WebSocket, for moat's internal/e2e tests: the credentials are whatever
// the URL (a presigned SigV4 URL) and the upgrade request's headers (custom
// authorizer headers) carry.
//
// Usage: node mqttjs.js '<options as JSON>'
//   url                       wss://HOST:PORT/mqtt[?query]
//   headers                   optional headers of the WebSocket upgrade
//   clientId                  the MQTT client id
//   protocolVersion           4 (MQTT 3.1.1) or 5 (the default)
//   subscribe                 optional topic filter, subscribed at QoS 1
//                             once connected
//   publish [{topic, payload}] published in order at QoS 1 after the first
//                             message arrives (or right after connecting
//                             when there is no subscribe)
//   timeoutMs                 the whole run's bound
//
// It reports what happens as JSON lines on stdout, one object each with an
// "event": connected, subscribed {granted}, message {topic, payload},
// published {topic}, refused {topic, reasonCode, reason} (a PUBACK with a
// failure reason code: the connection goes on), failed {reason}, done,
// timeout. Exit status: 0 when the plan is done, 1 after "failed", 2 after
// "timeout". It does not reconnect. The server's root CA comes from
// NODE_EXTRA_CA_CERTS.

const mqtt = require('mqtt');

const opts = JSON.parse(process.argv[2]);

const {report, finish, bound, subscribe, reportMessages} = require('./report');

bound(opts.timeoutMs);

const client = mqtt.connect(opts.url, {
  clientId: opts.clientId,
  protocolVersion: opts.protocolVersion || 5,
  clean: true,
  keepalive: 30,
  reconnectPeriod: 0,
  connectTimeout: 5000,
  wsOptions: {headers: opts.headers || {}},
});

let connected = false;
let ending = false;
let lastError = '';

// MQTT.js keeps a refused WebSocket upgrade ("Unexpected server response:
// 401") to its stream and only reports that the connection closed; the
// stream's own error says why.
client.stream.on('error', (err) => {
  lastError = err && err.message ? err.message : String(err);
});

function end() {
  ending = true;
  client.end(false, {}, () => finish(0, 'done', {}));
}

function publishAll(list) {
  if (list.length === 0) {
    end();
    return;
  }
  const [first, ...rest] = list;
  client.publish(first.topic, first.payload, {qos: 1}, (err) => {
    if (err && typeof err.code === 'number' && err.code >= 0x80) {
      report('refused', {topic: first.topic, reasonCode: err.code, reason: err.message});
    } else if (err) {
      finish(1, 'failed', {reason: 'publish ' + first.topic + ': ' + err.message});
      return;
    } else {
      report('published', {topic: first.topic});
    }
    publishAll(rest);
  });
}

client.on('connect', () => {
  connected = true;
  report('connected', {});
  if (!opts.subscribe) {
    publishAll(opts.publish || []);
    return;
  }
  subscribe(client, opts.subscribe);
});

reportMessages(client, () => publishAll(opts.publish || []));

client.on('error', (err) => {
  lastError = err && err.message ? err.message : String(err);
  if (!connected) {
    finish(1, 'failed', {reason: lastError});
  }
});

client.on('disconnect', (packet) => {
  lastError = 'DISCONNECT reason code ' + packet.reasonCode;
});

client.on('close', () => {
  if (!connected) {
    finish(1, 'failed', {reason: lastError || 'the connection closed before a CONNACK'});
  } else if (!ending) {
    finish(1, 'failed', {reason: 'the connection closed: ' + (lastError || 'by the server')});
  }
});
