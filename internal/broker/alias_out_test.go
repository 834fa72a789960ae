package broker_test

import (
	"testing"

	"github.com/moat-iot/moat/internal/mqtt/packet"
)

// TestAlias_Outbound checks server-to-client topic aliases (MQTT 5
// §3.3.2.3.4): towards a client that accepts them, the first PUBLISH of a
// topic carries the topic and an alias, later ones only the alias
// [MQTT-3.3.2-10]; never more aliases than the client's Topic Alias
// Maximum [MQTT-3.3.2-9], and topics past it go unaliased.
func TestAlias_Outbound(t *testing.T) {
	tb := startBroker(t, nil)
	sub, _ := tb.client(t, "alias-out-sub", v5, func(c *packet.Connect) { c.Properties.TopicAliasMaximum = 2 })
	sub.sub("ao/#", 0)
	pub, _ := tb.client(t, "alias-out-pub", v5)

	steps := []struct {
		topic     string
		wantTopic string // as on the wire
		wantAlias uint16
	}{
		{"ao/a", "ao/a", 1}, // first use: topic and alias
		{"ao/a", "", 1},     // then the alias alone
		{"ao/b", "ao/b", 2}, // the second topic takes the second alias
		{"ao/c", "ao/c", 0}, // the maximum is 2: no alias for a third topic
		{"ao/b", "", 2},
		{"ao/c", "ao/c", 0},
	}
	for i, s := range steps {
		pub.publish(s.topic, "x", 0, false)
		p := expect[*packet.Publish](sub)
		if p.Topic != s.wantTopic || p.Properties.TopicAlias != s.wantAlias {
			t.Fatalf("step %d (%s): PUBLISH topic %q alias %d, want %q alias %d", i, s.topic, p.Topic, p.Properties.TopicAlias, s.wantTopic, s.wantAlias)
		}
	}

	// A new connection starts with no aliases [MQTT-3.3.2-7].
	sub.disconnect(packet.NormalDisconnection)
	sub2, _ := tb.client(t, "alias-out-sub", v5, func(c *packet.Connect) { c.Properties.TopicAliasMaximum = 2 })
	sub2.sub("ao/#", 0)
	pub.publish("ao/a", "y", 0, false)
	if p := expect[*packet.Publish](sub2); p.Topic != "ao/a" || p.Properties.TopicAlias != 1 {
		t.Fatalf("after reconnect: topic %q alias %d, want ao/a alias 1", p.Topic, p.Properties.TopicAlias)
	}
}
