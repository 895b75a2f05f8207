package httpapi

import (
	"time"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/contrib/instrumentation/github.com/gin-gonic/gin/otelgin"
)

// RequestObserver is told of every request answered (the metrics adapter counts them). route is
// the route template ("/api/orders/:orderId", or "unmatched"), never the raw path.
type RequestObserver interface {
	RequestServed(method, route string, status int, elapsed time.Duration)
}

// telemetry is the outermost middleware: when traced, a span per request (OpenTelemetry's global
// tracer provider; it joins the caller's trace from its traceparent header), then the request's
// measurement for s.requests. Probes and scrapes are not traced.
func (s *Server) telemetry() []gin.HandlerFunc {
	var handlers []gin.HandlerFunc
	if s.traced {
		handlers = append(handlers, otelgin.Middleware("wolfix", otelgin.WithGinFilter(func(c *gin.Context) bool {
			switch c.FullPath() {
			case "/healthz", "/readyz", "/metrics":
				return false
			}
			return true
		})))
	}
	if s.requests != nil {
		handlers = append(handlers, s.observeRequest)
	}
	return handlers
}

func (s *Server) observeRequest(c *gin.Context) {
	start := time.Now()
	c.Next()
	s.requests.RequestServed(c.Request.Method, routeOf(c), c.Writer.Status(), time.Since(start))
}

// routeOf is the request's route template, or "unmatched" when no route took it.
func routeOf(c *gin.Context) string {
	if route := c.FullPath(); route != "" {
		return route
	}
	return "unmatched"
}
