// Package inputcheck owns the rules that text from outside the service must pass before any
// adapter hands it on: identifiers are short visible ASCII, free text is valid UTF-8 without NUL
// bytes (which PostgreSQL refuses in TEXT) and within a length, and every string of a JSON document
// obeys the free-text rule. The HTTP adapter, the token verifier and the webhook verifier apply
// them at the edge, so that hostile input is a 4xx there and never a storage error later.
package inputcheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxIDBytes is the longest identifier accepted: ids, event ids and keys are far shorter.
const MaxIDBytes = 255

// ID reports whether s can be an identifier: 1 to MaxIDBytes visible ASCII characters.
func ID(s string) bool {
	if s == "" || len(s) > MaxIDBytes {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// Text reports whether s is valid UTF-8 of at most maxBytes bytes without a NUL byte.
func Text(s string, maxBytes int) bool {
	return len(s) <= maxBytes && utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// ErrJSONText is wrapped by JSONStrings when a document's text breaks the rules.
var ErrJSONText = errors.New("inputcheck: JSON text")

// JSONStrings checks that data is valid UTF-8 and that every string in it, member names
// included, passes Text(s, maxBytes). A document that is not valid JSON passes: reporting
// that is the decoder's job, which knows better words for it.
func JSONStrings(data []byte, maxBytes int) error {
	if !utf8.Valid(data) {
		return fmt.Errorf("%w: the document is not valid UTF-8", ErrJSONText)
	}
	if bytes.IndexByte(data, '\\') < 0 && len(data) <= maxBytes {
		return nil // no escapes, no string longer than the document: nothing more to find
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // the end, or not JSON: the caller's decoder reports that
		}
		s, ok := tok.(string)
		if !ok {
			continue
		}
		if len(s) > maxBytes {
			return fmt.Errorf("%w: a string is longer than %d bytes", ErrJSONText, maxBytes)
		}
		if strings.ContainsRune(s, 0) {
			return fmt.Errorf("%w: a string holds a NUL character", ErrJSONText)
		}
	}
}
