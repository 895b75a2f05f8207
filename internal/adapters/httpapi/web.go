package httpapi

import (
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/fault"
	"github.com/wolfix/orders/web"
)

// TokenMinter signs a bearer token for sub with role, valid for ttl, that the server's
// Authenticator accepts. It backs the development sign-in of the pages.
type TokenMinter func(sub string, role app.Role, ttl time.Duration) (string, error)

// DevTokenTTL is how long a development sign-in lasts; the page asks again after it.
const DevTokenTTL = time.Hour

// Faults of the development sign-in.
var (
	errDevRole = fault.Invalid("dev_sign_in_role_invalid", "role must be customer, seller or admin")
	errDevSub  = fault.Invalid("dev_sign_in_sub_invalid", "sub must be 1 to 64 letters, digits or . _ @ -")
)

var devSubPattern = regexp.MustCompile(`^[A-Za-z0-9._@-]{1,64}$`)

// contentTypes are the media types of the embedded files, by extension; anything else is text.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".png":  "image/png",
	".svg":  "image/svg+xml",
}

// webRoutes adds the pages (shop, order, admin, API docs), their files and, when configured, the
// development sign-in.
func (s *Server) webRoutes(e *gin.Engine) {
	e.GET("/", s.page("shop.html"))
	e.GET("/orders/:orderId/confirmation", s.page("order.html"))
	e.GET("/admin", s.page("admin.html"))
	e.GET("/docs", s.page("docs.html"))
	e.GET("/assets/:name", s.files(web.Assets))
	e.GET("/vendor/:name", s.files(web.Vendor))
	if s.devSignIn != nil {
		e.POST("/dev/sign-in", s.devSignInHandler)
	}
}

// page serves one HTML document; its scripts read what they need from the URL.
func (s *Server) page(name string) gin.HandlerFunc {
	return func(c *gin.Context) { s.serveFile(c, web.Pages, name) }
}

// files serves the flat directory dir under the route's :name.
func (s *Server) files(dir fs.FS) gin.HandlerFunc {
	return func(c *gin.Context) { s.serveFile(c, dir, c.Param("name")) }
}

// serveFile answers an embedded file. The files change only with the binary, so clients
// revalidate (no-cache) rather than keep a stale script after an upgrade.
func (s *Server) serveFile(c *gin.Context, dir fs.FS, name string) {
	data, err := fs.ReadFile(dir, name)
	if err != nil {
		s.fail(c, errRouteNotFound.WithMessage("no such file"))
		return
	}
	contentType, ok := contentTypes[path.Ext(name)]
	if !ok {
		contentType = "text/plain; charset=utf-8"
	}
	c.Header("Cache-Control", "no-cache")
	c.Data(http.StatusOK, contentType, data)
}

// devSignInRequest is the body of POST /dev/sign-in; sub defaults to demo-<role>.
type devSignInRequest struct {
	Role string  `json:"role"`
	Sub  *string `json:"sub"`
}

type devSignInJSON struct {
	Token     string `json:"token"`
	TokenType string `json:"tokenType"`
	ExpiresAt string `json:"expiresAt"`
	Sub       string `json:"sub"`
	Role      string `json:"role"`
}

// devSignInHandler serves POST /dev/sign-in: a short-lived token for a demo user, so the pages
// can be tried on the embedded default without an identity provider. It exists only when the
// server was given a TokenMinter (see Config.DevSignIn).
func (s *Server) devSignInHandler(c *gin.Context) {
	var req devSignInRequest
	if err := decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	role, ok := app.ParseRole(req.Role)
	if !ok {
		s.fail(c, errDevRole)
		return
	}
	sub := "demo-" + req.Role
	if req.Sub != nil {
		sub = *req.Sub
	}
	if !devSubPattern.MatchString(sub) {
		s.fail(c, errDevSub)
		return
	}
	expires := s.clock.Now().Add(DevTokenTTL)
	token, err := s.devSignIn(sub, role, DevTokenTTL)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writeJSON(c, http.StatusOK, devSignInJSON{Token: token, TokenType: "Bearer", ExpiresAt: timestamp(expires),
		Sub: sub, Role: string(role)})
}
