package httpapi_test

import (
	"io/fs"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/adapters/auth"
	"github.com/wolfix/orders/internal/adapters/httpapi"
	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/web"
)

// withDevSignIn enables the development sign-in with the harness's secret, as `wolfix serve`
// does on the embedded default.
func withDevSignIn(c *httpapi.Config) {
	c.DevSignIn = func(sub string, role app.Role, ttl time.Duration) (string, error) {
		return auth.Mint(jwtSecret, sub, []app.Role{role}, ttl)
	}
}

// TestPagesAreServed: each page answers its embedded HTML, and every script and stylesheet it
// names is served with its media type.
func TestPagesAreServed(t *testing.T) {
	h := newHarness(t)
	pages := map[string]string{"/": "shop.html", "/orders/0190-abc/confirmation": "order.html",
		"/admin": "admin.html", "/docs": "docs.html"}
	linked := regexp.MustCompile(`(?:src|href)="(/(?:assets|vendor)/[^"]+)"`)
	for path, file := range pages {
		r := h.do(request{method: http.MethodGet, path: path})
		want, err := fs.ReadFile(web.Pages, file)
		if err != nil {
			t.Fatal(err)
		}
		if r.status != http.StatusOK || r.header.Get("Content-Type") != "text/html; charset=utf-8" || string(r.body) != string(want) {
			t.Fatalf("GET %s: %d %q; want 200 text/html with %s", path, r.status, r.header.Get("Content-Type"), file)
		}
		refs := linked.FindAllStringSubmatch(string(r.body), -1)
		if len(refs) < 2 {
			t.Errorf("%s links %d files; want its scripts and stylesheet", file, len(refs))
		}
		for _, ref := range refs {
			a := h.do(request{method: http.MethodGet, path: ref[1]})
			ct := a.header.Get("Content-Type")
			if a.status != http.StatusOK || len(a.body) == 0 ||
				!(strings.HasPrefix(ct, "text/javascript") || strings.HasPrefix(ct, "text/css")) {
				t.Errorf("%s links %s: %d %q", file, ref[1], a.status, ct)
			}
		}
	}
}

// TestPagesNeedNoInlineCode keeps the pages working under a Content-Security-Policy without
// 'unsafe-inline': no inline script, event handler, style element or style attribute.
func TestPagesNeedNoInlineCode(t *testing.T) {
	inline := map[string]*regexp.Regexp{
		"inline script":  regexp.MustCompile(`<script[^>]*>\s*[^<\s]`),
		"event handler":  regexp.MustCompile(`\son[a-z]+\s*=`),
		"style element":  regexp.MustCompile(`<style`),
		"style attr":     regexp.MustCompile(`\sstyle\s*=`),
		"javascript URL": regexp.MustCompile(`javascript:`),
	}
	scriptTag, src := regexp.MustCompile(`<script[^>]*>`), regexp.MustCompile(`\ssrc="/`)
	names, err := fs.Glob(web.Pages, "*.html")
	if err != nil || len(names) != 4 {
		t.Fatalf("pages: %v %v", names, err)
	}
	for _, name := range names {
		data, _ := fs.ReadFile(web.Pages, name)
		for _, tag := range scriptTag.FindAll(data, -1) {
			if !src.Match(tag) {
				t.Errorf("%s has a script that is not a file of this origin: %s", name, tag)
			}
		}
		for what, re := range inline {
			if loc := re.FindIndex(data); loc != nil {
				t.Errorf("%s has an %s at byte %d: %q", name, what, loc[0], data[loc[0]:min(loc[1]+20, len(data))])
			}
		}
	}
}

// TestPageFilesNotFound: an unknown or escaping file name is a 404 problem, never a directory or
// a file outside the embedded directory.
func TestPageFilesNotFound(t *testing.T) {
	h := newHarness(t)
	for _, path := range []string{"/assets/nope.js", "/assets/..", "/assets/%2e%2e%2fpages%2fshop.html",
		"/vendor/.", "/vendor/..%2fweb.go", "/assets/shop.html"} {
		h.do(request{method: http.MethodGet, path: path}).wantProblem(t, http.StatusNotFound, "route_not_found")
	}
}

// TestDevSignIn: where the server has a minter, POST /dev/sign-in answers a short-lived token
// for the demo user that the API accepts, and /api/config says the sign-in exists.
func TestDevSignIn(t *testing.T) {
	h := newHarness(t, withDevSignIn)
	var cfg struct{ DevSignIn bool }
	h.do(request{method: http.MethodGet, path: "/api/config"}).decode(t, &cfg)
	if !cfg.DevSignIn {
		t.Error("/api/config devSignIn = false; want true")
	}

	before := time.Now()
	r := h.do(request{method: http.MethodPost, path: "/dev/sign-in", body: `{"role":"admin"}`})
	var got struct{ Token, TokenType, ExpiresAt, Sub, Role string }
	r.decode(t, &got)
	if r.status != http.StatusOK || got.TokenType != "Bearer" || got.Sub != "demo-admin" || got.Role != "admin" {
		t.Fatalf("sign-in: %d %+v", r.status, got)
	}
	expires, err := time.Parse(time.RFC3339Nano, got.ExpiresAt)
	if err != nil || expires.Before(before.Add(httpapi.DevTokenTTL-time.Minute)) || expires.After(time.Now().Add(httpapi.DevTokenTTL+time.Minute)) {
		t.Errorf("expiresAt = %q; want about an hour from now", got.ExpiresAt)
	}
	actor, err := mustAuthenticator(t).Authenticate(t.Context(), got.Token)
	if err != nil || actor.UserID != "demo-admin" || !actor.IsAdmin() {
		t.Fatalf("token names %+v (%v); want demo-admin, admin", actor, err)
	}
	if r := h.do(request{method: http.MethodGet, path: "/api/orders", token: got.Token}); r.status != http.StatusOK {
		t.Errorf("GET /api/orders with the token: %d %s", r.status, r.body)
	}

	r = h.do(request{method: http.MethodPost, path: "/dev/sign-in", body: `{"role":"customer","sub":"olena@example.com"}`})
	r.decode(t, &got)
	if r.status != http.StatusOK || got.Sub != "olena@example.com" || got.Role != "customer" {
		t.Errorf("sign-in with sub: %d %+v", r.status, got)
	}
}

func TestDevSignInRefusesBadInput(t *testing.T) {
	h := newHarness(t, withDevSignIn)
	cases := []struct {
		body   string
		status int
		code   string
	}{
		{`{"role":"root"}`, http.StatusUnprocessableEntity, "dev_sign_in_role_invalid"},
		{`{}`, http.StatusUnprocessableEntity, "dev_sign_in_role_invalid"},
		{`{"role":"customer","sub":""}`, http.StatusUnprocessableEntity, "dev_sign_in_sub_invalid"},
		{`{"role":"customer","sub":"a b"}`, http.StatusUnprocessableEntity, "dev_sign_in_sub_invalid"},
		{`{"role":"customer","sub":"` + strings.Repeat("x", 65) + `"}`, http.StatusUnprocessableEntity, "dev_sign_in_sub_invalid"},
		{`{"role":"customer","exp":1}`, http.StatusBadRequest, "unknown_field"},
		{`{"role":`, http.StatusBadRequest, "malformed_json"},
	}
	for _, tc := range cases {
		h.do(request{method: http.MethodPost, path: "/dev/sign-in", body: tc.body}).wantProblem(t, tc.status, tc.code)
	}
}

// TestDevSignInAbsentWithoutMinter: a server not given a minter (any configuration but the
// embedded default) has no such route, and /api/config says so.
func TestDevSignInAbsentWithoutMinter(t *testing.T) {
	h := newHarness(t)
	h.do(request{method: http.MethodPost, path: "/dev/sign-in", body: `{"role":"admin"}`}).
		wantProblem(t, http.StatusNotFound, "route_not_found")
	var cfg struct{ DevSignIn *bool }
	h.do(request{method: http.MethodGet, path: "/api/config"}).decode(t, &cfg)
	if cfg.DevSignIn == nil || *cfg.DevSignIn {
		t.Errorf("/api/config devSignIn = %v; want false", cfg.DevSignIn)
	}
}

func mustAuthenticator(t *testing.T) *auth.Authenticator {
	t.Helper()
	a, err := auth.NewAuthenticator(jwtSecret, nil)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
