// The order page (/orders/{id}/confirmation, where the seed's checkout redirects): status,
// payment status, items, the server's totals and the timeline, refreshed every few seconds while a
// card payment is still settling (the webhook or the reconciler may finish it after the redirect).
"use strict";

(() => {
  const { h, $, message, money, when, api, session, mountHeader } = Wolfix;

  const orderId = decodeURIComponent(location.pathname.split("/")[2] || "");
  const pollEvery = 1500; // ms
  const pollFor = 10 * 60 * 1000; // stop watching after ten minutes
  const startedAt = Date.now();
  let timer = null;

  // viewer is the role whose token reads the order: the customer who placed it, or an admin.
  const viewer = () => (session.token("customer") ? "customer" : session.token("admin") ? "admin" : "customer");

  function settling(o) {
    return o.paymentMethod === "card" && o.status === "Pending" && o.paymentStatus !== "Paid";
  }

  async function load() {
    clearTimeout(timer);
    try {
      await returnFromStripe();
      const o = await api("GET", "/api/orders/" + encodeURIComponent(orderId), { as: viewer() });
      render(o);
      const watching = settling(o) && Date.now() - startedAt < pollFor;
      $("#live").textContent = watching ? "· updating live…" : "";
      if (watching) timer = setTimeout(load, pollEvery);
    } catch (e) {
      message($("#order-message"), "error", e.message);
    }
  }

  // returnFromStripe finishes a payment that Stripe.js completed through a redirect (3-D Secure):
  // the seed's PATCH /paid, once.
  async function returnFromStripe() {
    const params = new URLSearchParams(location.search);
    if (params.get("redirect_status") !== "succeeded") return;
    history.replaceState(null, "", location.pathname);
    try {
      await api("PATCH", "/api/orders/" + encodeURIComponent(orderId) + "/paid", { as: "customer" });
    } catch (e) {
      if (e.code !== "payment_not_completed") throw e;
    }
  }

  function badge(node, text) {
    node.textContent = text;
    node.className = "badge " + text;
  }

  function render(o) {
    $("#number").textContent = o.number;
    document.title = "Order " + o.number + " · Wolfix";
    badge($("#status"), o.status);
    badge($("#payment-status"), o.paymentStatus);
    $("#payment-method").textContent = o.paymentMethod === "card" ? "(card)" : "(cash on delivery)";
    const p = o.payment;
    message($("#payment-failure"), p.status === "Failed" ? "error" : "",
      p.status === "Failed" ? "The last card was refused: " + (p.failureMessage || p.failureCode) : "");
    $("#items").replaceChildren(...o.items.map((it) =>
      h("tr", {}, h("td", {}, it.title), h("td", { class: "num" }, it.quantity), h("td", { class: "num" }, money(it.unitPrice, o.currency)))));
    $("#delivery-fee").textContent = money(o.deliveryFee, o.currency);
    $("#total").textContent = money(o.totalAmount, o.currency);
    $("#refunded").textContent = money(o.refundedAmount, o.currency);
    const r = o.recipient, d = o.delivery;
    $("#recipient").textContent = [r.firstName, r.middleName, r.lastName].filter(Boolean).join(" ") + " · " + r.phoneNumber + " · " + r.email;
    $("#delivery").textContent = d.method === "courier"
      ? "Courier to " + d.street + " " + d.houseNumber + ", " + d.city
      : (d.method === "branch" ? "Branch " : "Locker ") + d.branchNumber + ", " + d.city;
    $("#timeline").replaceChildren(...o.timeline.map((t) =>
      h("li", {}, h("span", { class: "muted" }, when(t.at)), " ", t.type + ": ", t.from ? t.from + " → " : "", h("strong", {}, t.to), " ",
        h("span", { class: "muted" }, "(" + t.cause + ")"))));
  }

  mountHeader(viewer(), load);
  load();
})();
