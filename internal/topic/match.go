package topic

import "strings"

// Options control how filters match topic names. The zero value is AWS IoT's
// behaviour; DefaultOptions is the MQTT specification's.
type Options struct {
	// ParentMatch makes "a/#" match "a" as well as everything below it, as
	// MQTT requires ("sport/tennis/player1/#" matches
	// "sport/tennis/player1", MQTT 5 §4.7.1.2). AWS IoT does not: there
	// "sensor/#" does not match "sensor" (reference §10.1). Set false for
	// AWS's behaviour (the broker's strict AWS profile).
	ParentMatch bool
}

// DefaultOptions returns the MQTT specification's behaviour: ParentMatch true.
func DefaultOptions() *Options { return &Options{ParentMatch: true} }

// AWSOptions returns AWS IoT Core's behaviour: ParentMatch false.
func AWSOptions() *Options { return &Options{ParentMatch: false} }

// Match reports whether the topic filter matches the topic name under the
// MQTT specification's rules (ParentMatch true). See Options.Match.
func Match(filter, topic string) bool { return match(filter, topic, true) }

// Match reports whether the topic filter matches the topic name. A nil o
// means DefaultOptions. It never allocates.
//
// Both arguments are expected to be valid (ValidateFilter, ValidateName);
// other input gives an unspecified answer but never panics. A shared filter
// must be passed without its "$share/{ShareName}/" prefix (see ParseShared);
// otherwise "$share" is compared as a literal level.
//
// Rules: levels are compared byte for byte with no normalisation
// [MQTT-4.7.3-4]; empty levels are levels ("a//b" has three); '+' matches
// exactly one level, possibly empty; '#' matches any number of remaining
// levels, including the parent level when ParentMatch is set; a filter
// starting with '+' or '#' matches no topic name starting with '$'
// [MQTT-4.7.2-1].
func (o *Options) Match(filter, topic string) bool {
	return match(filter, topic, o == nil || o.ParentMatch)
}

func match(filter, topic string, parent bool) bool {
	if topic != "" && topic[0] == '$' && filter != "" && (filter[0] == '+' || filter[0] == '#') {
		return false // [MQTT-4.7.2-1]
	}
	for {
		// filter and topic both start at the beginning of a level.
		fl, frest, fmore := strings.Cut(filter, "/")
		if fl == "#" {
			return true // this level and all below [MQTT-4.7.1-1]
		}
		tl, trest, tmore := strings.Cut(topic, "/")
		if fl != "+" && fl != tl {
			return false
		}
		switch {
		case !tmore && !fmore:
			return true
		case !tmore:
			// The topic ended; only a final "#" can still match, and
			// only its parent level.
			return parent && frest == "#"
		case !fmore:
			return false
		}
		filter, topic = frest, trest
	}
}
