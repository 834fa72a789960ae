package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"time"

	"go.yaml.in/yaml/v3"
)

// decodeFile decodes a YAML config file onto c, strictly: keys not in
// Config are errors, values of the wrong type are errors, and the file holds
// at most one YAML document. Keys absent from the file, or present with an
// empty value, leave c as it was, except hostname, which an empty value
// clears. An empty file changes nothing.
//
// Sizes take plain bytes or units (1MiB, see ParseSize); durations are Go
// duration strings (10s); a bare number is not accepted as a duration.
func decodeFile(data []byte, c *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return yamlError(err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
		return nil
	case err != nil:
		return yamlError(err)
	}
	return fmt.Errorf("line %d: a second YAML document (---); the config file must hold exactly one", next.Line)
}

var unknownFieldRE = regexp.MustCompile(`^line (\d+): field (.*) not found in type config\.(\w+)$`)

// yamlError rewrites the decoder's errors into one error per problem, with
// unknown keys named as the user wrote them ("limits.max-body").
func yamlError(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	var errs []error
	for _, msg := range te.Errors {
		if m := unknownFieldRE.FindStringSubmatch(msg); m != nil {
			key := m[2]
			switch m[3] {
			case "limitsFile":
				key = "limits." + key
			case "mqttFile":
				key = "mqtt." + key
			case "decisionLogFile":
				key = "decision-log." + key
			}
			msg = fmt.Sprintf("line %s: unknown key %q (the keys are listed in 'moat serve --help')", m[1], key)
		}
		errs = append(errs, errors.New(msg))
	}
	return errors.Join(errs...)
}

// limitsFile is the file form of Limits: sizes may carry units.
type limitsFile struct {
	MaxRequestBody    byteSize      `yaml:"max-request-body"`
	ReadHeaderTimeout time.Duration `yaml:"read-header-timeout"`
	ReadTimeout       time.Duration `yaml:"read-timeout"`
	IdleTimeout       time.Duration `yaml:"idle-timeout"`
	MaxHeaderBytes    byteSize      `yaml:"max-header-bytes"`
	ShutdownTimeout   time.Duration `yaml:"shutdown-timeout"`
}

// UnmarshalYAML decodes the limits: mapping of a config file, accepting
// sizes with units ("1MiB"). Keys absent from the mapping keep their value.
// It uses the older callback form of yaml.Unmarshaler so that the strict
// (KnownFields) setting of the enclosing decoder still applies.
func (l *Limits) UnmarshalYAML(unmarshal func(any) error) error {
	f := limitsFile{
		MaxRequestBody:    byteSize(l.MaxRequestBody),
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		ReadTimeout:       l.ReadTimeout,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    byteSize(l.MaxHeaderBytes),
		ShutdownTimeout:   l.ShutdownTimeout,
	}
	if err := unmarshal(&f); err != nil {
		return err
	}
	if int64(int(f.MaxHeaderBytes)) != int64(f.MaxHeaderBytes) {
		return fmt.Errorf("max-header-bytes: %s is too large", FormatSize(int64(f.MaxHeaderBytes)))
	}
	*l = Limits{
		MaxRequestBody:    int64(f.MaxRequestBody),
		ReadHeaderTimeout: f.ReadHeaderTimeout,
		ReadTimeout:       f.ReadTimeout,
		IdleTimeout:       f.IdleTimeout,
		MaxHeaderBytes:    int(f.MaxHeaderBytes),
		ShutdownTimeout:   f.ShutdownTimeout,
	}
	return nil
}

// byteSize is a size in a config file: an integer or a string with a unit.
type byteSize int64

// UnmarshalYAML implements yaml.Unmarshaler.
func (b *byteSize) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: want a size such as 1048576 or 1MiB", n.Line)}}
	}
	v, err := ParseSize(n.Value)
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", n.Line, err)}}
	}
	*b = byteSize(v)
	return nil
}
