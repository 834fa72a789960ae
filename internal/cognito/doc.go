// Package cognito is moat's Cognito-style identity service: identity
// pools, the identities in them, and the temporary credentials an app
// gets for an identity without holding any long-term key (the
// cognito-identity API; internal/api/cognitoapi serves it).
//
// # Model
//
// An identity pool (id REGION:UUID) names up to two IAM roles: one for
// authenticated identities and, when AllowUnauthenticatedIdentities is
// set, one for unauthenticated (guest) identities. An identity (id
// REGION:UUID, unique across pools) belongs to one pool. It is
// unauthenticated until a login is linked to it; then it is authenticated
// and stays so.
//
// A login is a token from a provider the pool trusts, presented in a
// Logins map {provider name: token}:
//
//   - a developer token (provider name "cognito-identity.amazonaws.com"):
//     the OpenID token moat itself signs in GetOpenIdTokenForDeveloperIdentity
//     (called, signed, by the app's back end after it authenticated its
//     user) or GetOpenIdToken. Its subject is the identity id.
//   - a token of an OpenID Connect issuer the operator configured
//     (OIDCProvider: issuer, JWKS, client ids). Its provider name is the
//     issuer without "https://". The pool trusts it when it lists the
//     provider in OpenIdConnectProviderARNs (arn:aws:iam::ACCOUNT:oidc-provider/NAME;
//     the audience must then be one of the operator's client ids) or in
//     SupportedLoginProviders (NAME: client id; the audience must be that
//     client id). Its signature (against the issuer's JWKS), iss, aud, exp
//     and nbf are checked; the same issuer and subject always map to the
//     same identity (a login index in the store).
//
// # Credentials
//
// GetCredentialsForIdentity picks the pool's authenticated role when the
// identity is authenticated (and then Logins that prove it are required
// again, as in AWS), else the unauthenticated role if the pool allows
// guests. The role must exist and its trust policy must trust the
// principal {"Federated": "cognito-identity.amazonaws.com"} with the
// condition keys cognito-identity.amazonaws.com:aud (the pool id), :amr
// ("authenticated" and the login providers, or "unauthenticated") and
// :sub (the identity id). The credentials are minted by internal/auth
// (stateless, see auth.Authenticator.Mint) for the session
// "CognitoIdentityCredentials"; what they allow is decided per request by
// the role's policies (and, for an authenticated identity, the IoT
// policies attached to its identity id: internal/access).
//
// # Storage
//
// Everything is kept as store objects: pools (KindPool, key the pool id),
// identities (KindIdentity, key the identity id), the pool's identity list
// (KindPoolIdentity, key POOL\x00IDENTITY), the login index (KindLogin,
// key POOL\x00PROVIDER\x00SUBJECT) and the developer-token signing key
// (KindKey). Every operation that writes is one store transaction, except
// DeleteIdentityPool, which removes the pool first and its identities in
// bounded batches after.
//
// Errors are *awsapi.Error values with the cognito-identity codes below;
// anything else is an internal failure.
package cognito
