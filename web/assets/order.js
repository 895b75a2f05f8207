// The order page (/orders/{id}/confirmation, where the seed's checkout redirects): status,
// payment status, items, the server's totals and the timeline, kept live while a card payment is
// still settling (the webhook or the reconciler may finish it after the redirect): a long poll
// (If-None-Match with the order's ETag, and ?wait) that the server answers the moment the order
// changes, or after the wait with 304.
"use strict";

(() => {
  const { h, $, message, money, when, api, exchange, session, mountHeader } = Wolfix;

  const orderId = decodeURIComponent(location.pathname.split("/")[2] || "");
  const orderPath = "/api/orders/" + encodeURIComponent(orderId);
  const waitSeconds = 25; // each read is held this long at most (the server allows 30)
  const retryAfter = 3000; // ms before reading again after a failed read, so a failure never spins
  const watchFor = 10 * 60 * 1000; // stop watching after ten minutes
  const startedAt = Date.now();
  let generation = 0; // each load starts a new watch; an older one stops at its next turn

  // viewer is the role whose token reads the order: the customer who placed it, or an admin.
  const viewer = () => (session.token("customer") ? "customer" : session.token("admin") ? "admin" : "customer");

  function settling(o) {
    return o.paymentMethod === "card" && o.status === "Pending" && o.paymentStatus !== "Paid";
  }

  async function load() {
    const mine = ++generation;
    try {
      await returnFromStripe();
      const { data, etag } = await exchange("GET", orderPath, { as: viewer() });
      render(data);
      await watch(mine, data, etag);
    } catch (e) {
      message($("#order-message"), "error", e.message);
    }
  }

  // watch re-reads the order while it is settling, each read held by the server until the order
  // changes; a failed read is shown and retried after a pause, except a refusal that will not pass
  // (a 4xx other than 429), which ends the watch.
  async function watch(mine, o, etag) {
    const live = () => mine === generation && settling(o) && Date.now() - startedAt < watchFor;
    while (live()) {
      $("#live").textContent = "· updating live…";
      try {
        const r = await exchange("GET", orderPath + "?wait=" + waitSeconds, { as: viewer(), ifNoneMatch: etag });
        if (mine !== generation) return;
        message($("#order-message"), "", "");
        if (r.status === 200) {
          o = r.data;
          etag = r.etag;
          render(o);
        }
      } catch (e) {
        if (mine !== generation) return;
        message($("#order-message"), "error", e.message);
        if (e.status >= 400 && e.status < 500 && e.status !== 429) break;
        await new Promise((resolve) => setTimeout(resolve, retryAfter));
      }
    }
    if (mine === generation) $("#live").textContent = "";
  }

  // returnFromStripe finishes a payment that Stripe.js completed through a redirect (3-D Secure):
  // the seed's PATCH /paid, once.
  async function returnFromStripe() {
    const params = new URLSearchParams(location.search);
    if (params.get("redirect_status") !== "succeeded") return;
    history.replaceState(null, "", location.pathname);
    try {
      await api("PATCH", orderPath + "/paid", { as: "customer" });
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
