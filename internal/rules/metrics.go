package rules

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	messages *prometheus.CounterVec // by rule and result: matched, not_matched, error
	actions  *prometheus.CounterVec // by rule, action kind and result: success, retry, failure
	dropped  *prometheus.CounterVec // by rule and reason: queue_full, loop, rule_not_found
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "moat_rules_messages_total", Help: "Messages a rule evaluated, by rule and result (matched, not_matched, error).",
		}, []string{"rule", "result"}),
		actions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "moat_rules_actions_total", Help: "Rule action attempts, by rule, action and result (success, retry, failure).",
		}, []string{"rule", "action", "result"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "moat_rules_dropped_total", Help: "Messages not given to a rule, by rule and reason (queue_full, loop, rule_not_found).",
		}, []string{"rule", "reason"}),
	}
	if reg != nil {
		reg.MustRegister(m.messages, m.actions, m.dropped)
	}
	return m
}
