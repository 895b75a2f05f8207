package stripe

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	stripeapi "github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/payment"
)

// Version is the Stripe API version every request of this adapter is pinned to (stripe-go v76's).
const Version = stripeapi.APIVersion

// ProviderName is the name this gateway reports as its provider.
const ProviderName = "stripe"

// Defaults applied by New to zero Config fields.
const (
	DefaultMaxRetries     = 2
	DefaultAttemptTimeout = 15 * time.Second
	DefaultCallTimeout    = 40 * time.Second
)

// Metadata keys the gateway writes on Stripe objects.
const (
	MetadataOrderID   = "order_id"
	MetadataPaymentID = "payment_id"
	MetadataRefundID  = "refund_id"
	MetadataReason    = "reason"
)

// Config configures a Gateway.
type Config struct {
	// SecretKey is the Stripe secret key (sk_test_…, sk_live_… or a restricted rk_…). Required.
	SecretKey string
	// APIURL overrides Stripe's API base URL, e.g. a stripe-mock at http://127.0.0.1:12111.
	// Empty means Stripe itself.
	APIURL string
	// MaxRetries bounds stripe-go's retries of retryable failures after the first attempt:
	// 0 means DefaultMaxRetries, a negative value disables retries.
	MaxRetries int
	// AttemptTimeout bounds one HTTP attempt (0 means DefaultAttemptTimeout).
	AttemptTimeout time.Duration
	// CallTimeout bounds one gateway call, retries included (0 means DefaultCallTimeout).
	CallTimeout time.Duration
	// Transport carries the HTTP requests; nil means http.DefaultTransport. Tests record with it.
	Transport http.RoundTripper
	// Logger receives stripe-go's log lines (redacted); nil means slog.Default().
	Logger *slog.Logger
}

// Gateway is the app.PaymentGateway on Stripe.
type Gateway struct {
	api         *client.API
	callTimeout time.Duration
}

var _ app.PaymentGateway = (*Gateway)(nil)

// ErrNoSecretKey is returned by New without a secret key.
var ErrNoSecretKey = errors.New("stripe: a secret key is required")

// New builds a Gateway with a Stripe client of its own; it never touches stripe-go's globals.
func New(cfg Config) (*Gateway, error) {
	if strings.TrimSpace(cfg.SecretKey) == "" {
		return nil, ErrNoSecretKey
	}
	cfg = withDefaults(cfg)
	backend := &stripeapi.BackendConfig{
		HTTPClient:        &http.Client{Transport: otelhttp.NewTransport(cfg.Transport), Timeout: cfg.AttemptTimeout},
		LeveledLogger:     newLogger(cfg.Logger),
		MaxNetworkRetries: stripeapi.Int64(int64(cfg.MaxRetries)),
		EnableTelemetry:   stripeapi.Bool(false),
	}
	if cfg.APIURL != "" {
		backend.URL = stripeapi.String(cfg.APIURL)
	}
	backends := &stripeapi.Backends{
		API:     stripeapi.GetBackendWithConfig(stripeapi.APIBackend, backend),
		Connect: stripeapi.GetBackendWithConfig(stripeapi.ConnectBackend, backend),
		Uploads: stripeapi.GetBackendWithConfig(stripeapi.UploadsBackend, backend),
	}
	return &Gateway{api: client.New(cfg.SecretKey, backends), callTimeout: cfg.CallTimeout}, nil
}

func withDefaults(cfg Config) Config {
	switch {
	case cfg.MaxRetries == 0:
		cfg.MaxRetries = DefaultMaxRetries
	case cfg.MaxRetries < 0:
		cfg.MaxRetries = 0
	}
	if cfg.AttemptTimeout <= 0 {
		cfg.AttemptTimeout = DefaultAttemptTimeout
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = DefaultCallTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return cfg
}

// Provider returns "stripe".
func (g *Gateway) Provider() string { return ProviderName }

// CreateIntent creates a PaymentIntent for req.Amount with automatic payment methods. The
// Idempotency-Key is req.PaymentID, so a retried create returns the first intent.
func (g *Gateway) CreateIntent(ctx context.Context, req app.IntentRequest) (payment.Intent, error) {
	if req.PaymentID == "" || req.OrderID == "" {
		return payment.Intent{}, app.ErrProviderRejected.WithMessage("a payment intent needs a payment id and an order id")
	}
	ctx, cancel := context.WithTimeout(ctx, g.callTimeout)
	defer cancel()
	params := &stripeapi.PaymentIntentParams{
		Amount:   stripeapi.Int64(req.Amount.Minor()),
		Currency: stripeapi.String(strings.ToLower(req.Amount.Currency().Code())),
		AutomaticPaymentMethods: &stripeapi.PaymentIntentAutomaticPaymentMethodsParams{
			Enabled: stripeapi.Bool(true),
		},
	}
	if req.ReceiptEmail != "" {
		params.ReceiptEmail = stripeapi.String(req.ReceiptEmail)
	}
	if req.Description != "" {
		params.Description = stripeapi.String(req.Description)
	}
	params.AddMetadata(MetadataOrderID, req.OrderID)
	params.AddMetadata(MetadataPaymentID, req.PaymentID)
	params.SetIdempotencyKey(req.PaymentID)
	params.Context = ctx
	pi, err := g.api.PaymentIntents.New(params)
	if err != nil {
		return payment.Intent{}, mapError("create payment intent", err)
	}
	return toIntent(pi), nil
}

// GetIntent retrieves the PaymentIntent with its latest charge expanded, whose amount_refunded
// tells refunds made outside the service (the Stripe dashboard) apart.
func (g *Gateway) GetIntent(ctx context.Context, intentID string) (payment.Intent, error) {
	ctx, cancel := context.WithTimeout(ctx, g.callTimeout)
	defer cancel()
	params := &stripeapi.PaymentIntentParams{}
	params.AddExpand("latest_charge")
	params.Context = ctx
	pi, err := g.api.PaymentIntents.Get(intentID, params)
	if err != nil {
		return payment.Intent{}, mapError("retrieve payment intent", err)
	}
	return toIntent(pi), nil
}

// CancelIntent cancels the PaymentIntent; Stripe refuses intents that succeeded or were canceled.
func (g *Gateway) CancelIntent(ctx context.Context, intentID string) (payment.Intent, error) {
	ctx, cancel := context.WithTimeout(ctx, g.callTimeout)
	defer cancel()
	params := &stripeapi.PaymentIntentCancelParams{}
	params.Context = ctx
	pi, err := g.api.PaymentIntents.Cancel(intentID, params)
	if err != nil {
		return payment.Intent{}, mapError("cancel payment intent", err)
	}
	return toIntent(pi), nil
}

// Refund creates a refund of req.Amount of the intent's charge (all that is left when the amount
// is zero). The Idempotency-Key is req.RefundID. A free-text reason goes to metadata; only Stripe's
// own reason codes are sent as the refund reason.
func (g *Gateway) Refund(ctx context.Context, req app.RefundRequest) (app.RefundResult, error) {
	if req.RefundID == "" || req.IntentID == "" {
		return app.RefundResult{}, app.ErrProviderRejected.WithMessage("a refund needs a refund id and an intent id")
	}
	ctx, cancel := context.WithTimeout(ctx, g.callTimeout)
	defer cancel()
	params := &stripeapi.RefundParams{PaymentIntent: stripeapi.String(req.IntentID)}
	if !req.Amount.IsZero() {
		params.Amount = stripeapi.Int64(req.Amount.Minor())
	}
	if isStripeRefundReason(req.Reason) {
		params.Reason = stripeapi.String(req.Reason)
	}
	if req.Reason != "" {
		params.AddMetadata(MetadataReason, req.Reason)
	}
	params.AddMetadata(MetadataRefundID, req.RefundID)
	params.SetIdempotencyKey(req.RefundID)
	params.Context = ctx
	r, err := g.api.Refunds.New(params)
	if err != nil {
		return app.RefundResult{}, mapError("create refund", err)
	}
	return app.RefundResult{ID: r.ID, Status: string(r.Status), Amount: r.Amount}, nil
}

func isStripeRefundReason(reason string) bool {
	switch stripeapi.RefundReason(reason) {
	case stripeapi.RefundReasonDuplicate, stripeapi.RefundReasonFraudulent, stripeapi.RefundReasonRequestedByCustomer:
		return true
	}
	return false
}
