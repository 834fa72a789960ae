package shadow

import (
	"strings"

	"github.com/moat-iot/moat/internal/names"
)

// op is a shadow request.
type op uint8

const (
	opGet op = iota + 1
	opUpdate
	opDelete
)

func (o op) String() string {
	switch o {
	case opGet:
		return "get"
	case opUpdate:
		return "update"
	case opDelete:
		return "delete"
	}
	return "unknown"
}

// Key names one shadow: a thing and a shadow name, "" for the classic
// shadow.
type Key struct {
	Thing string
	Name  string
}

// prefix is the shadow's reserved topic prefix:
// $aws/things/{thing}/shadow[/name/{name}].
func (k Key) prefix() string {
	if k.Name == "" {
		return "$aws/things/" + k.Thing + "/shadow"
	}
	return "$aws/things/" + k.Thing + "/shadow/name/" + k.Name
}

// String names the shadow in messages: the thing for the classic shadow,
// else the shadow name (AWS's "No shadow exists with name: '...'").
func (k Key) String() string {
	if k.Name == "" {
		return k.Thing
	}
	return k.Name
}

// Check validates the thing and shadow names as the iot-data model does.
func (k Key) Check() error {
	if err := names.Thing("thingName", k.Thing); err != nil {
		return err
	}
	if k.Name != "" {
		return names.Shadow("shadowName", k.Name)
	}
	return nil
}

// requestFilters are the request topics the service handles.
var requestFilters = []string{
	"$aws/things/+/shadow/get",
	"$aws/things/+/shadow/update",
	"$aws/things/+/shadow/delete",
	"$aws/things/+/shadow/name/+/get",
	"$aws/things/+/shadow/name/+/update",
	"$aws/things/+/shadow/name/+/delete",
}

// parseTopic splits a request topic into its shadow and operation; ok is
// false for anything else (the filters above already matched, so this
// only fails on names the data plane would refuse).
func parseTopic(t string) (k Key, o op, ok bool) {
	rest, found := strings.CutPrefix(t, "$aws/things/")
	if !found {
		return Key{}, 0, false
	}
	thing, rest, found := strings.Cut(rest, "/shadow/")
	if !found {
		return Key{}, 0, false
	}
	k.Thing = thing
	if named, found := strings.CutPrefix(rest, "name/"); found {
		name, verb, found := strings.Cut(named, "/")
		if !found || name == "" {
			return Key{}, 0, false
		}
		k.Name, rest = name, verb
	}
	switch rest {
	case "get":
		o = opGet
	case "update":
		o = opUpdate
	case "delete":
		o = opDelete
	default:
		return Key{}, 0, false
	}
	if k.Check() != nil {
		return Key{}, 0, false
	}
	return k, o, true
}
