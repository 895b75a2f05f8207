package httpapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// checkTimeout bounds each readiness probe, so a hung dependency makes /readyz fail, not hang.
const checkTimeout = 2 * time.Second

// healthz says the process is alive; it checks nothing else.
func (s *Server) healthz(c *gin.Context) {
	s.writeJSON(c, http.StatusOK, gin.H{"status": "ok"})
}

// readyz runs every readiness check and names the ones that failed, in the detail and in the
// problem's "unavailable" list (e.g. ["database", "outbox relay"]).
func (s *Server) readyz(c *gin.Context) {
	var failed []string
	for _, check := range s.checks {
		if err := s.probe(c.Request.Context(), check); err != nil {
			s.log.WarnContext(c.Request.Context(), "readiness check failed", "check", check.Name, "error", err)
			failed = append(failed, check.Name)
		}
	}
	if len(failed) > 0 {
		s.answerProblem(c, errNotReady.WithMessage("not ready: %s", strings.Join(failed, ", ")), failed)
		return
	}
	s.writeJSON(c, http.StatusOK, gin.H{"status": "ready"})
}

func (s *Server) probe(ctx context.Context, check Check) error {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	return check.Probe(ctx)
}

// publicConfigJSON is GET /api/config: what a checkout page needs to load Stripe.js.
type publicConfigJSON struct {
	StripePublishableKey *string `json:"stripePublishableKey"`
	Provider             string  `json:"provider"`
	Currency             string  `json:"currency"`
	// DevSignIn says whether POST /dev/sign-in exists (the pages' development sign-in).
	DevSignIn bool `json:"devSignIn"`
}

func (s *Server) publicConfig(c *gin.Context) {
	s.writeJSON(c, http.StatusOK, publicConfigJSON{StripePublishableKey: nullable(s.public.StripePublishableKey),
		Provider: s.public.Provider, Currency: s.public.Currency, DevSignIn: s.devSignIn != nil})
}
