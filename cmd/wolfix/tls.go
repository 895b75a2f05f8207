package main

import (
	"crypto/tls"
	"fmt"
)

// serverTLS is the TLS configuration of `wolfix serve` with WOLFIX_TLS_CERT_FILE and
// WOLFIX_TLS_KEY_FILE: TLS 1.2 or newer, and on TLS 1.2 only forward-secret AEAD suites (TLS 1.3
// chooses its own, all of them modern).
func serverTLS(certFile, keyFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("WOLFIX_TLS_CERT_FILE / WOLFIX_TLS_KEY_FILE: %w", err)
	}
	return &tls.Config{
		Certificates:     []tls.Certificate{cert},
		MinVersion:       tls.VersionTLS12,
		CurvePreferences: []tls.CurveID{tls.X25519, tls.CurveP256},
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
	}, nil
}
