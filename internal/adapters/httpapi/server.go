// Package httpapi owns the service's HTTP surface: the gin routes of DESIGN §3, the translation
// between JSON and the app layer's commands, and everything a request passes through on the way
// (its trace span and duration, request id, access log, panic recovery, body limit, bearer
// authentication, Idempotency-Key).
// Every failure leaves as an RFC 9457 problem document with a stable `code`; the status comes
// from the fault's kind, never from matching error text.
package httpapi

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/payment"
)

// DefaultMaxBodyBytes is the request body limit when Config.MaxBodyBytes is zero.
const DefaultMaxBodyBytes = 64 << 10

// Authenticator turns a bearer token into the actor it names. Failures are
// fault.KindUnauthenticated errors (answered 401).
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (app.Actor, error)
}

// SandboxConfirmer plays stripe.confirmCardPayment for the offline sandbox provider.
type SandboxConfirmer interface {
	Confirm(ctx context.Context, intentID, clientSecret, cardNumber string) (payment.Intent, error)
}

// Check is one readiness probe: a name for the answer and a function that fails when the
// dependency cannot serve.
type Check struct {
	Name  string
	Probe func(ctx context.Context) error
}

// PublicConfig is what a browser needs to start a checkout; it holds no secret.
type PublicConfig struct {
	StripePublishableKey string
	Provider             string
	Currency             string
}

// Config is everything the server needs. App, Auth, Idempotency and Log are required.
type Config struct {
	App         *app.Application
	Auth        Authenticator
	Idempotency app.IdempotencyStore
	Log         *slog.Logger
	// Clock stamps Idempotency-Key claims; nil means app.SystemClock.
	Clock app.Clock
	// IdempotencyLease is how long a request holds its Idempotency-Key before a retry may take it
	// over (the holder died); IdempotencyTTL is how long a key and its answer are kept. Zero means
	// DefaultIdempotencyLease and DefaultIdempotencyTTL.
	IdempotencyLease, IdempotencyTTL time.Duration
	// Checks decide /readyz.
	Checks []Check
	// Metrics serves GET /metrics when set (e.g. promhttp.Handler()).
	Metrics http.Handler
	// Requests is told of every request answered (request metrics); nil observes nothing.
	Requests RequestObserver
	// Traced wraps every request in an OpenTelemetry server span (the global tracer provider).
	// Leave it off while tracing is off: even a no-op span costs tens of µs per request.
	Traced bool
	Public PublicConfig
	// Sandbox enables POST /sandbox/payment-intents/{id}/confirm when set.
	Sandbox SandboxConfirmer
	// MaxBodyBytes limits request bodies; zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// RateLimits guard order creation, sandbox confirmation and authentication; zero limits nothing.
	RateLimits RateLimits
	// DevSignIn enables POST /dev/sign-in (the pages' development sign-in) when set; only on the
	// embedded default.
	DevSignIn TokenMinter
	// TrustedProxies are the addresses (IPs or CIDRs) of the reverse proxies whose
	// X-Forwarded-For is believed; with none, the client address is the TCP peer's.
	TrustedProxies []string
}

// Server is the HTTP adapter. Build it with NewServer and serve Handler().
type Server struct {
	app         *app.Application
	auth        Authenticator
	idempotency app.IdempotencyStore
	log         *slog.Logger
	clock       app.Clock
	checks      []Check
	public      PublicConfig
	sandbox     SandboxConfirmer
	maxBody     int64
	requests    RequestObserver
	traced      bool
	limits      RateLimits
	devSignIn   TokenMinter

	idempotencyLease, idempotencyTTL time.Duration

	engine *gin.Engine
}

// NewServer checks cfg and builds the routes.
func NewServer(cfg Config) (*Server, error) {
	if cfg.App == nil || cfg.Auth == nil || cfg.Idempotency == nil || cfg.Log == nil {
		return nil, errors.New("httpapi: App, Auth, Idempotency and Log are required")
	}
	s := &Server{app: cfg.App, auth: cfg.Auth, idempotency: cfg.Idempotency,
		log: slog.New(LogHandler(cfg.Log.Handler())), clock: cfg.Clock, checks: cfg.Checks,
		public: cfg.Public, sandbox: cfg.Sandbox, maxBody: cfg.MaxBodyBytes, devSignIn: cfg.DevSignIn}
	if s.clock == nil {
		s.clock = app.SystemClock{}
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	s.idempotencyLease, s.idempotencyTTL = cmp.Or(cfg.IdempotencyLease, DefaultIdempotencyLease),
		cmp.Or(cfg.IdempotencyTTL, DefaultIdempotencyTTL)
	s.requests, s.traced = cfg.Requests, cfg.Traced
	s.limits = cfg.RateLimits
	s.engine = s.routes(cfg.Metrics)
	if err := trustProxies(s.engine, cfg.TrustedProxies); err != nil {
		return nil, err
	}
	return s, nil
}

// Handler returns the http.Handler that serves the API.
func (s *Server) Handler() http.Handler { return s.engine }

func (s *Server) routes(metrics http.Handler) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.RedirectTrailingSlash = false
	e.Use(s.telemetry()...)
	e.Use(s.requestID, s.securityHeaders, s.accessLog, s.recoverPanics, s.screenInputs, s.limitBody)
	e.NoRoute(func(c *gin.Context) { s.fail(c, errRouteNotFound) })
	e.NoMethod(func(c *gin.Context) { s.fail(c, errMethodNotAllowed) })

	e.GET("/healthz", s.healthz)
	e.GET("/openapi.yaml", s.openAPI)
	e.GET("/readyz", s.readyz)
	if metrics != nil {
		e.GET("/metrics", gin.WrapH(metrics))
	}
	e.POST("/webhooks/:provider", s.webhook) // /webhooks/stripe, /webhooks/sandbox, …
	if s.sandbox != nil {
		e.POST("/sandbox/payment-intents/:id/confirm", s.limitSandboxConfirm, s.sandboxConfirm)
	}

	api := e.Group("/api")
	api.GET("/config", s.publicConfig)
	api.GET("/products", s.listProducts)
	api.GET("/products/:id", s.getProduct)

	authed := api.Group("", s.limitAuthFailures, s.authenticate)
	authed.POST("/products", s.idempotent, s.createProduct)
	authed.PATCH("/products/:id", s.updateProduct)
	authed.POST("/orders", s.limitOrders, s.idempotent, s.placeOrder(payment.MethodCash))
	authed.POST("/orders/with-payment", s.limitOrders, s.idempotent, s.placeOrder(payment.MethodCard))
	authed.GET("/orders", s.listOrders)
	authed.GET("/orders/:orderId", s.getOrder)
	authed.PATCH("/orders/:orderId/paid", s.confirmPaid)
	authed.POST("/orders/:orderId/cancel", s.idempotent, s.cancelOrder)
	authed.POST("/orders/:orderId/refunds", s.idempotent, s.refundOrder)
	authed.POST("/orders/:orderId/ship", s.idempotent, s.shipOrder)
	authed.POST("/orders/:orderId/deliver", s.idempotent, s.deliverOrder)
	authed.GET("/admin/webhook-events", s.listWebhookEvents)
	authed.POST("/admin/webhook-events/:id/replay", s.idempotent, s.replayWebhookEvent)
	s.webRoutes(e)
	return e
}
