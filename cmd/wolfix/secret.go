package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/wolfix/orders/internal/adapters/config"
)

// devSecretFile holds the development JWT secret when WOLFIX_JWT_SECRET is unset, so that
// `wolfix serve` and `wolfix token` agree without a secret ever being committed.
const devSecretFile = "jwt-secret"

// JWTSecret is the HS256 secret that signs and verifies bearer tokens.
type JWTSecret string

// provideJWTSecret returns the configured secret, or the data dir's development secret, created
// (0600) on first use.
func provideJWTSecret(cfg config.Config) (JWTSecret, error) {
	if cfg.JWTSecret != "" {
		return JWTSecret(cfg.JWTSecret), nil
	}
	path := filepath.Join(cfg.DataDir, devSecretFile)
	raw, err := os.ReadFile(path)
	if err == nil {
		return JWTSecret(strings.TrimSpace(string(raw))), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read development JWT secret: %w", err)
	}
	return createDevSecret(path)
}

func createDevSecret(path string) (JWTSecret, error) {
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	secret := hex.EncodeToString(buf)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("create data dir: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) { // another process created it first: use theirs
		raw, rerr := os.ReadFile(path)
		return JWTSecret(strings.TrimSpace(string(raw))), rerr
	}
	if err != nil {
		return "", fmt.Errorf("create development JWT secret: %w", err)
	}
	if _, err := f.WriteString(secret + "\n"); err != nil {
		_ = f.Close()
		return "", err
	}
	return JWTSecret(secret), f.Close()
}
