package config

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestDefault_Validate(t *testing.T) {
	// The built-in defaults are a valid config.
	if err := Default().Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
}

// yamlKeys returns the dot-separated yaml keys of the leaf fields of t.
func yamlKeys(t reflect.Type, prefix string) []string {
	var keys []string
	for f := range t.Fields() {
		tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		if f.Type.Kind() == reflect.Struct && f.Type.String() != "time.Duration" {
			keys = append(keys, yamlKeys(f.Type, prefix+tag+".")...)
			continue
		}
		keys = append(keys, prefix+tag)
	}
	return keys
}

func TestSettings_CoverConfig(t *testing.T) {
	// Every config-file key of Config has exactly one setting (flag, env,
	// help) and every setting is a config-file key.
	fileKeys := yamlKeys(reflect.TypeFor[Config](), "")
	var settingKeys []string
	flags := map[string]bool{configFlag: true}
	for _, s := range settings {
		settingKeys = append(settingKeys, s.key)
		if flags[s.flag] {
			t.Fatalf("flag --%s is defined twice", s.flag)
		}
		flags[s.flag] = true
	}
	slices.Sort(fileKeys)
	slices.Sort(settingKeys)
	if !slices.Equal(fileKeys, settingKeys) {
		t.Fatalf("config-file keys %v\nsettings keys   %v", fileKeys, settingKeys)
	}
	// The limitsFile mirror has the same keys as Limits.
	lim := yamlKeys(reflect.TypeFor[Limits](), "")
	mirror := yamlKeys(reflect.TypeFor[limitsFile](), "")
	if !slices.Equal(lim, mirror) {
		t.Fatalf("Limits keys %v, limitsFile keys %v", lim, mirror)
	}
}

func TestSettings_GetSetRoundTrip(t *testing.T) {
	// Each setting's get output, fed back to set, gives the same value, so
	// help shows defaults in a form the flags accept.
	for _, s := range settings {
		t.Run(s.flag, func(t *testing.T) {
			def := Default()
			var c Config
			if err := apply(&c, &s, []string{s.get(&def)}); err != nil {
				t.Fatalf("set(%q): %v", s.get(&def), err)
			}
			if got, want := s.get(&c), s.get(&def); got != want {
				t.Fatalf("round trip: got %q, want %q", got, want)
			}
		})
	}
}

func TestConfig_Normalize(t *testing.T) {
	// Hostnames are trimmed, lower-cased, lose a trailing dot, IPs become
	// canonical, and duplicates go with the first kept in place.
	c := Default()
	c.Hostnames = []string{" IoT.Example.COM. ", "localhost", "iot.example.com", "2001:DB8::0:1", "10.0.0.1", "LOCALHOST"}
	c.Normalize()
	want := []string{"iot.example.com", "localhost", "2001:db8::1", "10.0.0.1"}
	if !slices.Equal(c.Hostnames, want) {
		t.Fatalf("Normalize: got %q, want %q", c.Hostnames, want)
	}
}
