package sandbox

// record and fromRecord convert between an intent and its stored form.

func (in *intent) record() IntentRecord {
	r := IntentRecord{ID: in.id, ClientSecret: in.clientSecret, PaymentID: in.paymentID, OrderID: in.orderID,
		Amount: in.amount, Currency: in.currency, Status: in.status, Created: in.created, ChargeID: in.chargeID,
		Refunded: in.refunded, Refunds: map[string]RefundRecord{}}
	if e := in.lastError; e != nil {
		r.LastError = &FailureRecord{Code: e.code, DeclineCode: e.declineCode, Reason: e.reason, Message: e.message}
	}
	for key, rf := range in.refunds {
		r.Refunds[key] = RefundRecord{ID: rf.id, Requested: rf.requested, Amount: rf.amount}
	}
	return r
}

func fromRecord(r IntentRecord) *intent {
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
