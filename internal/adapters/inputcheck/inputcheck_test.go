package inputcheck_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/wolfix/orders/internal/adapters/inputcheck"
)

func TestID(t *testing.T) {
	tests := map[string]bool{
		"0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b": true,
		"pi_3Nq8ZP2eZvKYlo2C1":                 true,
		strings.Repeat("a", 255):               true,
		"":                                     false,
		strings.Repeat("a", 256):               false,
		"a\x00b":                               false,
		"a b":                                  false,
		"caf\xc3\xa9":                          false,
		"\xff":                                 false,
	}
	for id, want := range tests {
		if got := inputcheck.ID(id); got != want {
			t.Errorf("ID(%q) = %v; want %v", id, got, want)
		}
	}
}

func TestText(t *testing.T) {
	tests := []struct {
		s    string
		max  int
		want bool
	}{
		{"Київ, вул. Хрещатик\n22", 100, true},
		{"", 10, true},
		{"abcd", 3, false},
		{"a\x00b", 10, false},
		{"bad \xff utf-8", 100, false},
	}
	for _, tc := range tests {
		if got := inputcheck.Text(tc.s, tc.max); got != tc.want {
			t.Errorf("Text(%q, %d) = %v; want %v", tc.s, tc.max, got, tc.want)
		}
	}
}

func TestJSONStrings(t *testing.T) {
	tests := []struct {
		name, doc string
		ok        bool
	}{
		{"plain", `{"a":"b","n":[1,"c"]}`, true},
		{"escapes that are not NUL", `{"a":"line\nbreak \u00e9 \\u0000"}`, true},
		{"NUL in a value", `{"a":"x\u0000y"}`, false},
		{"NUL in a name", `{"a\u0000":"y"}`, false},
		{"NUL deep down", `{"a":[{"b":["\u0000"]}]}`, false},
		{"invalid UTF-8", "{\"a\":\"\xff\"}", false},
		{"an over-long string", `{"a":"` + strings.Repeat("x", 65) + `","b":"\n"}`, false},
		{"not JSON is the decoder's business", `{"a":`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := inputcheck.JSONStrings([]byte(tc.doc), 64)
			if tc.ok != (err == nil) || err != nil && !errors.Is(err, inputcheck.ErrJSONText) {
				t.Fatalf("JSONStrings(%q) = %v; want ok = %v", tc.doc, err, tc.ok)
			}
		})
	}
}
