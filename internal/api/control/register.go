package control

import (
	"context"
	"net/http"

	"github.com/moat-iot/moat/internal/api"
	"github.com/moat-iot/moat/internal/awsapi"
)

// certificateExtraOperations are the certificate operations beyond
// creation by moat's own CA: RegisterCertificateWithoutCA.
func (a *API) certificateExtraOperations() []api.Operation {
	return []api.Operation{
		{Name: "RegisterCertificateWithoutCA", Method: http.MethodPost, Path: "/certificate/register-no-ca", Handle: a.registerCertificateWithoutCA, Resource: api.NoResource},
	}
}

type registerCertificateWithoutCAInput struct {
	CertificatePem string `json:"certificatePem"`
	Status         string `json:"status"`
}

type registerCertificateOutput struct {
	CertificateArn string `json:"certificateArn"`
	CertificateID  string `json:"certificateId"`
}

func (a *API) registerCertificateWithoutCA(ctx context.Context, r *api.Request) (any, error) {
	var in registerCertificateWithoutCAInput
	if err := awsapi.DecodeJSON(r.Request, r.Body, &in); err != nil {
		return nil, err
	}
	c, err := a.Certs.RegisterWithoutCA(ctx, in.CertificatePem, in.Status)
	if err != nil {
		return nil, err
	}
	return registerCertificateOutput{CertificateArn: a.ARNs.Cert(c.ID), CertificateID: c.ID}, nil
}
