package rolealias

import (
	"context"
	"net"

	"github.com/moat-iot/moat/internal/access"
	"github.com/moat-iot/moat/internal/auth"
)

// GateAuthorizer decides with the access gate, as the data plane decides
// a device's HTTPS requests: the device's IoT policies (its certificate's
// and, over HTTPS, no thing's), bound for the request, and the decision
// recorded in the decision log.
func GateAuthorizer(g *access.Gate) AuthorizeFunc {
	return func(ctx context.Context, p auth.Principal, remote net.Addr, action, resource string) (bool, error) {
		perms, err := g.BindHTTP(ctx, p, remote)
		if err != nil {
			return false, err
		}
		return perms.AllowARN(action, resource), nil
	}
}
