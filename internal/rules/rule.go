package rules

import (
	"encoding/json"
	"time"
)

// Payload is a topic rule as the iot API takes it (TopicRulePayload of the
// botocore model): the SQL statement, its version, the actions and the
// error action, each action in AWS's JSON shape ({"republish":{...}},
// {"http":{...}}, ...). Actions are kept as sent, so that GetTopicRule
// returns what CreateTopicRule was given.
type Payload struct {
	SQL              string            `json:"sql"`
	Description      string            `json:"description,omitempty"`
	Actions          []json.RawMessage `json:"actions"`
	RuleDisabled     bool              `json:"ruleDisabled"`
	AWSIoTSQLVersion string            `json:"awsIotSqlVersion,omitempty"`
	ErrorAction      json.RawMessage   `json:"errorAction,omitempty"`
}

// Rule is a stored topic rule.
type Rule struct {
	Name      string
	ARN       string
	Payload   Payload
	CreatedAt time.Time
	// Topic is the rule's FROM topic filter (TopicRuleListItem.topicPattern).
	Topic string
}
