package httpapi

import (
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wolfix/orders/internal/adapters/ratelimit"
	"github.com/wolfix/orders/internal/domain/fault"
)

// RateLimits are the limits the server enforces, so that no single client starves the others
// (DESIGN §8, invariant 10). A nil limit is off.
type RateLimits struct {
	// Orders counts order creations (both POSTs) per customer and per client address.
	Orders *ratelimit.Limit
	// SandboxConfirm counts sandbox card confirmations per client address.
	SandboxConfirm *ratelimit.Limit
	// AuthFailures counts failed authentications per client address; once the limit is reached,
	// the address is refused before its token is read, until the window ends.
	AuthFailures *ratelimit.Limit
}

// errRateLimited answers 429, with Retry-After.
var errRateLimited = fault.Conflict("rate_limited", "too many requests; retry after the seconds in Retry-After")

// limitOrders counts an order creation in the customer's window and in the client address's.
func (s *Server) limitOrders(c *gin.Context) {
	s.throttle(c, s.limits.Orders, "customer:"+actorOf(c).UserID, "address:"+clientAddress(c))
}

// limitSandboxConfirm counts a sandbox confirmation in the client address's window.
func (s *Server) limitSandboxConfirm(c *gin.Context) {
	s.throttle(c, s.limits.SandboxConfirm, "address:"+clientAddress(c))
}

// limitAuthFailures refuses a client address that has failed authentication as often as the
// limit allows within the window, and counts every failure (a 401) of the requests it lets
// through. Requests already in flight when the limit is reached still finish.
func (s *Server) limitAuthFailures(c *gin.Context) {
	limit := s.limits.AuthFailures
	if limit == nil {
		return
	}
	ctx, key := c.Request.Context(), "address:"+clientAddress(c)
	if d := limit.Check(ctx, key); !d.Allowed {
		s.refuse(c, d)
		return
	}
	c.Next()
	if c.Writer.Status() == http.StatusUnauthorized {
		limit.Take(ctx, key)
	}
}

// throttle counts the request in each key's window and refuses it as soon as one is full. The
// headers show the window with the fewest requests left.
func (s *Server) throttle(c *gin.Context, limit *ratelimit.Limit, keys ...string) {
	if limit == nil {
		return
	}
	var shown ratelimit.Decision
	for i, key := range keys {
		d := limit.Take(c.Request.Context(), key)
		if !d.Allowed {
			s.refuse(c, d)
			return
		}
		if i == 0 || d.Remaining < shown.Remaining {
			shown = d
		}
	}
	setRateHeaders(c, shown)
}

// refuse answers 429 with Retry-After.
func (s *Server) refuse(c *gin.Context, d ratelimit.Decision) {
	setRateHeaders(c, d)
	wait := int(d.RetryAfter() / time.Second)
	c.Header("Retry-After", strconv.Itoa(wait))
	s.fail(c, errRateLimited.WithMessage("too many requests; retry in %d s", wait))
}

// setRateHeaders writes the window's state the way ulule/limiter's own middlewares do.
func setRateHeaders(c *gin.Context, d ratelimit.Decision) {
	c.Header("X-RateLimit-Limit", strconv.FormatInt(d.Limit, 10))
	c.Header("X-RateLimit-Remaining", strconv.FormatInt(d.Remaining, 10))
	c.Header("X-RateLimit-Reset", strconv.FormatInt(d.Reset.Unix(), 10))
}

// clientAddress is the key of the client's address: gin's ClientIP (which believes forwarding
// headers from trusted proxies only), an IPv6 address narrowed to its /64, which one subscriber
// usually holds whole.
func clientAddress(c *gin.Context) string {
	ip, err := netip.ParseAddr(c.ClientIP())
	if err != nil {
		return c.ClientIP()
	}
	if ip = ip.Unmap().WithZone(""); ip.Is6() {
		prefix, _ := ip.Prefix(64)
		return prefix.String()
	}
	return ip.String()
}
