'use strict';
// report.js is what device.js and mqttjs.js share: events as JSON lines on
// stdout, one run's end (exit status and last event), the run's time
// bound, and the subscribe-then-publish plan's subscription and messages.

let finished = false;

// report writes one event: an object {event, ...fields}.
function report(event, fields) {
  process.stdout.write(JSON.stringify(Object.assign({event}, fields)) + '\n');
}

// finish reports the last event and exits with code once stdout is
// flushed, without waiting for the client's timers; later calls do
// nothing.
function finish(code, event, fields) {
  if (finished) {
    return;
  }
  finished = true;
  report(event, fields);
  process.stdout.write('', () => process.exit(code));
}

// bound ends the run with "timeout" (exit 2) after timeoutMs (10 s if
// unset).
function bound(timeoutMs) {
  setTimeout(() => finish(2, 'timeout', {}), timeoutMs || 10000);
}

// subscribe subscribes client (an MQTT.js client, or the device SDK's,
// which is one) to filter at QoS 1 and reports the granted QoS; a refusal
// ends the run.
function subscribe(client, filter) {
  client.subscribe(filter, {qos: 1}, (err, granted) => {
    if (err) {
      finish(1, 'failed', {reason: 'subscribe: ' + err.message});
      return;
    }
    const qos = granted && granted[0] ? granted[0].qos : -1;
    if (qos !== 0 && qos !== 1) {
      finish(1, 'failed', {reason: 'subscribe refused: granted QoS ' + qos});
      return;
    }
    report('subscribed', {granted: qos});
  });
}

// reportMessages reports each message client receives and calls first
// after the first one.
function reportMessages(client, first) {
  let got = false;
  client.on('message', (topic, payload) => {
    report('message', {topic, payload: payload.toString()});
    if (!got) {
      got = true;
      first();
    }
  });
}

module.exports = {report, finish, bound, subscribe, reportMessages};
