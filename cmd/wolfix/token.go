package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wolfix/orders/internal/adapters/auth"
	"github.com/wolfix/orders/internal/adapters/config"
	"github.com/wolfix/orders/internal/app"
)

// tokenRequest is what `wolfix token` mints: whose token, with which roles, for how long.
type tokenRequest struct {
	sub   string
	roles roleList
	ttl   time.Duration
}

func (c *cli) tokenCommand() *cobra.Command {
	var req tokenRequest
	cmd := &cobra.Command{
		Use:   "token --sub ID --role ROLE [--role ROLE…] [--ttl DURATION]",
		Short: "Print a development JWT signed with the configured (or the data dir's) secret",
		Long: `Print an HS256 JWT for development and tests, signed with WOLFIX_JWT_SECRET or, when that
is unset, with the development secret kept in the data dir (created on first use), and carrying
WOLFIX_JWT_ISSUER / WOLFIX_JWT_AUDIENCE when set. Declines when WOLFIX_JWKS_URL is set: tokens then
come from your identity provider.`,
		Example: `  wolfix token --sub customer-1 --role customer
  wolfix token --sub ops-1 --role admin --role seller --ttl 1h`,
		Args: cobra.NoArgs,
		RunE: c.withConfig(func(_ context.Context, cfg config.Config, _ *slog.Logger) error {
			return token(cfg, req, c.stdout)
		}),
	}
	cmd.Flags().StringVar(&req.sub, "sub", "", "user id (the token's sub claim); required")
	cmd.Flags().Var(&req.roles, "role", "role: customer, seller or admin; repeat (or comma-separate) for several; required")
	cmd.Flags().DurationVar(&req.ttl, "ttl", 24*time.Hour, "lifetime of the token")
	return cmd
}

// token prints a JWT signed with the configured secret, for development and tests.
func token(cfg config.Config, req tokenRequest, stdout io.Writer) error {
	if req.sub == "" || len(req.roles) == 0 {
		return fmt.Errorf("%w: token needs --sub and at least one --role", errUsage)
	}
	if req.ttl <= 0 {
		return fmt.Errorf("%w: token --ttl must be positive, got %s", errUsage, req.ttl)
	}
	if cfg.JWKSURL != "" {
		return fmt.Errorf("%w: WOLFIX_JWKS_URL is set, so tokens come from your identity provider, not from wolfix token", errUsage)
	}
	secret, err := provideJWTSecret(cfg)
	if err != nil {
		return err
	}
	tok, err := auth.MintFor(string(secret), req.sub, req.roles, req.ttl, auth.Options{Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience})
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

// Type is the placeholder pflag prints in the help text.
func (r *roleList) Type() string { return "role" }

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
