package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/wolfix/orders/internal/adapters/config"
)

func TestDevSignInAllowedOnlyOnTheEmbeddedDefault(t *testing.T) {
	cases := []struct {
		name  string
		set   func(*config.Config)
		allow bool
	}{
		{"embedded default", func(*config.Config) {}, true},
		{"issuer and audience only", func(c *config.Config) { c.JWTIssuer, c.JWTAudience = "wolfix-dev", "orders" }, true},
		{"explicit JWT secret", func(c *config.Config) { c.JWTSecret = strings.Repeat("s", 32) }, false},
		{"JWKS URL", func(c *config.Config) { c.JWKSURL = "https://id.example.test/jwks.json" }, false},
		{"Stripe secret key", func(c *config.Config) { c.StripeSecretKey = "sk_test_x" }, false},
		{"Stripe publishable key", func(c *config.Config) { c.StripePublishableKey = "pk_test_x" }, false},
	}
	for _, tc := range cases {
		cfg := config.Defaults()
		tc.set(&cfg)
		if got := devSignInAllowed(cfg); got != tc.allow {
			t.Errorf("%s: devSignInAllowed = %v; want %v", tc.name, got, tc.allow)
		}
		if got := devSignIn(cfg, JWTSecret(strings.Repeat("d", 32))) != nil; got != tc.allow {
			t.Errorf("%s: minter present = %v; want %v", tc.name, got, tc.allow)
		}
	}
}

// TestE2EDevSignIn: the built binary offers the development sign-in on the embedded default
// (its tokens carry the configured issuer and audience and open the API), and refuses it with an
// explicit JWT secret or an identity provider's JWKS.
func TestE2EDevSignIn(t *testing.T) {
	s := startService(t, "WOLFIX_JWT_ISSUER=wolfix-dev", "WOLFIX_JWT_AUDIENCE=orders")
	s.expect(s.do(http.MethodGet, "/api/config", "", nil), http.StatusOK, "")
	if got := s.do(http.MethodGet, "/api/config", "", nil).body["devSignIn"]; got != true {
		t.Fatalf("/api/config devSignIn = %v; want true", got)
	}
	r := s.do(http.MethodPost, "/dev/sign-in", "", map[string]string{"role": "admin"})
	s.expect(r, http.StatusOK, "")
	token, _ := r.body["token"].(string)
	s.expect(s.do(http.MethodGet, "/api/orders", token, nil), http.StatusOK, "")
	if page := s.do(http.MethodGet, "/", "", nil); page.status != http.StatusOK || !strings.Contains(string(page.raw), "/assets/shop.js") {
		t.Fatalf("GET /: %d", page.status)
	}

	refusing := map[string][]string{
		"explicit JWT secret": {"WOLFIX_JWT_SECRET=" + strings.Repeat("k", 40)},
		"JWKS URL":            {"WOLFIX_JWKS_URL=" + newIdentityProvider(t).url},
	}
	for name, env := range refusing {
		s := startService(t, env...)
		s.expect(s.do(http.MethodPost, "/dev/sign-in", "", map[string]string{"role": "admin"}), http.StatusNotFound, "route_not_found")
		if got := s.do(http.MethodGet, "/api/config", "", nil).body["devSignIn"]; got != false {
			t.Errorf("%s: /api/config devSignIn = %v; want false", name, got)
		}
	}
}
