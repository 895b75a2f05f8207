package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/wolfix/orders/internal/domain/payment"
)

// PersistTo makes the sandbox survive restarts: it loads the intents stored at path (if the file
// exists) and from then on rewrites the file after every change, atomically (temp file + rename),
// readable by the owner only. Call it once, before the gateway is used. The file holds sandbox
// client secrets, which only ever pay with test cards; it never holds a card number.
func (g *Gateway) PersistTo(path string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.load(path); err != nil {
		return err
	}
	g.statePath = path
	return nil
}

// intentRecord is the stored form of an intent.
type intentRecord struct {
	ID           string                  `json:"id"`
	ClientSecret string                  `json:"clientSecret"`
	PaymentID    string                  `json:"paymentId"`
	OrderID      string                  `json:"orderId"`
	Amount       int64                   `json:"amount"`
	Currency     string                  `json:"currency"`
	Status       payment.IntentStatus    `json:"status"`
	Created      time.Time               `json:"created"`
	ChargeID     string                  `json:"chargeId,omitempty"`
	LastError    *failureRecord          `json:"lastError,omitempty"`
	Refunded     int64                   `json:"refunded"`
	Refunds      map[string]refundRecord `json:"refunds,omitempty"`
}

type failureRecord struct {
	Code, DeclineCode, Reason, Message string
}

type refundRecord struct {
	ID        string `json:"id"`
	Requested int64  `json:"requested"`
	Amount    int64  `json:"amount"`
}

func (g *Gateway) load(path string) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sandbox: read state: %w", err)
	}
	var records []intentRecord
	if err := json.Unmarshal(data, &records); err != nil {
		return fmt.Errorf("sandbox: read state %s: %w", path, err)
	}
	for _, r := range records {
		in := fromRecord(r)
		g.intents[in.id] = in
		g.byPaymentID[in.paymentID] = in.id
	}
	return nil
}

// save writes every intent to the state file, if there is one; g.mu must be held. A failure is
// logged, not returned: the change it failed to store has already been made and answered.
func (g *Gateway) save() {
	if g.statePath == "" {
		return
	}
	records := make([]intentRecord, 0, len(g.intents))
	for _, in := range g.intents {
		records = append(records, in.record())
	}
	if err := writeAtomically(g.statePath, records); err != nil {
		g.log.Error("sandbox state not saved", slog.Any("error", err))
	}
}

func writeAtomically(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("sandbox: encode state: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".sandbox-state-*")
	if err != nil {
		return fmt.Errorf("sandbox: write state: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("sandbox: write state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("sandbox: write state: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("sandbox: write state: %w", err)
	}
	return nil
}

func (in *intent) record() intentRecord {
	r := intentRecord{ID: in.id, ClientSecret: in.clientSecret, PaymentID: in.paymentID, OrderID: in.orderID,
		Amount: in.amount, Currency: in.currency, Status: in.status, Created: in.created, ChargeID: in.chargeID,
		Refunded: in.refunded, Refunds: map[string]refundRecord{}}
	if e := in.lastError; e != nil {
		r.LastError = &failureRecord{Code: e.code, DeclineCode: e.declineCode, Reason: e.reason, Message: e.message}
	}
	for key, rf := range in.refunds {
		r.Refunds[key] = refundRecord{ID: rf.id, Requested: rf.requested, Amount: rf.amount}
	}
	return r
}

func fromRecord(r intentRecord) *intent {
	in := &intent{id: r.ID, clientSecret: r.ClientSecret, paymentID: r.PaymentID, orderID: r.OrderID,
		amount: r.Amount, currency: r.Currency, status: r.Status, created: r.Created, chargeID: r.ChargeID,
		refunded: r.Refunded, refunds: map[string]refund{}}
	if e := r.LastError; e != nil {
		in.lastError = &cardFailure{code: e.Code, declineCode: e.DeclineCode, reason: e.Reason, message: e.Message}
	}
	for key, rf := range r.Refunds {
		in.refunds[key] = refund{id: rf.ID, requested: rf.Requested, amount: rf.Amount}
	}
	return in
}
