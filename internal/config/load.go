package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// Load builds the Config for `moat serve` from its arguments (without the
// subcommand name) and the environment, looked up with lookupEnv (pass
// os.LookupEnv). The layers, lowest first: Default(), the config file
// (--config or MOAT_CONFIG), MOAT_* environment variables, flags. A variable
// that is set but empty counts as set (MOAT_METRICS_ADDR= turns metrics off
// even if the file turned them on).
//
// The result is normalised (Config.Normalize) and validated. On -h or
// --help Load returns an error matching flag.ErrHelp. Every error is about
// how moat was invoked or configured: a flag, a variable, the file, or a
// value that fails Validate.
func Load(args []string, lookupEnv func(string) (string, bool)) (Config, error) {
	fs, values, cfgPath := newFlagSet()
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return Config{}, err
		}
		return Config{}, errors.New(dashes(err.Error()))
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected argument %q: settings are flags, such as --data-dir DIR", fs.Arg(0))
	}

	c := Default()
	sources := map[string]string{} // flag -> where a non-flag, non-default value came from

	path := cfgPath.last()
	if path == "" {
		path, _ = lookupEnv(configEnv)
	}
	if path != "" {
		before := c
		if err := loadFile(path, &c); err != nil {
			return Config{}, err
		}
		c.ConfigFile = path
		for i := range settings {
			s := &settings[i]
			if s.get(&before) != s.get(&c) {
				sources[s.flag] = "config file " + path
			}
		}
	}

	var errs []error
	for i := range settings {
		s := &settings[i]
		v, ok := lookupEnv(s.env())
		if !ok {
			continue
		}
		if err := apply(&c, s, []string{v}); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.env(), err))
		}
		sources[s.flag] = s.env()
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}

	for _, v := range values {
		if len(v.vals) > 0 {
			if err := apply(&c, v.s, v.vals); err != nil {
				return Config{}, fmt.Errorf("--%s: %w", v.s.flag, err) // unreachable: Set checked it
			}
			delete(sources, v.s.flag)
		}
	}

	c.Normalize()
	if err := c.Validate(); err != nil {
		for _, e := range unjoin(err) {
			var fe *FieldError
			if errors.As(e, &fe) {
				fe.source = sources[fe.Flag]
			}
		}
		return Config{}, err
	}
	return c, nil
}

// apply stores the values of one layer for s. A list setting is replaced
// as a whole by the layer's values, each of which may be comma-separated.
func apply(c *Config, s *setting, vals []string) error {
	if !s.list {
		return s.set(c, vals[len(vals)-1])
	}
	s.reset(c) // set, if only to nothing (Validate judges an empty list)
	for _, v := range vals {
		for part := range strings.SplitSeq(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				if err := s.set(c, part); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// flagValue records the raw values a flag was given, in order, after
// checking that each parses.
type flagValue struct {
	s    *setting // nil for --config
	vals []string
}

func (f *flagValue) String() string { return strings.Join(f.vals, ",") }

func (f *flagValue) Set(v string) error {
	if f.s != nil {
		var scratch Config
		if err := f.s.set(&scratch, v); err != nil {
			return err
		}
	}
	f.vals = append(f.vals, v)
	return nil
}

func (f *flagValue) last() string {
	if len(f.vals) == 0 {
		return ""
	}
	return f.vals[len(f.vals)-1]
}

// newFlagSet registers one flag per setting plus --config. It prints
// nothing: Load returns errors and WriteHelp writes the help.
func newFlagSet() (*flag.FlagSet, []*flagValue, *flagValue) {
	fs := flag.NewFlagSet("moat serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	cfg := &flagValue{}
	fs.Var(cfg, configFlag, "config file")
	values := make([]*flagValue, len(settings))
	for i := range settings {
		values[i] = &flagValue{s: &settings[i]}
		fs.Var(values[i], settings[i].flag, settings[i].usage)
	}
	return fs, values, cfg
}

// dashes rewrites the flag package's single-dash flag names in an error
// message to the double-dash form moat documents.
func dashes(msg string) string {
	return strings.NewReplacer(
		"flag provided but not defined: -", "unknown flag --",
		"flag -", "flag --",
		": -", ": --",
	).Replace(msg)
}

// unjoin returns the errors joined in err, or err alone.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// loadFile reads the YAML config file at path onto c.
func loadFile(path string, c *Config) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	if err := decodeFile(data, c); err != nil {
		var errs []error
		for _, e := range unjoin(err) {
			errs = append(errs, fmt.Errorf("config file %s: %w", path, e))
		}
		return errors.Join(errs...)
	}
	return nil
}
