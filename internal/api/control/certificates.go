package control

import (
	"context"

	"github.com/moat-iot/moat/internal/api"
	"github.com/moat-iot/moat/internal/awsapi"
	"github.com/moat-iot/moat/internal/store"
)

type keyPair struct {
	PublicKey  string `json:"PublicKey"`
	PrivateKey string `json:"PrivateKey,omitempty"`
}

type createKeysAndCertificateOutput struct {
	CertificateArn string  `json:"certificateArn"`
	CertificateID  string  `json:"certificateId"`
	CertificatePem string  `json:"certificatePem"`
	KeyPair        keyPair `json:"keyPair"`
}

func (a *API) createKeysAndCertificate(ctx context.Context, r *api.Request) (any, error) {
	active, err := queryBool(r, "setAsActive")
	if err != nil {
		return nil, err
	}
	c, err := a.Certs.CreateKeysAndCertificate(ctx, active)
	if err != nil {
		return nil, err
	}
	return createKeysAndCertificateOutput{
		CertificateArn: a.ARNs.Cert(c.Record.ID), CertificateID: c.Record.ID, CertificatePem: c.Record.PEM,
		KeyPair: keyPair{PublicKey: c.PublicKeyPEM, PrivateKey: c.PrivateKeyPEM},
	}, nil
}

type createCertificateFromCsrInput struct {
	CertificateSigningRequest string `json:"certificateSigningRequest"`
}

type createCertificateFromCsrOutput struct {
	CertificateArn string `json:"certificateArn"`
	CertificateID  string `json:"certificateId"`
	CertificatePem string `json:"certificatePem"`
}

func (a *API) createCertificateFromCsr(ctx context.Context, r *api.Request) (any, error) {
	active, err := queryBool(r, "setAsActive")
	if err != nil {
		return nil, err
	}
	var in createCertificateFromCsrInput
	if err := awsapi.DecodeJSON(r.Request, r.Body, &in); err != nil {
		return nil, err
	}
	c, err := a.Certs.CreateCertificateFromCsr(ctx, in.CertificateSigningRequest, active)
	if err != nil {
		return nil, err
	}
	return createCertificateFromCsrOutput{CertificateArn: a.ARNs.Cert(c.Record.ID), CertificateID: c.Record.ID, CertificatePem: c.Record.PEM}, nil
}

type validity struct {
	NotBefore epoch `json:"notBefore"`
	NotAfter  epoch `json:"notAfter"`
}

type certificateDescription struct {
	CertificateArn   string   `json:"certificateArn"`
	CertificateID    string   `json:"certificateId"`
	CACertificateID  string   `json:"caCertificateId,omitempty"`
	Status           string   `json:"status"`
	CertificatePem   string   `json:"certificatePem"`
	OwnedBy          string   `json:"ownedBy"`
	CreationDate     epoch    `json:"creationDate"`
	LastModifiedDate epoch    `json:"lastModifiedDate"`
	CustomerVersion  int64    `json:"customerVersion"`
	GenerationID     string   `json:"generationId"`
	Validity         validity `json:"validity"`
	CertificateMode  string   `json:"certificateMode"`
	TransferData     struct{} `json:"transferData"`
}

type describeCertificateOutput struct {
	CertificateDescription certificateDescription `json:"certificateDescription"`
}

func (a *API) describeCertificate(ctx context.Context, r *api.Request) (any, error) {
	c, err := a.Certs.Describe(ctx, r.PathValue("certificateId"))
	if err != nil {
		return nil, err
	}
	return describeCertificateOutput{CertificateDescription: certificateDescription{
		CertificateArn: a.ARNs.Cert(c.ID), CertificateID: c.ID, CACertificateID: c.CACertificateID,
		Status: c.Status, CertificatePem: c.PEM, OwnedBy: a.ARNs.Account,
		CreationDate: toEpoch(c.CreatedAt), LastModifiedDate: toEpoch(c.UpdatedAt),
		CustomerVersion: c.CustomerVersion, GenerationID: c.GenerationID,
		Validity:        validity{NotBefore: toEpoch(c.NotBefore), NotAfter: toEpoch(c.NotAfter)},
		CertificateMode: c.Mode,
	}}, nil
}

func (a *API) updateCertificate(ctx context.Context, r *api.Request) (any, error) {
	return nil, a.Certs.UpdateStatus(ctx, r.PathValue("certificateId"), r.URL.Query().Get("newStatus"))
}

func (a *API) deleteCertificate(ctx context.Context, r *api.Request) (any, error) {
	force, err := queryBool(r, "forceDelete")
	if err != nil {
		return nil, err
	}
	return nil, a.Certs.Delete(ctx, r.PathValue("certificateId"), force)
}

type certificateItem struct {
	CertificateArn  string `json:"certificateArn"`
	CertificateID   string `json:"certificateId"`
	Status          string `json:"status"`
	CertificateMode string `json:"certificateMode"`
	CreationDate    epoch  `json:"creationDate"`
}

type listCertificatesOutput struct {
	Certificates []certificateItem `json:"certificates"`
	NextMarker   string            `json:"nextMarker,omitempty"`
}

func (a *API) listCertificates(ctx context.Context, r *api.Request) (any, error) {
	p, asc, err := markerPage(r)
	if err != nil {
		return nil, err
	}
	cs, next, err := a.Certs.List(ctx, p, asc)
	if err != nil {
		return nil, err
	}
	return listCertificatesOutput{Certificates: certItems(a, cs), NextMarker: next}, nil
}

func certItems(a *API, cs []store.Certificate) []certificateItem {
	out := make([]certificateItem, 0, len(cs))
	for _, c := range cs {
		out = append(out, certificateItem{CertificateArn: a.ARNs.Cert(c.ID), CertificateID: c.ID, Status: c.Status, CertificateMode: c.Mode, CreationDate: toEpoch(c.CreatedAt)})
	}
	return out
}
