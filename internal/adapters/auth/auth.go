// Package auth owns who the caller of the HTTP API is: it verifies the bearer JWTs that clients
// present and turns their claims into an app.Actor, and it mints development tokens for the
// `wolfix token` command. The user id is the token's `sub`; roles come from the `role` claim (one
// string) or the `roles` claim (an array).
//
// Tokens are verified in one of two modes. By default they are HS256 tokens signed with the
// service's configured secret (NewAuthenticator, NewSecretAuthenticator). With a JWKS URL
// (NewJWKSAuthenticator) they are RS256 or ES256 tokens from an identity provider, verified with the
// key their `kid` names in the provider's JWK Set, which is fetched at start, cached, refreshed
// periodically and re-read (rate-limited) when a token names a key it does not hold yet. In both
// modes any other algorithm, including "none", is refused, and the issuer and audience are checked
// when configured.
package auth

import (
	"context"
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/wolfix/orders/internal/adapters/inputcheck"
	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/fault"
)

// MinSecretBytes is the shortest HS256 secret accepted: RFC 7518 §3.2 asks for a key at least as
// long as the hash output (256 bits).
const MinSecretBytes = 32

// Leeway is the clock skew tolerated on exp, nbf and iat.
const Leeway = 30 * time.Second

// Errors reported by this package. The token faults are what the HTTP adapter answers with 401.
var (
	ErrWeakSecret   = errors.New("auth: the JWT secret must be at least 32 bytes")
	ErrTokenMissing = fault.Unauthenticated("unauthenticated", "a bearer token is required")
	ErrTokenInvalid = fault.Unauthenticated("token_invalid", "the bearer token is invalid")
	ErrTokenExpired = fault.Unauthenticated("token_expired", "the bearer token has expired")
)

// claims is the token body this service reads and writes. ClaimStrings accepts a single string as
// well as an array, so `"role": "admin"` and `"roles": ["admin"]` both work.
type claims struct {
	jwt.RegisteredClaims
	Role  jwt.ClaimStrings `json:"role,omitempty"`
	Roles jwt.ClaimStrings `json:"roles,omitempty"`
}

// Options are the checks and settings shared by both modes. The zero value checks neither issuer
// nor audience and uses time.Now.
type Options struct {
	// Issuer, when set, must equal the token's `iss`.
	Issuer string
	// Audience, when set, must be one of the token's `aud` values.
	Audience string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// JWKS tunes the key-set fetching of NewJWKSAuthenticator; unused with a secret.
	JWKS JWKSOptions
}

// Authenticator verifies bearer tokens: HS256 with one secret, or RS256/ES256 with the keys of a
// JWK Set (see NewJWKSAuthenticator). Either way it maps the same claims to the same actor and
// answers the same faults.
type Authenticator struct {
	parser *jwt.Parser
	// keyFor returns the verification key for token; ctx is the request's.
	keyFor func(ctx context.Context, token *jwt.Token) (any, error)
}

// NewAuthenticator builds an HS256 Authenticator for secret; now is the clock (nil means time.Now).
func NewAuthenticator(secret string, now func() time.Time) (*Authenticator, error) {
	return NewSecretAuthenticator(secret, Options{Now: now})
}

// NewSecretAuthenticator builds an HS256 Authenticator for secret with the issuer and audience
// checks of opts.
func NewSecretAuthenticator(secret string, opts Options) (*Authenticator, error) {
	if len(secret) < MinSecretBytes {
		return nil, ErrWeakSecret
	}
	key := []byte(secret)
	return &Authenticator{
		parser: newParser(opts, jwt.SigningMethodHS256.Alg()),
		keyFor: func(context.Context, *jwt.Token) (any, error) { return key, nil },
	}, nil
}

func newParser(o Options, algs ...string) *jwt.Parser {
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(algs),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(Leeway),
	}
	if o.Now != nil {
		opts = append(opts, jwt.WithTimeFunc(o.Now))
	}
	if o.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(o.Issuer))
	}
	if o.Audience != "" {
		opts = append(opts, jwt.WithAudience(o.Audience))
	}
	return jwt.NewParser(opts...)
}

// Authenticate verifies token and returns the actor it names. The subject must be an identifier
// (inputcheck.ID: visible ASCII, at most 255 bytes), since it is stored as the customer id. Roles other than the three known
// ones are ignored, so a token from a shared identity provider may carry more.
func (a *Authenticator) Authenticate(ctx context.Context, token string) (app.Actor, error) {
	if token == "" {
		return app.Actor{}, ErrTokenMissing
	}
	var c claims
	keyFunc := func(t *jwt.Token) (any, error) { return a.keyFor(ctx, t) }
	if _, err := a.parser.ParseWithClaims(token, &c, keyFunc); err != nil {
		switch {
		case errors.Is(err, jwt.ErrTokenExpired):
			return app.Actor{}, ErrTokenExpired
		case errors.Is(err, jwt.ErrTokenInvalidIssuer):
			return app.Actor{}, ErrTokenInvalid.WithMessage("the bearer token is from another issuer")
		case errors.Is(err, jwt.ErrTokenInvalidAudience):
			return app.Actor{}, ErrTokenInvalid.WithMessage("the bearer token is for another audience")
		}
		return app.Actor{}, ErrTokenInvalid
	}
	if !inputcheck.ID(c.Subject) {
		return app.Actor{}, ErrTokenInvalid.WithMessage("the bearer token's subject is missing or not an identifier")
	}
	return app.Actor{UserID: c.Subject, Roles: knownRoles(append(c.Role, c.Roles...))}, nil
}

func knownRoles(names []string) []app.Role {
	var roles []app.Role
	for _, n := range names {
		if r, ok := app.ParseRole(n); ok {
			roles = append(roles, r)
		}
	}
	return roles
}

// Mint signs a token for sub with roles that expires after ttl; `wolfix token` prints it.
func Mint(secret, sub string, roles []app.Role, ttl time.Duration) (string, error) {
	return MintFor(secret, sub, roles, ttl, Options{})
}

// MintFor is Mint with the issuer and audience of opts written into the token, for services
// that check them (WOLFIX_JWT_ISSUER, WOLFIX_JWT_AUDIENCE).
func MintFor(secret, sub string, roles []app.Role, ttl time.Duration, opts Options) (string, error) {
	if len(secret) < MinSecretBytes {
		return "", ErrWeakSecret
	}
	if sub == "" || ttl <= 0 {
		return "", errors.New("auth: a token needs a subject and a positive lifetime")
	}
	names := make(jwt.ClaimStrings, 0, len(roles))
	for _, r := range roles {
		if _, ok := app.ParseRole(string(r)); !ok {
			return "", errors.New("auth: unknown role " + string(r))
		}
		names = append(names, string(r))
	}
	now := time.Now()
	c := claims{
		RegisteredClaims: jwt.RegisteredClaims{Subject: sub, Issuer: opts.Issuer, IssuedAt: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl))},
		Roles: names,
	}
	if opts.Audience != "" {
		c.Audience = jwt.ClaimStrings{opts.Audience}
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte(secret))
}
