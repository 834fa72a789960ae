// Package action performs the actions of AWS IoT topic rules: one file per
// kind, each behind the one-method Action interface and each built by New
// from its AWS JSON shape, as CreateTopicRule takes it (the botocore model's
// Action, RepublishAction, HttpAction, LambdaAction and KafkaAction).
//
// # Kinds
//
//   - republish ({"republish":{...}}, republish.go): publishes the rule's
//     result through the broker as moat itself, with MQTT 5 headers.
//   - http ({"http":{...}}, http.go): POSTs the result to an HTTP(S)
//     endpoint that the operator allows (Deps.AllowURL).
//   - lambda ({"lambda":{...}}, lambda.go): moat has no AWS Lambda; the
//     functionArn is the URL of an endpoint that takes the result by POST,
//     with the http action's rules.
//   - kafka ({"kafka":{...}}, kafka.go): produces the result to an Apache
//     Kafka topic through producers shared by client properties
//     (KafkaClients).
//
// Every other AWS action kind (dynamoDB, s3, sns, sqs, kinesis, ...) is
// refused by New with an error naming it.
//
// # Lifecycle
//
//  1. The engine calls New for each action of a rule when the rule is
//     created, replaced or loaded. New validates every parameter it can
//     without a message (constant topics and URLs, qos, Kafka client
//     properties, the constant part of templated URLs) and starts nothing:
//     no connection, no goroutine. Its errors are safe to show to the API
//     caller.
//  2. For each message the rule selects, the engine calls Do with a
//     deadline. Do renders the substitution templates against the
//     incoming message (Message.In), makes one attempt, and returns nil,
//     a retryable error, or a *Permanent error. The engine retries
//     retryable errors with backoff, then runs the rule's errorAction,
//     naming the action with Name and Resource.
//  3. A Kafka action connects on its first Do. Actions that hold
//     resources implement io.Closer; KafkaClients.Close closes every
//     producer when the engine stops.
//
// # Substitution templates
//
// A parameter that AWS documents as supporting substitution templates may
// hold ${expression} parts, evaluated against the incoming message (not the
// SELECT result) by Deps.Template. A parameter without "${" is constant and
// is checked once, in New; a templated one is checked after rendering, in
// Do, where a value that cannot be right (an invalid topic, a refused URL)
// is a *Permanent error.
//
// # Security
//
// Rules act as the system: a republish is not checked against any IoT
// policy, as AWS IoT rules are trusted by their creator's role. What moat
// does check: republish refuses Basic Ingest topics ($aws/rules/...) and
// reserved job topics; http and lambda reach only URLs that Deps.AllowURL
// allows, checked when the rule is created and again after rendering, and
// never follow redirects, so an allowed endpoint cannot send moat
// elsewhere.
package action
