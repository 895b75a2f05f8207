package httpapi

import (
	"fmt"
	"strings"

	"github.com/gin-gonic/gin"
)

// ContentSecurityPolicy is the one Content-Security-Policy of every response, pages and API
// alike. The pages (web.go) load their own scripts, styles and images from /assets and /vendor,
// and Stripe.js from https://js.stripe.com, which frames its card fields from js.stripe.com and
// hooks.stripe.com and calls api.stripe.com. Inline scripts are not allowed; inline styles are,
// because the API docs page (Swagger UI) sets style attributes. A page that needs another origin
// adds it here and nowhere else.
var ContentSecurityPolicy = strings.Join([]string{
	"default-src 'self'",
	"script-src 'self' https://js.stripe.com https://*.js.stripe.com",
	"frame-src https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com",
	"connect-src 'self' https://api.stripe.com",
	"img-src 'self' data: https://*.stripe.com",
	"style-src 'self' 'unsafe-inline'",
	"object-src 'none'",
	"base-uri 'self'",
	"form-action 'self'",
	"frame-ancestors 'none'",
}, "; ")

// StrictTransportSecurity is sent on responses served over TLS: browsers then use HTTPS only for
// a year.
const StrictTransportSecurity = "max-age=31536000; includeSubDomains"

// securityHeaders sets the headers that keep browsers from sniffing content types, framing the
// service, leaking URLs in Referer, or loading anything the policy does not name; and HSTS when
// the request came over TLS.
func (s *Server) securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	if c.Request.TLS != nil {
		h.Set("Strict-Transport-Security", StrictTransportSecurity)
	}
	c.Next()
}

// trustProxies makes gin believe X-Forwarded-For only from the given proxies (and no other
// header), so c.ClientIP(), which the access log and the rate limits use, is the real client's
// address. With no proxies it is always the TCP peer's.
func trustProxies(e *gin.Engine, proxies []string) error {
	e.ForwardedByClientIP = len(proxies) > 0
	e.RemoteIPHeaders = []string{"X-Forwarded-For"}
	if len(proxies) == 0 {
		proxies = nil
	}
	if err := e.SetTrustedProxies(proxies); err != nil {
		return fmt.Errorf("httpapi: trusted proxies: %w", err)
	}
	return nil
}
