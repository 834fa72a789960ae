package config

import (
	"fmt"
	"io"
	"strings"
)

// PrecedenceRule is the one-line statement of how the layers combine; the
// help text and the package doc say the same.
const PrecedenceRule = "Precedence: flags > environment (MOAT_*) > config file > defaults."

// MQTTPrecedenceRule is how the --limits profile and the single --mqtt-*
// settings combine.
const MQTTPrecedenceRule = "MQTT limits: --limits picks every limit's value; a --mqtt-* setting given at any layer (flag, environment or file) replaces the profile's value for that limit."

// strictDefault is " aws-strict: V;" for a setting whose aws-strict value
// differs from its default, else "".
func strictDefault(s *setting) string {
	if !s.profiled {
		return ""
	}
	def, strict := Default(), Default()
	strict.MQTT.Limits = LimitsAWSStrict
	if v := s.get(&strict); v != s.get(&def) {
		return " aws-strict: " + quoteDefault(s, v) + ";"
	}
	return ""
}

// WriteHelp writes the help for the settings of `moat serve`: every flag
// with its argument, meaning, default and environment variable, then the
// precedence rule, the environment naming rule and the config-file format
// with an example. The caller writes the usage line above it.
func WriteHelp(w io.Writer) error {
	var b strings.Builder
	def := Default()

	b.WriteString("Flags (each shows its default and its environment variable):\n\n")
	b.WriteString("  --config PATH\n")
	wrap(&b, "YAML config file to read (format below). (default: none; env MOAT_CONFIG)")
	for _, g := range groups {
		fmt.Fprintf(&b, "\n %s:\n", g)
		for i := range settings {
			s := &settings[i]
			if s.group != g {
				continue
			}
			fmt.Fprintf(&b, "  --%s %s\n", s.flag, s.arg)
			wrap(&b, fmt.Sprintf("%s (default: %s;%s env %s)", s.usage, quoteDefault(s, s.get(&def)), strictDefault(s), s.env()))
		}
	}

	b.WriteString(`
` + PrecedenceRule + `
A flag beats the same setting in the environment, which beats the config file,
which beats the default. --hostname may be repeated (or take a comma-separated
list); when given on the command line it replaces the whole list from the
environment or the file.
` + wrapText("", MQTTPrecedenceRule) + `For example --limits aws-strict with MOAT_MQTT_MAX_QOS=2 refuses what AWS
refuses except QoS 2.

Environment variables: MOAT_ followed by the setting's config-file key in
upper case, with dashes and dots turned into underscores:
  data-dir                  MOAT_DATA_DIR
  limits.max-request-body   MOAT_LIMITS_MAX_REQUEST_BODY
  mqtt.limits               MOAT_MQTT_LIMITS (the --limits profile)
  mqtt.max-packet-size      MOAT_MQTT_MAX_PACKET_SIZE
  hostname                  MOAT_HOSTNAME (comma-separated list)
A variable that is set but empty counts as set. MOAT_CONFIG names the config
file when --config is not given.

Config file: YAML, a single document. The keys are the flag names; the HTTPS
limits go under "limits:"; the MQTT settings go under "mqtt:" without their
"mqtt-" prefix, and the --limits profile is "mqtt: {limits: ...}". Unknown
keys, values of the wrong type and a second YAML document are errors. Sizes
are bytes or take a unit (512KiB, 1MiB); durations are Go durations (10s,
1m30s). A relative data-dir is relative to the working directory, not to the
file. Example:

  data-dir: /var/lib/moat
  hostname: [iot.example.com, 192.0.2.10]
  region: eu-west-1
  account-id: "123456789012"
  log-format: json
  limits:
    max-request-body: 1MiB
    shutdown-timeout: 30s
  mqtt:
    limits: aws-strict
    max-subscriptions: 100
`)
	_, err := io.WriteString(w, b.String())
	return err
}

// wrap writes text indented by six spaces, broken at about 78 columns.
func wrap(b *strings.Builder, text string) { b.WriteString(wrapText("      ", text)) }

// wrapText returns text indented by indent, broken at about 78 columns,
// with a final newline.
func wrapText(indent, text string) string {
	const width = 78
	var b strings.Builder
	line := indent
	for _, word := range strings.Fields(text) {
		if len(line) > len(indent) && len(line)+1+len(word) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if len(line) > len(indent) {
			line += " "
		}
		line += word
	}
	b.WriteString(line + "\n")
	return b.String()
}
