package provisioning

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
)

// certParamPrefix begins the names of the parameters JITP fills from the
// device certificate.
const certParamPrefix = "AWS::IoT::Certificate::"

// certFields are the subject fields AWS documents for JITP, in the order of
// its documentation; each becomes the parameter certParamPrefix+field.
var certFields = []string{
	"Country", "Organization", "OrganizationalUnit", "DistinguishedNameQualifier",
	"StateName", "CommonName", "SerialNumber",
}

// oidDNQualifier is the distinguishedNameQualifier attribute (X.520,
// 2.5.4.46), which crypto/x509/pkix does not name.
var oidDNQualifier = asn1.ObjectIdentifier{2, 5, 4, 46}

// CertificateParameters returns the AWS::IoT::Certificate::* parameters of
// a device certificate, as AWS fills them for JITP: Country, Organization,
// OrganizationalUnit, DistinguishedNameQualifier, StateName, CommonName and
// SerialNumber from the certificate's subject, and Id = certificateID (the
// certificate's moat/AWS ID, not a field of the certificate).
//
// SerialNumber is the subject's serialNumber attribute (2.5.4.5), not the
// certificate serial: AWS says the values are "limited to what JITP can
// extract from the subject field". A field the subject lacks, or has
// empty, is absent from the map, so that a template declaring it fails
// with ErrMissingParameter as AWS's does. When the subject repeats an
// attribute (two OUs), the first is used.
func CertificateParameters(cert *x509.Certificate, certificateID string) map[string]string {
	out := map[string]string{}
	if certificateID != "" {
		out[certParamPrefix+"Id"] = certificateID
	}
	if cert == nil {
		return out
	}
	s := cert.Subject
	set := func(field string, vals []string) {
		if len(vals) > 0 && vals[0] != "" {
			out[certParamPrefix+field] = vals[0]
		}
	}
	set("Country", s.Country)
	set("Organization", s.Organization)
	set("OrganizationalUnit", s.OrganizationalUnit)
	set("DistinguishedNameQualifier", attrValues(s.Names, oidDNQualifier))
	set("StateName", s.Province)
	set("CommonName", []string{s.CommonName})
	set("SerialNumber", []string{s.SerialNumber})
	return out
}

// attrValues returns the string values of one attribute type in a parsed
// subject.
func attrValues(names []pkix.AttributeTypeAndValue, oid asn1.ObjectIdentifier) []string {
	var out []string
	for _, n := range names {
		if n.Type.Equal(oid) {
			if s, ok := n.Value.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}
