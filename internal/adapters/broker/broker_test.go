package broker_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/wolfix/orders/internal/adapters/broker"
)

// opened stands for a broker a factory opened; the registry never looks inside it.
type opened struct{ broker.Broker }

func TestRegistryOpensTheKindNamed(t *testing.T) {
	var got broker.Settings
	broker.Register(broker.Registration{Kind: "test-open", Requires: []string{"TEST_URL"},
		Open: func(_ context.Context, s broker.Settings, _ *slog.Logger) (broker.Broker, error) {
			got = s
			return opened{}, nil
		}})
	settings := broker.SettingsMap{"TEST_URL": "test://here"}
	b, err := broker.Open(t.Context(), "test-open", settings, slog.New(slog.DiscardHandler))
	if err != nil || b != (opened{}) || got.Setting("TEST_URL") != "test://here" {
		t.Fatalf("got %v, %v, settings %v; want the factory's broker, opened with the settings", b, err, got)
	}
	if !slices.Contains(broker.Kinds(), "test-open") || !slices.IsSorted(broker.Kinds()) {
		t.Errorf("Kinds: got %v; want them sorted, test-open among them", broker.Kinds())
	}
}

func TestRegistryRefusesUnknownKindsAndMissingSettings(t *testing.T) {
	broker.Register(broker.Registration{Kind: "test-needs", Requires: []string{"TEST_A", "TEST_B"},
		Open: func(context.Context, broker.Settings, *slog.Logger) (broker.Broker, error) {
			t.Error("opened without its settings")
			return nil, errors.New("unreachable")
		}})
	log := slog.New(slog.DiscardHandler)
	if _, err := broker.Open(t.Context(), "kafka", broker.SettingsMap{}, log); err == nil || !strings.Contains(err.Error(), `"kafka"`) ||
		!strings.Contains(err.Error(), "test-needs") {
		t.Errorf("kind kafka: got %v; want an error naming it and the registered kinds", err)
	}
	_, err := broker.Open(t.Context(), "test-needs", broker.SettingsMap{"TEST_A": "set"}, log)
	if err == nil || !strings.Contains(err.Error(), "TEST_B") || strings.Contains(err.Error(), "TEST_A") {
		t.Errorf("TEST_B missing: got %v; want an error naming TEST_B only", err)
	}
}

func TestRegisteringAKindTwicePanics(t *testing.T) {
	r := broker.Registration{Kind: "test-twice", Open: func(context.Context, broker.Settings, *slog.Logger) (broker.Broker, error) {
		return opened{}, nil
	}}
	broker.Register(r)
	defer func() {
		if recover() == nil {
			t.Error("a second registration of test-twice did not panic")
		}
	}()
	broker.Register(r)
}

func TestSubscribersRequireAGroupAndCloseTogether(t *testing.T) {
	var subs broker.Subscribers
	open := func(string) (message.Subscriber, error) { return &closeCounter{}, nil }
	if _, err := subs.Open("", open); !errors.Is(err, broker.ErrNoGroup) {
		t.Errorf("no group: got %v; want ErrNoGroup", err)
	}
	a, _ := subs.Open("a", open)
	b, _ := subs.Open("b", open)
	if err := subs.CloseAll(); err != nil {
		t.Fatal(err)
	}
	if a.(*closeCounter).closed != 1 || b.(*closeCounter).closed != 1 {
		t.Errorf("closed %d and %d times; want once each", a.(*closeCounter).closed, b.(*closeCounter).closed)
	}
}

type closeCounter struct {
	message.Subscriber
	closed int
}

func (c *closeCounter) Close() error { c.closed++; return nil }
