// Package arn parses and formats Amazon Resource Names as moat uses them:
// arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE, with IoT resources such as
// thing/NAME, cert/ID, policy/NAME, client/ID and topic/NAME.
package arn

import (
	"errors"
	"strings"
)

// ARN is a parsed Amazon Resource Name.
type ARN struct {
	Partition string // "aws"
	Service   string // "iot", "iam", ...
	Region    string
	Account   string
	Resource  string // everything after the fifth colon, e.g. "thing/lamp-1"
}

// ErrMalformed is returned by Parse for anything that is not an ARN.
var ErrMalformed = errors.New("arn: malformed")

// Parse splits s into its parts. The resource may itself contain colons.
func Parse(s string) (ARN, error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] == "" || parts[5] == "" {
		return ARN{}, ErrMalformed
	}
	return ARN{Partition: parts[1], Service: parts[2], Region: parts[3], Account: parts[4], Resource: parts[5]}, nil
}

// String formats a.
func (a ARN) String() string {
	return "arn:" + a.Partition + ":" + a.Service + ":" + a.Region + ":" + a.Account + ":" + a.Resource
}

// Type is the resource type: the part of Resource before the first '/'
// ("thing" for "thing/lamp-1"); "" when there is no '/'.
func (a ARN) Type() string {
	t, _, ok := strings.Cut(a.Resource, "/")
	if !ok {
		return ""
	}
	return t
}

// Name is the part of Resource after the first '/'.
func (a ARN) Name() string {
	_, n, _ := strings.Cut(a.Resource, "/")
	return n
}

// Builder makes IoT ARNs for one region and account.
type Builder struct {
	Region  string
	Account string
}

// IoT returns arn:aws:iot:REGION:ACCOUNT:TYPE/NAME.
func (b Builder) IoT(typ, name string) string {
	return "arn:aws:iot:" + b.Region + ":" + b.Account + ":" + typ + "/" + name
}

// Thing, Cert, Policy, ThingType, ThingGroup, Client, Topic and TopicFilter
// are the common IoT ARNs.
func (b Builder) Thing(name string) string      { return b.IoT("thing", name) }
func (b Builder) Cert(id string) string         { return b.IoT("cert", id) }
func (b Builder) Policy(name string) string     { return b.IoT("policy", name) }
func (b Builder) ThingType(name string) string  { return b.IoT("thingtype", name) }
func (b Builder) ThingGroup(name string) string { return b.IoT("thinggroup", name) }
func (b Builder) Client(id string) string       { return b.IoT("client", id) }
func (b Builder) Topic(name string) string      { return b.IoT("topic", name) }
func (b Builder) TopicFilter(f string) string   { return b.IoT("topicfilter", f) }
func (b Builder) CACert(id string) string       { return b.IoT("cacert", id) }

// Own reports whether s is an IoT ARN of this region and account with the
// given resource type, and returns the resource name.
func (b Builder) Own(s, typ string) (string, bool) {
	a, err := Parse(s)
	if err != nil || a.Service != "iot" || a.Region != b.Region || a.Account != b.Account || a.Type() != typ {
		return "", false
	}
	return a.Name(), true
}
