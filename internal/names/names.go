// Package names checks the identifiers of the AWS IoT API against the
// lengths and patterns of the botocore model (iot/2015-05-28/service-2.json),
// so that what moat accepts AWS accepts too. Each check returns an
// InvalidRequestException naming the member.
package names

import (
	"unicode"
	"unicode/utf8"

	"github.com/moat-iot/moat/internal/awsapi"
)

type rule struct {
	min, max int
	allowed  func(r rune) bool
	pattern  string // for the message
}

func alnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

var (
	// thingName, thingTypeName, thingGroupName: [a-zA-Z0-9:_-]+, 1-128.
	thingRule = rule{1, 128, func(r rune) bool { return alnum(r) || r == ':' || r == '_' || r == '-' }, "[a-zA-Z0-9:_-]+"}
	// policyName: [\w+=,.@-]+, 1-128.
	policyRule = rule{1, 128, func(r rune) bool {
		return alnum(r) || r == '_' || r == '+' || r == '=' || r == ',' || r == '.' || r == '@' || r == '-'
	}, `[\w+=,.@-]+`}
	// attribute name: [a-zA-Z0-9_.,@/:#-]+, 1-128.
	attrNameRule = rule{1, 128, func(r rune) bool {
		return alnum(r) || r == '_' || r == '.' || r == ',' || r == '@' || r == '/' || r == ':' || r == '#' || r == '-'
	}, "[a-zA-Z0-9_.,@/:#-]+"}
	// attribute value: [a-zA-Z0-9_.,@/:#=\[\]-]*, 0-800.
	attrValueRule = rule{0, 800, func(r rune) bool {
		return alnum(r) || r == '_' || r == '.' || r == ',' || r == '@' || r == '/' || r == ':' || r == '#' || r == '=' || r == '[' || r == ']' || r == '-'
	}, `[a-zA-Z0-9_.,@/:#=\[\]-]*`}
	// certificateId: 64 hex characters.
	certIDRule = rule{64, 64, func(r rune) bool { return r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F' }, "[a-fA-F0-9]{64}"}
	// policyVersionId: [0-9]+.
	versionRule = rule{1, 10, func(r rune) bool { return r >= '0' && r <= '9' }, "[0-9]+"}
)

func (ru rule) check(member, v string) error {
	n := len([]rune(v))
	if n < ru.min || n > ru.max {
		if ru.min == ru.max {
			return awsapi.Errorf(awsapi.InvalidRequest, "%s must be exactly %d characters long, got %d.", member, ru.min, n)
		}
		return awsapi.Errorf(awsapi.InvalidRequest, "%s must be %d to %d characters long, got %d.", member, ru.min, ru.max, n)
	}
	for _, r := range v {
		if !ru.allowed(r) {
			return awsapi.Errorf(awsapi.InvalidRequest, "%s %q must match the pattern %s.", member, v, ru.pattern)
		}
	}
	return nil
}

// Thing checks a thing name (also thing type and thing group names).
func Thing(member, v string) error { return thingRule.check(member, v) }

// Policy checks a policy name.
func Policy(member, v string) error { return policyRule.check(member, v) }

// AttributeName and AttributeValue check registry attributes.
func AttributeName(member, v string) error  { return attrNameRule.check(member, v) }
func AttributeValue(member, v string) error { return attrValueRule.check(member, v) }

// CertificateID checks a certificate id (64 hex characters).
func CertificateID(member, v string) error { return certIDRule.check(member, v) }

// PolicyVersionID checks a policy version id.
func PolicyVersionID(member, v string) error { return versionRule.check(member, v) }

// Required is the error for a missing required member.
func Required(member string) error {
	return awsapi.Errorf(awsapi.InvalidRequest, "%s is required.", member)
}

// Description checks a free-text description (thing types, thing groups):
// at most max characters of the pattern [\p{Graph}\x20]*, that is visible
// characters and plain spaces.
func Description(member, v string, max int) error {
	if n := utf8.RuneCountInString(v); n > max {
		return awsapi.Errorf(awsapi.InvalidRequest, "%s must be at most %d characters long, got %d.", member, max, n)
	}
	for _, r := range v {
		if r != ' ' && (!unicode.IsGraphic(r) || unicode.IsSpace(r)) {
			return awsapi.Errorf(awsapi.InvalidRequest, "%s must hold visible characters and spaces only (pattern [\\p{Graph}\\x20]*), found %U.", member, r)
		}
	}
	return nil
}

// shadowRule: shadowName of the iot-data model, [$a-zA-Z0-9:_-]+, 1-64.
var shadowRule = rule{1, 64, func(r rune) bool { return alnum(r) || r == '$' || r == ':' || r == '_' || r == '-' }, "[$a-zA-Z0-9:_-]+"}

// Shadow checks a named shadow's name.
func Shadow(member, v string) error { return shadowRule.check(member, v) }

// ruleRule: ruleName, ^[a-zA-Z0-9_]+$, 1-128.
var ruleRule = rule{1, 128, func(r rune) bool { return alnum(r) || r == '_' }, "^[a-zA-Z0-9_]+$"}

// Rule checks a topic rule's name.
func Rule(member, v string) error { return ruleRule.check(member, v) }
