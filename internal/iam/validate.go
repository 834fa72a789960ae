package iam

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/moat-iot/moat/internal/policy"
)

// Model constraints (botocore iam 2010-05-08 shapes). A value that breaks
// one is a ValidationError worded as AWS words it.
var (
	namePattern       = regexp.MustCompile(`^[\w+=,.@-]+$`)                    // userNameType, roleNameType, policyNameType
	pathPattern       = regexp.MustCompile(`^(/|/[\x{21}-\x{7E}]+/)$`)         // pathType
	pathPrefixPattern = regexp.MustCompile(`^/[\x{21}-\x{7F}]*$`)              // pathPrefixType
	policyPathPattern = regexp.MustCompile(`^((/[A-Za-z0-9.,+@=_-]+)*)/$`)     // policyPathType
	tagKeyPattern     = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$`)    // tagKeyType
	tagValuePattern   = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)    // tagValueType
	accessKeyPattern  = regexp.MustCompile(`^\w+$`)                            // accessKeyIdType
	versionPattern    = regexp.MustCompile(`^v[1-9][0-9]*(\.[A-Za-z0-9-]*)?$`) // policyVersionIdType
	documentPattern   = regexp.MustCompile(`^[\t\n\r\x{20}-\x{FF}]+$`)         // policyDocumentType
	sessionPattern    = regexp.MustCompile(`^[\w+=,.@-]*$`)                    // roleSessionNameType
)

// Lengths of the model's string shapes.
const (
	maxNewNameLen     = 64 // userNameType, roleNameType (creating)
	maxNameLen        = 128
	maxPathLen        = 512
	maxDescriptionLen = 1000
	maxDocumentLen    = 131072
	maxTags           = 50
	maxMarkerLen      = 320
	maxItems          = 1000
	defaultMaxItems   = 100
)

// constraint is the ValidationError for one member.
func constraint(member, value, rule string) *Error {
	return errorf(ValidationError, "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s", clip(value), member, rule)
}

func missing(member string) *Error {
	return errorf(ValidationError, "1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)
}

func clip(s string) string {
	if len(s) > 128 {
		return strings.ToValidUTF8(s[:128], "") + "..."
	}
	return s
}

// checkString checks a string member's length in characters and pattern.
func checkString(member, v string, min, max int, re *regexp.Regexp) error {
	n := utf8.RuneCountInString(v)
	switch {
	case n < min && n == 0:
		return missing(member)
	case n < min:
		return constraint(member, v, "Member must have length greater than or equal to "+itoa(min))
	case n > max:
		return constraint(member, v, "Member must have length less than or equal to "+itoa(max))
	case re != nil && !re.MatchString(v):
		return constraint(member, v, "Member must satisfy regular expression pattern: "+strings.Trim(re.String(), "^$"))
	}
	return nil
}

// checkName checks a user, role or policy name. max is 64 for names being
// created and 128 for names being looked up (existingUserNameType).
func checkName(member, v string, max int) error {
	return checkString(member, v, 1, max, namePattern)
}

// checkPath checks a user or role path; "" means "/".
func checkPath(v string) (string, error) {
	if v == "" {
		return "/", nil
	}
	return v, checkString("path", v, 1, maxPathLen, pathPattern)
}

// checkPolicyPath checks a managed policy path; "" means "/".
func checkPolicyPath(member, v string) (string, error) {
	if v == "" {
		return "/", nil
	}
	return v, checkString(member, v, 1, maxPathLen, policyPathPattern)
}

// checkListing checks ListUsers' and ListRoles' PathPrefix ("" means
// "/") and page, and returns the prefix and the page size.
func checkListing(prefix string, p Page) (string, int, error) {
	if prefix == "" {
		prefix = "/"
	} else if err := checkString("pathPrefix", prefix, 1, maxPathLen, pathPrefixPattern); err != nil {
		return "", 0, err
	}
	max, err := checkPage(p)
	return prefix, max, err
}

func checkDescription(v string) error {
	if utf8.RuneCountInString(v) > maxDescriptionLen {
		return constraint("description", v, "Member must have length less than or equal to 1000")
	}
	return nil
}

// Tag is a key-value tag of a user, role or policy.
type Tag struct {
	Key, Value string
}

// checkTags applies the tag rules: at most 50, keys 1-128 and values
// 0-256 characters of the model's pattern, no key twice (keys compare
// case-insensitively), none in the reserved "aws:" namespace.
func checkTags(tags []Tag) error {
	if len(tags) > maxTags {
		return constraint("tags", itoa(len(tags))+" tags", "Member must have length less than or equal to 50")
	}
	seen := make(map[string]bool, len(tags))
	for i, t := range tags {
		m := "tags." + itoa(i+1) + ".member"
		if err := checkString(m+".key", t.Key, 1, 128, tagKeyPattern); err != nil {
			return err
		}
		if err := checkString(m+".value", t.Value, 0, 256, tagValuePattern); err != nil {
			return err
		}
		lower := strings.ToLower(t.Key)
		if strings.HasPrefix(lower, "aws:") {
			return errorf(InvalidInput, "Tag keys starting with 'aws:' are reserved for AWS use: %s.", clip(t.Key))
		}
		if seen[lower] {
			return errorf(InvalidInput, "Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		seen[lower] = true
	}
	return nil
}

// Policy size quotas, in characters excluding whitespace (IAM and STS
// quotas).
const (
	MaxUserInlineSize = 2048  // all inline policies of a user together
	MaxRoleInlineSize = 10240 // all inline policies of a role together
	MaxManagedSize    = 6144  // one managed policy version
	MaxTrustSize      = 2048  // a role's trust policy
)

// parseDocument validates a policy document member: the model's length
// and character set (ValidationError), then the grammar of its mode
// (MalformedPolicyDocument). It returns the document's size in characters
// excluding whitespace, which callers check against their quota.
func parseDocument(member, doc string, mode policy.Mode) (*policy.Document, int, error) {
	if err := checkString(member, doc, 1, maxDocumentLen, documentPattern); err != nil {
		return nil, 0, err
	}
	d, err := policy.ParseOptions{MaxSize: maxDocumentLen, Mode: mode}.Parse([]byte(doc))
	if err != nil {
		return nil, 0, errorf(MalformedPolicyDocument, "%s", err.Error())
	}
	return d, nonSpaceLen(doc), nil
}

// nonSpaceLen counts the characters of s that are not whitespace, as IAM
// measures policy sizes.
func nonSpaceLen(s string) int {
	n := 0
	for _, r := range s {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

// checkPage validates Marker and MaxItems; MaxItems 0 means the default
// (100).
func checkPage(p Page) (int, error) {
	if p.Marker != "" {
		if err := checkString("marker", p.Marker, 1, maxMarkerLen, nil); err != nil {
			return 0, err
		}
	}
	switch {
	case p.MaxItems == 0:
		return defaultMaxItems, nil
	case p.MaxItems < 1 || p.MaxItems > maxItems:
		return 0, constraint("maxItems", itoa(p.MaxItems), "Member must have value between 1 and 1000")
	}
	return p.MaxItems, nil
}

func itoa(n int) string { return strconv.Itoa(n) }
