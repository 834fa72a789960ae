'use strict';
// report.js is what device.js and mqttjs.js share: events as JSON lines on
// stdout, one run's end (exit status and last event), and the run's time
// bound.

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

module.exports = {report, finish, bound};
