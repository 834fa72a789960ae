package policy

import (
	"strconv"
	"strings"
	"time"
)

// Vars is what a request knows about its caller: the values of policy
// variables (${...} in Resource and Condition values) and condition keys.
// The server fills it once per connection (or per API call) and shares it
// across requests; Evaluate only reads it, so it may be used from several
// goroutines at once as long as nobody writes to it.
//
// An empty field means "no value": a variable naming it is unresolved and
// a condition on it sees an absent key.
type Vars struct {
	// ClientID is the MQTT client id (iot:ClientId).
	ClientID string
	// Thing is the thing attached to the authenticating principal whose
	// name is the client id (reference §5.3), or nil. The server decides
	// whether it applies; nil makes iot:Connection.Thing.* unresolved and
	// iot:Connection.Thing.IsAttached "false".
	Thing *Thing
	// Cert is the client certificate of an mTLS connection, or nil.
	Cert *Cert
	// SourceIP is the client address without port, e.g. "192.0.2.7"
	// (aws:SourceIp).
	SourceIP string
	// DomainName is the server name the client connected to
	// (iot:DomainName).
	DomainName string
	// Topic is the topic or topic filter of the request (iot:Topic).
	Topic string
	// Now is the request time (aws:CurrentTime, aws:EpochTime); zero means
	// time.Now() at evaluation.
	Now time.Time
	// Extra holds any other key, e.g. "iot:ConnectAttributes" or
	// "cognito-identity.amazonaws.com:sub", by lower-cased name. Use Set.
	Extra map[string][]string
}

// Set stores values for a condition key not covered by a Vars field. Keys
// are case-insensitive.
func (v *Vars) Set(key string, values ...string) {
	if v.Extra == nil {
		v.Extra = make(map[string][]string)
	}
	v.Extra[strings.ToLower(key)] = values
}

// Thing is the thing a connection is associated with.
type Thing struct {
	Name       string            // iot:Connection.Thing.ThingName
	TypeName   string            // iot:Connection.Thing.ThingTypeName; "" if none
	Attributes map[string]string // iot:Connection.Thing.Attributes[name]
}

// Cert is what policy variables can see of an X.509 client certificate
// (reference §5.3). CertFromX509 builds one.
type Cert struct {
	ID              string   // iot:CertificateId
	SerialNumber    string   // iot:Certificate.SerialNumber
	Subject, Issuer DN       // iot:Certificate.Subject.* / Issuer.*
	SubjectAltNames AltNames // iot:Certificate.Subject.AlternativeName.*
	IssuerAltNames  AltNames // iot:Certificate.Issuer.AlternativeName.*
	// NotBefore and NotAfter are iot:Certificate.Validity.NotBefore and
	// .NotAfter, rendered as RFC 3339 in UTC; zero means absent.
	NotBefore, NotAfter time.Time
}

// DN holds the distinguished-name attributes AWS IoT exposes, each with
// all its values in certificate order. The plain variable yields the
// first value; the ".List" variable yields all of them.
type DN struct {
	CommonName, SerialNumber, Country, Organization, OrganizationalUnit []string
	State, Title, Surname, GivenName, Initials, Pseudonym               []string
	GenerationQualifier, DistinguishedNameQualifier                     []string
}

// dnAttrs lists the DN attribute names in key syntax, in fieldPtr order.
var dnAttrs = []string{"CommonName", "SerialNumber", "Country", "Organization",
	"OrganizationalUnit", "State", "Title", "Surname", "GivenName", "Initials",
	"Pseudonym", "GenerationQualifier", "DistinguishedNameQualifier"}

func (d *DN) field(i int) []string { return *d.fieldPtr(i) }

func (d *DN) fieldPtr(i int) *[]string {
	return [...]*[]string{&d.CommonName, &d.SerialNumber, &d.Country, &d.Organization,
		&d.OrganizationalUnit, &d.State, &d.Title, &d.Surname, &d.GivenName, &d.Initials,
		&d.Pseudonym, &d.GenerationQualifier, &d.DistinguishedNameQualifier}[i]
}

// AltNames holds subject or issuer alternative names by type.
type AltNames struct {
	RFC822Name, DNSName, DirectoryName, UniformResourceIdentifier, IPAddress []string
}

var altAttrs = []string{"RFC822Name", "DNSName", "DirectoryName", "UniformResourceIdentifier", "IPAddress"}

func (a *AltNames) field(i int) []string { return *a.fieldPtr(i) }

func (a *AltNames) fieldPtr(i int) *[]string {
	return [...]*[]string{&a.RFC822Name, &a.DNSName, &a.DirectoryName, &a.UniformResourceIdentifier, &a.IPAddress}[i]
}

// keyKind identifies a variable or condition key after compilation, so
// that evaluation looks values up without comparing names.
type keyKind uint8

const (
	kExtra keyKind = iota // anything else: Vars.Extra[lower-cased name]
	kClientID
	kThingName
	kThingType
	kThingAttr
	kIsAttached
	kDN      // attr indexes dnAttrs
	kAltName // attr indexes altAttrs
	kSerial
	kCertID
	kNotBefore
	kNotAfter
	kAvailableKeys
	kSourceIP
	kDomainName
	kTopic
	kCurrentTime
	kEpochTime
)

// keyRef is a compiled variable or condition key.
type keyRef struct {
	kind   keyKind
	issuer bool   // kDN, kAltName: the issuer's rather than the subject's
	list   bool   // ".List": all values rather than the first
	attr   int    // kDN, kAltName
	arg    string // kThingAttr: attribute name; kExtra: lower-cased key
}

var simpleKeys = map[string]keyKind{
	"iot:clientid":                       kClientID,
	"iot:connection.thing.thingname":     kThingName,
	"iot:connection.thing.thingtypename": kThingType,
	"iot:connection.thing.isattached":    kIsAttached,
	"iot:certificate.serialnumber":       kSerial,
	"iot:certificateid":                  kCertID,
	"iot:certificate.validity.notbefore": kNotBefore,
	"iot:certificate.validity.notafter":  kNotAfter,
	"iot:certificate.availablekeys":      kAvailableKeys,
	"aws:sourceip":                       kSourceIP,
	"iot:domainname":                     kDomainName,
	"iot:topic":                          kTopic,
	"aws:currenttime":                    kCurrentTime,
	"aws:epochtime":                      kEpochTime,
}

// parseKey compiles a key name. Names are case-insensitive except a thing
// attribute name inside [...], which is matched exactly.
func parseKey(name string) keyRef {
	lower := strings.ToLower(name)
	if k, ok := simpleKeys[lower]; ok {
		return keyRef{kind: k}
	}
	const attrPrefix = "iot:connection.thing.attributes["
	if strings.HasPrefix(lower, attrPrefix) && strings.HasSuffix(lower, "]") {
		return keyRef{kind: kThingAttr, arg: name[len(attrPrefix) : len(name)-1]}
	}
	if ref, ok := parseCertKey(lower); ok {
		return ref
	}
	return keyRef{kind: kExtra, arg: lower}
}

// parseCertKey reads iot:Certificate.{Subject|Issuer}[.AlternativeName].Attr[.List].
func parseCertKey(lower string) (keyRef, bool) {
	rest, ok := strings.CutPrefix(lower, "iot:certificate.")
	if !ok {
		return keyRef{}, false
	}
	var ref keyRef
	if rest, ok = strings.CutPrefix(rest, "issuer."); ok {
		ref.issuer = true
	} else if rest, ok = strings.CutPrefix(rest, "subject."); !ok {
		return keyRef{}, false
	}
	rest, ref.list = strings.CutSuffix(rest, ".list")
	names := dnAttrs
	ref.kind = kDN
	if r, ok := strings.CutPrefix(rest, "alternativename."); ok {
		rest, names, ref.kind = r, altAttrs, kAltName
	}
	for i, n := range names {
		if strings.EqualFold(n, rest) {
			ref.attr = i
			return ref, true
		}
	}
	return keyRef{}, false
}

// value is a resolved key: one value, or a list for ".List" and
// multi-valued Extra keys.
type value struct {
	one  string
	list []string
	many bool
}

func (v value) len() int {
	if v.many {
		return len(v.list)
	}
	return 1
}

func (v value) at(i int) string {
	if v.many {
		return v.list[i]
	}
	return v.one
}

// single returns the value when there is exactly one.
func (v value) single() (string, bool) {
	if !v.many {
		return v.one, true
	}
	if len(v.list) == 1 {
		return v.list[0], true
	}
	return "", false
}

func one(s string) (value, bool) { return value{one: s}, s != "" }

// lookup resolves a key against v. It allocates only for keys whose value
// must be formatted (times, available keys).
func (v *Vars) lookup(k *keyRef) (value, bool) {
	switch k.kind {
	case kClientID:
		return one(v.ClientID)
	case kThingName, kThingType, kThingAttr:
		return v.thingValue(k)
	case kIsAttached:
		return value{one: strconv.FormatBool(v.Thing != nil)}, true
	case kSourceIP:
		return one(v.SourceIP)
	case kDomainName:
		return one(v.DomainName)
	case kTopic:
		return one(v.Topic)
	case kCurrentTime:
		return value{one: v.now().UTC().Format(time.RFC3339)}, true
	case kEpochTime:
		return value{one: strconv.FormatInt(v.now().Unix(), 10)}, true
	case kExtra:
		l, ok := v.Extra[k.arg]
		return value{list: l, many: true}, ok
	}
	return v.certValue(k)
}

func (v *Vars) now() time.Time {
	if v.Now.IsZero() {
		return time.Now()
	}
	return v.Now
}

func (v *Vars) thingValue(k *keyRef) (value, bool) {
	t := v.Thing
	if t == nil {
		return value{}, false
	}
	switch k.kind {
	case kThingName:
		return one(t.Name)
	case kThingType:
		return one(t.TypeName)
	}
	s, ok := t.Attributes[k.arg]
	return value{one: s}, ok
}

func (v *Vars) certValue(k *keyRef) (value, bool) {
	c := v.Cert
	if c == nil {
		return value{}, false
	}
	switch k.kind {
	case kSerial:
		return one(c.SerialNumber)
	case kCertID:
		return one(c.ID)
	case kNotBefore:
		return timeValue(c.NotBefore)
	case kNotAfter:
		return timeValue(c.NotAfter)
	case kAvailableKeys:
		l := c.availableKeys()
		return value{list: l, many: true}, len(l) > 0
	}
	l := c.attrValues(k)
	if len(l) == 0 {
		return value{}, false
	}
	if k.list {
		return value{list: l, many: true}, true
	}
	return value{one: l[0]}, true
}

func timeValue(t time.Time) (value, bool) {
	if t.IsZero() {
		return value{}, false
	}
	return value{one: t.UTC().Format(time.RFC3339)}, true
}

func (c *Cert) attrValues(k *keyRef) []string {
	if k.kind == kDN {
		dn := &c.Subject
		if k.issuer {
			dn = &c.Issuer
		}
		return dn.field(k.attr)
	}
	an := &c.SubjectAltNames
	if k.issuer {
		an = &c.IssuerAltNames
	}
	return an.field(k.attr)
}

// availableKeys names the certificate variables that have values
// (iot:Certificate.AvailableKeys).
func (c *Cert) availableKeys() []string {
	var out []string
	add := func(name string, ok bool) {
		if ok {
			out = append(out, name)
		}
	}
	add("iot:Certificate.SerialNumber", c.SerialNumber != "")
	for _, side := range []struct {
		name string
		dn   *DN
		an   *AltNames
	}{{"Subject", &c.Subject, &c.SubjectAltNames}, {"Issuer", &c.Issuer, &c.IssuerAltNames}} {
		for i, a := range dnAttrs {
			add("iot:Certificate."+side.name+"."+a, len(side.dn.field(i)) > 0)
		}
		for i, a := range altAttrs {
			add("iot:Certificate."+side.name+".AlternativeName."+a, len(side.an.field(i)) > 0)
		}
	}
	add("iot:Certificate.Validity.NotBefore", !c.NotBefore.IsZero())
	add("iot:Certificate.Validity.NotAfter", !c.NotAfter.IsZero())
	return out
}
