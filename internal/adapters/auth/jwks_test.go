package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/wolfix/orders/internal/adapters/auth"
	"github.com/wolfix/orders/internal/app"
)

// jwksServer serves a JWK Set on loopback that a test can change, counting the fetches.
type jwksServer struct {
	*httptest.Server
	mu      sync.Mutex
	keys    []map[string]string
	fetches atomic.Int32
}

func newJWKSServer(t *testing.T, keys ...map[string]string) *jwksServer {
	t.Helper()
	s := &jwksServer{keys: keys}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.fetches.Add(1)
		s.mu.Lock()
		body, _ := json.Marshal(map[string]any{"keys": s.keys})
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) serve(keys ...map[string]string) {
	s.mu.Lock()
	s.keys = keys
	s.mu.Unlock()
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func rsaKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func ecKey(t *testing.T, curve elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func rsaJWK(kid string, k *rsa.PrivateKey) map[string]string {
	return map[string]string{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
		"n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}
}

func ecJWK(kid string, k *ecdsa.PrivateKey) map[string]string {
	size := (k.Curve.Params().BitSize + 7) / 8
	crv := map[int]string{32: "P-256", 48: "P-384"}[size]
	return map[string]string{"kty": "EC", "kid": kid, "use": "sig", "crv": crv,
		"x": b64(k.X.FillBytes(make([]byte, size))), "y": b64(k.Y.FillBytes(make([]byte, size)))}
}

// signKID signs c with method and key, naming kid in the header when it is not empty.
func signKID(t *testing.T, method jwt.SigningMethod, key any, kid string, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return s
}

func newJWKSAuth(t *testing.T, url string, opts auth.Options) *auth.Authenticator {
	t.Helper()
	a, stop, err := auth.NewJWKSAuthenticator(context.Background(), url, opts)
	if err != nil {
		t.Fatalf("NewJWKSAuthenticator: %v", err)
	}
	t.Cleanup(stop)
	return a
}

func TestJWKSAuthenticate(t *testing.T) {
	rk, ek, other := rsaKey(t), ecKey(t, elliptic.P256()), rsaKey(t)
	p384 := ecKey(t, elliptic.P384())
	srv := newJWKSServer(t, rsaJWK("rsa-1", rk), ecJWK("ec-1", ek), ecJWK("ec-384", p384))
	a := newJWKSAuth(t, srv.URL, auth.Options{Issuer: "https://id.example.com/", Audience: "wolfix-orders"})

	now := time.Now()
	future, past := now.Add(time.Hour).Unix(), now.Add(-time.Hour).Unix()
	good := func(extra jwt.MapClaims) jwt.MapClaims {
		c := jwt.MapClaims{"sub": "u1", "exp": future, "iss": "https://id.example.com/",
			"aud": []string{"other-api", "wolfix-orders"}, "role": "customer"}
		for k, v := range extra {
			c[k] = v
		}
		return c
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&rk.PublicKey)
	if err != nil {
		t.Fatal(err)
	}

	tests := []authCase{
		{"RS256", signKID(t, jwt.SigningMethodRS256, rk, "rsa-1", good(nil)), nil, "u1", []app.Role{app.RoleCustomer}},
		{"ES256 with roles array", signKID(t, jwt.SigningMethodES256, ek, "ec-1",
			good(jwt.MapClaims{"sub": "u2", "role": nil, "roles": []string{"seller", "admin", "root"}})),
			nil, "u2", []app.Role{app.RoleSeller, app.RoleAdmin}},
		{"audience as a string", signKID(t, jwt.SigningMethodRS256, rk, "rsa-1", good(jwt.MapClaims{"aud": "wolfix-orders"})),
			nil, "u1", []app.Role{app.RoleCustomer}},
		{"unknown kid", signKID(t, jwt.SigningMethodRS256, rk, "rsa-2", good(nil)), auth.ErrTokenInvalid, "", nil},
		{"no kid", signKID(t, jwt.SigningMethodRS256, rk, "", good(nil)), auth.ErrTokenInvalid, "", nil},
		{"wrong key", signKID(t, jwt.SigningMethodRS256, other, "rsa-1", good(nil)), auth.ErrTokenInvalid, "", nil},
		{"HS256 with the public key as secret", signKID(t, jwt.SigningMethodHS256, pubDER, "rsa-1", good(nil)),
			auth.ErrTokenInvalid, "", nil},
		{"HS256 with the service secret", signKID(t, jwt.SigningMethodHS256, []byte(secret), "rsa-1", good(nil)),
			auth.ErrTokenInvalid, "", nil},
		{"alg none", signKID(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "rsa-1", good(nil)),
			auth.ErrTokenInvalid, "", nil},
		{"ES256 naming an RSA key", signKID(t, jwt.SigningMethodES256, ek, "rsa-1", good(nil)), auth.ErrTokenInvalid, "", nil},
		{"RS256 naming an EC key", signKID(t, jwt.SigningMethodRS256, rk, "ec-1", good(nil)), auth.ErrTokenInvalid, "", nil},
		{"ES256 naming a P-384 key", signKID(t, jwt.SigningMethodES256, ek, "ec-384", good(nil)), auth.ErrTokenInvalid, "", nil},
		{"RS512", signKID(t, jwt.SigningMethodRS512, rk, "rsa-1", good(nil)), auth.ErrTokenInvalid, "", nil},
		{"expired", signKID(t, jwt.SigningMethodRS256, rk, "rsa-1", good(jwt.MapClaims{"exp": past})), auth.ErrTokenExpired, "", nil},
		{"no exp", signKID(t, jwt.SigningMethodRS256, rk, "rsa-1", good(jwt.MapClaims{"exp": nil})), auth.ErrTokenInvalid, "", nil},
		{"wrong issuer", signKID(t, jwt.SigningMethodRS256, rk, "rsa-1", good(jwt.MapClaims{"iss": "https://evil.example.com/"})),
			auth.ErrTokenInvalid, "", nil},
		{"no issuer", signKID(t, jwt.SigningMethodRS256, rk, "rsa-1", good(jwt.MapClaims{"iss": nil})), auth.ErrTokenInvalid, "", nil},
		{"wrong audience", signKID(t, jwt.SigningMethodRS256, rk, "rsa-1", good(jwt.MapClaims{"aud": "billing"})),
			auth.ErrTokenInvalid, "", nil},
		{"no audience", signKID(t, jwt.SigningMethodRS256, rk, "rsa-1", good(jwt.MapClaims{"aud": nil})), auth.ErrTokenInvalid, "", nil},
		{"no subject", signKID(t, jwt.SigningMethodES256, ek, "ec-1", good(jwt.MapClaims{"sub": nil})), auth.ErrTokenInvalid, "", nil},
		{"missing token", "", auth.ErrTokenMissing, "", nil},
	}
	checkAuthentication(t, a, tests)
}

func TestJWKSWithoutIssuerOrAudienceChecksAcceptsAny(t *testing.T) {
	rk := rsaKey(t)
	srv := newJWKSServer(t, rsaJWK("k", rk))
	a := newJWKSAuth(t, srv.URL, auth.Options{})
	tok := signKID(t, jwt.SigningMethodRS256, rk, "k", jwt.MapClaims{"sub": "u1", "exp": time.Now().Add(time.Hour).Unix(),
		"iss": "anyone", "aud": "anything"})
	if actor, err := a.Authenticate(context.Background(), tok); err != nil || actor.UserID != "u1" {
		t.Fatalf("Authenticate = %+v, %v; want u1", actor, err)
	}
}

func TestJWKSKeyRotation(t *testing.T) {
	oldKey, newKey := rsaKey(t), ecKey(t, elliptic.P256())
	srv := newJWKSServer(t, rsaJWK("old", oldKey))
	a := newJWKSAuth(t, srv.URL, auth.Options{JWKS: auth.JWKSOptions{UnknownKIDEvery: time.Hour}})
	claims := func() jwt.MapClaims { return jwt.MapClaims{"sub": "u1", "exp": time.Now().Add(time.Hour).Unix()} }
	oldTok := signKID(t, jwt.SigningMethodRS256, oldKey, "old", claims())
	newTok := signKID(t, jwt.SigningMethodES256, newKey, "new", claims())
	ctx := context.Background()

	if _, err := a.Authenticate(ctx, oldTok); err != nil {
		t.Fatalf("old key before rotation: %v", err)
	}
	fetches := srv.fetches.Load()
	// The provider rotates: it publishes the new key beside the old one.
	srv.serve(rsaJWK("old", oldKey), ecJWK("new", newKey))
	if _, err := a.Authenticate(ctx, newTok); err != nil {
		t.Fatalf("new key after rotation: %v", err)
	}
	if got := srv.fetches.Load(); got != fetches+1 {
		t.Fatalf("fetches = %d; want one refresh for the unknown kid (%d)", got, fetches+1)
	}
	if _, err := a.Authenticate(ctx, oldTok); err != nil {
		t.Fatalf("old key still published: %v", err)
	}
	// Another unknown kid within UnknownKIDEvery is refused without hitting the provider again.
	stranger := signKID(t, jwt.SigningMethodRS256, oldKey, "nobody", claims())
	if _, err := a.Authenticate(ctx, stranger); !errors.Is(err, auth.ErrTokenInvalid) {
		t.Fatalf("unknown kid: err = %v; want token_invalid", err)
	}
	if got := srv.fetches.Load(); got != fetches+1 {
		t.Fatalf("fetches = %d after a rate-limited unknown kid; want %d", got, fetches+1)
	}
}

func TestJWKSBackgroundRefreshDropsRevokedKeys(t *testing.T) {
	k1, k2 := rsaKey(t), rsaKey(t)
	srv := newJWKSServer(t, rsaJWK("k1", k1), rsaJWK("k2", k2))
	a := newJWKSAuth(t, srv.URL, auth.Options{JWKS: auth.JWKSOptions{RefreshInterval: 20 * time.Millisecond,
		UnknownKIDEvery: time.Hour}})
	tok := signKID(t, jwt.SigningMethodRS256, k1, "k1", jwt.MapClaims{"sub": "u1", "exp": time.Now().Add(time.Hour).Unix()})
	ctx := context.Background()
	if _, err := a.Authenticate(ctx, tok); err != nil {
		t.Fatalf("before revocation: %v", err)
	}
	srv.serve(rsaJWK("k2", k2))
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := a.Authenticate(ctx, tok)
		if errors.Is(err, auth.ErrTokenInvalid) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("a revoked key still verifies after the refresh interval (err = %v)", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestJWKSServerDownAtStart(t *testing.T) {
	srv := newJWKSServer(t)
	srv.Close()
	_, _, err := auth.NewJWKSAuthenticator(context.Background(), srv.URL, auth.Options{
		JWKS: auth.JWKSOptions{FetchTimeout: 2 * time.Second}})
	if err == nil || !strings.Contains(err.Error(), srv.URL) || !strings.Contains(err.Error(), "JWKS") {
		t.Fatalf("err = %v; want an error naming the JWKS URL", err)
	}
}

func TestJWKSStartErrors(t *testing.T) {
	empty := newJWKSServer(t)
	if _, _, err := auth.NewJWKSAuthenticator(context.Background(), empty.URL, auth.Options{}); err == nil ||
		!strings.Contains(err.Error(), "no usable keys") {
		t.Errorf("empty key set: err = %v; want no usable keys", err)
	}
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
	}))
	defer broken.Close()
	if _, _, err := auth.NewJWKSAuthenticator(context.Background(), broken.URL, auth.Options{}); err == nil ||
		!strings.Contains(err.Error(), "503") {
		t.Errorf("HTTP 503: err = %v; want the status in the error", err)
	}
	if _, _, err := auth.NewJWKSAuthenticator(context.Background(), "http://id.example.com/jwks", auth.Options{}); !errors.Is(err, auth.ErrBadJWKSURL) {
		t.Errorf("plain http to a remote host: err = %v; want ErrBadJWKSURL", err)
	}
}

func TestCheckJWKSURL(t *testing.T) {
	for raw, ok := range map[string]bool{
		"https://id.example.com/.well-known/jwks.json": true,
		"http://localhost:8081/jwks":                   true,
		"http://127.0.0.1:9000/jwks":                   true,
		"http://[::1]:9000/jwks":                       true,
		"http://id.example.com/jwks":                   false,
		"http://10.0.0.5/jwks":                         false,
		"ftp://id.example.com/jwks":                    false,
		"https:///jwks":                                false,
		"id.example.com/jwks":                          false,
		"":                                             false,
	} {
		if err := auth.CheckJWKSURL(raw); (err == nil) != ok {
			t.Errorf("CheckJWKSURL(%q) = %v; want ok=%v", raw, err, ok)
		}
	}
}

func TestSecretModeChecksIssuerAndAudience(t *testing.T) {
	a, err := auth.NewSecretAuthenticator(secret, auth.Options{Issuer: "wolfix", Audience: "wolfix-orders"})
	if err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Hour).Unix()
	hs := func(c jwt.MapClaims) string { return sign(t, jwt.SigningMethodHS256, []byte(secret), c) }
	for name, tc := range map[string]struct {
		token string
		want  error
	}{
		"both match":     {hs(jwt.MapClaims{"sub": "u1", "exp": future, "iss": "wolfix", "aud": "wolfix-orders"}), nil},
		"wrong issuer":   {hs(jwt.MapClaims{"sub": "u1", "exp": future, "iss": "other", "aud": "wolfix-orders"}), auth.ErrTokenInvalid},
		"wrong audience": {hs(jwt.MapClaims{"sub": "u1", "exp": future, "iss": "wolfix", "aud": "other"}), auth.ErrTokenInvalid},
		"neither":        {hs(jwt.MapClaims{"sub": "u1", "exp": future}), auth.ErrTokenInvalid},
	} {
		if _, err := a.Authenticate(context.Background(), tc.token); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v; want %v", name, err, tc.want)
		}
	}
}
