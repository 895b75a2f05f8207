// Package smtpnotify owns the e-mails customers receive about their orders: an app.Notifier
// that looks the order up (for the recipient's address, number and amounts) and sends a plain-text
// message over SMTP with github.com/wneessen/go-mail. It is configured by one URL
// (WOLFIX_SMTP_URL): smtp://user:pass@host:587?from=… requires STARTTLS, smtps://…:465 uses
// implicit TLS, and smtp+insecure://host:1025 (no TLS, no auth) is for local mail catchers only.
// Addresses and message bodies are never logged.
package smtpnotify

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strconv"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/wolfix/orders/internal/app"
	"github.com/wolfix/orders/internal/domain/order"
)

// OrderReader finds the order a notification is about (app.OrderRepository satisfies it).
type OrderReader interface {
	Get(ctx context.Context, id string) (*order.Order, error)
}

// Notifier sends order e-mails.
type Notifier struct {
	client *gomail.Client
	from   string
	orders OrderReader
}

// New parses the SMTP URL and prepares a client; nothing is dialled until the first message.
func New(rawURL string, orders OrderReader) (*Notifier, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, errors.New("smtpnotify: WOLFIX_SMTP_URL is not a URL")
	}
	from := u.Query().Get("from")
	if _, err := mail.ParseAddress(from); err != nil {
		return nil, errors.New("smtpnotify: WOLFIX_SMTP_URL needs ?from=<sender address>")
	}
	opts, err := clientOptions(u)
	if err != nil {
		return nil, err
	}
	client, err := gomail.NewClient(u.Hostname(), opts...)
	if err != nil {
		return nil, fmt.Errorf("smtpnotify: %w", err)
	}
	return &Notifier{client: client, from: from, orders: orders}, nil
}

func clientOptions(u *url.URL) ([]gomail.Option, error) {
	opts := []gomail.Option{gomail.WithTimeout(15 * time.Second)}
	switch u.Scheme {
	case "smtp":
		opts = append(opts, gomail.WithTLSPortPolicy(gomail.TLSMandatory))
	case "smtps":
		opts = append(opts, gomail.WithSSLPort(false))
	case "smtp+insecure":
		opts = append(opts, gomail.WithTLSPortPolicy(gomail.NoTLS))
	default:
		return nil, fmt.Errorf("smtpnotify: scheme %q: use smtp, smtps or smtp+insecure", u.Scheme)
	}
	if p := u.Port(); p != "" {
		port, err := strconv.Atoi(p)
		if err != nil {
			return nil, fmt.Errorf("smtpnotify: port %q: %w", p, err)
		}
		opts = append(opts, gomail.WithPort(port))
	}
	if u.User != nil {
		pass, _ := u.User.Password()
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthPlain),
			gomail.WithUsername(u.User.Username()), gomail.WithPassword(pass))
	}
	return opts, nil
}

// Notify writes and sends the message for n. A delivery failure is returned, so the consumer
// retries it (and parks it in the poison queue after its retries).
func (n *Notifier) Notify(ctx context.Context, note app.Notification) error {
	o, err := n.orders.Get(ctx, note.OrderID)
	if err != nil {
		return fmt.Errorf("smtpnotify: order %s: %w", note.OrderID, err)
	}
	subject, body, err := compose(note.Kind, o)
	if err != nil {
		return err
	}
	msg := gomail.NewMsg()
	if err := msg.From(n.from); err != nil {
		return fmt.Errorf("smtpnotify: sender: %w", err)
	}
	if err := msg.To(o.Recipient().Email); err != nil {
		return fmt.Errorf("smtpnotify: order %s has an unusable recipient address", o.ID())
	}
	msg.Subject(subject)
	msg.SetMessageID()
	msg.SetBodyString(gomail.TypeTextPlain, body)
	if err := n.client.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("smtpnotify: send %s for order %s: %w", note.Kind, o.ID(), err)
	}
	return nil
}
