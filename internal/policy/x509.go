package policy

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
)

// dnOIDs maps the X.520 attribute types AWS IoT exposes to DN fields.
var dnOIDs = []struct {
	oid   asn1.ObjectIdentifier
	field func(*DN) *[]string
}{
	{asn1.ObjectIdentifier{2, 5, 4, 3}, func(d *DN) *[]string { return &d.CommonName }},
	{asn1.ObjectIdentifier{2, 5, 4, 4}, func(d *DN) *[]string { return &d.Surname }},
	{asn1.ObjectIdentifier{2, 5, 4, 5}, func(d *DN) *[]string { return &d.SerialNumber }},
	{asn1.ObjectIdentifier{2, 5, 4, 6}, func(d *DN) *[]string { return &d.Country }},
	{asn1.ObjectIdentifier{2, 5, 4, 8}, func(d *DN) *[]string { return &d.State }},
	{asn1.ObjectIdentifier{2, 5, 4, 10}, func(d *DN) *[]string { return &d.Organization }},
	{asn1.ObjectIdentifier{2, 5, 4, 11}, func(d *DN) *[]string { return &d.OrganizationalUnit }},
	{asn1.ObjectIdentifier{2, 5, 4, 12}, func(d *DN) *[]string { return &d.Title }},
	{asn1.ObjectIdentifier{2, 5, 4, 42}, func(d *DN) *[]string { return &d.GivenName }},
	{asn1.ObjectIdentifier{2, 5, 4, 43}, func(d *DN) *[]string { return &d.Initials }},
	{asn1.ObjectIdentifier{2, 5, 4, 44}, func(d *DN) *[]string { return &d.GenerationQualifier }},
	{asn1.ObjectIdentifier{2, 5, 4, 46}, func(d *DN) *[]string { return &d.DistinguishedNameQualifier }},
	{asn1.ObjectIdentifier{2, 5, 4, 65}, func(d *DN) *[]string { return &d.Pseudonym }},
}

// CertFromX509 extracts the policy-visible fields of a certificate. id is
// the AWS certificate id (hex SHA-256 of the DER). The serial number is
// rendered in decimal. crypto/x509 does not decode directoryName SANs or
// the issuer alternative name extension, so those stay empty.
func CertFromX509(c *x509.Certificate, id string) *Cert {
	out := &Cert{
		ID:        id,
		Subject:   dnFromName(&c.Subject),
		Issuer:    dnFromName(&c.Issuer),
		NotBefore: c.NotBefore,
		NotAfter:  c.NotAfter,
		SubjectAltNames: AltNames{
			RFC822Name: c.EmailAddresses,
			DNSName:    c.DNSNames,
		},
	}
	if c.SerialNumber != nil {
		out.SerialNumber = c.SerialNumber.String()
	}
	for _, u := range c.URIs {
		out.SubjectAltNames.UniformResourceIdentifier = append(out.SubjectAltNames.UniformResourceIdentifier, u.String())
	}
	for _, ip := range c.IPAddresses {
		out.SubjectAltNames.IPAddress = append(out.SubjectAltNames.IPAddress, ip.String())
	}
	return out
}

func dnFromName(n *pkix.Name) DN {
	var d DN
	for _, atv := range n.Names {
		s, ok := atv.Value.(string)
		if !ok {
			continue
		}
		for _, m := range dnOIDs {
			if atv.Type.Equal(m.oid) {
				f := m.field(&d)
				*f = append(*f, s)
				break
			}
		}
	}
	return d
}
