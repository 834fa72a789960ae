package control

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/moat-iot/moat/internal/api"
	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/certs"
)

// caOperations are the customer CA operations (reference §6.2) and
// RegisterCertificate, which registers a device certificate a registered
// CA signed.
func (a *API) caOperations() []api.Operation {
	return []api.Operation{
		{Name: "GetRegistrationCode", Method: http.MethodGet, Path: "/registrationcode", Handle: a.getRegistrationCode, Resource: api.NoResource},
		{Name: "RegisterCACertificate", Method: http.MethodPost, Path: "/cacertificate", Handle: a.registerCACertificate, Resource: api.NoResource},
		{Name: "UpdateCACertificate", Method: http.MethodPut, Path: "/cacertificate/{caCertificateId}", Handle: a.updateCACertificate, Resource: a.caCertARN()},
		{Name: "DescribeCACertificate", Method: http.MethodGet, Path: "/cacertificate/{caCertificateId}", Handle: a.describeCACertificate, Resource: a.caCertARN()},
		{Name: "DeleteCACertificate", Method: http.MethodDelete, Path: "/cacertificate/{caCertificateId}", Handle: a.deleteCACertificate, Resource: a.caCertARN()},
		{Name: "ListCACertificates", Method: http.MethodGet, Path: "/cacertificates", Handle: a.listCACertificates, Resource: api.NoResource},
		{Name: "ListCertificatesByCA", Method: http.MethodGet, Path: "/certificates-by-ca/{caCertificateId}", Handle: a.listCertificatesByCA, Resource: api.NoResource},
		{Name: "RegisterCertificate", Method: http.MethodPost, Path: "/certificate/register", Handle: a.registerCertificate, Resource: api.NoResource},
	}
}

type getRegistrationCodeOutput struct {
	RegistrationCode string `json:"registrationCode"`
}

func (a *API) getRegistrationCode(ctx context.Context, _ *api.Request) (any, error) {
	code, err := a.Certs.RegistrationCode(ctx)
	if err != nil {
		return nil, err
	}
	return getRegistrationCodeOutput{RegistrationCode: code}, nil
}

type registerCACertificateInput struct {
	CACertificate           string          `json:"caCertificate"`
	VerificationCertificate string          `json:"verificationCertificate"`
	CertificateMode         string          `json:"certificateMode"`
	RegistrationConfig      json.RawMessage `json:"registrationConfig"`
	Tags                    []tagJSON       `json:"tags"`
}

func (a *API) registerCACertificate(ctx context.Context, r *api.Request) (any, error) {
	active, err := queryBool(r, "setAsActive")
	if err != nil {
		return nil, err
	}
	auto, err := queryBool(r, "allowAutoRegistration")
	if err != nil {
		return nil, err
	}
	var in registerCACertificateInput
	if err := awsapi.DecodeJSON(r.Request, r.Body, &in); err != nil {
		return nil, err
	}
	c, err := a.Certs.RegisterCA(ctx, certs.CAInput{
		CACertificatePEM: in.CACertificate, VerificationCertificatePEM: in.VerificationCertificate,
		Mode: in.CertificateMode, SetAsActive: active, AllowAutoRegistration: auto,
		RegistrationConfig: in.RegistrationConfig, Tags: fromTagJSON(in.Tags),
	})
	if err != nil {
		return nil, err
	}
	return registerCertificateOutput{CertificateArn: a.ARNs.CACert(c.ID), CertificateID: c.ID}, nil
}

type updateCACertificateInput struct {
	RegistrationConfig     json.RawMessage `json:"registrationConfig"`
	RemoveAutoRegistration bool            `json:"removeAutoRegistration"`
}

func (a *API) updateCACertificate(ctx context.Context, r *api.Request) (any, error) {
	var in updateCACertificateInput
	if len(r.Body) > 0 {
		if err := awsapi.DecodeJSON(r.Request, r.Body, &in); err != nil {
			return nil, err
		}
	}
	q := r.URL.Query()
	return nil, a.Certs.UpdateCA(ctx, r.PathValue("caCertificateId"), certs.CAUpdate{
		NewStatus: q.Get("newStatus"), NewAutoRegistrationStatus: q.Get("newAutoRegistrationStatus"),
		RegistrationConfig: in.RegistrationConfig, RemoveAutoRegistration: in.RemoveAutoRegistration,
	})
}

type caCertificateDescription struct {
	CertificateArn         string   `json:"certificateArn"`
	CertificateID          string   `json:"certificateId"`
	Status                 string   `json:"status"`
	CertificatePem         string   `json:"certificatePem"`
	OwnedBy                string   `json:"ownedBy"`
	CreationDate           epoch    `json:"creationDate"`
	AutoRegistrationStatus string   `json:"autoRegistrationStatus"`
	LastModifiedDate       epoch    `json:"lastModifiedDate"`
	CustomerVersion        int64    `json:"customerVersion"`
	GenerationID           string   `json:"generationId"`
	Validity               validity `json:"validity"`
	CertificateMode        string   `json:"certificateMode"`
}

type describeCACertificateOutput struct {
	CertificateDescription caCertificateDescription `json:"certificateDescription"`
	// RegistrationConfig is returned as it was given (omitted when none).
	RegistrationConfig json.RawMessage `json:"registrationConfig,omitempty"`
}

func (a *API) describeCACertificate(ctx context.Context, r *api.Request) (any, error) {
	c, err := a.Certs.DescribeCA(ctx, r.PathValue("caCertificateId"))
	if err != nil {
		return nil, err
	}
	return describeCACertificateOutput{
		CertificateDescription: caCertificateDescription{
			CertificateArn: a.ARNs.CACert(c.ID), CertificateID: c.ID, Status: c.Status, CertificatePem: c.PEM,
			OwnedBy: c.Owner, CreationDate: toEpoch(c.CreatedAt), AutoRegistrationStatus: c.AutoRegistration,
			LastModifiedDate: toEpoch(c.UpdatedAt), CustomerVersion: c.CustomerVersion, GenerationID: c.GenerationID,
			Validity:        validity{NotBefore: toEpoch(c.NotBefore), NotAfter: toEpoch(c.NotAfter)},
			CertificateMode: c.Mode,
		},
		RegistrationConfig: json.RawMessage(c.RegistrationConfig),
	}, nil
}

func (a *API) deleteCACertificate(ctx context.Context, r *api.Request) (any, error) {
	return nil, a.Certs.DeleteCA(ctx, r.PathValue("caCertificateId"))
}

type caCertificateItem struct {
	CertificateArn string `json:"certificateArn"`
	CertificateID  string `json:"certificateId"`
	Status         string `json:"status"`
	CreationDate   epoch  `json:"creationDate"`
}

type listCACertificatesOutput struct {
	Certificates []caCertificateItem `json:"certificates"`
	NextMarker   string              `json:"nextMarker,omitempty"`
}

// listCACertificates pages by marker/pageSize. The templateName filter
// (CAs whose registrationConfig names a provisioning template) is not
// applied yet: moat has no provisioning templates.
func (a *API) listCACertificates(ctx context.Context, r *api.Request) (any, error) {
	p, asc, err := markerPage(r)
	if err != nil {
		return nil, err
	}
	cs, next, err := a.Certs.ListCAs(ctx, p, asc)
	if err != nil {
		return nil, err
	}
	out := listCACertificatesOutput{Certificates: make([]caCertificateItem, 0, len(cs)), NextMarker: next}
	for _, c := range cs {
		out.Certificates = append(out.Certificates, caCertificateItem{CertificateArn: a.ARNs.CACert(c.ID), CertificateID: c.ID,
			Status: c.Status, CreationDate: toEpoch(c.CreatedAt)})
	}
	return out, nil
}

func (a *API) listCertificatesByCA(ctx context.Context, r *api.Request) (any, error) {
	p, asc, err := markerPage(r)
	if err != nil {
		return nil, err
	}
	cs, next, err := a.Certs.ListByCA(ctx, r.PathValue("caCertificateId"), p, asc)
	if err != nil {
		return nil, err
	}
	return listCertificatesOutput{Certificates: certItems(a, cs), NextMarker: next}, nil
}

type registerCertificateInput struct {
	CertificatePem   string `json:"certificatePem"`
	CACertificatePem string `json:"caCertificatePem"`
	Status           string `json:"status"`
}

func (a *API) registerCertificate(ctx context.Context, r *api.Request) (any, error) {
	active, err := queryBool(r, "setAsActive")
	if err != nil {
		return nil, err
	}
	var in registerCertificateInput
	if err := awsapi.DecodeJSON(r.Request, r.Body, &in); err != nil {
		return nil, err
	}
	c, err := a.Certs.RegisterWithCA(ctx, in.CertificatePem, in.CACertificatePem, in.Status, active)
	if err != nil {
		return nil, err
	}
	return registerCertificateOutput{CertificateArn: a.ARNs.Cert(c.ID), CertificateID: c.ID}, nil
}
