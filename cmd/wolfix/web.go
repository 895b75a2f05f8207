package main

import (
	"time"

	"github.com/wolfix/orders/internal/adapters/auth"
	"github.com/wolfix/orders/internal/adapters/config"
	"github.com/wolfix/orders/internal/adapters/httpapi"
	"github.com/wolfix/orders/internal/app"
)

// devSignInAllowed says whether the pages may offer the development sign-in: only on the embedded
// default, where the JWT secret is the data dir's own. An explicit secret, a JWKS URL or a Stripe
// key means tokens come from a real host application, and then nobody may mint one by asking.
func devSignInAllowed(cfg config.Config) bool {
	return cfg.JWTSecret == "" && cfg.JWKSURL == "" && cfg.StripeSecretKey == "" && cfg.StripePublishableKey == ""
}

// devSignIn is the minter behind POST /dev/sign-in, or nil where the sign-in must not exist. Its
// tokens carry the configured issuer and audience, so the service's own checks accept them.
func devSignIn(cfg config.Config, secret JWTSecret) httpapi.TokenMinter {
	if !devSignInAllowed(cfg) {
		return nil
	}
	opts := auth.Options{Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience}
	return func(sub string, role app.Role, ttl time.Duration) (string, error) {
		return auth.MintFor(string(secret), sub, []app.Role{role}, ttl, opts)
	}
}
