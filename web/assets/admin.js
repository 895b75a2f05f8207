// The admin page: every order, filtered by status, with the admin's actions — refund (full or
// partial, optionally restocking), cancel, ship and deliver — offered where the order's state
// allows them (the server decides; a refusal is shown). After each action the list is read again.
"use strict";

(() => {
  const { h, $, message, money, when, api, session, mountHeader } = Wolfix;

  let nextCursor = null;

  const orderPath = (o, action) => "/api/orders/" + encodeURIComponent(o.id) + "/" + action;

  async function load(append) {
    const note = $("#admin-message");
    if (!session.token("admin")) {
      $("#orders tbody").replaceChildren();
      $("#more").hidden = true;
      return message(note, "info", "Sign in as an admin to see the orders.");
    }
    try {
      const status = $("#status-filter").value;
      const query = new URLSearchParams({ limit: "50" });
      if (status) query.set("status", status);
      if (append && nextCursor) query.set("cursor", nextCursor);
      const page = await api("GET", "/api/orders?" + query, { as: "admin" });
      const rows = page.items.map(row);
      if (append) $("#orders tbody").append(...rows);
      else $("#orders tbody").replaceChildren(...rows);
      nextCursor = page.nextCursor;
      $("#more").hidden = !nextCursor;
      if (!append && page.items.length === 0) message(note, "info", "No orders" + (status ? " with status " + status : "") + ".");
      else if (!append && note.querySelector(".info")) message(note, "", "");
    } catch (e) {
      message(note, "error", e.message);
    }
  }

  function row(o) {
    const tr = h("tr", { "data-order-id": o.id, "data-number": o.number },
      h("td", {}, h("a", { href: "/orders/" + encodeURIComponent(o.id) + "/confirmation" }, o.number)),
      h("td", {}, when(o.createdAt)),
      h("td", {}, o.customerId),
      h("td", {}, h("span", { class: "badge status " + o.status }, o.status)),
      h("td", {}, h("span", { class: "badge payment " + o.paymentStatus }, o.paymentStatus), " ", h("span", { class: "muted" }, o.paymentMethod === "card" ? "card" : "cash")),
      h("td", { class: "num" }, money(o.totalAmount, o.currency)),
      h("td", { class: "row-actions" },
        o.status === "Confirmed" && action(o, "Ship", "ship"),
        o.status === "Shipped" && action(o, "Deliver", "deliver"),
        (o.status === "Pending" || o.status === "Confirmed") && action(o, "Cancel", "cancel"),
        o.paymentStatus === "Paid" && h("button", { type: "button", class: "secondary refund", onclick: () => toggleRefund(tr, o) }, "Refund…")));
    return tr;
  }

  function action(o, label, name) {
    return h("button", { type: "button", class: "secondary " + name, onclick: () => run(o, label, orderPath(o, name)) }, label);
  }

  async function run(o, label, path, body) {
    try {
      await api("POST", path, { as: "admin", body, idempotent: true });
      message($("#admin-message"), "ok", label + ": order " + o.number + " done.");
    } catch (e) {
      message($("#admin-message"), "error", label + " " + o.number + ": " + e.message);
    }
    await load(false);
  }

  // toggleRefund opens the refund form under the order's row: amount (empty = everything left),
  // reason, restock.
  function toggleRefund(tr, o) {
    const open = tr.nextElementSibling;
    if (open && open.classList.contains("refund-form")) return open.remove();
    const amount = h("input", { name: "amount", inputmode: "decimal", placeholder: "everything left", size: 10 });
    const reason = h("input", { name: "reason", placeholder: "reason (optional)", maxlength: 500 });
    const restock = h("input", { type: "checkbox", name: "restock" });
    const error = h("span", { class: "refund-error" });
    const submit = () => {
      const text = amount.value.trim();
      if (text && !/^\d+(\.\d+)?$/.test(text)) return (error.textContent = "The amount is a decimal number, e.g. 10.50.");
      // the amount goes as a JSON number exactly as typed: never through a float
      const body = "{" + (text ? '"amount":' + text + "," : "") + '"reason":' + JSON.stringify(reason.value.trim() || null) +
        ',"restock":' + restock.checked + "}";
      run(o, "Refund", orderPath(o, "refunds"), body);
    };
    tr.after(h("tr", { class: "refund-form" }, h("td", { colspan: 7 },
      h("div", { class: "actions" },
        h("label", { class: "field" }, "Amount (" + o.currency + ")", amount),
        h("label", { class: "field" }, "Reason", reason),
        h("label", {}, restock, " Return the items to stock"),
        h("button", { type: "button", class: "danger submit-refund", onclick: submit }, "Refund " + o.number), error))));
  }

  $("#status-filter").addEventListener("change", () => load(false));
  $("#refresh").addEventListener("click", () => load(false));
  $("#more").addEventListener("click", () => load(true));
  mountHeader("admin", () => load(false));
  load(false);
})();
