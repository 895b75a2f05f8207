package sandbox_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wolfix/orders/internal/adapters/gatewaytest"
	"github.com/wolfix/orders/internal/adapters/sandbox"
	"github.com/wolfix/orders/internal/app"
)

func TestPersistedIntentsSurviveARestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sandbox.json")
	first := persisted(t, path)
	req := gatewaytest.NewRequest(t, 5000)
	paid := create(t, first, req)
	confirm(t, first, paid, "4000 0000 0000 9995")
	confirm(t, first, paid, "4242 4242 4242 4242")
	refund(t, first, paid.ID)
	declined := create(t, first, gatewaytest.NewRequest(t, 700))
	confirm(t, first, declined, "4000000000000069")

	second := persisted(t, path)
	for _, want := range []string{paid.ID, declined.ID} {
		if got, before := get(t, second, want), get(t, first, want); got != before {
			t.Errorf("after restart %+v; want %+v", got, before)
		}
	}
	if again := create(t, second, req); again.ID != paid.ID {
		t.Errorf("after restart the same payment id made intent %s; want %s", again.ID, paid.ID)
	}
	if _, err := second.Refund(context.Background(), app.RefundRequest{RefundID: paid.ID + "-refund", IntentID: paid.ID}); err != nil {
		t.Errorf("replaying a refund after restart: %v", err)
	}
	confirm(t, second, declined, "4242424242424242")

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, card := range []string{"4242424242424242", "4000000000009995", "4000000000000069"} {
		if strings.Contains(string(data), card) {
			t.Errorf("the state file holds card %s", card)
		}
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm()&0o077 != 0 {
		t.Errorf("state file mode = %v (%v); want readable by the owner only", info.Mode(), err)
	}
}

func TestPersistToRefusesAnUnreadableFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sandbox.json")
	if err := os.WriteFile(path, []byte("not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := sandbox.New(sandbox.Config{}).PersistTo(path); err == nil {
		t.Error("PersistTo accepted a corrupt state file")
	}
}

func persisted(t *testing.T, path string) *sandbox.Gateway {
	t.Helper()
	gw := sandbox.New(sandbox.Config{})
	if err := gw.PersistTo(path); err != nil {
		t.Fatalf("PersistTo: %v", err)
	}
	return gw
}
