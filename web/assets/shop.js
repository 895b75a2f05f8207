// The shop page: the catalog with its stock, a cart, the recipient and delivery form, and the
// seed's checkout — POST /api/orders/with-payment, pay with the client secret (the sandbox's
// confirm endpoint playing Stripe.js, or Stripe.js's Payment Element), then PATCH /paid and on to
// /orders/{id}/confirmation. Cash on delivery is POST /api/orders. Every amount shown after the
// order is placed is the server's.
"use strict";

(() => {
  const { h, $, message, money, api, config, mountHeader } = Wolfix;

  // The seed's test cards, offered as one-click hints in sandbox mode only.
  const testCards = [
    { number: "4242 4242 4242 4242", label: "4242 · succeeds" },
    { number: "4000 0000 0000 0002", label: "0002 · declined" },
    { number: "4000 0000 0000 9995", label: "9995 · insufficient funds" },
    { number: "4000 0000 0000 0069", label: "0069 · expired" },
  ];

  const cart = new Map(); // productId → { product, quantity }
  let products = [];
  let pending = null; // the card order being paid: { orderId, clientSecret }
  let stripe = null; // Stripe.js and its elements, in Stripe mode
  let elements = null;

  // ---- catalog ------------------------------------------------------------------------------
  async function loadCatalog() {
    try {
      products = [];
      let cursor = null;
      do {
        const page = await api("GET", "/api/products?limit=100" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""));
        products.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor);
      renderCatalog();
    } catch (e) {
      message($("#catalog-message"), "error", e.message);
    }
  }

  function stockCell(stock) {
    const cls = stock === 0 ? "stock out" : stock <= 3 ? "stock low" : "stock";
    return h("td", { class: "num " + cls, "data-stock": stock }, stock === 0 ? "Sold out" : String(stock));
  }

  function renderCatalog() {
    const rows = products.map((p) => {
      const qty = h("input", { class: "qty", type: "number", min: 1, max: p.stock, value: 1, "aria-label": "Quantity of " + p.title });
      const add = h("button", { type: "button", class: "secondary add", disabled: p.stock === 0,
        onclick: () => addToCart(p, Number(qty.value)) }, "Add to cart");
      return h("tr", { "data-product-id": p.id, "data-title": p.title },
        h("td", { class: "title" }, p.title), h("td", { class: "num" }, money(p.price, p.currency)), stockCell(p.stock),
        h("td", { class: "num" }, qty, " ", add));
    });
    $("#catalog tbody").replaceChildren(...rows);
  }

  // ---- cart ---------------------------------------------------------------------------------
  function addToCart(product, quantity) {
    if (!Number.isInteger(quantity) || quantity < 1) return;
    const line = cart.get(product.id) || { product, quantity: 0 };
    line.quantity += quantity;
    cart.set(product.id, line);
    renderCart();
  }

  function renderCart() {
    if (cart.size === 0) {
      $("#cart").replaceChildren(h("p", { class: "muted", id: "cart-empty" }, "Your cart is empty."));
      return;
    }
    const rows = [...cart.values()].map(({ product, quantity }) =>
      h("tr", { "data-product-id": product.id },
        h("td", {}, product.title), h("td", { class: "num" }, quantity + " × " + money(product.price, product.currency)),
        h("td", { class: "num" }, h("button", { type: "button", class: "link", onclick: () => { cart.delete(product.id); renderCart(); } }, "Remove"))));
    $("#cart").replaceChildren(h("table", { id: "cart-lines" }, h("tbody", {}, rows)));
  }

  // ---- checkout -----------------------------------------------------------------------------
  function showDeliveryFields() {
    const courier = $("#checkout").elements.method.value === "courier";
    document.querySelectorAll(".courier-only").forEach((n) => (n.hidden = !courier));
    document.querySelectorAll(".branch-only").forEach((n) => (n.hidden = courier));
  }

  // orderBody is the seed's orderData: items, recipient and delivery; the server prices it.
  function orderBody() {
    const f = $("#checkout").elements;
    const text = (name) => f[name].value.trim();
    const optional = (name) => text(name) || null;
    const method = f.method.value;
    return {
      items: [...cart.values()].map(({ product, quantity }) => ({ productId: product.id, quantity })),
      recipient: { firstName: text("firstName"), lastName: text("lastName"), middleName: optional("middleName"),
        phoneNumber: text("phoneNumber"), email: text("email") },
      delivery: method === "courier"
        ? { method, city: text("city"), street: text("street"), houseNumber: text("houseNumber"), branchNumber: null }
        : { method, city: text("city"), street: null, houseNumber: null, branchNumber: text("branchNumber") },
    };
  }

  async function checkout(byCard) {
    const note = $("#checkout-message");
    if (cart.size === 0) return message(note, "error", "Add something to the cart first.");
    if (!$("#checkout").reportValidity()) return;
    setBusy(true);
    try {
      const placed = await api("POST", byCard ? "/api/orders/with-payment" : "/api/orders",
        { as: "customer", body: orderBody(), idempotent: true });
      cart.clear();
      renderCart();
      await loadCatalog(); // the order reserved its stock
      if (!byCard) {
        location.assign(confirmationPath(placed.orderId));
        return;
      }
      message(note, "ok", "Order " + placed.number + " placed. Total " + money(placed.totalAmount, placed.currency) + ".");
      await startPayment(placed);
    } catch (e) {
      message(note, "error", e.message);
    } finally {
      setBusy(false);
    }
  }

  function setBusy(busy) {
    for (const id of ["#pay-card", "#pay-cash", "#pay-now"]) $(id).disabled = busy;
  }

  const confirmationPath = (orderId) => "/orders/" + encodeURIComponent(orderId) + "/confirmation";

  // ---- payment ------------------------------------------------------------------------------
  async function startPayment(placed) {
    pending = { orderId: placed.orderId, clientSecret: placed.clientSecret };
    $("#payment").hidden = false;
    message($("#payment-message"), "", "");
    await showOrderSummary(placed.orderId);
    const cfg = await config();
    if (cfg.provider === "sandbox") {
      $("#sandbox-pay").hidden = false;
      $("#card-number").focus();
      return;
    }
    if (!cfg.stripePublishableKey) {
      message($("#payment-message"), "error", "Card payments need WOLFIX_STRIPE_PUBLISHABLE_KEY on the server.");
      return;
    }
    stripe = stripe || (await loadStripe(cfg.stripePublishableKey));
    elements = stripe.elements({ clientSecret: placed.clientSecret });
    elements.create("payment").mount("#payment-element");
    $("#stripe-pay").hidden = false;
    $("#stripe-note").textContent = cfg.stripePublishableKey.startsWith("pk_test_")
      ? "Stripe test mode: use Stripe's test cards, e.g. 4242 4242 4242 4242, any future date, any CVC." : "";
  }

  // loadStripe loads Stripe.js from Stripe (never from this server), as Stripe requires.
  function loadStripe(publishableKey) {
    return new Promise((resolve, reject) => {
      const script = h("script", { src: "https://js.stripe.com/v3/" });
      script.addEventListener("load", () => resolve(window.Stripe(publishableKey)));
      script.addEventListener("error", () => reject(new Error("Stripe.js could not be loaded.")));
      document.head.append(script);
    });
  }

  // showOrderSummary shows the order as the server priced it.
  async function showOrderSummary(orderId) {
    const o = await api("GET", "/api/orders/" + encodeURIComponent(orderId), { as: "customer" });
    const rows = o.items.map((it) => h("tr", {}, h("td", {}, it.title), h("td", { class: "num" }, it.quantity + " × " + money(it.unitPrice, o.currency))));
    $("#order-summary").replaceChildren(
      h("p", {}, "Order ", h("strong", { id: "order-number", "data-order-id": o.id }, o.number), " · ", h("span", { class: "badge " + o.status }, o.status)),
      h("table", { class: "totals" }, h("tbody", {}, rows,
        h("tr", {}, h("td", {}, "Delivery (" + o.delivery.method + ")"), h("td", { class: "num" }, money(o.deliveryFee, o.currency))),
        h("tr", { class: "total" }, h("td", {}, "Total"), h("td", { class: "num", id: "order-total" }, money(o.totalAmount, o.currency))))));
  }

  // declineMessage is the seed's error handling: what the customer reads after a failed payment.
  function declineMessage(error) {
    switch (error.decline_code || error.code) {
      case "insufficient_funds":
        return "Your card has insufficient funds";
      case "expired_card":
        return "Your card has expired. Please use a different card.";
      case "card_declined":
      case "generic_decline":
        return "Your card was declined. Please try another payment method.";
    }
    if (error.type === "api_connection_error") return "Network error. Please check your connection and try again.";
    return error.message || "An unexpected error occurred.";
  }

  // pay confirms the pending order's payment: the result is the shape of Stripe.js's, so the
  // same code reads both. A decline leaves the order waiting for another card.
  async function pay() {
    if (!pending) return;
    setBusy(true);
    try {
      const result = stripe ? await confirmWithStripe() : await confirmInSandbox();
      if (result.error) {
        message($("#payment-message"), "error", declineMessage(result.error));
        return;
      }
      if (result.paymentIntent.status === "succeeded") await confirmOrderPayment();
      location.assign(confirmationPath(pending.orderId));
    } catch (e) {
      message($("#payment-message"), "error", e.message);
    } finally {
      setBusy(false);
    }
  }

  function confirmWithStripe() {
    return stripe.confirmPayment({ elements, redirect: "if_required",
      confirmParams: { return_url: location.origin + confirmationPath(pending.orderId) } });
  }

  async function confirmInSandbox() {
    const input = $("#card-number");
    const cardNumber = input.value;
    input.value = ""; // the page keeps no card number
    const intentId = pending.clientSecret.split("_secret_")[0];
    return api("POST", "/sandbox/payment-intents/" + encodeURIComponent(intentId) + "/confirm",
      { body: { clientSecret: pending.clientSecret, cardNumber } });
  }

  // confirmOrderPayment is the seed's PATCH /paid: the server asks the provider before it believes it.
  async function confirmOrderPayment() {
    try {
      await api("PATCH", "/api/orders/" + encodeURIComponent(pending.orderId) + "/paid", { as: "customer" });
    } catch (e) {
      if (e.code !== "payment_not_completed") throw e; // still settling: the order page keeps watching
    }
  }

  // ---- start --------------------------------------------------------------------------------
  function start() {
    renderCart();
    showDeliveryFields();
    $("#checkout").addEventListener("change", showDeliveryFields);
    $("#pay-card").addEventListener("click", () => checkout(true));
    $("#pay-cash").addEventListener("click", () => checkout(false));
    $("#pay-now").addEventListener("click", pay);
    $("#card-hints").append(...testCards.map((c) =>
      h("button", { type: "button", class: "secondary", "data-card": c.number, onclick: () => { $("#card-number").value = c.number; } }, c.label)));
    mountHeader("customer", () => {});
    loadCatalog();
  }

  start();
})();
