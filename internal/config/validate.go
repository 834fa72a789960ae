package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// FieldError is one problem with one setting. Validate returns them joined
// with errors.Join; use errors.As to pick one out.
type FieldError struct {
	// Flag is the flag name of the setting, without dashes ("account-id").
	Flag string
	// Problem says what is wrong, including the offending value.
	Problem string
	// source says where the value came from when it was not a flag or a
	// default ("MOAT_REGION", "config file moat.yaml"); set by Load.
	source string
}

func (e *FieldError) Error() string {
	if e.source != "" {
		return fmt.Sprintf("--%s (set by %s): %s", e.Flag, e.source, e.Problem)
	}
	return fmt.Sprintf("--%s: %s", e.Flag, e.Problem)
}

// Allowed ranges of the limits (inclusive). Documented on Limits.
const (
	minRequestBody = 64 * KiB
	maxRequestBody = 64 * MiB
	minHeaderBytes = 8 * KiB
	maxHeaderBytes = 1 * MiB
	minTimeout     = time.Second
	maxHeaderWait  = 5 * time.Minute
	maxShutdown    = 10 * time.Minute
	// maxTypeDelete bounds --thing-type-delete-delay.
	maxTypeDelete = 24 * time.Hour
)

var (
	// regionRE is the shape of AWS region names: us-east-1, eu-central-2,
	// us-gov-west-1, us-isob-east-1, cn-northwest-1.
	regionRE  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+){1,3}-[0-9]{1,2}$`)
	accountRE = regexp.MustCompile(`^[0-9]{12}$`)
)

// Validate checks every field and reports all problems at once, each as a
// *FieldError naming its flag, joined with errors.Join. It does not touch
// the file system or the network.
func (c Config) Validate() error {
	var errs []error
	bad := func(flag, format string, args ...any) {
		errs = append(errs, &FieldError{Flag: flag, Problem: fmt.Sprintf(format, args...)})
	}

	switch {
	case c.DataDir == "":
		bad("data-dir", "must not be empty")
	case strings.ContainsRune(c.DataDir, 0):
		bad("data-dir", "must not contain a NUL byte")
	}

	addrs := []struct{ flag, addr string }{
		{"mqtt-addr", c.MQTTAddr},
		{"https-addr", c.HTTPSAddr},
		{"metrics-addr", c.MetricsAddr},
	}
	for i, a := range addrs {
		if a.addr == "" && a.flag == "metrics-addr" {
			continue // off
		}
		if err := checkListenAddr(a.addr); err != nil {
			bad(a.flag, "%v", err)
			continue
		}
		for _, b := range addrs[:i] {
			if b.addr != "" && addrsClash(a.addr, b.addr) {
				bad(a.flag, "%q uses the same port as --%s %q", a.addr, b.flag, b.addr)
			}
		}
	}

	if len(c.Hostnames) == 0 {
		bad("hostname", "at least one hostname is required (the first is the endpoint devices connect to)")
	}
	for _, h := range c.Hostnames {
		if err := checkHostname(h); err != nil {
			bad("hostname", "%v", err)
		}
	}

	if !regionRE.MatchString(c.Region) {
		bad("region", "must be an AWS region name like us-east-1, got %q", c.Region)
	}
	if !accountRE.MatchString(c.AccountID) {
		bad("account-id", "must be 12 digits, got %q", c.AccountID)
	}

	checkEnum := func(flag, v string, allowed ...string) {
		for _, a := range allowed {
			if v == a {
				return
			}
		}
		bad(flag, "must be one of %s, got %q", strings.Join(allowed, ", "), v)
	}
	checkEnum("log-level", c.LogLevel, LogLevelDebug, LogLevelInfo, LogLevelWarn, LogLevelError)
	checkEnum("log-format", c.LogFormat, LogFormatText, LogFormatJSON)
	checkEnum("server-key-type", c.ServerKeyType, KeyTypeECDSA, KeyTypeRSA2048, KeyTypeRSA3072)
	checkEnum("device-key-type", c.DeviceKeyType, KeyTypeECDSA, KeyTypeRSA2048)

	l := c.Limits
	if l.MaxRequestBody < minRequestBody || l.MaxRequestBody > maxRequestBody {
		bad("max-request-body", "must be between %s and %s, got %s",
			FormatSize(minRequestBody), FormatSize(maxRequestBody), FormatSize(l.MaxRequestBody))
	}
	if l.MaxHeaderBytes < minHeaderBytes || l.MaxHeaderBytes > maxHeaderBytes {
		bad("max-header-bytes", "must be between %s and %s, got %s",
			FormatSize(minHeaderBytes), FormatSize(maxHeaderBytes), FormatSize(int64(l.MaxHeaderBytes)))
	}
	if l.ReadHeaderTimeout < minTimeout || l.ReadHeaderTimeout > maxHeaderWait {
		bad("read-header-timeout", "must be between %v and %v, got %v", minTimeout, maxHeaderWait, l.ReadHeaderTimeout)
	}
	if l.ReadTimeout < minTimeout || l.ReadTimeout > time.Hour {
		bad("read-timeout", "must be between %v and %v, got %v", minTimeout, time.Hour, l.ReadTimeout)
	}
	if l.IdleTimeout < minTimeout || l.IdleTimeout > time.Hour {
		bad("idle-timeout", "must be between %v and %v, got %v", minTimeout, time.Hour, l.IdleTimeout)
	}
	if l.ShutdownTimeout < minTimeout || l.ShutdownTimeout > maxShutdown {
		bad("shutdown-timeout", "must be between %v and %v, got %v", minTimeout, maxShutdown, l.ShutdownTimeout)
	}
	c.validateMQTT(bad)
	c.validateDecisionLog(bad)
	c.validateShadow(bad)
	c.validateRules(bad)
	c.validateCRL(bad)
	c.validateServerCert(bad)
	c.validateIdentity(bad)
	c.validateCustomAuth(bad)
	if c.ThingTypeDeleteDelay < 0 || c.ThingTypeDeleteDelay > maxTypeDelete {
		bad("thing-type-delete-delay", "must be between 0s and %v, got %v", maxTypeDelete, c.ThingTypeDeleteDelay)
	}
	return errors.Join(errs...)
}

// checkListenAddr accepts host:port where host is empty, an IP address
// (with an optional IPv6 zone) or a DNS name, and port is a number from 0
// to 65535 (0: any free port).
func checkListenAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("want host:port such as :8883 or 127.0.0.1:8883, got %q", addr)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("port must be a number from 0 to 65535, got %q", addr)
	}
	if host == "" {
		return nil
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return nil
	}
	if err := checkDNSName(host); err != nil {
		return fmt.Errorf("host in %q: %v", addr, err)
	}
	return nil
}

// addrsClash reports whether two valid listen addresses would bind the same
// port: same non-zero port, and the same host or a wildcard on either side.
func addrsClash(a, b string) bool {
	ha, pa, _ := net.SplitHostPort(a)
	hb, pb, _ := net.SplitHostPort(b)
	na, _ := strconv.Atoi(pa)
	nb, _ := strconv.Atoi(pb)
	if na == 0 || na != nb {
		return false
	}
	wild := func(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" }
	return wild(ha) || wild(hb) || normalizeHostname(ha) == normalizeHostname(hb)
}

// checkHostname accepts an IP address without a zone, or a DNS name.
func checkHostname(h string) error {
	if a, err := netip.ParseAddr(h); err == nil {
		if a.Zone() != "" {
			return fmt.Errorf("%q: an IP address in a certificate cannot have a zone", h)
		}
		return nil
	}
	if strings.HasPrefix(h, "*") {
		return fmt.Errorf("%q: wildcards are not supported; list each name", h)
	}
	if err := checkDNSName(h); err != nil {
		return fmt.Errorf("%q: %v", h, err)
	}
	return nil
}

// checkDNSName accepts an RFC 1123 host name, optionally with a trailing
// dot: at most 253 characters, labels of 1 to 63 letters, digits and
// hyphens that neither start nor end with a hyphen, and a last label that
// is not all digits (so that 300.1.1.1 is not taken for a name).
func checkDNSName(h string) error {
	name := strings.TrimSuffix(h, ".")
	if name == "" {
		return errors.New("not a DNS name or IP address (empty)")
	}
	if len(name) > 253 {
		return errors.New("not a DNS name: longer than 253 characters")
	}
	labels := strings.Split(name, ".")
	for _, label := range labels {
		if len(label) == 0 || len(label) > 63 {
			return errors.New("not a DNS name or IP address: each dot-separated label must have 1 to 63 characters")
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return errors.New("not a DNS name or IP address: a label cannot start or end with '-'")
		}
		for i := 0; i < len(label); i++ {
			ch := label[i]
			if !('a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || '0' <= ch && ch <= '9' || ch == '-') {
				return fmt.Errorf("not a DNS name or IP address: character %q not allowed (letters, digits, '-' and '.')", ch)
			}
		}
	}
	last := labels[len(labels)-1]
	if strings.Trim(last, "0123456789") == "" {
		return errors.New("not a DNS name or IP address: the last label is all digits")
	}
	return nil
}
