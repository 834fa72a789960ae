package topic

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateName(t *testing.T) {
	aws := AWSLimits()
	long := strings.Repeat("a", 256)
	tests := []struct {
		name  string
		topic string
		lim   Limits
		want  Kind // 0: valid
	}{
		// The plain case.
		{"simple", "sensor/temp", aws, 0},
		// One level, one byte.
		{"single char", "a", aws, 0},
		// A lone separator is two empty levels and valid.
		{"slash only", "/", aws, 0},
		// Empty levels are levels, not errors.
		{"empty levels", "a//b", aws, 0},
		// A leading separator makes an empty first level.
		{"leading slash", "/a", aws, 0},
		// A trailing separator makes an empty last level.
		{"trailing slash", "a/", aws, 0},
		// Spaces are ordinary characters.
		{"space", "a b/ c", aws, 0},
		// '$' topics are valid names; who may publish is policy.
		{"dollar SYS", "$SYS/broker/load", aws, 0},
		// Multi-byte UTF-8 is fine and counted in bytes.
		{"utf8", "capteur/température/°C", aws, 0},
		// [MQTT-4.7.3-1] Names are at least one character.
		{"empty", "", aws, Empty},
		// [MQTT-4.7.3-2] No U+0000.
		{"null", "a/\x00", aws, NullChar},
		// [MQTT-1.5.4-1] Ill-formed UTF-8.
		{"bad utf8", "a/\xff", aws, BadUTF8},
		// [MQTT-1.5.4-1] An encoded UTF-16 surrogate is ill-formed.
		{"surrogate", "a/\xed\xa0\x80", aws, BadUTF8},
		// [MQTT-4.7.0-1] '+' is a wildcard, not allowed in a name.
		{"plus", "a/+", aws, WildcardInName},
		// [MQTT-4.7.0-1] '#' likewise.
		{"hash", "a/#", aws, WildcardInName},
		// [MQTT-4.7.0-1] Even inside a level.
		{"plus inside level", "a+b", aws, WildcardInName},
		// AWS: exactly 256 bytes is allowed.
		{"256 bytes", long, aws, 0},
		// AWS: 257 bytes is too long.
		{"257 bytes", long + "a", aws, TooLong},
		// Length is bytes, not runes: 128 two-byte runes fit, 129 do not.
		{"utf8 bytes counted", strings.Repeat("é", 129), aws, TooLong},
		// AWS: 8 levels (7 slashes) are allowed.
		{"8 levels", "1/2/3/4/5/6/7/8", aws, 0},
		// AWS: 9 levels are too many.
		{"9 levels", "1/2/3/4/5/6/7/8/9", aws, TooManyLevels},
		// Empty levels count as levels.
		{"9 empty levels", "////////", aws, TooManyLevels},
		// Basic Ingest prefix is not counted toward levels (reference §8.6).
		{"ingest 8 levels", "$aws/rules/r/1/2/3/4/5/6/7/8", aws, 0},
		// ... but the rest is still limited.
		{"ingest 9 levels", "$aws/rules/r/1/2/3/4/5/6/7/8/9", aws, TooManyLevels},
		// Basic Ingest prefix is not counted toward length.
		{"ingest 256 bytes", "$aws/rules/rule_1/" + long, aws, 0},
		// ... but the rest is.
		{"ingest 257 bytes", "$aws/rules/rule_1/" + long + "a", aws, TooLong},
		// Without a rule name there is no Basic Ingest prefix.
		{"ingest no rule", "$aws/rules//1/2/3/4/5/6", aws, TooManyLevels},
		// Zero limits mean no limit.
		{"no limits", strings.Repeat("a/", 5000), Limits{}, 0},
		// Zero MaxLevels alone means no level limit.
		{"length only", "1/2/3/4/5/6/7/8/9", Limits{MaxLength: 256}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkKind(t, ValidateName(tt.topic, tt.lim), tt.want, ErrInvalidName)
		})
	}
}

func TestValidateFilter(t *testing.T) {
	aws := AWSLimits()
	long := strings.Repeat("a", 256)
	tests := []struct {
		name   string
		filter string
		lim    Limits
		want   Kind
	}{
		// A literal filter.
		{"literal", "sensor/temp", aws, 0},
		// '#' alone matches everything.
		{"hash alone", "#", aws, 0},
		// '+' alone matches one level.
		{"plus alone", "+", aws, 0},
		// '#' after a separator.
		{"hash last", "sport/tennis/#", aws, 0},
		// '+' first, middle and last.
		{"plus everywhere", "+/tennis/+/x/+", aws, 0},
		// '+' and '#' together.
		{"plus then hash", "+/#", aws, 0},
		// '+' on an empty level neighbourhood.
		{"plus between empties", "/+/", aws, 0},
		// Empty levels are allowed in filters.
		{"empty levels", "a//b", aws, 0},
		// '$' filters are valid syntax.
		{"dollar", "$SYS/#", aws, 0},
		// Shared subscription.
		{"shared", "$share/g/sensor/+", aws, 0},
		// [MQTT-4.7.3-1]
		{"empty", "", aws, Empty},
		// [MQTT-4.7.3-2]
		{"null", "a/\x00/b", aws, NullChar},
		// [MQTT-1.5.4-1]
		{"bad utf8", "a/\xc3", aws, BadUTF8},
		// [MQTT-4.7.1-1] '#' not last.
		{"hash not last", "a/#/b", aws, HashNotLast},
		// [MQTT-4.7.1-1] '#' followed by an empty level.
		{"hash then slash", "#/", aws, HashNotLast},
		// [MQTT-4.7.1-1] '#' glued to a preceding text.
		{"hash after text", "sport/tennis#", aws, HashNotWholeLevel},
		// [MQTT-4.7.1-1] '#' glued to following text.
		{"hash before text", "#a", aws, HashNotWholeLevel},
		// [MQTT-4.7.1-1] Two hashes.
		{"double hash", "a/##", aws, HashNotWholeLevel},
		// [MQTT-4.7.1-2] '+' glued to following text.
		{"plus before text", "sport+", aws, PlusNotWholeLevel},
		// [MQTT-4.7.1-2] '+' glued to preceding text.
		{"plus after text", "a/b+", aws, PlusNotWholeLevel},
		// [MQTT-4.7.1-2] '++' is not a level of '+'.
		{"double plus", "++", aws, PlusNotWholeLevel},
		// [MQTT-4.7.1-2] '+#' in one level.
		{"plus hash", "a/+#", aws, PlusNotWholeLevel},
		// AWS length, wildcards count as bytes.
		{"257 bytes", long + "/#", aws, TooLong},
		// AWS levels: 8 allowed.
		{"8 levels", "+/2/3/4/5/6/7/#", aws, 0},
		// AWS levels: 9 rejected.
		{"9 levels", "+/2/3/4/5/6/7/8/#", aws, TooManyLevels},
		// Shared: the $share/g/ prefix is not counted toward levels.
		{"shared 8 levels", "$share/g/1/2/3/4/5/6/7/8", aws, 0},
		// Shared: the inner filter is limited.
		{"shared 9 levels", "$share/g/1/2/3/4/5/6/7/8/9", aws, TooManyLevels},
		// Shared: the prefix is not counted toward length.
		{"shared 256 bytes", "$share/group/" + long, aws, 0},
		// Shared: the inner filter is.
		{"shared 257 bytes", "$share/group/" + long + "b", aws, TooLong},
		// Shared: the inner filter follows the rules.
		{"shared bad inner", "$share/g/a#", aws, HashNotWholeLevel},
		// [MQTT-4.8.2-1] Empty ShareName.
		{"shared empty name", "$share//a", aws, BadShareName},
		// [MQTT-4.8.2-2] '+' in ShareName.
		{"shared plus name", "$share/+/a", aws, BadShareName},
		// [MQTT-4.8.2-2] No filter after the ShareName.
		{"shared no filter", "$share/g", aws, NoSharedFilter},
		// [MQTT-4.8.2-2] Empty filter after the ShareName.
		{"shared empty filter", "$share/g/", aws, NoSharedFilter},
		// Basic Ingest prefix is counted in filters.
		{"ingest counted", "$aws/rules/r/1/2/3/4/5/6", aws, TooManyLevels},
		// "$share" without a slash is an ordinary filter.
		{"not shared", "$share", aws, 0},
		// Zero limits mean no limit.
		{"no limits", strings.Repeat("+/", 5000) + "#", Limits{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkKind(t, ValidateFilter(tt.filter, tt.lim), tt.want, ErrInvalidFilter)
		})
	}
}

func TestParseShared(t *testing.T) {
	tests := []struct {
		name     string
		filter   string
		group    string
		inner    string
		ok       bool
		wantKind Kind
	}{
		// A plain filter is returned unchanged, not shared.
		{"not shared", "a/b", "", "a/b", false, 0},
		// A shared filter is split.
		{"shared", "$share/g1/a/+", "g1", "a/+", true, 0},
		// The inner filter may be '#'.
		{"shared hash", "$share/g/#", "g", "#", true, 0},
		// The inner filter may itself start with '$'.
		{"shared dollar", "$share/g/$SYS/x", "g", "$SYS/x", true, 0},
		// The inner filter may start with an empty level.
		{"shared empty first level", "$share/g//a", "g", "/a", true, 0},
		// Case matters: $SHARE is not a shared prefix.
		{"case", "$SHARE/g/a", "", "$SHARE/g/a", false, 0},
		// [MQTT-4.8.2-1] ShareName at least one character.
		{"empty name", "$share//a", "", "", false, BadShareName},
		// [MQTT-4.8.2-1] Nothing at all after the prefix.
		{"prefix only", "$share/", "", "", false, BadShareName},
		// [MQTT-4.8.2-2] '#' in ShareName.
		{"hash name", "$share/a#/b", "", "", false, BadShareName},
		// [MQTT-4.8.2-2] '+' in ShareName without a filter.
		{"plus name no filter", "$share/+", "", "", false, BadShareName},
		// [MQTT-4.8.2-2] ShareName must be followed by '/'.
		{"no slash", "$share/g", "", "", false, NoSharedFilter},
		// [MQTT-4.8.2-2] ... and a filter.
		{"no filter", "$share/g/", "", "", false, NoSharedFilter},
		// The inner filter is validated.
		{"bad inner", "$share/g/a/#/b", "", "", false, HashNotLast},
		// U+0000 in ShareName.
		{"null name", "$share/g\x00/a", "", "", false, NullChar},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			group, inner, ok, err := ParseShared(tt.filter)
			checkKind(t, err, tt.wantKind, ErrInvalidFilter)
			if group != tt.group || inner != tt.inner || ok != tt.ok {
				t.Fatalf("ParseShared(%q) = %q, %q, %v; want %q, %q, %v", tt.filter, group, inner, ok, tt.group, tt.inner, tt.ok)
			}
		})
	}
}

func TestSplitBasicIngest(t *testing.T) {
	tests := []struct {
		name, topic, rule, rest string
		ok                      bool
	}{
		// The rule and the topic() part.
		{"ingest", "$aws/rules/r1/a/b", "r1", "a/b", true},
		// An empty rest is still Basic Ingest.
		{"empty rest", "$aws/rules/r1/", "r1", "", true},
		// No slash after the rule name: not Basic Ingest.
		{"no slash", "$aws/rules/r1", "", "", false},
		// Empty rule name.
		{"no rule", "$aws/rules//a", "", "", false},
		// Another topic.
		{"other", "$aws/things/x/shadow/update", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rule, rest, ok := SplitBasicIngest(tt.topic)
			if rule != tt.rule || rest != tt.rest || ok != tt.ok {
				t.Fatalf("SplitBasicIngest(%q) = %q, %q, %v", tt.topic, rule, rest, ok)
			}
		})
	}
}

func TestLimits_Validate(t *testing.T) {
	tests := []struct {
		name string
		lim  Limits
		ok   bool
	}{
		// Zero is "no limit".
		{"zero", Limits{}, true},
		// AWS defaults.
		{"aws", AWSLimits(), true},
		// Negative length.
		{"negative length", Limits{MaxLength: -1}, false},
		// Negative levels.
		{"negative levels", Limits{MaxLevels: -1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.lim.Validate(); (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

func TestError(t *testing.T) {
	err := ValidateFilter("a/b#", Limits{})
	// The parent sentinel for the reason code.
	if !errors.Is(err, ErrInvalidFilter) || errors.Is(err, ErrInvalidName) {
		t.Fatalf("errors.Is parent wrong for %v", err)
	}
	// The Kind as a sentinel.
	if !errors.Is(err, HashNotWholeLevel) {
		t.Fatalf("errors.Is(%v, HashNotWholeLevel) = false", err)
	}
	// The message names the rule and the byte.
	if got, want := err.Error(), "topic: invalid topic filter: '#' must occupy a whole level (byte 3)"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
	// A name error matches only ErrInvalidName.
	if err := ValidateName("", Limits{}); !errors.Is(err, ErrInvalidName) || errors.Is(err, ErrInvalidFilter) {
		t.Fatalf("name error %v", err)
	}
	// Unknown kinds still print.
	if got := Kind(200).String(); got != "kind(200)" {
		t.Fatalf("Kind(200).String() = %q", got)
	}
}

func TestValidate_NoAllocs(t *testing.T) {
	lim := AWSLimits()
	n := testing.AllocsPerRun(100, func() {
		_ = ValidateName("$aws/things/thing-1/shadow/update", lim)
		_ = ValidateFilter("$share/g/$aws/things/+/shadow/#", lim)
	})
	// Validating a good topic allocates nothing.
	if n != 0 {
		t.Fatalf("allocs = %v, want 0", n)
	}
}

// checkKind fails t unless err is nil for want 0, or an *Error of kind want
// that matches parent.
func checkKind(t *testing.T, err error, want Kind, parent error) {
	t.Helper()
	if want == 0 {
		if err != nil {
			t.Fatalf("unexpected error %v", err)
		}
		return
	}
	var e *Error
	if !errors.As(err, &e) || e.Kind != want || !errors.Is(err, parent) {
		t.Fatalf("error = %v, want kind %q matching %v", err, want, parent)
	}
}
