package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/wolfix/orders/internal/adapters/auth"
	"github.com/wolfix/orders/internal/app"
)

// tokenTTL outlives any run (runs are bounded by maxDuration).
const tokenTTL = maxDuration + 10*time.Minute

// tokenSource mints bearer tokens for the run's identities.
type tokenSource struct {
	fixed  string // -token: every customer uses it
	secret string // -jwt-secret: mint in process
	wolfix string // otherwise: this binary's `token` command
	tmpDir string // where loadgen built wolfix, removed at close
}

func newTokenSource(ctx context.Context, cfg config) (*tokenSource, error) {
	switch {
	case cfg.token != "":
		return &tokenSource{fixed: cfg.token}, nil
	case cfg.jwtSecret != "":
		return &tokenSource{secret: cfg.jwtSecret}, nil
	case cfg.wolfix != "":
		return &tokenSource{wolfix: cfg.wolfix}, nil
	}
	dir, err := os.MkdirTemp("", "loadgen-")
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(dir, "wolfix")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/wolfix")
	if out, err := build.CombinedOutput(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("build ./cmd/wolfix to mint tokens (run from the repository root, or pass -wolfix, -jwt-secret or -token): %v\n%s", err, out)
	}
	return &tokenSource{wolfix: bin, tmpDir: dir}, nil
}

// mint returns a token for sub with role.
func (s *tokenSource) mint(ctx context.Context, sub string, role app.Role) (string, error) {
	switch {
	case s.fixed != "":
		return s.fixed, nil
	case s.secret != "":
		return auth.Mint(s.secret, sub, []app.Role{role}, tokenTTL)
	}
	cmd := exec.CommandContext(ctx, s.wolfix, "token", "--sub", sub, "--role", string(role), "--ttl", tokenTTL.String())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s token: %v: %s", s.wolfix, err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

func (s *tokenSource) close() {
	if s.tmpDir != "" {
		_ = os.RemoveAll(s.tmpDir)
	}
}
