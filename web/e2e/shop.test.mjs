// The pages in a real browser: the built binary serves the embedded default (SQLite in a temp
// data dir, sandbox payments, development sign-in) on a free loopback port, and playwright-core
// drives Debian's Chromium through the seed's checkout — every test card, a retry of a declined
// order, cash on delivery — and the admin page's refund, cancel, ship and deliver, checking the
// stock the shop shows after each step. Screenshots land in test-output/.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { startService } from "./service.mjs";
import { launchBrowser, screenshot } from "./browser.mjs";

let service;
let browser;
let shop; // the customer's tab

before(async () => {
  service = await startService();
  browser = await launchBrowser(service.url);
});

after(async () => {
  await browser?.close();
  await service?.stop();
});

function assertNoBrowserProblems() {
  assert.deepEqual(browser.takeProblems(), [], "the browser reported errors (CSP violations, script errors)");
}

const row = (page, title) => page.locator("#catalog tr", { has: page.locator("td.title", { hasText: title }) });

// stockOf reads the stock the shop shows for a product (after the catalog has been read again).
async function stockOf(page, title) {
  return Number(await row(page, title).locator("td[data-stock]").getAttribute("data-stock"));
}

async function expectStock(page, title, want) {
  await page.waitForFunction(([t, w]) => {
    const r = [...document.querySelectorAll("#catalog tr")].find((tr) => tr.dataset.title === t);
    return r && r.querySelector("td[data-stock]").dataset.stock === String(w);
  }, [title, want]);
  assert.equal(await stockOf(page, title), want, title + " stock");
}

async function addToCart(page, title, quantity) {
  await row(page, title).locator("input.qty").fill(String(quantity));
  await row(page, title).locator("button.add").click();
}

async function fillRecipient(page, delivery) {
  const form = page.locator("#checkout");
  await form.locator("[name=firstName]").fill("Olena");
  await form.locator("[name=lastName]").fill("Koval");
  await form.locator("[name=phoneNumber]").fill("+380501234567");
  await form.locator("[name=email]").fill("olena@example.com");
  await form.locator(`[name=method][value=${delivery.method}]`).check();
  await form.locator("[name=city]").fill("Kyiv");
  if (delivery.method === "courier") {
    await form.locator("[name=street]").fill("Khreshchatyk");
    await form.locator("[name=houseNumber]").fill("22");
  } else {
    await form.locator("[name=branchNumber]").fill(delivery.branch);
  }
}

// placeCardOrder places a card order and waits for the payment panel; it answers the order id.
async function placeCardOrder(page, title, quantity, delivery) {
  await addToCart(page, title, quantity);
  await fillRecipient(page, delivery);
  await page.click("#pay-card");
  await page.locator("#payment").waitFor({ state: "visible" });
  return page.locator("#order-number").getAttribute("data-order-id");
}

async function payWith(page, card) {
  await page.click(`#card-hints button[data-card="${card}"]`);
  assert.equal(await page.inputValue("#card-number"), card);
  await page.click("#pay-now");
}

async function expectConfirmation(page, orderId, { status, paymentStatus }) {
  await page.waitForURL(service.url + "/orders/" + orderId + "/confirmation");
  await page.locator("#payment-status", { hasText: paymentStatus }).waitFor();
  assert.equal(await page.textContent("#status"), status);
}

async function signIn(page, role) {
  await page.click("#dev-sign-in");
  await page.locator(".session .who", { hasText: "demo-" + role }).waitFor();
}

const WANTED = "Mechanical keyboard"; // 40 in stock in the demo catalog
const LAST_ONE = "Last-one vintage lamp"; // 1 in stock
let paidOrder; // paid with 4242, refunded from the admin page later
let cashOrder;

test("the shop, under a CSP without inline scripts, shows the catalog with its stock and signs a demo customer in", async () => {
  shop = await browser.open("/");
  const csp = (await shop.reload()).headers()["content-security-policy"] || "";
  const scripts = csp.split(";").map((d) => d.trim()).find((d) => d.startsWith("script-src")) || "";
  assert.match(scripts, /^script-src 'self'/, "the page runs under a CSP: " + csp);
  assert.doesNotMatch(scripts, /unsafe-inline|unsafe-eval/);
  await signIn(shop, "customer");
  await expectStock(shop, WANTED, 40);
  await expectStock(shop, LAST_ONE, 1);
  assert.equal(await shop.locator("#catalog tbody tr").count(), 5);
  await screenshot(shop, "shop");
  assertNoBrowserProblems();
});

test("pays by card with 4242 4242 4242 4242: the order page goes live to Paid", async () => {
  paidOrder = await placeCardOrder(shop, WANTED, 2, { method: "courier" });
  await expectStock(shop, WANTED, 38); // reserved when the order was placed
  assert.match(await shop.textContent("#order-total"), /^\$\d[\d,]*\.\d\d$/);
  await payWith(shop, "4242 4242 4242 4242");
  await expectConfirmation(shop, paidOrder, { status: "Confirmed", paymentStatus: "Paid" });
  assert.equal(await shop.locator("#items tr").count(), 1);
  assert.match(await shop.textContent("#items"), /Mechanical keyboard\s*2/);
  assert.equal(await shop.textContent("#total"), await totalOf(paidOrder));
  assert.ok(await shop.locator("#timeline li").count() >= 2, "the timeline shows the payment");
  assert.equal(await shop.textContent("#live"), "");
  await screenshot(shop, "confirmation");
  assertNoBrowserProblems();
});

// totalOf reads the order's total through the API and formats it as the pages do.
async function totalOf(orderId) {
  const o = await service.api("GET", "/api/orders/" + orderId, "admin");
  return new Intl.NumberFormat("en-US", { style: "currency", currency: o.currency }).format(o.totalAmount);
}

test("declined cards show the seed's messages and the same order is paid with another card", async () => {
  await shop.goto("/");
  const orderId = await placeCardOrder(shop, WANTED, 1, { method: "branch", branch: "12" });
  await expectStock(shop, WANTED, 37);
  // The order page, open meanwhile in another tab, follows every attempt live: each of its reads
  // is a long poll (If-None-Match with the order's ETag, and ?wait) answered when the order changes.
  const longPolls = [];
  const watchRequests = (r) => {
    if (r.url().includes("/api/orders/" + orderId + "?wait=")) longPolls.push(r.headers()["if-none-match"]);
  };
  browser.context.on("request", watchRequests);
  const orderPage = await browser.open("/orders/" + orderId + "/confirmation");
  await orderPage.locator("#payment-status", { hasText: "Pending" }).waitFor();
  await orderPage.locator("#live", { hasText: "updating live" }).waitFor();
  const declines = [
    ["4000 0000 0000 0002", "Your card was declined. Please try another payment method."],
    ["4000 0000 0000 9995", "Your card has insufficient funds"],
    ["4000 0000 0000 0069", "Your card has expired. Please use a different card."],
  ];
  for (const [card, text] of declines) {
    await payWith(shop, card);
    await shop.locator("#payment-message .error", { hasText: text }).waitFor();
    assert.equal(await shop.inputValue("#card-number"), "", "the page keeps no card number");
    assert.equal(await shop.locator("#order-number").getAttribute("data-order-id"), orderId, "still the same order");
    if (card.endsWith("0002")) await screenshot(shop, "declined");
  }
  await orderPage.locator("#payment-status", { hasText: "Failed" }).waitFor();
  await orderPage.locator("#payment-failure .error").waitFor();
  await expectStock(shop, WANTED, 37); // retries reserve nothing more
  await payWith(shop, "4242 4242 4242 4242");
  await expectConfirmation(shop, orderId, { status: "Confirmed", paymentStatus: "Paid" });
  const timeline = await shop.locator("#timeline li").allTextContents();
  assert.ok(timeline.length >= 2, "timeline: " + timeline.join(" | "));
  await orderPage.locator("#payment-status", { hasText: "Paid" }).waitFor();
  assert.equal(await orderPage.textContent("#live"), "", "the order page stops watching a paid order");
  browser.context.off("request", watchRequests);
  await orderPage.close();
  assert.ok(longPolls.length >= 1, "the order page long-polled");
  for (const etag of longPolls) assert.match(etag || "", /^"\d+"$/, "each long poll names the order's ETag");
  assertNoBrowserProblems();
});

test("pays cash on delivery to a parcel locker", async () => {
  await shop.goto("/");
  await addToCart(shop, LAST_ONE, 1);
  await fillRecipient(shop, { method: "locker", branch: "L-7" });
  await shop.click("#pay-cash");
  await shop.waitForURL(/\/orders\/[^/]+\/confirmation$/);
  cashOrder = shop.url().split("/")[4];
  await shop.locator("#payment-status", { hasText: "Pending" }).waitFor();
  assert.equal(await shop.textContent("#status"), "Confirmed");
  assert.equal(await shop.textContent("#payment-method"), "(cash on delivery)");
  assert.match(await shop.textContent("#delivery"), /Locker L-7, Kyiv/);
  await shop.goto("/");
  await expectStock(shop, LAST_ONE, 0);
  assert.equal(await row(shop, LAST_ONE).locator("td[data-stock]").textContent(), "Sold out");
  assertNoBrowserProblems();
});

test("the admin page refunds in part, then in full with restock; ships, delivers and cancels", async () => {
  const admin = await browser.open("/admin");
  await admin.locator(".message.info", { hasText: "Sign in as an admin" }).waitFor();
  await signIn(admin, "admin");
  const orderRow = (id) => admin.locator(`#orders tr[data-order-id="${id}"]`);
  await orderRow(paidOrder).waitFor();

  await admin.selectOption("#status-filter", "Confirmed");
  await admin.waitForFunction(() => [...document.querySelectorAll("#orders tbody tr[data-order-id]")]
    .every((tr) => tr.querySelector(".badge.status").textContent === "Confirmed"));

  await refund(admin, orderRow(paidOrder), { amount: "10.00", restock: false });
  await admin.locator(".message.ok", { hasText: "Refund" }).waitFor();
  let o = await service.api("GET", "/api/orders/" + paidOrder, "admin");
  assert.equal(o.refundedAmount, 10);
  assert.equal(o.status, "Confirmed");

  await refund(admin, orderRow(paidOrder), { restock: true }); // the rest
  await orderRow(paidOrder).waitFor({ state: "detached" }); // no longer Confirmed
  o = await service.api("GET", "/api/orders/" + paidOrder, "admin");
  assert.equal(o.status, "Refunded");
  assert.equal(o.paymentStatus, "Refunded");
  assert.equal(await admin.inputValue("#status-filter"), "Confirmed");
  await admin.selectOption("#status-filter", "");
  await orderRow(paidOrder).locator(".badge.status", { hasText: "Refunded" }).waitFor();
  await screenshot(admin, "admin-refund");
  await shop.goto("/");
  await expectStock(shop, WANTED, 39); // the two refunded keyboards are back

  await orderRow(cashOrder).locator("button.ship").click();
  await orderRow(cashOrder).locator(".badge.status", { hasText: "Shipped" }).waitFor();
  await orderRow(cashOrder).locator("button.deliver").click();
  await orderRow(cashOrder).locator(".badge.status", { hasText: "Delivered" }).waitFor();
  await orderRow(cashOrder).locator(".badge.payment", { hasText: "Paid" }).waitFor(); // cash collected

  assert.equal(await orderRow(cashOrder).locator("button").count(), 1, "a delivered cash order can only be refunded");

  const unpaid = await placeCardOrder(shop, WANTED, 3, { method: "courier" });
  await expectStock(shop, WANTED, 36);
  await admin.click("#refresh");
  await orderRow(unpaid).locator("button.cancel").click();
  await orderRow(unpaid).locator(".badge.status", { hasText: "Cancelled" }).waitFor();
  await shop.goto("/");
  await expectStock(shop, WANTED, 39); // a cancelled order gives its stock back
  await admin.close();
  assertNoBrowserProblems();
});

async function refund(admin, tr, { amount, restock }) {
  await tr.locator("button.refund").click();
  const form = admin.locator("tr.refund-form");
  if (amount) await form.locator("[name=amount]").fill(amount);
  if (restock) await form.locator("[name=restock]").check();
  await form.locator("button.submit-refund").click();
}

test("the API docs page renders /openapi.yaml from embedded files", async () => {
  const docs = await browser.open("/docs");
  await docs.locator(".opblock").first().waitFor();
  assert.ok(await docs.locator(".opblock").count() >= 20, "every operation is listed");
  await docs.locator(".opblock-summary-path", { hasText: "/api/orders/with-payment" }).first().waitFor();
  await screenshot(docs, "docs");
  await docs.close();
  assertNoBrowserProblems();
});

test("no card number reaches the server's logs", async () => {
  const logs = readFileSync(service.logFile, "utf8");
  assert.ok(logs.includes("sandbox payment succeeded"), "the log holds the browser run");
  for (const card of ["4242424242424242", "4000000000000002", "4000000000009995", "4000000000000069"]) {
    const spaced = card.replace(/(\d{4})(?=\d)/g, "$1 ");
    assert.ok(!logs.includes(card) && !logs.includes(spaced), "the log holds card " + spaced);
  }
});
