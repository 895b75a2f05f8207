// Package config owns the service's configuration: defaults, then the YAML file
// (configs/wolfix.yaml, or the file WOLFIX_CONFIG names), then WOLFIX_* environment variables,
// then validation. A bad value stops start-up with a message naming the key to fix.
package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
	"gopkg.in/yaml.v3"
)

// DefaultFile is read when WOLFIX_CONFIG is unset and the file exists.
const DefaultFile = "configs/wolfix.yaml"

// Config is every setting. The yaml and env tags are the public names of each key.
type Config struct {
	HTTPAddr string `yaml:"httpAddr" env:"WOLFIX_HTTP_ADDR"`
	// TLSCertFile and TLSKeyFile (PEM), both set, make serve answer HTTPS on HTTPAddr.
	TLSCertFile string `yaml:"tlsCertFile" env:"WOLFIX_TLS_CERT_FILE"`
	TLSKeyFile  string `yaml:"tlsKeyFile" env:"WOLFIX_TLS_KEY_FILE"`
	// TrustedProxies are the reverse proxies (IPs or CIDRs) whose X-Forwarded-For names the
	// client; empty = believe no forwarding header (the client is the TCP peer).
	TrustedProxies []string `yaml:"trustedProxies" env:"WOLFIX_TRUSTED_PROXIES" envSeparator:","`
	PublicURL      string   `yaml:"publicUrl" env:"WOLFIX_PUBLIC_URL"`
	DataDir        string   `yaml:"dataDir" env:"WOLFIX_DATA_DIR"`
	DatabaseURL    string   `yaml:"databaseUrl" env:"WOLFIX_DATABASE_URL"`
	MigrateOnStart bool     `yaml:"migrateOnStart" env:"WOLFIX_MIGRATE_ON_START"`
	// SeedDemo creates the demo catalog when the catalog is empty: auto (only on the embedded
	// SQLite default, never on Postgres), true or false. SeedsDemo() resolves it.
	SeedDemo  string `yaml:"seedDemo" env:"WOLFIX_SEED_DEMO"`
	LogLevel  string `yaml:"logLevel" env:"WOLFIX_LOG_LEVEL"`
	LogFormat string `yaml:"logFormat" env:"WOLFIX_LOG_FORMAT"`

	JWTSecret string `yaml:"jwtSecret" env:"WOLFIX_JWT_SECRET"`
	// JWKSURL switches token verification from the HS256 secret to RS256/ES256 with the keys of an
	// identity provider's JWK Set (https; http only for loopback hosts). Empty = the secret.
	JWKSURL string `yaml:"jwksUrl" env:"WOLFIX_JWKS_URL"`
	// JWTIssuer and JWTAudience, when set, must match the token's iss and one of its aud values
	// (in both modes).
	JWTIssuer   string `yaml:"jwtIssuer" env:"WOLFIX_JWT_ISSUER"`
	JWTAudience string `yaml:"jwtAudience" env:"WOLFIX_JWT_AUDIENCE"`

	// PaymentProvider chooses the default payment provider: auto (the registered providers pick:
	// Stripe when a secret key is set, the sandbox otherwise) or a registered provider's name
	// (stripe, sandbox). Provider() resolves it.
	PaymentProvider string `yaml:"paymentProvider" env:"WOLFIX_PAYMENT_PROVIDER"`
	// PaymentProviders enables more providers beside the default (e.g. sandbox,stripe): orders
	// opened on one finish there after the default changes. Providers() lists them all.
	PaymentProviders     []string `yaml:"paymentProviders" env:"WOLFIX_PAYMENT_PROVIDERS" envSeparator:","`
	StripeSecretKey      string   `yaml:"stripeSecretKey" env:"WOLFIX_STRIPE_SECRET_KEY"`
	StripeWebhookSecret  string   `yaml:"stripeWebhookSecret" env:"WOLFIX_STRIPE_WEBHOOK_SECRET"`
	StripePublishableKey string   `yaml:"stripePublishableKey" env:"WOLFIX_STRIPE_PUBLISHABLE_KEY"`
	StripeAPIURL         string   `yaml:"stripeApiUrl" env:"WOLFIX_STRIPE_API_URL"`
	// SandboxWebhooks lets the sandbox deliver its signed events; false plays a provider whose
	// webhooks never arrive (the reconciler must then finish the payments).
	SandboxWebhooks bool `yaml:"sandboxWebhooks" env:"WOLFIX_SANDBOX_WEBHOOKS"`

	Currency           string `yaml:"currency" env:"WOLFIX_CURRENCY"`
	DeliveryFeeCourier int64  `yaml:"deliveryFeeCourier" env:"WOLFIX_DELIVERY_FEE_COURIER"`
	DeliveryFeeBranch  int64  `yaml:"deliveryFeeBranch" env:"WOLFIX_DELIVERY_FEE_BRANCH"`
	DeliveryFeeLocker  int64  `yaml:"deliveryFeeLocker" env:"WOLFIX_DELIVERY_FEE_LOCKER"`

	BrokerKind string `yaml:"brokerKind" env:"WOLFIX_BROKER_KIND"`
	NATSURL    string `yaml:"natsUrl" env:"WOLFIX_NATS_URL"`
	AMQPURL    string `yaml:"amqpUrl" env:"WOLFIX_AMQP_URL"`
	// Broker names; empty means the adapter's defaults (stream WOLFIX_EVENTS, subjects wolfix.*,
	// exchange wolfix.events). Separate environments sharing one broker set their own.
	NATSStream        string `yaml:"natsStream" env:"WOLFIX_NATS_STREAM"`
	NATSSubjectPrefix string `yaml:"natsSubjectPrefix" env:"WOLFIX_NATS_SUBJECT_PREFIX"`
	AMQPExchange      string `yaml:"amqpExchange" env:"WOLFIX_AMQP_EXCHANGE"`
	RunRelay          bool   `yaml:"runRelay" env:"WOLFIX_RUN_RELAY"`
	// RelayBatchSize is how many outbox rows one relay read takes; 0 = the adapter's choice.
	RelayBatchSize int `yaml:"relayBatchSize" env:"WOLFIX_RELAY_BATCH_SIZE"`
	// RelayStuckAfter is how long events may wait unpublished before /readyz reports the relay stuck.
	RelayStuckAfter time.Duration `yaml:"relayStuckAfter" env:"WOLFIX_RELAY_STUCK_AFTER"`
	// RedisURL (redis:// or rediss://) is the Redis shared by several replicas: rate-limit
	// counters and a Redis Streams broker. Empty = in-memory rate limits (one process).
	RedisURL string `yaml:"redisUrl" env:"WOLFIX_REDIS_URL"`
	// SMTPURL sends customer e-mails (smtp://, smtps://, smtp+insecure://…?from=…); empty = log them.
	SMTPURL string `yaml:"smtpUrl" env:"WOLFIX_SMTP_URL"`

	// UnpaidOrdersMax and UnpaidUnitsMax cap what one customer may hold in card orders not paid yet
	// (their stock stays reserved for up to PaymentTTL): open orders, and units across them.
	UnpaidOrdersMax int   `yaml:"unpaidOrdersMax" env:"WOLFIX_UNPAID_ORDERS_MAX"`
	UnpaidUnitsMax  int64 `yaml:"unpaidUnitsMax" env:"WOLFIX_UNPAID_UNITS_MAX"`
	// Rate limits, each "<count>-<S|M|H|D>" (30-M: 30 a minute) or "off": order creations per
	// customer and per client address, sandbox confirmations and failed authentications per
	// client address. Counted in Redis when RedisURL is set, else in this process.
	RateOrders         string `yaml:"rateOrders" env:"WOLFIX_RATE_ORDERS"`
	RateSandboxConfirm string `yaml:"rateSandboxConfirm" env:"WOLFIX_RATE_SANDBOX_CONFIRM"`
	RateAuthFailures   string `yaml:"rateAuthFailures" env:"WOLFIX_RATE_AUTH_FAILURES"`

	PaymentTTL     time.Duration `yaml:"paymentTtl" env:"WOLFIX_PAYMENT_TTL"`
	ReconcileAfter time.Duration `yaml:"reconcileAfter" env:"WOLFIX_RECONCILE_AFTER"`
	ReconcileEvery time.Duration `yaml:"reconcileEvery" env:"WOLFIX_RECONCILE_EVERY"`

	// IdempotencyLease is how long a request holds its Idempotency-Key before a retry may take it
	// over (the holder died); IdempotencyTTL is how long a key and its kept answer live.
	IdempotencyLease time.Duration `yaml:"idempotencyLease" env:"WOLFIX_IDEMPOTENCY_LEASE"`
	IdempotencyTTL   time.Duration `yaml:"idempotencyTtl" env:"WOLFIX_IDEMPOTENCY_TTL"`
	// InboxLease is how long one worker holds a webhook event before another may process it;
	// InboxSweepEvery is how often recorded events left unprocessed are looked for.
	InboxLease      time.Duration `yaml:"inboxLease" env:"WOLFIX_INBOX_LEASE"`
	InboxSweepEvery time.Duration `yaml:"inboxSweepEvery" env:"WOLFIX_INBOX_SWEEP_EVERY"`
	// InboxWorkers is how many webhook events one process works on at once.
	InboxWorkers int `yaml:"inboxWorkers" env:"WOLFIX_INBOX_WORKERS"`
	// CardCheckoutSlots is how many card checkouts may use the database at once, so that under
	// load paid orders settle before new unpaid ones are admitted (app.CheckoutSlots): 0 = one per
	// CPU the process may use (GOMAXPROCS), -1 = no bound. CardCheckoutMaxWait is how long a card
	// checkout waits for a slot before it is answered 503 checkout_busy.
	CardCheckoutSlots   int           `yaml:"cardCheckoutSlots" env:"WOLFIX_CARD_CHECKOUT_SLOTS"`
	CardCheckoutMaxWait time.Duration `yaml:"cardCheckoutMaxWait" env:"WOLFIX_CARD_CHECKOUT_MAX_WAIT"`

	// OpsAddr is where the worker roles (wolfix relay) serve /healthz, /readyz and /metrics;
	// empty = no operations listener. The API serves them on HTTPAddr.
	OpsAddr string `yaml:"opsAddr" env:"WOLFIX_OPS_ADDR"`
	// PprofAddr is a loopback host:port where serve exposes net/http/pprof for profiling;
	// empty (the default) = none. A non-loopback address is refused.
	PprofAddr string `yaml:"pprofAddr" env:"WOLFIX_PPROF_ADDR"`

	// Retention: how often serve prunes (0 = never; wolfix prune runs once), how many rows one
	// delete takes, and how old each kind of row must be before it goes.
	PruneEvery            time.Duration `yaml:"pruneEvery" env:"WOLFIX_PRUNE_EVERY"`
	PruneBatchSize        int           `yaml:"pruneBatchSize" env:"WOLFIX_PRUNE_BATCH_SIZE"`
	PruneOutboxAfter      time.Duration `yaml:"pruneOutboxAfter" env:"WOLFIX_PRUNE_OUTBOX_AFTER"`
	PruneIdempotencyAfter time.Duration `yaml:"pruneIdempotencyAfter" env:"WOLFIX_PRUNE_IDEMPOTENCY_AFTER"`
	PruneWebhooksAfter    time.Duration `yaml:"pruneWebhooksAfter" env:"WOLFIX_PRUNE_WEBHOOKS_AFTER"`
	PruneConsumedAfter    time.Duration `yaml:"pruneConsumedAfter" env:"WOLFIX_PRUNE_CONSUMED_AFTER"`
}

// ServesTLS reports whether serve answers HTTPS itself (a certificate and a key are configured).
func (c Config) ServesTLS() bool { return c.TLSCertFile != "" && c.TLSKeyFile != "" }

// Values of WOLFIX_SEED_DEMO besides true and false.
const SeedDemoAuto = "auto"

// SeedsDemo resolves WOLFIX_SEED_DEMO: auto seeds only the embedded SQLite default, so a
// Postgres deployment never gets demo products unless it asks for them.
func (c Config) SeedsDemo() bool {
	switch c.SeedDemo {
	case "true":
		return true
	case SeedDemoAuto, "":
		return c.DatabaseURL == ""
	}
	return false
}

// Defaults returns the embedded-default configuration: SQLite under ./var, in-process broker,
// sandbox payments.
func Defaults() Config {
	return Config{HTTPAddr: ":8080", DataDir: "./var", MigrateOnStart: true, SeedDemo: SeedDemoAuto,
		LogLevel: "info", LogFormat: "text", PaymentProvider: ProviderAuto, Currency: "USD", DeliveryFeeCourier: 700,
		DeliveryFeeBranch: 500, DeliveryFeeLocker: 400, BrokerKind: "gochannel", RunRelay: true,
		PaymentTTL: 30 * time.Minute, ReconcileAfter: 5 * time.Minute, ReconcileEvery: 30 * time.Second,
		IdempotencyLease: 5 * time.Second, IdempotencyTTL: 24 * time.Hour, InboxLease: time.Minute, InboxSweepEvery: 30 * time.Second, InboxWorkers: 16,
		CardCheckoutMaxWait: 5 * time.Second, UnpaidOrdersMax: 5, UnpaidUnitsMax: 50, RateOrders: "30-M", RateSandboxConfirm: "60-M", RateAuthFailures: "20-M",
		SandboxWebhooks: true, RelayStuckAfter: 15 * time.Second, OpsAddr: "127.0.0.1:9090",
		PruneEvery: 10 * time.Minute, PruneBatchSize: 500, PruneOutboxAfter: 24 * time.Hour,
		PruneIdempotencyAfter: time.Hour, PruneWebhooksAfter: 30 * 24 * time.Hour, PruneConsumedAfter: 7 * 24 * time.Hour}
}

// Load reads defaults, the config file and the environment, and validates the result.
func Load() (Config, error) { return LoadFile("") }

// LoadFile is Load with the config file given (wolfix --config); an empty file means the one
// WOLFIX_CONFIG names, else DefaultFile when it exists. A named file must exist.
func LoadFile(file string) (Config, error) {
	cfg := Defaults()
	path, explicit := file, file != ""
	if !explicit {
		path, explicit = os.LookupEnv("WOLFIX_CONFIG")
	}
	if !explicit {
		path = DefaultFile
	}
	if err := readFile(path, explicit, &cfg); err != nil {
		return Config{}, err
	}
	if err := env.Parse(&cfg); err != nil {
		return Config{}, explainEnvError(err)
	}
	return cfg, cfg.Validate()
}

func readFile(path string, required bool, cfg *Config) error {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && !required {
		return nil
	}
	if err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	return nil
}

// explainEnvError names the environment variable behind a parse error instead of the Go field.
func explainEnvError(err error) error {
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		return fmt.Errorf("environment: %w", err)
	}
	msgs := make([]string, 0, len(agg.Errors))
	for _, e := range agg.Errors {
		var pe env.ParseError
		if errors.As(e, &pe) {
			msgs = append(msgs, fmt.Sprintf("%s: %v", envKeyOf(pe.Name), pe.Err))
			continue
		}
		msgs = append(msgs, e.Error())
	}
	return fmt.Errorf("bad configuration: %s", strings.Join(msgs, "; "))
}

func envKeyOf(field string) string {
	if f, ok := reflect.TypeOf(Config{}).FieldByName(field); ok {
		return f.Tag.Get("env")
	}
	return field
}

// Setting returns, as text, the value of the setting whose environment key is key ("" when no
// setting has it): adapters that name their own settings, as the broker kinds do, read them so.
func (c Config) Setting(key string) string {
	v := reflect.ValueOf(c)
	for i := range v.NumField() {
		if v.Type().Field(i).Tag.Get("env") == key {
			return fmt.Sprint(v.Field(i).Interface())
		}
	}
	return ""
}
