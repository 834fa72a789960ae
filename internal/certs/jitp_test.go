package certs

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moat-iot/moat/internal/arn"
	"github.com/moat-iot/moat/internal/pki"
	"github.com/moat-iot/moat/internal/provisioning"
	"github.com/moat-iot/moat/internal/store"
	"github.com/moat-iot/moat/internal/store/sqlite"
)

// jitpPolicyDoc is the policy of AWS's JITP example.
const jitpPolicyDoc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iot:Connect","iot:Publish"],"Resource":["*"]}]}`

// awsTemplate is AWS's documented JITP template: the thing named from the
// CommonName with the Country as an attribute, the certificate ACTIVE, an
// inline policy.
func awsTemplate(t *testing.T) string {
	t.Helper()
	doc, _ := json.Marshal(jitpPolicyDoc)
	return `{
  "Parameters": {
    "AWS::IoT::Certificate::CommonName": {"Type": "String"},
    "AWS::IoT::Certificate::Country": {"Type": "String"},
    "AWS::IoT::Certificate::Id": {"Type": "String"}
  },
  "Resources": {
    "thing": {
      "Type": "AWS::IoT::Thing",
      "Properties": {
        "ThingName": {"Ref": "AWS::IoT::Certificate::CommonName"},
        "AttributePayload": {"version": "v1", "country": {"Ref": "AWS::IoT::Certificate::Country"}}
      },
      "OverrideSettings": {"AttributePayload": "REPLACE"}
    },
    "certificate": {
      "Type": "AWS::IoT::Certificate",
      "Properties": {"CertificateId": {"Ref": "AWS::IoT::Certificate::Id"}, "Status": "ACTIVE"},
      "OverrideSettings": {"Status": "DO_NOTHING"}
    },
    "policy": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyDocument": ` + string(doc) + `}}
  }
}`
}

// jitpFixture is a certificate service over a fresh store with one ACTIVE
// CA (auto-registration ENABLE) whose registrationConfig holds a template.
type jitpFixture struct {
	svc    *Service
	st     store.Store
	ca     *kc
	caID   string
	arns   arn.Builder
	event  []string      // OnAutoRegistered: certificate IDs
	status []string      // OnAutoRegistered: their statuses
	prov   []Provisioned // OnProvisioned, successes
	errs   []error       // OnProvisioned, failures
}

func newJITP(t *testing.T, template string) *jitpFixture {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "moat.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &jitpFixture{st: st, ca: mk(t, 1, nil, true), arns: arn.Builder{Region: "us-east-1", Account: "000000000000"}}
	f.svc = New(st, nil, f.arns)
	f.svc.OnAutoRegistered = func(_, certID, status string, _ time.Time) {
		f.event = append(f.event, certID)
		f.status = append(f.status, status)
	}
	f.svc.OnProvisioned = func(p Provisioned, err error) {
		if err != nil {
			f.errs = append(f.errs, err)
		} else {
			f.prov = append(f.prov, p)
		}
	}
	cfg, _ := json.Marshal(map[string]string{"templateBody": template, "roleArn": "arn:aws:iam::000000000000:role/jitp"})
	ca := rec(f.ca)
	ca.Status, ca.AutoRegistration, ca.Mode, ca.RegistrationConfig = CAActive, AutoEnable, "DEFAULT", cfg
	ca.NotBefore, ca.NotAfter = f.ca.cert.NotBefore, f.ca.cert.NotAfter
	f.caID = ca.ID
	f.update(t, func(tx store.Tx) error { return tx.InsertCACertificate(ca) })
	return f
}

func (f *jitpFixture) update(t *testing.T, fn func(store.Tx) error) {
	t.Helper()
	if err := f.st.Update(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// device makes a device certificate signed by the fixture's CA.
func (f *jitpFixture) device(t *testing.T, subject pkix.Name) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: subject,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, f.ca.cert, &key.PublicKey, f.ca.key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *jitpFixture) autoRegister(t *testing.T, leaf *x509.Certificate) bool {
	t.Helper()
	ok, err := f.svc.AutoRegister(context.Background(), []*x509.Certificate{leaf})
	if err != nil {
		t.Fatalf("AutoRegister: %v", err)
	}
	return ok
}

// counts returns how many things, certificates and policies the store has.
func (f *jitpFixture) counts(t *testing.T) (things, certs, policies int) {
	t.Helper()
	err := f.st.View(context.Background(), func(tx store.Tx) error {
		ts, _, err := tx.ListThings(store.ThingFilter{}, store.Page{Limit: 100})
		if err != nil {
			return err
		}
		cs, _, err := tx.ListCertificates(store.Page{Limit: 100}, true)
		if err != nil {
			return err
		}
		ps, _, err := tx.ListPolicies(store.Page{Limit: 100}, true)
		things, certs, policies = len(ts), len(cs), len(ps)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return things, certs, policies
}

// TestJITP_AWSTemplate provisions a device with AWS's documented template:
// the thing named from the CommonName with its attributes, the certificate
// ACTIVE with the CA, the inline policy created and attached, the
// certificate attached to the thing; the connect is still refused and the
// registered event announced.
func TestJITP_AWSTemplate(t *testing.T) {
	f := newJITP(t, awsTemplate(t))
	leaf := f.device(t, pkix.Name{CommonName: "lamp-1", Country: []string{"DE"}})
	id := pki.CertificateID(leaf.Raw)
	if !f.autoRegister(t, leaf) {
		t.Fatal("AutoRegister reported false: the provisioning connect must be refused as JITR's")
	}
	if len(f.errs) != 0 || len(f.prov) != 1 || !slices.Equal(f.event, []string{id}) || !slices.Equal(f.status, []string{Active}) {
		t.Fatalf("hooks: errs %v, provisioned %+v, events %v %v (want the event to say ACTIVE)", f.errs, f.prov, f.event, f.status)
	}
	p := f.prov[0]
	if p.ThingName != "lamp-1" || p.CertificateID != id || p.CACertificateID != f.caID || len(p.Policies) != 1 || !slices.Equal(p.Policies, p.CreatedPolicies) {
		t.Fatalf("Provisioned = %+v", p)
	}
	certARN := f.arns.Cert(id)
	err := f.st.View(context.Background(), func(tx store.Tx) error {
		th, err := tx.Thing("lamp-1")
		if err != nil {
			return err
		}
		if want := map[string]string{"version": "v1", "country": "DE"}; !maps.Equal(th.Attributes, want) || th.TypeName != "" || th.Version != 1 {
			t.Errorf("thing = %+v", th)
		}
		c, err := tx.Certificate(id)
		if err != nil {
			return err
		}
		if c.Status != Active || c.CACertificateID != f.caID || c.Mode != "DEFAULT" {
			t.Errorf("certificate = %+v", c)
		}
		pols, _, err := tx.AttachedPolicies(certARN, store.Page{Limit: 10})
		if err != nil {
			return err
		}
		if !slices.Equal(pols, p.Policies) {
			t.Errorf("attached policies %v, want %v", pols, p.Policies)
		}
		v, err := tx.PolicyVersion(p.Policies[0], 1)
		if err != nil {
			return err
		}
		if v.Document != jitpPolicyDoc {
			t.Errorf("policy document %s", v.Document)
		}
		tps, _, err := tx.ThingPrincipals("lamp-1", store.Page{Limit: 10})
		if err != nil {
			return err
		}
		if len(tps) != 1 || tps[0].Principal != certARN {
			t.Errorf("thing principals %+v", tps)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// A second device whose thing exists: AttributePayload REPLACE, the
	// policy (same document, same name) reused.
	leaf2 := f.device(t, pkix.Name{CommonName: "lamp-1", Country: []string{"FR"}})
	if !f.autoRegister(t, leaf2) || len(f.prov) != 2 {
		t.Fatalf("second device: errs %v", f.errs)
	}
	if p2 := f.prov[1]; len(p2.CreatedPolicies) != 0 || !slices.Equal(p2.Policies, p.Policies) {
		t.Fatalf("second device Provisioned = %+v", p2)
	}
	err = f.st.View(context.Background(), func(tx store.Tx) error {
		th, err := tx.Thing("lamp-1")
		if err == nil && (th.Attributes["country"] != "FR" || th.Version != 2) {
			t.Errorf("thing after REPLACE = %+v", th)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestJITP_Failures: a template that cannot be carried out creates
// nothing, not even the certificate, and says why.
func TestJITP_Failures(t *testing.T) {
	named := `{"Parameters":{"AWS::IoT::Certificate::CommonName":{"Type":"String"},"AWS::IoT::Certificate::Id":{"Type":"String"}},
"Resources":{"thing":{"Type":"AWS::IoT::Thing","Properties":{"ThingName":{"Ref":"AWS::IoT::Certificate::CommonName"}%s}},
"certificate":{"Type":"AWS::IoT::Certificate","Properties":{"CertificateId":%s,"Status":"ACTIVE"}},
"policy":{"Type":"AWS::IoT::Policy","Properties":{"PolicyName":"%s"}}}}`
	const idRef = `{"Ref":"AWS::IoT::Certificate::Id"}`
	sprintf := func(thingExtra, certRef, policyName string) string {
		return fmt.Sprintf(named, thingExtra, certRef, policyName)
	}
	for _, tc := range []struct {
		name, template string
		want           string // in the error's text
		setup          func(tx store.Tx) error
		kind           error // a provisioning sentinel the error wraps, or nil
	}{
		{name: "missing parameter", want: "AWS::IoT::Certificate::Country", template: awsTemplate(t), kind: provisioning.ErrMissingParameter},
		{name: "missing thing type", want: "thing type lamp does not exist", template: sprintf(`,"ThingTypeName":"lamp"`, idRef, "p")},
		{name: "missing thing group", want: "thing group lamps does not exist", template: sprintf(`,"ThingGroups":["lamps"]`, idRef, "p")},
		{name: "missing named policy", want: "policy absent does not exist", template: sprintf("", idRef, "absent")},
		{name: "other certificate", want: "must be the device certificate", template: sprintf("", `"`+strings.Repeat("ab", 32)+`"`, "p")},
		{name: "thing exists, attributes FAIL", want: "override is FAIL", template: `{"Parameters":{"AWS::IoT::Certificate::CommonName":{"Type":"String"},"AWS::IoT::Certificate::Id":{"Type":"String"}},
"Resources":{"thing":{"Type":"AWS::IoT::Thing","Properties":{"ThingName":{"Ref":"AWS::IoT::Certificate::CommonName"},"AttributePayload":{"a":"new"}},"OverrideSettings":{"AttributePayload":"FAIL"}},
"certificate":{"Type":"AWS::IoT::Certificate","Properties":{"CertificateId":{"Ref":"AWS::IoT::Certificate::Id"}}}}}`,
			setup: func(tx store.Tx) error {
				now := time.Now().UTC()
				return tx.InsertThing(store.Thing{Name: "dev", ID: "00000000-0000-0000-0000-000000000001", Attributes: map[string]string{"a": "old"}, Version: 1, CreatedAt: now, UpdatedAt: now})
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newJITP(t, tc.template)
			f.update(t, func(tx store.Tx) error {
				now := time.Now().UTC()
				if err := tx.InsertPolicy(store.Policy{Name: "p", DefaultVersionID: 1, CreatedAt: now, UpdatedAt: now, GenerationID: "g"}); err != nil {
					return err
				}
				if err := tx.InsertPolicyVersion(store.PolicyVersion{PolicyName: "p", VersionID: 1, Document: jitpPolicyDoc, CreatedAt: now}); err != nil {
					return err
				}
				if tc.setup != nil {
					return tc.setup(tx)
				}
				return nil
			})
			things0, certs0, pols0 := f.counts(t)
			leaf := f.device(t, pkix.Name{CommonName: "dev"}) // no Country
			if f.autoRegister(t, leaf) {
				t.Fatal("AutoRegister reported true for a failed provisioning")
			}
			if len(f.errs) != 1 || len(f.prov) != 0 || len(f.event) != 0 {
				t.Fatalf("hooks: errs %v, provisioned %+v, events %v", f.errs, f.prov, f.event)
			}
			if !errors.Is(f.errs[0], ErrProvisioning) || (tc.kind != nil && !errors.Is(f.errs[0], tc.kind)) || !strings.Contains(f.errs[0].Error(), tc.want) {
				t.Fatalf("error %v: want ErrProvisioning (and %v) saying %q", f.errs[0], tc.kind, tc.want)
			}
			if th, c, p := f.counts(t); th != things0 || c != certs0 || p != pols0 {
				t.Fatalf("after a failed provisioning: %d things, %d certificates, %d policies; want %d, %d, %d", th, c, p, things0, certs0, pols0)
			}
		})
	}
}

// TestJITP_WithoutTemplate: a CA whose registrationConfig has no
// templateBody keeps plain JITR (PENDING_ACTIVATION, nothing else).
func TestJITP_WithoutTemplate(t *testing.T) {
	f := newJITP(t, "")
	leaf := f.device(t, pkix.Name{CommonName: "dev"})
	if !f.autoRegister(t, leaf) || len(f.prov)+len(f.errs) != 0 || len(f.event) != 1 || f.status[0] != PendingActivation {
		t.Fatalf("hooks: errs %v, provisioned %+v, events %v %v", f.errs, f.prov, f.event, f.status)
	}
	err := f.st.View(context.Background(), func(tx store.Tx) error {
		c, err := tx.Certificate(pki.CertificateID(leaf.Raw))
		if err == nil && c.Status != PendingActivation {
			t.Errorf("status %s, want PENDING_ACTIVATION", c.Status)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if th, _, p := f.counts(t); th != 0 || p != 0 {
		t.Fatalf("JITR made %d things and %d policies", th, p)
	}
}

// A registrationConfig whose templateBody is not a valid template is
// refused when it is stored.
func TestRegistrationConfigTemplateChecked(t *testing.T) {
	for _, cfg := range []string{
		`{"templateBody":"not json"}`,
		`{"templateBody":42}`,
		`{"templateBody":"{\"Resources\":{\"x\":{\"Type\":\"AWS::S3::Bucket\"}}}"}`,
	} {
		if _, err := registrationConfig([]byte(cfg)); err == nil || !strings.Contains(err.Error(), "templateBody") {
			t.Errorf("registrationConfig(%s) = %v, want an error naming templateBody", cfg, err)
		}
	}
	body, err := json.Marshal(map[string]string{"templateBody": awsTemplate(t)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := registrationConfig(body); err != nil {
		t.Errorf("AWS's JITP template refused: %v", err)
	}
}

// countingStore counts write transactions.
type countingStore struct {
	store.Store
	updates atomic.Int32
}

func (c *countingStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	c.updates.Add(1)
	return c.Store.Update(ctx, fn)
}

// An unknown certificate that chains to no CA with auto-registration costs
// a read, never a write transaction (anyone may attempt a handshake).
func TestAutoRegisterUnknownIsReadOnly(t *testing.T) {
	f := newJITP(t, awsTemplate(t))
	cs := &countingStore{Store: f.st}
	svc := New(cs, nil, f.arns)
	stranger := mk(t, 99, nil, false) // self-signed, no registered CA
	ok, err := svc.AutoRegister(context.Background(), []*x509.Certificate{stranger.cert})
	if err != nil || ok {
		t.Fatalf("AutoRegister(stranger) = %v, %v; want false, nil", ok, err)
	}
	if n := cs.updates.Load(); n != 0 {
		t.Errorf("%d write transactions for an unknown certificate, want 0", n)
	}
}
