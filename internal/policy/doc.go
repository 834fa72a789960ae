// Package policy is the one place in moat that decides "is this allowed".
// It reads AWS IoT policy documents and IAM policy documents (identity
// policies of users and roles, and roles' trust policies), compiles them,
// and evaluates requests against the policies of a principal, with AWS
// IoT Core's and IAM's semantics (reference §5). It is a pure leaf
// package: no I/O, no server state, standard library only.
//
// # Modes
//
// ParseOptions.Mode says what a document is. ModeIoT (the default) and
// ModeIdentity read the same grammar: statements with a Resource and no
// Principal, since the policy applies to whoever it is attached to.
// Action values may name any service ("iot:Publish", "iam:*",
// "sts:AssumeRole", "iotjobsdata:*", "cognito-identity:*"). ModeTrust
// reads a role's trust policy: every statement names a Principal or
// NotPrincipal ("*", or {"AWS"|"Service"|"Federated"|"CanonicalUser":
// value or list}) and has no Resource; Request.Caller says who asks. An
// AWS principal names a caller by its exact ARN, by its account (the id
// or arn:aws:iam::ACCOUNT:root), or, for an assumed-role session, by the
// role's ARN; wildcards are not allowed inside principals, as in IAM.
// IAM's size quotas differ per kind of document; set ParseOptions.MaxSize
// accordingly.
//
// # Lifecycle
//
//  1. Parse (CreatePolicy / CreatePolicyVersion time). Parse validates a
//     document as AWS does and returns a *Document or a *SyntaxError naming
//     the statement and field at fault; the control plane maps it to
//     MalformedPolicyException. Documents are limited to DefaultMaxSize
//     (2048) characters excluding whitespace; ParseOptions.MaxSize raises
//     that up to APIMaxSize. Unknown elements, duplicate JSON keys, trailing
//     data, nesting deeper than MaxNesting and unknown condition operators
//     are all errors.
//  2. Compile (once per policy version). Compile turns a Document into an
//     immutable *Compiled: wildcard patterns are precompiled, variable
//     names are resolved to keys, typed condition values (numbers, dates,
//     CIDRs) are parsed. Compiled values are safe for concurrent use.
//  3. Evaluate (every CONNECT, PUBLISH, SUBSCRIBE, delivery, API call).
//     Evaluate(policies, req) decides a Request (action, resource ARN, and
//     the caller's Vars) against the union of the principal's policies and
//     returns a Decision saying ALLOWED, EXPLICIT_DENY or IMPLICIT_DENY and
//     which statement decided.
//
// # Decisions
//
// Deny by default: a request is allowed only if some Allow statement
// matches it. Deny wins: a matching Deny in any policy overrides every
// Allow in every policy. A statement matches when its Action (or
// NotAction), its Resource (or NotResource) and all of its Conditions
// match. NotAction matches every action except those listed, NotResource
// every resource except those listed (IAM semantics).
//
// Action names match case-insensitively ("IOT:publish" is iot:Publish);
// resources and condition values match case-sensitively. In Action and
// Resource values '*' matches any sequence of characters, '/' included,
// and '?' exactly one character. MQTT's '+' and '#' are ordinary
// characters: the resource topicfilter/a/+ grants subscribing to the
// filter "a/+", not to "a/b".
//
// # Policy variables
//
// In documents with "Version": "2012-10-17", Resource and Condition values
// may contain variables such as ${iot:ClientId},
// ${iot:Connection.Thing.ThingName},
// ${iot:Connection.Thing.Attributes[room]} or
// ${iot:Certificate.Subject.CommonName}; Vars supplies their values.
// Documents without that Version treat ${...} as plain text, as IAM does.
// ${*}, ${?} and ${$} stand for a literal '*', '?' and '$'. A substituted
// value is literal text too: a client id "a*" is no wildcard.
//
// A statement that uses a variable without a value (no thing attached, no
// certificate, a missing attribute) does not apply at all, whether it is
// an Allow or a Deny (reference §5.1, "Unresolvable variables"). To make
// a rule depend on the presence of a value, use a Null or Bool condition,
// e.g. {"Bool": {"iot:Connection.Thing.IsAttached": "true"}}.
//
// # Conditions
//
// Condition operators are IAM's: String*, Numeric*, Date*, Bool,
// BinaryEquals, IpAddress/NotIpAddress, Arn*, Null, each (except Null)
// with an optional IfExists suffix and ForAnyValue:/ForAllValues: prefix.
// Keys are any "vendor:name": aws:SourceIp and aws:CurrentTime come from
// Vars fields; the caller sets the others it knows with Vars.Set
// (aws:username, aws:userid, aws:PrincipalArn, aws:PrincipalType,
// aws:PrincipalTag/KEY, aws:TokenIssueTime, sts:ExternalId,
// cognito-identity.amazonaws.com:aud, ...).
// Operators and keys within a block are ANDed; the values of one key are
// ORed (for negated operators: none may match). A missing key fails the
// condition, except that IfExists, ForAllValues and negated operators
// succeed and Null tests for it. Keys are case-insensitive.
//
// # Performance
//
// Evaluate allocates nothing for statements without variables, nor for
// variables whose values Vars holds as strings; formatted keys (times,
// iot:Certificate.AvailableKeys) and typed condition values containing
// variables cost an allocation when used. Request.Explain adds the
// resolved variables and skipped statements to the Decision at the cost
// of allocations. Caching decisions per connection is the broker's job.
package policy
