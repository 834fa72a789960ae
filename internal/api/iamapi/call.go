package iamapi

import (
	"context"
	"errors"
	"net"
	"strings"
	"time"

	"github.com/moat-iot/moat/internal/auth"
	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/awsapi/query"
	"github.com/moat-iot/moat/internal/iam"
	"github.com/moat-iot/moat/internal/policy"
)

// operation is one IAM or STS action.
type operation struct {
	run func(ctx context.Context, c *call) (any, error)
}

// op makes an operation that decodes its input then runs fn.
func op[In any](fn func(ctx context.Context, c *call, in *In) (any, error)) operation {
	return operation{run: func(ctx context.Context, c *call) (any, error) {
		var in In
		if err := c.form.Decode(&in); err != nil {
			return nil, err
		}
		return fn(ctx, c, &in)
	}}
}

// call is an authenticated request whose operation is known.
type call struct {
	api  *API
	req  *request
	form *query.Form
	p    auth.Principal
}

func (c *call) iam() *iam.Service { return c.api.cfg.IAM }

// authorize asks whether the caller may perform action on resource. An
// *awsapi.Error refusal keeps its code and message; any other refusal is
// AccessDenied in AWS's words, its cause logged.
func (c *call) authorize(ctx context.Context, action, resource string) error {
	az := c.api.cfg.Authorize
	var err error
	switch {
	case az != nil:
		err = az(ctx, c.p, action, resource)
	case !c.p.IsAdmin():
		err = errors.New("iamapi: no authorizer configured; only the administrator is allowed")
	}
	if err == nil {
		return nil
	}
	var ae *awsapi.Error
	if errors.As(err, &ae) {
		return err
	}
	return &awsapi.Error{Code: awsapi.Code(query.AccessDenied), Status: query.AccessDenied.Status(), Cause: err,
		Message: "User: " + c.callerARN() + " is not authorized to perform: " + action + " on resource: " + resource}
}

// callerARN names the caller in messages.
func (c *call) callerARN() string {
	switch {
	case c.p.Kind == auth.KindUser:
		return c.iam().UserARN(c.p.UserName)
	case c.p.Kind == auth.KindRole && c.p.Session != nil:
		return c.p.Session.ARN(c.iam().Account())
	}
	return c.p.String()
}

// userName is the UserName member, or the caller's own name when it is
// absent (as IAM does for GetUser and the access key operations).
func (c *call) userName(name *string) (string, error) {
	if name != nil {
		return *name, nil
	}
	if c.p.Kind == auth.KindUser {
		return c.p.UserName, nil
	}
	return "", query.Errorf(query.ValidationError, "Must specify userName when calling with non-User credentials")
}

// vars are the request's own condition keys (aws:SourceIp).
func (c *call) vars() policy.Vars {
	var v policy.Vars
	if host, _, err := net.SplitHostPort(c.req.RemoteAddr); err == nil {
		v.SourceIP = host
	}
	return v
}

// escapeDocument percent-encodes a policy document as IAM returns it
// ("URL-encoded compliant with RFC 3986"): every byte but the unreserved
// characters A-Z a-z 0-9 - _ . ~ becomes %XX, so that both
// url.QueryUnescape and url.PathUnescape (and botocore's unquote) give the
// document back.
func escapeDocument(doc string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(doc) * 2)
	for i := 0; i < len(doc); i++ {
		ch := doc[i]
		if 'A' <= ch && ch <= 'Z' || 'a' <= ch && ch <= 'z' || '0' <= ch && ch <= '9' ||
			ch == '-' || ch == '_' || ch == '.' || ch == '~' {
			b.WriteByte(ch)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[ch>>4])
		b.WriteByte(hex[ch&15])
	}
	return b.String()
}

// page converts the Marker and MaxItems members. An explicit MaxItems of
// 0 is out of range (1 to 1000), not the default.
func page(marker *string, maxItems *int) (iam.Page, error) {
	var p iam.Page
	if marker != nil {
		p.Marker = *marker
		if p.Marker == "" {
			return p, query.Errorf(query.ValidationError, "1 validation error detected: Value '' at 'marker' failed to satisfy constraint: Member must have length greater than or equal to 1")
		}
	}
	if maxItems != nil {
		if *maxItems == 0 {
			return p, query.Errorf(query.ValidationError, "1 validation error detected: Value '0' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000")
		}
		p.MaxItems = *maxItems
	}
	return p, nil
}

// newARN is the ARN of the user or role (typ "user" or "role") that a
// create operation names; an absent or empty Path means "/".
func (c *call) newARN(typ string, path *string, name string) string {
	p := str(path)
	if p == "" {
		p = "/"
	}
	return "arn:aws:iam::" + c.iam().Account() + ":" + typ + p + name
}

// seconds converts a member in seconds (MaxSessionDuration,
// DurationSeconds): absent is 0, the default; an explicit 0 is -1, which
// the service refuses as out of range.
func seconds(n *int) time.Duration {
	if n == nil {
		return 0
	}
	if d := time.Duration(*n) * time.Second; d != 0 {
		return d
	}
	return -1
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// tagIn is a Tag member.
type tagIn struct {
	Key   string `query:"Key,required"`
	Value string `query:"Value,required"`
}

func tags(in []tagIn) []iam.Tag {
	if len(in) == 0 {
		return nil
	}
	out := make([]iam.Tag, len(in))
	for i, t := range in {
		out[i] = iam.Tag{Key: t.Key, Value: t.Value}
	}
	return out
}
