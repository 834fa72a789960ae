package broker

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	connections   prometheus.Gauge
	connects      *prometheus.CounterVec // by result
	handshakeFail prometheus.Counter
	received      *prometheus.CounterVec // PUBLISH from clients, by qos
	delivered     *prometheus.CounterVec // PUBLISH to clients, by qos
	dropped       *prometheus.CounterVec // by reason
	denied        *prometheus.CounterVec // by action
	disconnects   *prometheus.CounterVec // by reason code
	rechecks      *prometheus.CounterVec // live re-evaluations, by outcome
	memReleases   prometheus.Counter     // memory returned to the OS after connection bursts

	receivedQ  [3]prometheus.Counter // received, by QoS, resolved once
	deliveredQ [3]prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		connections: prometheus.NewGauge(prometheus.GaugeOpts{Name: "moat_mqtt_connections", Help: "Open MQTT connections."}),
		connects: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "moat_mqtt_connects_total",
			Help: "CONNECT attempts by result (accepted or the refusal reason code)."}, []string{"result"}),
		handshakeFail: prometheus.NewCounter(prometheus.CounterOpts{Name: "moat_mqtt_tls_handshake_failures_total", Help: "TLS handshakes that failed or timed out."}),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "moat_mqtt_publish_received_total",
			Help: "PUBLISH packets received from clients, by QoS."}, []string{"qos"}),
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "moat_mqtt_publish_sent_total",
			Help: "PUBLISH packets sent to clients, by QoS."}, []string{"qos"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "moat_mqtt_messages_dropped_total",
			Help: "Messages not delivered, by reason (queue_full, expired, too_large, offline)."}, []string{"reason"}),
		denied: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "moat_mqtt_denied_total",
			Help: "Actions refused by policy, by action."}, []string{"action"}),
		disconnects: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "moat_mqtt_server_disconnects_total",
			Help: "Connections closed by the server, by reason."}, []string{"reason"}),
		rechecks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "moat_mqtt_rechecks_total",
			Help: "Live connections re-evaluated after a certificate or policy change, by outcome (kept, closed)."}, []string{"outcome"}),
		memReleases: prometheus.NewCounter(prometheus.CounterOpts{Name: "moat_mqtt_memory_releases_total",
			Help: "Collections run, and free memory returned to the OS, after bursts of connections."}),
	}
	for q := range 3 {
		m.receivedQ[q] = m.received.WithLabelValues(string(rune('0' + q)))
		m.deliveredQ[q] = m.delivered.WithLabelValues(string(rune('0' + q)))
	}
	if reg != nil {
		reg.MustRegister(m.connections, m.connects, m.handshakeFail, m.received, m.delivered, m.dropped, m.denied, m.disconnects, m.rechecks, m.memReleases)
	}
	return m
}
