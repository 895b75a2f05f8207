package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"
)

// JWKS defaults: how often the key set is re-read, how often at most a token naming an unknown
// key may trigger an early re-read (key rotation), and how long one fetch may take.
const (
	DefaultJWKSRefreshInterval = time.Hour
	DefaultJWKSUnknownKIDEvery = time.Minute
	DefaultJWKSFetchTimeout    = 10 * time.Second
)

// JWKSOptions tune the key-set fetching of NewJWKSAuthenticator (Options.JWKS); the zero value
// uses the defaults.
type JWKSOptions struct {
	// RefreshInterval is how often the key set is re-read in the background.
	RefreshInterval time.Duration
	// UnknownKIDEvery is the least time between two re-reads triggered by a token whose kid is not
	// in the cached set; tokens naming unknown keys in between are refused without a fetch.
	UnknownKIDEvery time.Duration
	// FetchTimeout bounds each fetch of the key set.
	FetchTimeout time.Duration
	// HTTPClient fetches the key set; nil means a client with FetchTimeout.
	HTTPClient *http.Client
	// Log receives failed background refreshes; nil means slog.Default().
	Log *slog.Logger
}

// ErrBadJWKSURL is returned for a JWKS URL that is not https (http is accepted for loopback hosts).
var ErrBadJWKSURL = errors.New("auth: the JWKS URL must be an https URL (http only for localhost)")

// CheckJWKSURL reports whether raw is an acceptable JWKS URL: https with a host, or http to a
// loopback host (localhost, 127.0.0.0/8, ::1) for local identity providers and tests.
func CheckJWKSURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return ErrBadJWKSURL
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if IsLoopbackHost(u.Hostname()) {
			return nil
		}
	}
	return ErrBadJWKSURL
}

// IsLoopbackHost reports whether host (without port) is localhost or a loopback IP address.
func IsLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// NewJWKSAuthenticator builds an Authenticator that verifies RS256 and ES256 tokens with the keys of
// the JWK Set at jwksURL. The set is fetched before it returns (an unreachable or empty set is an
// error, so a misconfigured service does not start), then re-read every RefreshInterval and, at most
// every UnknownKIDEvery, when a token names a key the cache does not hold. Tokens must carry a
// `kid`; HS256 and every other algorithm, including "none", are refused. The returned func stops
// the background refresh; ctx ending stops it too.
func NewJWKSAuthenticator(ctx context.Context, jwksURL string, opts Options) (*Authenticator, func(), error) {
	jo := opts.JWKS
	if err := CheckJWKSURL(jwksURL); err != nil {
		return nil, nil, err
	}
	if jo.RefreshInterval <= 0 {
		jo.RefreshInterval = DefaultJWKSRefreshInterval
	}
	if jo.UnknownKIDEvery <= 0 {
		jo.UnknownKIDEvery = DefaultJWKSUnknownKIDEvery
	}
	if jo.FetchTimeout <= 0 {
		jo.FetchTimeout = DefaultJWKSFetchTimeout
	}
	if jo.HTTPClient == nil {
		jo.HTTPClient = &http.Client{Timeout: jo.FetchTimeout}
	}
	log := jo.Log
	if log == nil {
		log = slog.Default()
	}
	ctx, cancel := context.WithCancel(ctx)
	failFirst := false
	kf, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{jwksURL}, keyfunc.Override{
		Client:                    jo.HTTPClient,
		HTTPTimeout:               jo.FetchTimeout,
		NoErrorReturnFirstHTTPReq: &failFirst,
		RefreshInterval:           jo.RefreshInterval,
		RefreshUnknownKID:         rate.NewLimiter(rate.Every(jo.UnknownKIDEvery), 1),
		// A token naming an unknown key never queues behind the limiter: it either gets the one
		// refresh allowed now or is refused at once. The wait bound also bounds that refresh.
		RateLimitWaitMax: jo.FetchTimeout,
		RefreshErrorHandlerFunc: func(u string) func(context.Context, error) {
			return func(ctx context.Context, err error) {
				log.WarnContext(ctx, "refreshing the JWKS failed; the cached keys stay in use", "url", u, "error", err)
			}
		},
	})
	if err != nil {
		cancel()
		return nil, nil, fmt.Errorf("auth: fetching the JWKS from %s: %w", jwksURL, err)
	}
	keys, err := kf.Storage().KeyReadAll(ctx)
	if err == nil && len(keys) == 0 {
		err = errors.New("it holds no usable keys")
	}
	if err != nil {
		cancel()
		return nil, nil, fmt.Errorf("auth: the JWKS at %s: %w", jwksURL, err)
	}
	a := &Authenticator{
		parser: newParser(opts, jwt.SigningMethodRS256.Alg(), jwt.SigningMethodES256.Alg()),
		keyFor: func(ctx context.Context, t *jwt.Token) (any, error) {
			if kid, ok := t.Header["kid"].(string); !ok || kid == "" {
				return nil, errors.New("auth: the token names no key (kid)")
			}
			key, err := kf.KeyfuncCtx(ctx)(t)
			if err != nil {
				return nil, err
			}
			return key, keyMatches(t.Method.Alg(), key)
		},
	}
	return a, cancel, nil
}

// keyMatches refuses a key of another type than alg needs (an EC key for RS256, a P-384 key for
// ES256, a symmetric key for anything), whatever the key set's own `alg` says.
func keyMatches(alg string, key any) error {
	switch k := key.(type) {
	case *rsa.PublicKey:
		if alg == jwt.SigningMethodRS256.Alg() && k.N.BitLen() >= 2048 {
			return nil
		}
	case *ecdsa.PublicKey:
		if alg == jwt.SigningMethodES256.Alg() && k.Curve == elliptic.P256() {
			return nil
		}
	}
	return fmt.Errorf("auth: the key is not an %s key", alg)
}
