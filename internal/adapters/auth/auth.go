// Package auth owns who the caller of the HTTP API is: it verifies the bearer JWTs that clients
// present (HS256 with the service's configured secret; any other algorithm, including "none", is
// refused) and turns their claims into an app.Actor, and it mints development tokens for the
// `wolfix token` command. The user id is the token's `sub`; roles come from the `role` claim (one
// string) or the `roles` claim (an array).
package auth

import (
	"context"
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"

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

// Authenticator verifies HS256 bearer tokens signed with one secret.
type Authenticator struct {
	secret []byte
	parser *jwt.Parser
}

// NewAuthenticator builds an Authenticator for secret; now is the clock (nil means time.Now).
func NewAuthenticator(secret string, now func() time.Time) (*Authenticator, error) {
	if len(secret) < MinSecretBytes {
		return nil, ErrWeakSecret
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(Leeway),
	}
	if now != nil {
		opts = append(opts, jwt.WithTimeFunc(now))
	}
	return &Authenticator{secret: []byte(secret), parser: jwt.NewParser(opts...)}, nil
}

// Authenticate verifies token and returns the actor it names. Roles other than the three known
// ones are ignored, so a token from a shared identity provider may carry more.
func (a *Authenticator) Authenticate(_ context.Context, token string) (app.Actor, error) {
	if token == "" {
		return app.Actor{}, ErrTokenMissing
	}
	var c claims
	if _, err := a.parser.ParseWithClaims(token, &c, a.key); err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return app.Actor{}, ErrTokenExpired
		}
		return app.Actor{}, ErrTokenInvalid
	}
	if c.Subject == "" {
		return app.Actor{}, ErrTokenInvalid.WithMessage("the bearer token has no subject")
	}
	return app.Actor{UserID: c.Subject, Roles: knownRoles(append(c.Role, c.Roles...))}, nil
}

func (a *Authenticator) key(*jwt.Token) (any, error) { return a.secret, nil }

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
		RegisteredClaims: jwt.RegisteredClaims{Subject: sub, IssuedAt: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl))},
		Roles: names,
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte(secret))
}
