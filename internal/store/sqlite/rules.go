package sqlite

import (
	"fmt"

	"github.com/moat-iot/moat/internal/store"
)

// Topic rules live in one table, topic_rules (migration 5), keyed by name.
// The payload is a BLOB the store never parses; topic, the FROM filter of
// the rule's SQL, sits beside it so that ListTopicRules by topic walks the
// index (topic, name) instead of reading every payload. Rules are written
// rarely (API calls) and read whole when the engine starts, so none of
// these statements goes through the statement cache.

// curRule is the cursor kind of ListTopicRules (with the others in tx.go).
const curRule = "u"

const topicRuleCols = `name, payload, topic, disabled, created_at, updated_at`

// The statements of this file. The listings are four fixed strings, one
// per combination of filters, so that each has a plan of its own (see
// TestTopicRuleQueryPlans): by topic they walk topic_rules_topic from
// (topic, after), otherwise the primary key from after; the disabled
// filter is checked row by row.
const (
	topicRuleSQL       = `SELECT ` + topicRuleCols + ` FROM topic_rules WHERE name = ?`
	insertTopicRuleSQL = `INSERT INTO topic_rules (` + topicRuleCols + `) VALUES (?, ?, ?, ?, ?, ?)`
	updateTopicRuleSQL = `UPDATE topic_rules SET payload = ?, topic = ?, disabled = ?, updated_at = ? WHERE name = ?`
	deleteTopicRuleSQL = `DELETE FROM topic_rules WHERE name = ?`
	allTopicRulesSQL   = `SELECT ` + topicRuleCols + ` FROM topic_rules ORDER BY name`

	listTopicRulesSQL = `SELECT ` + topicRuleCols + ` FROM topic_rules
		WHERE name > ? ORDER BY name LIMIT ?`
	listTopicRulesStateSQL = `SELECT ` + topicRuleCols + ` FROM topic_rules
		WHERE name > ? AND disabled = ? ORDER BY name LIMIT ?`
	listTopicRulesTopicSQL = `SELECT ` + topicRuleCols + ` FROM topic_rules
		WHERE topic = ? AND name > ? ORDER BY name LIMIT ?`
	listTopicRulesTopicStateSQL = `SELECT ` + topicRuleCols + ` FROM topic_rules
		WHERE topic = ? AND name > ? AND disabled = ? ORDER BY name LIMIT ?`
)

func scanTopicRule(sc interface{ Scan(...any) error }) (store.TopicRule, error) {
	var r store.TopicRule
	var disabled, ca, ua int64
	err := sc.Scan(&r.Name, &r.Payload, &r.Topic, &disabled, &ca, &ua)
	r.Payload = unblob(r.Payload)
	r.Disabled = disabled != 0
	r.CreatedAt, r.UpdatedAt = fromMicros(ca), fromMicros(ua)
	return r, err
}

func (t *tx) TopicRule(name string) (store.TopicRule, error) {
	r, err := scanTopicRule(t.q.QueryRowContext(t.ctx, topicRuleSQL, name))
	if err != nil {
		return store.TopicRule{}, notFound("topic rule "+name, err)
	}
	return r, nil
}

func (t *tx) InsertTopicRule(r store.TopicRule) error {
	_, err := t.exec("insert topic rule "+r.Name, insertTopicRuleSQL,
		r.Name, blob(r.Payload), r.Topic, boolInt(r.Disabled), toMicros(r.CreatedAt), toMicros(r.UpdatedAt))
	return err
}

func (t *tx) UpdateTopicRule(r store.TopicRule) error {
	return t.execOne("update topic rule "+r.Name, updateTopicRuleSQL,
		blob(r.Payload), r.Topic, boolInt(r.Disabled), toMicros(r.UpdatedAt), r.Name)
}

func (t *tx) DeleteTopicRule(name string) error {
	return t.execOne("delete topic rule "+name, deleteTopicRuleSQL, name)
}

func (t *tx) ListTopicRules(p store.Page, topic string, disabled *bool) ([]store.TopicRule, string, error) {
	const op = "list topic rules"
	n := limit(p)
	after, _, err := keyCursor(op, p.After, curRule)
	if err != nil {
		return nil, "", err
	}
	var q string
	var args []any
	switch {
	case topic == "" && disabled == nil:
		q, args = listTopicRulesSQL, []any{after, n + 1}
	case topic == "":
		q, args = listTopicRulesStateSQL, []any{after, boolInt(*disabled), n + 1}
	case disabled == nil:
		q, args = listTopicRulesTopicSQL, []any{topic, after, n + 1}
	default:
		q, args = listTopicRulesTopicStateSQL, []any{topic, after, boolInt(*disabled), n + 1}
	}
	rows, err := t.q.QueryContext(t.ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	out, err := collect(rows, scanTopicRule)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	next := ""
	if len(out) > n {
		out = out[:n]
		next = encodeCursor(curRule, out[n-1].Name)
	}
	return out, next, nil
}

func (t *tx) AllTopicRules() ([]store.TopicRule, error) {
	const op = "all topic rules"
	rows, err := t.q.QueryContext(t.ctx, allTopicRulesSQL)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	out, err := collect(rows, scanTopicRule)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return out, nil
}
