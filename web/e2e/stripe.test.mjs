// The shop in Stripe test mode: the service talks to stripe-mock (WOLFIX_TEST_STRIPE_MOCK_URL, which
// `make test-browser` starts), and the browser's request for Stripe.js is answered by a stand-in
// that records what the page hands it — no network, no real Stripe. The page must load Stripe.js
// from https://js.stripe.com, mount its Payment Element with the client secret, show the seed's
// message for a decline, call PATCH /paid after a success, and never hold a card field of its own.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { startService } from "./service.mjs";
import { launchBrowser, screenshot } from "./browser.mjs";

const mockURL = process.env.WOLFIX_TEST_STRIPE_MOCK_URL;
const skip = !mockURL && process.env.CI !== "true" &&
  "!!! SKIPPED: WOLFIX_TEST_STRIPE_MOCK_URL is unset (make test-browser starts stripe-mock)";

const publishableKey = "pk_test_wolfixBrowserOnlyNotARealKey0";

// stripeJs stands in for https://js.stripe.com/v3/: the first confirmation is declined for
// insufficient funds (as Stripe.js reports it: card_declined with a decline_code), the next succeeds.
const stripeJs = `
window.Stripe = function (publishableKey) {
  const seen = (window.stripeStandIn = { publishableKey, clientSecret: null, mounted: null, confirmations: [] });
  return {
    elements(options) {
      seen.clientSecret = options.clientSecret;
      return { create(type) { return { mount(selector) {
        seen.mounted = type;
        const frame = document.createElement("p");
        frame.className = "stand-in-payment-element";
        frame.textContent = "Stripe's " + type + " element (stand-in)";
        document.querySelector(selector).append(frame);
      } }; } };
    },
    async confirmPayment(params) {
      seen.confirmations.push({ redirect: params.redirect, returnUrl: params.confirmParams.return_url, elements: Boolean(params.elements) });
      if (seen.confirmations.length === 1) {
        return { error: { type: "card_error", code: "card_declined", decline_code: "insufficient_funds", message: "Your card has insufficient funds." } };
      }
      return { paymentIntent: { id: seen.clientSecret.split("_secret_")[0], status: "succeeded" } };
    },
  };
};`;

let service;
let browser;

before(async () => {
  if (skip) return;
  service = await startService({ name: "stripe-server", extraEnv: {
    WOLFIX_STRIPE_SECRET_KEY: "sk_test_wolfixBrowserOnlyNotARealKey0",
    WOLFIX_STRIPE_WEBHOOK_SECRET: "whsec_wolfixBrowserOnlyNotARealSecret",
    WOLFIX_STRIPE_PUBLISHABLE_KEY: publishableKey,
    WOLFIX_STRIPE_API_URL: mockURL,
  } });
  browser = await launchBrowser(service.url);
  await browser.context.route("https://js.stripe.com/v3/", (route) =>
    route.fulfill({ status: 200, contentType: "text/javascript", body: stripeJs }));
});

after(async () => {
  await browser?.close();
  await service?.stop();
});

test("with a Stripe key the page pays through Stripe.js's Payment Element and holds no card field", { skip }, async () => {
  const toServer = [];
  browser.context.on("request", (r) => {
    if (r.url().startsWith(service.url)) toServer.push(r.method() + " " + new URL(r.url()).pathname + " " + (r.postData() || ""));
  });
  const answers = {};
  browser.context.on("response", (r) => { answers[r.request().method() + " " + new URL(r.url()).pathname] = r.status(); });

  const page = await browser.open("/");
  await page.locator("#token-input").waitFor();
  assert.equal(await page.locator("#dev-sign-in").count(), 0, "no development sign-in with a Stripe key");
  await page.fill("#token-input", service.cliToken("stripe-customer", "customer"));
  await page.click("#use-token");
  await page.locator(".session .who", { hasText: "stripe-customer" }).waitFor();

  const row = page.locator("#catalog tr", { has: page.locator("td.title", { hasText: "USB-C charger 65W" }) });
  await row.locator("button.add").click();
  const form = page.locator("#checkout");
  for (const [name, value] of [["firstName", "Olena"], ["lastName", "Koval"], ["phoneNumber", "+380501234567"],
    ["email", "olena@example.com"], ["city", "Kyiv"], ["street", "Khreshchatyk"], ["houseNumber", "22"]]) {
    await form.locator(`[name=${name}]`).fill(value);
  }
  await page.click("#pay-card");
  await page.locator(".stand-in-payment-element").waitFor();

  assert.equal(await page.locator('script[src="https://js.stripe.com/v3/"]').count(), 1, "Stripe.js comes from Stripe");
  assert.ok(await page.locator("#sandbox-pay").isHidden(), "no card field of the page's own");
  assert.match(await page.textContent("#stripe-note"), /4242 4242 4242 4242/);
  const orderId = await page.locator("#order-number").getAttribute("data-order-id");
  let seen = await page.evaluate(() => window.stripeStandIn);
  assert.equal(seen.publishableKey, publishableKey);
  assert.equal(seen.mounted, "payment");
  assert.match(seen.clientSecret, /^pi_\w+_secret_\w+$/);

  await page.click("#pay-now");
  await page.locator("#payment-message .error", { hasText: "Your card has insufficient funds" }).waitFor();
  await screenshot(page, "stripe-declined");
  seen = await page.evaluate(() => window.stripeStandIn);
  assert.deepEqual(seen.confirmations, [{ redirect: "if_required", elements: true,
    returnUrl: service.url + "/orders/" + orderId + "/confirmation" }]);
  await page.click("#pay-now"); // the same order, another try
  await page.waitForURL(service.url + "/orders/" + orderId + "/confirmation");
  await page.locator("#status", { hasText: "Pending" }).waitFor();

  assert.ok(toServer.some((r) => r.startsWith("PATCH /api/orders/" + orderId + "/paid")), "the page called PATCH /paid");
  // stripe-mock's intents never say "succeeded": the server, which asks Stripe, keeps it unpaid
  assert.equal(answers["PATCH /api/orders/" + orderId + "/paid"], 409);
  const carded = toServer.filter((r) => /cardNumber|\/sandbox\/|4242|0000 0000/.test(r));
  assert.deepEqual(carded, [], "no card number went to the server");
  assert.deepEqual(browser.takeProblems(), [], "the browser reported errors (CSP violations, script errors)");
});
