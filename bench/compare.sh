#!/usr/bin/env bash
# bench/compare.sh: the same moat-bench runs against Mosquitto and moat, side
# by side on this machine, alternating (the order flips every round), every
# result a JSON line in $BENCH_DIR/compare-<time>.jsonl, then a table.
#
#   bench/compare.sh                 # ROUNDS=3 DURATION=10s IDLE_CONNS=10000
#   MOAT=0 bench/compare.sh          # Mosquitto only
#
# Both brokers: TLS 1.2+ with client certificates (ECDSA P-256, CN/client id
# per client), each client may publish only under its own id and read the
# publishers' <id>/data topics, no persistence during throughput runs.
# moat is built from ./cmd/moat and run as `moat serve` on free loopback
# ports (a built binary rather than `go run`, so -broker-pid is moat's pid).
set -euo pipefail

cd "$(dirname "$0")/.."
export BENCH_DIR=${BENCH_DIR:-$PWD/bench/out}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
IDLE_CONNS=${IDLE_CONNS:-10000}
MOAT=${MOAT:-1}
PRE=${CLIENTID_PREFIX:-bench-}
mkdir -p "$BENCH_DIR"
OUT=$BENCH_DIR/compare-$(date -u +%Y%m%dT%H%M%SZ).jsonl

# The benchmark set: one line each, the flags after the mode. The identity
# flags (-certdir or -cert/-key) are added per broker: IDENT=dir or one.
BENCHES=(
	"pubsub dir -pubs 10 -subs 10 -qos 0 -size 64 -duration $DURATION"
	"pubsub dir -pubs 10 -subs 10 -qos 1 -size 64 -duration $DURATION"
	"pubsub dir -pubs 10 -subs 10 -qos 0 -size 64 -rate 1000 -duration $DURATION"
	"pubsub dir -pubs 10 -subs 10 -qos 1 -size 64 -rate 500 -duration $DURATION"
	"connect dir -c 16 -duration $DURATION"
	"idle one -conns $IDLE_CONNS -c 32 -duration $DURATION"
)

bench/mosquitto.sh start
# shellcheck disable=SC1091
. "$BENCH_DIR/mosquitto.env"
MOSQ_BROKER=$BROKER MOSQ_PID=$PID MOSQ_CAFILE=$CAFILE MOSQ_CERTDIR=$CERTDIR MOSQ_ONE_CERT=$ONE_CERT MOSQ_ONE_KEY=$ONE_KEY

MOAT_PID=
cleanup() {
	bench/mosquitto.sh stop || true
	if [ -n "$MOAT_PID" ]; then kill "$MOAT_PID" 2>/dev/null || true; wait "$MOAT_PID" 2>/dev/null || true; fi
}
trap cleanup EXIT

start_moat() {
	go build -o "$BENCH_DIR/moat" ./cmd/moat
	MOAT_DATA=$BENCH_DIR/moat-data
	MOAT_MQTT_PORT=$("$BENCH" freeport)
	MOAT_HTTPS_PORT=$("$BENCH" freeport)
	ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)"
	"$BENCH_DIR/moat" serve --data-dir "$MOAT_DATA" --mqtt-addr "127.0.0.1:$MOAT_MQTT_PORT" \
		--https-addr "127.0.0.1:$MOAT_HTTPS_PORT" --log-level warn \
		--mqtt-receive-maximum "${MAX_INFLIGHT:-20}" --mqtt-max-queued-messages "${MAX_QUEUED:-1000}" >"$BENCH_DIR/moat.log" 2>&1 &
	MOAT_PID=$!
	for _ in $(seq 300); do
		if curl -fsS --cacert "$MOAT_DATA/root-ca.pem" "https://127.0.0.1:$MOAT_HTTPS_PORT/health" >/dev/null 2>&1; then
			echo "compare.sh: moat pid $MOAT_PID, MQTT 127.0.0.1:$MOAT_MQTT_PORT, HTTPS 127.0.0.1:$MOAT_HTTPS_PORT" >&2
			return 0
		fi
		kill -0 "$MOAT_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "compare.sh: moat did not become healthy; see $BENCH_DIR/moat.log" >&2
	tail -20 "$BENCH_DIR/moat.log" >&2
	return 1
}

# ======================================================================
# LEAD: moat_provision makes moat's side match Mosquitto's. It must set
# MOAT_CAFILE (the trust anchor), MOAT_CERTDIR (<clientid>.crt/.key for
# every id in bench/out/certs), MOAT_ONE_CERT/MOAT_ONE_KEY (the idle runs'
# shared identity), and return non-zero if moat cannot serve MQTT yet.
# The body below uses the control plane as it is today (create-keys-and-
# certificate + one policy, the Mosquitto ACL's equivalent); check it once
# the broker (internal/broker) and its policy checks are in.
# ======================================================================
moat_provision() {
	export AWS_SHARED_CREDENTIALS_FILE=$MOAT_DATA/admin.credentials AWS_CA_BUNDLE=$MOAT_DATA/root-ca.pem AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
	local ep=(--endpoint-url "https://127.0.0.1:$MOAT_HTTPS_PORT") arn=arn:aws:iot:us-east-1:000000000000
	MOAT_CAFILE=$MOAT_DATA/root-ca.pem
	MOAT_CERTDIR=$BENCH_DIR/moat-certs
	MOAT_ONE_CERT=$MOAT_CERTDIR/${PRE}shared.crt MOAT_ONE_KEY=$MOAT_CERTDIR/${PRE}shared.key
	mkdir -p "$MOAT_CERTDIR"
	# Equivalent of mosquitto.acl: "pattern write %u/#", "pattern read +/data".
	cat >"$BENCH_DIR/moat-bench-policy.json" <<POLICY
{"Version": "2012-10-17", "Statement": [
 {"Effect": "Allow", "Action": "iot:Connect",   "Resource": "$arn:client/\${iot:ClientId}"},
 {"Effect": "Allow", "Action": "iot:Publish",   "Resource": "$arn:topic/\${iot:ClientId}/*"},
 {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": "$arn:topicfilter/*/data"},
 {"Effect": "Allow", "Action": "iot:Receive",   "Resource": "$arn:topic/*/data"}]}
POLICY
	aws iot get-policy --policy-name moat-bench "${ep[@]}" >/dev/null 2>&1 ||
		aws iot create-policy --policy-name moat-bench --policy-document "file://$BENCH_DIR/moat-bench-policy.json" "${ep[@]}" >/dev/null
	local f id cert_arn
	for f in "$MOSQ_CERTDIR"/"$PRE"*.crt; do
		id=$(basename "$f" .crt)
		[ -f "$MOAT_CERTDIR/$id.key" ] && continue
		cert_arn=$(aws iot create-keys-and-certificate --set-as-active "${ep[@]}" \
			--certificate-pem-outfile "$MOAT_CERTDIR/$id.crt" --private-key-outfile "$MOAT_CERTDIR/$id.key" \
			--query certificateArn --output text)
		aws iot attach-policy --policy-name moat-bench --target "$cert_arn" "${ep[@]}"
	done
	# Ready only if the MQTT listener completes an mTLS CONNECT.
	"$BENCH" connect -broker "127.0.0.1:$MOAT_MQTT_PORT" -cafile "$MOAT_CAFILE" -certdir "$MOAT_CERTDIR" \
		-clientid-prefix "$PRE" -c 1 -warmup 0s -duration 1s -json 2>/dev/null | grep -q '"connections":[1-9]'
}

# run BROKER BENCH-LINE: one benchmark against one broker, appended to $OUT.
run() {
	local who=$1 mode ident args
	read -r mode ident args <<<"$2"
	local common=(-label "$who" -clientid-prefix "$PRE" -json)
	if [ "$who" = mosquitto ]; then
		common+=(-broker "$MOSQ_BROKER" -cafile "$MOSQ_CAFILE" -broker-pid "$MOSQ_PID")
		[ "$ident" = dir ] && common+=(-certdir "$MOSQ_CERTDIR") || common+=(-cert "$MOSQ_ONE_CERT" -key "$MOSQ_ONE_KEY")
	else
		common+=(-broker "127.0.0.1:$MOAT_MQTT_PORT" -cafile "$MOAT_CAFILE" -broker-pid "$MOAT_PID")
		[ "$ident" = dir ] && common+=(-certdir "$MOAT_CERTDIR") || common+=(-cert "$MOAT_ONE_CERT" -key "$MOAT_ONE_KEY")
	fi
	echo "== $who: moat-bench $mode $args" >&2
	# shellcheck disable=SC2086
	"$BENCH" "$mode" "${common[@]}" $args >>"$OUT" || echo "compare.sh: $who $mode failed" >&2
	sleep 2 # let the broker settle between runs
}

BROKERS=(mosquitto)
if [ "$MOAT" = 1 ]; then
	if start_moat && moat_provision; then
		BROKERS=(mosquitto moat)
	else
		echo "compare.sh: moat's MQTT listener is not ready: running the Mosquitto half only" >&2
	fi
fi

for round in $(seq "$ROUNDS"); do
	order=("${BROKERS[@]}")
	if [ $((round % 2)) = 0 ] && [ ${#BROKERS[@]} = 2 ]; then order=(moat mosquitto); fi
	for b in "${BENCHES[@]}"; do
		for who in "${order[@]}"; do run "$who" "$b"; done
	done
done

echo "compare.sh: $(wc -l <"$OUT") results in $OUT" >&2
jq -r '[.broker, .mode, "qos\(.params.qos)", "rate=\(.params.rate)", (.delivered_msgs_per_s|floor), .latency_us.p50, .latency_us.p99,
	.lost, (.handshakes_per_s|floor), (.bytes_per_conn|floor), .client_cpu_s, .broker_cpu_s] | @tsv' "$OUT" |
	(echo -e "broker\tmode\tqos\trate\tdelivered/s\tp50us\tp99us\tlost\thandshakes/s\tB/conn\tclient_cpu\tbroker_cpu"; cat) | column -t
