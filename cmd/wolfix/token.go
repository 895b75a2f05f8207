package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/wolfix/orders/internal/adapters/auth"
	"github.com/wolfix/orders/internal/adapters/config"
	"github.com/wolfix/orders/internal/app"
)

// token prints a JWT signed with the configured secret, for development and tests.
func token(cfg config.Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	sub := fs.String("sub", "", "user id (the token's sub)")
	ttl := fs.Duration("ttl", 24*time.Hour, "lifetime")
	var roles roleList
	fs.Var(&roles, "role", "role: customer, seller or admin (repeat for several)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: token: %v", errUsage, err)
	}
	if *sub == "" || len(roles) == 0 {
		return fmt.Errorf("%w: token needs --sub and at least one --role", errUsage)
	}
	if cfg.JWKSURL != "" {
		return fmt.Errorf("%w: WOLFIX_JWKS_URL is set, so tokens come from your identity provider, not from wolfix token", errUsage)
	}
	secret, err := provideJWTSecret(cfg)
	if err != nil {
		return err
	}
	tok, err := auth.MintFor(string(secret), *sub, roles, *ttl, auth.Options{Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}

// roleList collects repeated --role flags (also accepting "a,b").
type roleList []app.Role

func (r *roleList) String() string {
	names := make([]string, len(*r))
	for i, role := range *r {
		names[i] = string(role)
	}
	return strings.Join(names, ",")
}

func (r *roleList) Set(v string) error {
	for _, name := range strings.Split(v, ",") {
		role, ok := app.ParseRole(strings.TrimSpace(name))
		if !ok {
			return fmt.Errorf("unknown role %q (want customer, seller or admin)", name)
		}
		*r = append(*r, role)
	}
	return nil
}
