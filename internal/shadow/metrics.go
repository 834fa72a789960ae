package shadow

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	requests *prometheus.CounterVec
	rejected *prometheus.CounterVec
	batch    prometheus.Histogram
	latency  prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "moat_shadow_requests_total", Help: "Shadow requests by surface (mqtt, https) and operation.",
		}, []string{"surface", "op"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "moat_shadow_rejected_total", Help: "Shadow requests rejected, by operation and AWS error code.",
		}, []string{"op", "code"}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "moat_shadow_batch_size", Help: "Requests a shard applied and stored together.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 10),
		}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "moat_shadow_update_seconds", Help: "MQTT shadow updates from receipt to the accepted reply (stored).",
			Buckets: prometheus.ExponentialBuckets(0.0002, 2, 14),
		}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.rejected, m.batch, m.latency)
	}
	return m
}
