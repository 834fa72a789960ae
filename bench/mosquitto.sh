#!/usr/bin/env bash
# bench/mosquitto.sh: run Mosquitto as moat-bench's reference broker, over
# mutual TLS, configured like moat (see bench/README.md).
#
#   bench/mosquitto.sh start     install if missing, make certs, start in the background
#   bench/mosquitto.sh fg        the same, in the foreground
#   bench/mosquitto.sh stop      stop the background broker
#   bench/mosquitto.sh validate  start, run the reference benchmarks, stop
#
# Everything lives in $BENCH_DIR (default ./bench/out): moat-bench, certs/,
# mosquitto.conf, mosquitto.acl, mosquitto.log, mosquitto.pid, and
# mosquitto.env (BROKER, PID, CAFILE, CERTDIR) for the benchmark commands.
# Settings (environment): PORT (default: a free loopback port), TOPIC_PREFIX
# (""), CLIENTID_PREFIX (bench-), KEY_TYPE (ecdsa-p256), IDLE_CERTS (0: idle
# runs use one identity), MAX_QUEUED (1000), MAX_INFLIGHT (20), CLIENT_CAFILE
# (CA bundle that verifies client certificates; default certs/ca.crt).
set -euo pipefail

cd "$(dirname "$0")/.."
BENCH_DIR=${BENCH_DIR:-$PWD/bench/out}
mkdir -p "$BENCH_DIR"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
CERTS=$BENCH_DIR/certs
TOPIC_PREFIX=${TOPIC_PREFIX:-}
CLIENTID_PREFIX=${CLIENTID_PREFIX:-bench-}
KEY_TYPE=${KEY_TYPE:-ecdsa-p256}
IDLE_CERTS=${IDLE_CERTS:-0}
MAX_QUEUED=${MAX_QUEUED:-1000}
MAX_INFLIGHT=${MAX_INFLIGHT:-20}
CLIENT_CAFILE=${CLIENT_CAFILE:-$CERTS/ca.crt}
BENCH=$BENCH_DIR/moat-bench
PIDFILE=$BENCH_DIR/mosquitto.pid

install_mosquitto() {
	if command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ]; then return; fi
	echo "mosquitto.sh: installing mosquitto" >&2
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y mosquitto
}

mosquitto_bin() { command -v mosquitto || echo /usr/sbin/mosquitto; }

build_bench() {
	go build -o "$BENCH" ./cmd/moat-bench
	"$BENCH" gencerts -out "$CERTS" -clientid-prefix "$CLIENTID_PREFIX" -key-type "$KEY_TYPE" -idle "$IDLE_CERTS" \
		-names "${CLIENTID_PREFIX}shared"
}

write_config() {
	PORT=${PORT:-$("$BENCH" freeport)}
	local pre=""
	[ -n "$TOPIC_PREFIX" ] && pre="$TOPIC_PREFIX/"
	# Each client (username = certificate CN = client id) may publish only
	# under its own id; everyone may read the publishers' data topics. The
	# moat policy equivalent: iot:Publish on topic/${iot:ClientId}/*, and
	# iot:Subscribe/iot:Receive on topicfilter/*/data and topic/*/data.
	cat >"$BENCH_DIR/mosquitto.acl" <<ACL
pattern write ${pre}%u/#
pattern read ${pre}+/data
ACL
	cat >"$BENCH_DIR/mosquitto.conf" <<CONF
# moat-bench reference Mosquitto: mutual TLS only, identity = certificate CN.
per_listener_settings false
allow_anonymous false
acl_file $BENCH_DIR/mosquitto.acl
listener $PORT 127.0.0.1
cafile $CLIENT_CAFILE
certfile $CERTS/server.crt
keyfile $CERTS/server.key
require_certificate true
use_identity_as_username true
tls_version tlsv1.2
# Throughput runs: no persistence, no \$SYS traffic, quiet log.
persistence false
sys_interval 0
# Per-client bounds; set moat's outbound queue and inflight window alike.
max_queued_messages $MAX_QUEUED
max_inflight_messages $MAX_INFLIGHT
max_connections -1
connection_messages false
log_dest file $BENCH_DIR/mosquitto.log
log_type error
log_type warning
log_type notice
user $(id -un)
CONF
}

start() {
	install_mosquitto
	build_bench
	stop_broker quiet
	write_config
	# Room for 100,000+ idle connections.
	ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)"
	if [ "${1:-bg}" = fg ]; then
		echo "mosquitto.sh: foreground on 127.0.0.1:$PORT (pid $$)" >&2
		echo $$ >"$PIDFILE"
		write_env $$
		exec "$(mosquitto_bin)" -c "$BENCH_DIR/mosquitto.conf"
	fi
	"$(mosquitto_bin)" -c "$BENCH_DIR/mosquitto.conf" >>"$BENCH_DIR/mosquitto.log" 2>&1 &
	local pid=$!
	echo "$pid" >"$PIDFILE"
	for _ in $(seq 100); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
			write_env "$pid"
			echo "mosquitto.sh: mosquitto $(mosquitto_version) pid $pid on 127.0.0.1:$PORT; env in $BENCH_DIR/mosquitto.env" >&2
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || { tail -20 "$BENCH_DIR/mosquitto.log" >&2; echo "mosquitto.sh: mosquitto exited" >&2; return 1; }
		sleep 0.1
	done
	echo "mosquitto.sh: mosquitto did not listen on $PORT" >&2
	return 1
}

mosquitto_version() { "$(mosquitto_bin)" -h 2>/dev/null | sed -n 's/^mosquitto version //p' | head -1; }

write_env() {
	cat >"$BENCH_DIR/mosquitto.env" <<ENV
BROKER=127.0.0.1:$PORT
PID=$1
CAFILE=$CERTS/ca.crt
CERTDIR=$CERTS
ONE_CERT=$CERTS/${CLIENTID_PREFIX}shared.crt
ONE_KEY=$CERTS/${CLIENTID_PREFIX}shared.key
BENCH=$BENCH
ENV
}

stop_broker() {
	[ -f "$PIDFILE" ] || return 0
	local pid
	pid=$(cat "$PIDFILE")
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid"
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		[ "${1:-}" = quiet ] || echo "mosquitto.sh: stopped pid $pid" >&2
	fi
	rm -f "$PIDFILE"
}

# The reference runs of issue 3 (10 -> 10, 64 B, 10 s; connect 10 s; 10,000 idle).
validate() {
	start
	# shellcheck disable=SC1091
	. "$BENCH_DIR/mosquitto.env"
	local common=(-broker "$BROKER" -cafile "$CAFILE" -broker-pid "$PID" -label mosquitto -clientid-prefix "$CLIENTID_PREFIX" -json)
	local out=$BENCH_DIR/mosquitto-results.jsonl
	: >"$out"
	for qos in 0 1; do
		"$BENCH" pubsub "${common[@]}" -certdir "$CERTDIR" -pubs 10 -subs 10 -qos "$qos" -size 64 -duration 10s >>"$out"
		sleep 2
	done
	# Below saturation, for latency: 10 x 1000 msgs/s in, 100,000 msgs/s out.
	"$BENCH" pubsub "${common[@]}" -certdir "$CERTDIR" -pubs 10 -subs 10 -qos 0 -size 64 -rate 1000 -duration 10s >>"$out"
	sleep 2
	"$BENCH" connect "${common[@]}" -certdir "$CERTDIR" -c 16 -duration 10s >>"$out"
	# Idle RSS on a fresh broker: restart it (same port, certificates).
	stop_broker quiet
	start
	. "$BENCH_DIR/mosquitto.env"
	common=(-broker "$BROKER" -cafile "$CAFILE" -broker-pid "$PID" -label mosquitto -clientid-prefix "$CLIENTID_PREFIX" -json)
	"$BENCH" idle "${common[@]}" -cert "$ONE_CERT" -key "$ONE_KEY" -conns "${IDLE_CONNS:-10000}" -c 32 -duration 10s >>"$out"
	stop_broker
	echo "mosquitto.sh: results in $out" >&2
}

case "${1:-start}" in
start) start bg ;;
fg) start fg ;;
stop) stop_broker ;;
validate) validate ;;
*) echo "usage: $0 start|fg|stop|validate" >&2; exit 2 ;;
esac
