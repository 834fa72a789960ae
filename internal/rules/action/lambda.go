package action

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// lambdaDef is the LambdaAction shape.
type lambdaDef struct {
	FunctionARN *string `json:"functionArn"`
}

// newLambda builds the lambda action. moat has no AWS Lambda: the
// functionArn must be the http:// or https:// URL of an endpoint that
// takes the rule's result by POST (an AWS Lambda function URL, or any
// web service), with the http action's rules: the operator's allow list
// decides the destinations, 2xx is success, 429 and 5xx are retried. An
// arn:aws:lambda:... ARN is refused with an error that says so. The URL
// may contain substitution templates after its host, which New checks
// against the allow list.
//
// AWS invokes the function asynchronously, so its result is not used;
// moat waits for the response status only.
func newLambda(def json.RawMessage, deps *Deps) (Action, error) {
	var d lambdaDef
	if err := decode(kindLambda, def, &d); err != nil {
		return nil, err
	}
	if d.FunctionARN == nil || *d.FunctionARN == "" {
		return nil, errors.New("lambda: functionArn is required")
	}
	fn := *d.FunctionARN
	if strings.HasPrefix(fn, "arn:") {
		return nil, fmt.Errorf("lambda: functionArn %q is an ARN, but moat has no AWS Lambda: "+
			"give the https:// URL of an endpoint that takes the rule's result by POST", fn)
	}
	p, err := newPoster(kindLambda, NameLambda, "functionArn", fn, deps)
	if err != nil {
		return nil, err
	}
	if !p.url.constant() && !hasHost(p.url.prefix()) {
		return nil, errors.New("lambda: functionArn: the scheme and host of the URL cannot contain substitution templates")
	}
	return p, nil
}
