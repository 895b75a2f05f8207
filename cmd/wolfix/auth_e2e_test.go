package main

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// identityProvider is a stand-in for a real identity provider: an RSA key served as a JWKS on
// loopback, and tokens signed with it.
type identityProvider struct {
	key *rsa.PrivateKey
	url string
}

func newIdentityProvider(t *testing.T) *identityProvider {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	jwks, _ := json.Marshal(map[string]any{"keys": []map[string]string{{"kty": "RSA", "kid": "k1", "alg": "RS256",
		"use": "sig", "n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes())}}})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(jwks)
	}))
	t.Cleanup(srv.Close)
	return &identityProvider{key: key, url: srv.URL + "/.well-known/jwks.json"}
}

func (p *identityProvider) token(t *testing.T, sub, role string) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"sub": sub, "role": role,
		"iss": "https://id.example.test", "exp": time.Now().Add(time.Hour).Unix()})
	tok.Header["kid"] = "k1"
	signed, err := tok.SignedString(p.key)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

func TestE2EJWKSTokensFromAnIdentityProvider(t *testing.T) {
	idp := newIdentityProvider(t)
	s := startService(t, "WOLFIX_JWKS_URL="+idp.url, "WOLFIX_JWT_ISSUER=https://id.example.test")
	s.expect(s.do(http.MethodGet, "/api/orders", idp.token(t, "cust-jwks", "customer"), nil), http.StatusOK, "")
	s.expect(s.do(http.MethodGet, "/api/orders", idp.token(t, "seller-jwks", "seller"), nil), http.StatusForbidden, "forbidden")

	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "x", "role": "admin",
		"iss": "https://id.example.test", "exp": time.Now().Add(time.Hour).Unix()})
	forged, _ := hs.SignedString([]byte(strings.Repeat("s", 32)))
	s.expect(s.do(http.MethodGet, "/api/orders", forged, nil), http.StatusUnauthorized, "token_invalid")

	out, code := runWolfix(t, []string{"WOLFIX_JWKS_URL=" + idp.url, "WOLFIX_DATA_DIR=" + t.TempDir()},
		"token", "--sub", "u1", "--role", "admin")
	if code != 2 || !strings.Contains(out, "WOLFIX_JWKS_URL") {
		t.Fatalf("wolfix token in JWKS mode: exit %d\n%s", code, out)
	}
}

func TestE2EDevTokensCarryTheConfiguredIssuerAndAudience(t *testing.T) {
	s := startService(t, "WOLFIX_JWT_ISSUER=wolfix-dev", "WOLFIX_JWT_AUDIENCE=orders")
	s.expect(s.do(http.MethodGet, "/api/orders", s.token("cust-1", "customer"), nil), http.StatusOK, "")
}
