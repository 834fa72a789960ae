// Package fleetquery parses and evaluates a documented subset of the AWS
// IoT fleet-indexing query syntax (query version 2017-09-30), the language
// of dynamic thing groups and SearchIndex.
//
// The model: Parse turns a query string into a Query for one index
// (Things or ThingGroups), checking every field name against the index;
// Query.Match then evaluates it against a Doc, which answers a field's
// values. The stages are separate files: lex.go (tokens), parse.go (the
// tree), eval.go (matching).
//
// The subset:
//
//	field:value          exact match; a value with * (any run) or ? (one
//	                     character) is a wildcard match; field:* means the
//	                     field is present
//	field:"a b"          a quoted value: no wildcards, \" and \\ escapes
//	field>n, >=, <, <=   numeric comparison (values that are not numbers
//	                     never match)
//	field:[a TO b]       inclusive range; numeric when both bounds are
//	                     numbers, else byte-wise; * leaves a bound open
//	a AND b, a OR b      AND binds tighter than OR; both are required (two
//	                     terms side by side are an error, not an implicit
//	                     operator)
//	NOT a                negation
//	( ... )              grouping
//
// Fields of the Things index: thingName, thingId, thingTypeName,
// thingGroupNames (any of the thing's groups), attributes.NAME. Fields of
// the ThingGroups index: thingGroupName, thingGroupId,
// thingGroupDescription, parentGroupNames, attributes.NAME. Matching is
// case-sensitive, as AWS matches registry values. Not supported: shadow.*,
// connectivity.*, deviceDefender.*, aggregations, fuzzy (~) and boost (^)
// operators; they are refused with an error naming the position.
package fleetquery
