package auth_test

import (
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/wolfix/orders/internal/adapters/auth"
	"github.com/wolfix/orders/internal/app"
)

const secret = "test-secret-that-is-long-enough-for-hs256"

func sign(t *testing.T, method jwt.SigningMethod, key any, c jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, c).SignedString(key)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return s
}

func TestAuthenticate(t *testing.T) {
	now := time.Now()
	future, past := now.Add(time.Hour).Unix(), now.Add(-time.Hour).Unix()
	hs := func(c jwt.MapClaims) string { return sign(t, jwt.SigningMethodHS256, []byte(secret), c) }
	unsignedNone := sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, jwt.MapClaims{"sub": "u1", "exp": future, "role": "admin"})
	hs512 := sign(t, jwt.SigningMethodHS512, []byte(secret), jwt.MapClaims{"sub": "u1", "exp": future, "role": "admin"})
	otherKey := sign(t, jwt.SigningMethodHS256, []byte("another-secret-that-is-long-enough-too"), jwt.MapClaims{"sub": "u1", "exp": future})

	tests := []authCase{
		{"role claim as string", hs(jwt.MapClaims{"sub": "u1", "exp": future, "role": "customer"}), nil, "u1", []app.Role{app.RoleCustomer}},
		{"roles claim as array", hs(jwt.MapClaims{"sub": "u2", "exp": future, "roles": []string{"seller", "admin"}}), nil, "u2", []app.Role{app.RoleSeller, app.RoleAdmin}},
		{"unknown roles ignored", hs(jwt.MapClaims{"sub": "u3", "exp": future, "roles": []string{"root", "customer"}}), nil, "u3", []app.Role{app.RoleCustomer}},
		{"no roles", hs(jwt.MapClaims{"sub": "u4", "exp": future}), nil, "u4", nil},
		{"within leeway", hs(jwt.MapClaims{"sub": "u5", "exp": now.Add(-5 * time.Second).Unix()}), nil, "u5", nil},
		{"missing token", "", auth.ErrTokenMissing, "", nil},
		{"garbage", "not.a.jwt", auth.ErrTokenInvalid, "", nil},
		{"expired", hs(jwt.MapClaims{"sub": "u1", "exp": past}), auth.ErrTokenExpired, "", nil},
		{"no exp", hs(jwt.MapClaims{"sub": "u1"}), auth.ErrTokenInvalid, "", nil},
		{"not yet valid", hs(jwt.MapClaims{"sub": "u1", "exp": future, "nbf": future}), auth.ErrTokenInvalid, "", nil},
		{"no subject", hs(jwt.MapClaims{"exp": future, "role": "admin"}), auth.ErrTokenInvalid, "", nil},
		{"NUL in the subject", hs(jwt.MapClaims{"sub": "u1\x00", "exp": future, "role": "admin"}), auth.ErrTokenInvalid, "", nil},
		{"a subject with spaces", hs(jwt.MapClaims{"sub": "u 1", "exp": future}), auth.ErrTokenInvalid, "", nil},
		{"an over-long subject", hs(jwt.MapClaims{"sub": strings.Repeat("u", 256), "exp": future}), auth.ErrTokenInvalid, "", nil},
		{"alg none", unsignedNone, auth.ErrTokenInvalid, "", nil},
		{"alg HS512", hs512, auth.ErrTokenInvalid, "", nil},
		{"other secret", otherKey, auth.ErrTokenInvalid, "", nil},
		{"role of wrong type", hs(jwt.MapClaims{"sub": "u1", "exp": future, "role": 7}), auth.ErrTokenInvalid, "", nil},
	}
	a, err := auth.NewAuthenticator(secret, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkAuthentication(t, a, tests)
}

func TestAuthenticateRejectsForgedHeader(t *testing.T) {
	a, err := auth.NewAuthenticator(secret, nil)
	if err != nil {
		t.Fatal(err)
	}
	good, err := auth.Mint(secret, "u1", []app.Role{app.RoleCustomer}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// Swap the header for {"alg":"none"} and drop the signature: the classic downgrade.
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	parts := strings.Split(good, ".")
	if _, err := a.Authenticate(context.Background(), none+"."+parts[1]+"."); !errors.Is(err, auth.ErrTokenInvalid) {
		t.Fatalf("err = %v; want %v", err, auth.ErrTokenInvalid)
	}
}

func TestMintRoundTrip(t *testing.T) {
	a, err := auth.NewAuthenticator(secret, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := auth.Mint(secret, "admin-1", []app.Role{app.RoleAdmin, app.RoleSeller}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	actor, err := a.Authenticate(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if actor.UserID != "admin-1" || !slices.Equal(actor.Roles, []app.Role{app.RoleAdmin, app.RoleSeller}) {
		t.Errorf("actor = %+v; want admin-1 with admin and seller", actor)
	}
}

func TestExpiryUsesTheGivenClock(t *testing.T) {
	tok, err := auth.Mint(secret, "u1", []app.Role{app.RoleCustomer}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	later := func() time.Time { return time.Now().Add(time.Minute + auth.Leeway + time.Second) }
	a, err := auth.NewAuthenticator(secret, later)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(context.Background(), tok); !errors.Is(err, auth.ErrTokenExpired) {
		t.Fatalf("err = %v; want %v", err, auth.ErrTokenExpired)
	}
}

func TestRefusals(t *testing.T) {
	if _, err := auth.NewAuthenticator("short", nil); !errors.Is(err, auth.ErrWeakSecret) {
		t.Errorf("NewAuthenticator(short) err = %v; want %v", err, auth.ErrWeakSecret)
	}
	for name, mint := range map[string]func() (string, error){
		"weak secret":  func() (string, error) { return auth.Mint("short", "u1", nil, time.Hour) },
		"no subject":   func() (string, error) { return auth.Mint(secret, "", nil, time.Hour) },
		"no lifetime":  func() (string, error) { return auth.Mint(secret, "u1", nil, 0) },
		"unknown role": func() (string, error) { return auth.Mint(secret, "u1", []app.Role{"root"}, time.Hour) },
	} {
		if _, err := mint(); err == nil {
			t.Errorf("Mint with %s: err = nil; want an error", name)
		}
	}
}

// authCase is one token and what authenticating it must give.
type authCase struct {
	name      string
	token     string
	wantErr   error
	wantUser  string
	wantRoles []app.Role
}

// checkAuthentication authenticates every case's token with a and compares the outcome.
func checkAuthentication(t *testing.T, a *auth.Authenticator, cases []authCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			actor, err := a.Authenticate(context.Background(), tc.token)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v; want %v", err, tc.wantErr)
			}
			if actor.UserID != tc.wantUser || !slices.Equal(actor.Roles, tc.wantRoles) {
				t.Errorf("actor = %+v; want user %q roles %v", actor, tc.wantUser, tc.wantRoles)
			}
		})
	}
}
