package topic

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// AWS IoT Core default quotas for topics (reference §10.2; also the AWS
// device SDKs' client-side checks).
const (
	AWSMaxLength = 256 // bytes of UTF-8
	AWSMaxLevels = 8   // levels, i.e. at most 7 slashes
)

// Prefixes with a meaning of their own.
const (
	// SharePrefix starts a shared subscription filter,
	// $share/{ShareName}/{filter} (MQTT 5 §4.8.2; AWS IoT accepts it from
	// MQTT 3.1.1 clients too).
	SharePrefix = "$share/"

	// BasicIngestPrefix starts an AWS IoT Basic Ingest topic,
	// $aws/rules/{ruleName}/{topic} (reference §8.6).
	BasicIngestPrefix = "$aws/rules/"
)

// Limits are limits added on top of MQTT's own rules. A zero field means "no
// limit" (MQTT itself caps both at 65535 bytes [MQTT-4.7.3-3], which the
// packet codec enforces). AWSLimits returns AWS IoT's values.
type Limits struct {
	// MaxLength is the maximum length in bytes. Not counted: the Basic
	// Ingest prefix "$aws/rules/{ruleName}/" of a topic name and the
	// "$share/{ShareName}/" prefix of a filter. 0 means no limit; AWS: 256.
	MaxLength int

	// MaxLevels is the maximum number of levels (slashes + 1), with the
	// same prefixes not counted. 0 means no limit; AWS: 8.
	MaxLevels int
}

// AWSLimits returns AWS IoT Core's default limits: 256 bytes, 8 levels.
func AWSLimits() Limits { return Limits{MaxLength: AWSMaxLength, MaxLevels: AWSMaxLevels} }

// Validate rejects negative limits.
func (l Limits) Validate() error {
	if l.MaxLength < 0 {
		return errors.New("topic: limits: MaxLength must be >= 0 bytes (0 = no limit)")
	}
	if l.MaxLevels < 0 {
		return errors.New("topic: limits: MaxLevels must be >= 0 (0 = no limit)")
	}
	return nil
}

// ValidateName checks a topic name as carried in PUBLISH (or a Will topic,
// or an HTTPS publish). Errors are *Error and match ErrInvalidName. It does
// not allocate unless it fails.
//
// The limits skip a Basic Ingest prefix "$aws/rules/{ruleName}/", as AWS IoT
// does (reference §8.6). Whether a client may publish to a "$" topic at all
// is policy, not syntax, and is not checked here.
func ValidateName(topic string, lim Limits) error {
	if topic == "" {
		return nameErr(Empty, -1) // [MQTT-4.7.3-1]
	}
	off := 0
	if rule, _, ok := SplitBasicIngest(topic); ok {
		off = len(BasicIngestPrefix) + len(rule) + 1 // not counted (reference §8.6)
	}
	if lim.MaxLength > 0 && len(topic)-off > lim.MaxLength {
		return nameErr(TooLong, off+lim.MaxLength)
	}
	slashes := 0
	for i := 0; i < len(topic); {
		c := topic[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(topic[i:])
			if r == utf8.RuneError && size == 1 {
				return nameErr(BadUTF8, i) // [MQTT-1.5.4-1]
			}
			i += size
			continue
		}
		switch c {
		case 0:
			return nameErr(NullChar, i) // [MQTT-4.7.3-2]
		case '+', '#':
			return nameErr(WildcardInName, i) // [MQTT-4.7.0-1], [MQTT-3.3.2-2]
		case '/':
			if i >= off {
				slashes++
			}
		}
		i++
	}
	if lim.MaxLevels > 0 && slashes+1 > lim.MaxLevels {
		return nameErr(TooManyLevels, -1)
	}
	return nil
}

// SplitBasicIngest splits an AWS IoT Basic Ingest topic
// "$aws/rules/{ruleName}/{rest}" into the rule name and the rest, which is
// what the rule's topic() function sees (reference §8.6). ok is false when
// topic does not start with "$aws/rules/", a non-empty rule name and "/".
func SplitBasicIngest(topic string) (rule, rest string, ok bool) {
	if !strings.HasPrefix(topic, BasicIngestPrefix) {
		return "", "", false
	}
	rule, rest, ok = strings.Cut(topic[len(BasicIngestPrefix):], "/")
	if !ok || rule == "" {
		return "", "", false
	}
	return rule, rest, true
}

// ValidateFilter checks a topic filter as carried in SUBSCRIBE or
// UNSUBSCRIBE, including a shared subscription filter
// $share/{ShareName}/{filter} (see ParseShared). Errors are *Error and match
// ErrInvalidFilter. It does not allocate unless it fails.
//
// For a shared filter the limits apply to the inner filter only. Unlike
// ValidateName, the Basic Ingest prefix is counted: Basic Ingest topics
// cannot be subscribed to (reference §8.6).
func ValidateFilter(filter string, lim Limits) error {
	if filter == "" {
		return filterErr(Empty, -1) // [MQTT-4.7.3-1]
	}
	_, inner, shared, err := ParseShared(filter)
	if err != nil {
		return err
	}
	base := len(filter) - len(inner)
	if lim.MaxLength > 0 && len(inner) > lim.MaxLength {
		return filterErr(TooLong, base+lim.MaxLength)
	}
	if shared {
		// ParseShared already checked the inner filter; only the
		// level limit is left.
		if lim.MaxLevels > 0 && strings.Count(inner, "/")+1 > lim.MaxLevels {
			return filterErr(TooManyLevels, -1)
		}
		return nil
	}
	return checkFilter(inner, base, lim.MaxLevels)
}

// checkFilter applies the MQTT rules to a non-empty, non-shared filter f
// that starts at byte base of the string the caller was given (for error
// positions), and the level limit maxLevels (0 = none).
func checkFilter(f string, base, maxLevels int) error {
	slashes, levelStart := 0, 0
	for i := 0; i < len(f); {
		c := f[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(f[i:])
			if r == utf8.RuneError && size == 1 {
				return filterErr(BadUTF8, base+i) // [MQTT-1.5.4-1]
			}
			i += size
			continue
		}
		switch c {
		case 0:
			return filterErr(NullChar, base+i) // [MQTT-4.7.3-2]
		case '/':
			slashes++
			levelStart = i + 1
		case '+':
			// [MQTT-4.7.1-2]: '+' occupies an entire level.
			if i != levelStart || (i+1 < len(f) && f[i+1] != '/') {
				return filterErr(PlusNotWholeLevel, base+i)
			}
		case '#':
			// [MQTT-4.7.1-1]: '#' on its own or after '/', and last.
			if i != levelStart {
				return filterErr(HashNotWholeLevel, base+i)
			}
			if i+1 < len(f) {
				if f[i+1] == '/' {
					return filterErr(HashNotLast, base+i)
				}
				return filterErr(HashNotWholeLevel, base+i)
			}
		}
		i++
	}
	if maxLevels > 0 && slashes+1 > maxLevels {
		return filterErr(TooManyLevels, -1)
	}
	return nil
}

// ParseShared splits a shared subscription filter $share/{ShareName}/{filter}
// (MQTT 5 §4.8.2). For any other filter it returns ok false, the filter
// unchanged and a nil error, so callers can always use the returned filter.
// A filter starting with "$share/" that breaks the rules returns an error
// matching ErrInvalidFilter: the ShareName must be non-empty
// [MQTT-4.8.2-1], must not contain '/', '+' or '#', and must be followed by
// '/' and a valid topic filter [MQTT-4.8.2-2]. ParseShared applies no
// Limits; ValidateFilter does.
//
// The returned strings share memory with filter.
func ParseShared(filter string) (group, inner string, ok bool, err error) {
	if !strings.HasPrefix(filter, SharePrefix) {
		return "", filter, false, nil
	}
	rest := filter[len(SharePrefix):]
	name, f, found := strings.Cut(rest, "/")
	for i := 0; i < len(name); {
		c := name[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(name[i:])
			if r == utf8.RuneError && size == 1 {
				return "", "", false, filterErr(BadUTF8, len(SharePrefix)+i)
			}
			i += size
			continue
		}
		switch c {
		case 0:
			return "", "", false, filterErr(NullChar, len(SharePrefix)+i)
		case '+', '#':
			return "", "", false, filterErr(BadShareName, len(SharePrefix)+i) // [MQTT-4.8.2-2]
		}
		i++
	}
	if name == "" {
		return "", "", false, filterErr(BadShareName, len(SharePrefix)) // [MQTT-4.8.2-1]
	}
	if !found || f == "" {
		return "", "", false, filterErr(NoSharedFilter, len(filter)) // [MQTT-4.8.2-2]
	}
	if err := checkFilter(f, len(filter)-len(f), 0); err != nil {
		return "", "", false, err
	}
	return name, f, true, nil
}
