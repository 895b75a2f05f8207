package main

import (
	"testing"
)

func TestCheckLoopbackURL(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:8080", true},
		{"http://127.1.2.3:80", true},
		{"http://localhost:8080", true},
		{"http://[::1]:8080", true},
		{"https://127.0.0.1", true},
		{"http://10.0.0.1:8080", false},
		{"http://example.com", false},
		{"http://0.0.0.0:8080", false},
		{"ftp://127.0.0.1", false},
		{"127.0.0.1:8080", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			if err := checkLoopbackURL(tt.url); (err == nil) != tt.ok {
				t.Errorf("checkLoopbackURL(%q) = %v; want ok=%v", tt.url, err, tt.ok)
			}
		})
	}
}

func TestRefuseNonLoopback(t *testing.T) {
	if err := refuseNonLoopback("tcp", "127.0.0.1:8080", nil); err != nil {
		t.Errorf("loopback refused: %v", err)
	}
	if err := refuseNonLoopback("tcp", "192.0.2.1:8080", nil); err == nil {
		t.Error("192.0.2.1 accepted; want refused")
	}
}

func TestParseFlagsBounds(t *testing.T) {
	tests := []struct {
		name string
		args []string
		ok   bool
	}{
		{"defaults", nil, true},
		{"remote base", []string{"-base", "http://192.0.2.1:8080"}, false},
		{"no duration", []string{"-duration", "0"}, false},
		{"too long", []string{"-duration", "2h"}, false},
		{"token without product", []string{"-token", "x"}, false},
		{"unknown mode", []string{"-mode", "write"}, false},
		{"card flow", []string{"-mode", "card-flow", "-customers", "32", "-orders", "100"}, true},
		{"polling instead of a long poll", []string{"-wait", "0"}, true},
		{"longest wait", []string{"-wait", "30s", "-timeout", "31s"}, true},
		{"wait past the service's longest", []string{"-wait", "31s", "-timeout", "40s"}, false},
		{"wait not in whole seconds", []string{"-wait", "1500ms"}, false},
		{"wait as long as a request may take", []string{"-wait", "10s", "-timeout", "10s"}, false},
		{"negative wait", []string{"-wait", "-1s"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parseFlags(tt.args, discard{}); (err == nil) != tt.ok {
				t.Errorf("parseFlags(%q) = %v; want ok=%v", tt.args, err, tt.ok)
			}
		})
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
