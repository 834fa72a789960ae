package rules

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/moat-iot/moat/internal/arn"
	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/names"
	"github.com/moat-iot/moat/internal/rules/iotsql"
	"github.com/moat-iot/moat/internal/store"
)

// Limits of the rule resource, as AWS's model.
const (
	maxDescription = 2028
	maxActions     = 10
)

// invalid is an InvalidRequestException.
func invalid(format string, args ...any) error {
	return awsapi.Errorf(awsapi.InvalidRequest, format, args...)
}

// sqlError is the SqlParseException for a statement that does not
// compile, with its position and what was expected.
func sqlError(err error) error {
	var ae *awsapi.Error
	if errors.As(err, &ae) {
		return ae
	}
	return &awsapi.Error{Code: awsapi.SQLParse, Message: err.Error()}
}

// noRule is AWS's answer for a rule that does not exist: the rule API has
// no ResourceNotFoundException; AWS answers UnauthorizedException.
func noRule(name string) error {
	return awsapi.Errorf(awsapi.Unauthorized, "Rule %s does not exist.", name)
}

// checkName checks a rule name: ^[a-zA-Z0-9_]+$, 1 to 128.
func checkName(name string) error { return names.Rule("ruleName", name) }

// check validates a payload's plain members.
func check(p *Payload) error {
	if strings.TrimSpace(p.SQL) == "" {
		return invalid("topicRulePayload.sql is required.")
	}
	if p.Actions == nil {
		return invalid("topicRulePayload.actions is required.")
	}
	if len(p.Actions) > maxActions {
		return invalid("A rule may have at most %d actions, got %d.", maxActions, len(p.Actions))
	}
	if err := names.Description("topicRulePayload.description", p.Description, maxDescription); err != nil {
		return err
	}
	switch p.AWSIoTSQLVersion {
	case "", iotsql.Version20151008, iotsql.Version20160323, iotsql.VersionBeta:
	default:
		return invalid("awsIotSqlVersion %q is not one of %s, %s, %s.", p.AWSIoTSQLVersion,
			iotsql.Version20151008, iotsql.Version20160323, iotsql.VersionBeta)
	}
	return nil
}

// toRow is the stored form of r.
func toRow(r Rule, now time.Time) (store.TopicRule, error) {
	b, err := json.Marshal(r.Payload)
	if err != nil {
		return store.TopicRule{}, err
	}
	return store.TopicRule{Name: r.Name, Payload: b, Topic: r.Topic, Disabled: r.Payload.RuleDisabled, CreatedAt: r.CreatedAt, UpdatedAt: now}, nil
}

// fromRow reads a stored rule.
func fromRow(row store.TopicRule, arns arn.Builder) (Rule, error) {
	var p Payload
	if err := json.Unmarshal(row.Payload, &p); err != nil {
		return Rule{}, fmt.Errorf("rule %s: stored payload: %w", row.Name, err)
	}
	p.RuleDisabled = row.Disabled
	return Rule{Name: row.Name, ARN: arns.IoT("rule", row.Name), Payload: p, CreatedAt: row.CreatedAt, Topic: row.Topic}, nil
}

// Create validates and stores a new rule and starts it unless disabled.
// tags are stored with the rule's ARN.
func (s *Service) Create(ctx context.Context, name string, p Payload, tags map[string]string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if err := check(&p); err != nil {
		return err
	}
	now := time.Now().UTC().Truncate(time.Second)
	r := Rule{Name: name, ARN: s.arns.IoT("rule", name), Payload: p, CreatedAt: now}
	c, err := s.compile(r)
	if err != nil {
		return err
	}
	c.rule.Topic = c.query.Topic()
	row, err := toRow(c.rule, now)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.rules) >= s.lim.MaxRules {
		return awsapi.Errorf(awsapi.LimitExceeded, "This deployment allows at most %d topic rules.", s.lim.MaxRules)
	}
	err = s.st.Update(ctx, func(tx store.Tx) error {
		if err := tx.InsertTopicRule(row); err != nil {
			if errors.Is(err, store.ErrExists) {
				return &awsapi.Error{Code: awsapi.ResourceAlreadyExists, Message: fmt.Sprintf("Rule %s already exists.", name), ResourceID: name, ResourceARN: c.rule.ARN}
			}
			return err
		}
		if len(tags) > 0 {
			return tx.PutTags(c.rule.ARN, tags)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.install(c)
	return nil
}

// Get returns a rule.
func (s *Service) Get(ctx context.Context, name string) (Rule, error) {
	if err := checkName(name); err != nil {
		return Rule{}, err
	}
	var row store.TopicRule
	err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		row, err = tx.TopicRule(name)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return Rule{}, noRule(name)
	}
	if err != nil {
		return Rule{}, err
	}
	return fromRow(row, s.arns)
}

// Replace validates and stores a rule's new payload and restarts it. The
// rule keeps its creation time.
func (s *Service) Replace(ctx context.Context, name string, p Payload) error {
	if err := checkName(name); err != nil {
		return err
	}
	if err := check(&p); err != nil {
		return err
	}
	return s.update(ctx, name, func(r *Rule) error {
		r.Payload = p
		return nil
	})
}

// SetEnabled enables or disables a rule (EnableTopicRule,
// DisableTopicRule).
func (s *Service) SetEnabled(ctx context.Context, name string, enabled bool) error {
	if err := checkName(name); err != nil {
		return err
	}
	return s.update(ctx, name, func(r *Rule) error {
		r.Payload.RuleDisabled = !enabled
		return nil
	})
}

// update changes a stored rule with change, recompiles it and installs it.
func (s *Service) update(ctx context.Context, name string, change func(*Rule) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var c *compiled
	err := s.st.Update(ctx, func(tx store.Tx) error {
		row, err := tx.TopicRule(name)
		if errors.Is(err, store.ErrNotFound) {
			return noRule(name)
		}
		if err != nil {
			return err
		}
		r, err := fromRow(row, s.arns)
		if err != nil {
			return err
		}
		if err := change(&r); err != nil {
			return err
		}
		if c, err = s.compile(r); err != nil {
			return err
		}
		c.rule.Topic = c.query.Topic()
		nrow, err := toRow(c.rule, time.Now().UTC())
		if err != nil {
			return err
		}
		return tx.UpdateTopicRule(nrow)
	})
	if err != nil {
		return err
	}
	s.install(c)
	return nil
}

// Delete deletes a rule and its tags and stops it; messages it has queued
// still run.
func (s *Service) Delete(ctx context.Context, name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.st.Update(ctx, func(tx store.Tx) error {
		if err := tx.DeleteTopicRule(name); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return noRule(name)
			}
			return err
		}
		return tx.DeleteTags(s.arns.IoT("rule", name), nil)
	})
	if err != nil {
		return err
	}
	if c := s.rules[name]; c != nil {
		s.uninstall(c)
		s.release(c)
		delete(s.rules, name)
	}
	return nil
}

// List lists rules by name; topic selects the rules whose FROM filter is
// exactly it, disabled the rules in that state.
func (s *Service) List(ctx context.Context, topicFilter string, disabled *bool, p store.Page) ([]Rule, string, error) {
	var rows []store.TopicRule
	var next string
	err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		rows, next, err = tx.ListTopicRules(p, topicFilter, disabled)
		return err
	})
	if errors.Is(err, store.ErrInvalidCursor) {
		return nil, "", invalid("The nextToken is not valid.")
	}
	if err != nil {
		return nil, "", err
	}
	out := make([]Rule, 0, len(rows))
	for _, row := range rows {
		r, err := fromRow(row, s.arns)
		if err != nil {
			return nil, "", err
		}
		out = append(out, r)
	}
	return out, next, nil
}
