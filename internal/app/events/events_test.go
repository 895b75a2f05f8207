package events_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wolfix/orders/internal/app/events"
)

func TestEncodeDecodeRoundTripStampsTheVersion(t *testing.T) {
	at := time.Date(2026, 11, 30, 12, 0, 0, 5, time.FixedZone("X", 3600))
	payload, err := events.Encode(events.Event{ID: "ev-1", Type: events.TopicOrderPaid, OccurredAt: at, OrderID: "o-1",
		Data: events.OrderData{CustomerID: "c-1", TotalMinor: 1999, Currency: "USD"}})
	if err != nil {
		t.Fatal(err)
	}
	env, err := events.Decode(payload)
	if err != nil {
		t.Fatal(err)
	}
	if env.ID != "ev-1" || env.Type != events.TopicOrderPaid || env.Version != events.Version ||
		!env.OccurredAt.Equal(at) || env.OccurredAt.Location() != time.UTC || env.OrderID != "o-1" {
		t.Errorf("envelope: %+v", env)
	}
	data, err := env.OrderData()
	if err != nil || data.CustomerID != "c-1" || data.TotalMinor != 1999 {
		t.Errorf("data: %+v, %v", data, err)
	}
}

func TestEncodeRefusesWhatBreaksTheContract(t *testing.T) {
	now := time.Now()
	for name, ev := range map[string]events.Event{
		"no id":           {Type: events.TopicOrderPaid, OccurredAt: now},
		"no time":         {ID: "e", Type: events.TopicOrderPaid},
		"bad topic":       {ID: "e", Type: "Orders Paid", OccurredAt: now},
		"unencodable":     {ID: "e", Type: events.TopicOrderPaid, OccurredAt: now, Data: func() {}},
		"trailing dot":    {ID: "e", Type: "orders.", OccurredAt: now},
		"no topic at all": {ID: "e", OccurredAt: now},
	} {
		if _, err := events.Encode(ev); err == nil {
			t.Errorf("%s: encoded", name)
		}
	}
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name, payload string
		version       int // 0: refused
	}{
		{"current", `{"id":"e","type":"orders.paid","version":1,"data":{}}`, 1},
		{"written before versions", `{"id":"e","type":"orders.paid","data":{}}`, 1},
		{"a later version", `{"id":"e","type":"orders.paid","version":2,"data":{}}`, 0},
		{"no id", `{"type":"orders.paid"}`, 0},
		{"no type", `{"id":"e"}`, 0},
		{"not JSON", `{"id":`, 0},
	}
	for _, tt := range tests {
		env, err := events.Decode([]byte(tt.payload))
		switch {
		case tt.version == 0 && !errors.Is(err, events.ErrMalformed):
			t.Errorf("%s: %v; want ErrMalformed", tt.name, err)
		case tt.version != 0 && (err != nil || env.Version != tt.version):
			t.Errorf("%s: version %d, %v; want %d", tt.name, env.Version, err, tt.version)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"id":"e","type":"orders.paid","version":1,"occurredAt":"2026-11-30T00:00:00Z","data":{"totalMinor":1}}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		env, err := events.Decode(payload)
		if err != nil {
			return
		}
		if env.ID == "" || env.Type == "" || env.Version < 1 || env.Version > events.Version {
			t.Fatalf("accepted %q as %+v", payload, env)
		}
		if strings.TrimSpace(string(payload)) == "" {
			t.Fatal("accepted an empty payload")
		}
	})
}
