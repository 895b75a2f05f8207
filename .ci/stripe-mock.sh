#!/usr/bin/env bash
# stripe-mock.sh start|stop — run the pinned stripe-mock on loopback for the Stripe adapter tests.
#
#   eval "$(.ci/stripe-mock.sh start)"   # installs if needed, starts, exports WOLFIX_TEST_STRIPE_MOCK_URL
#                                         # and WOLFIX_STRIPE_MOCK_DIR (its own fresh state directory)
#   go test ./internal/adapters/stripe/...
#   .ci/stripe-mock.sh stop
#
# stripe-mock binds HTTP and HTTPS to 127.0.0.1 on ports the kernel picks (never all interfaces),
# and the chosen HTTP address is read back from its log. It needs no key: any sk_test_… works.
set -euo pipefail

VERSION="v0.203.0"
# Each start gets its own state directory, so concurrent runs never stop each other's stripe-mock;
# stop finds it through WOLFIX_STRIPE_MOCK_DIR, which start exports.
STATE_DIR="${WOLFIX_STRIPE_MOCK_DIR:-}"
PID_FILE=""
LOG_FILE=""

use_state_dir() {
	STATE_DIR="$1"
	PID_FILE="$STATE_DIR/pid"
	LOG_FILE="$STATE_DIR/log"
}

bin_path() { echo "$(go env GOPATH)/bin/stripe-mock"; }

installed_version() {
	go version -m "$(bin_path)" 2>/dev/null | awk '$1 == "mod" && $2 == "github.com/stripe/stripe-mock" { print $3 }'
}

install() {
	if [[ "$(installed_version)" != "$VERSION" ]]; then
		echo "installing stripe-mock $VERSION" >&2
		go install "github.com/stripe/stripe-mock@$VERSION" >&2
	fi
}

running() { [[ -f "$PID_FILE" ]] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; }

http_addr() { sed -n 's/^Listening for HTTP at address: //p' "$LOG_FILE" | head -n 1; }

start() {
	install
	if [[ -z "$STATE_DIR" ]]; then
		STATE_DIR="$(mktemp -d "${TMPDIR:-/tmp}/wolfix-stripe-mock.XXXXXX")"
	fi
	use_state_dir "$STATE_DIR"
	if ! running; then
		: >"$LOG_FILE"
		nohup "$(bin_path)" -http-addr 127.0.0.1: -https-addr 127.0.0.1: >"$LOG_FILE" 2>&1 &
		echo $! >"$PID_FILE"
	fi
	local addr=""
	for _ in $(seq 1 100); do
		addr="$(http_addr)"
		if [[ -n "$addr" ]] && curl -fsS -o /dev/null -u sk_test_wolfix: "http://$addr/v1/payment_intents/pi_ping"; then
			echo "export WOLFIX_TEST_STRIPE_MOCK_URL=http://$addr WOLFIX_STRIPE_MOCK_DIR=$STATE_DIR"
			return 0
		fi
		running || break
		sleep 0.1
	done
	echo "stripe-mock did not start; its log:" >&2
	cat "$LOG_FILE" >&2
	stop
	return 1
}

stop() {
	[[ -n "$STATE_DIR" ]] || return 0
	use_state_dir "$STATE_DIR"
	if running; then
		kill "$(cat "$PID_FILE")"
	fi
	rm -rf "$STATE_DIR"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
*)
	echo "usage: $0 start|stop" >&2
	exit 2
	;;
esac
