// What every Wolfix page shares: calling the API, the bearer token of the signed-in user, the
// sign-in box, money and date formatting, and a tiny DOM builder that only ever sets text (never
// HTML), so nothing the API returns can inject markup.
"use strict";

const Wolfix = (() => {
  // ---- DOM ----------------------------------------------------------------------------------
  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else if (name === "dataset") Object.assign(node.dataset, value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function $(selector) {
    return document.querySelector(selector);
  }

  // message shows one message of kind error, ok or info in container (replacing the last one).
  function message(container, kind, text) {
    container.replaceChildren(text ? h("div", { class: "message " + kind, role: kind === "error" ? "alert" : "status" }, text) : "");
  }

  // ---- formatting ---------------------------------------------------------------------------
  // money renders an amount as the API returns it (an exact decimal in major units) in its currency.
  function money(amount, currency) {
    return new Intl.NumberFormat("en-US", { style: "currency", currency }).format(Number(amount));
  }

  function when(iso) {
    return new Date(iso).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "medium" });
  }

  // randomKey is an Idempotency-Key for one user action (crypto.randomUUID needs a secure context).
  function randomKey() {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // ---- session ------------------------------------------------------------------------------
  // Tokens are kept per role in localStorage, so a customer tab and an admin tab can be open at
  // once. A token is only ever sent to this origin's API.
  const storageKey = (role) => "wolfix.token." + role;

  function claimsOf(token) {
    try {
      const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), "=")));
    } catch {
      return null;
    }
  }

  function rolesOf(claims) {
    return [].concat(claims.role || [], claims.roles || []);
  }

  const session = {
    token(role) {
      const token = localStorage.getItem(storageKey(role));
      const claims = token && claimsOf(token);
      if (!claims || (claims.exp && claims.exp * 1000 < Date.now())) {
        localStorage.removeItem(storageKey(role));
        return null;
      }
      return token;
    },
    user(role) {
      const token = session.token(role);
      return token ? claimsOf(token).sub : null;
    },
    // keep stores token under each known role it carries; it answers those roles.
    keep(token) {
      const claims = claimsOf(token.trim());
      if (!claims || !claims.sub) throw new Error("That is not a JWT with a subject (sub).");
      const roles = rolesOf(claims).filter((r) => ["customer", "seller", "admin"].includes(r));
      if (roles.length === 0) throw new Error("The token carries no customer, seller or admin role.");
      for (const role of roles) localStorage.setItem(storageKey(role), token.trim());
      return roles;
    },
    forget(role) {
      localStorage.removeItem(storageKey(role));
    },
  };

  // ---- API ----------------------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, problem) {
      super((problem && problem.detail) || "The server answered " + status + ".");
      this.status = status;
      this.code = problem && problem.code;
    }
  }

  const signedOut = new Set(); // callbacks run when the API refuses a role's token

  // api calls the service and answers the body. as names the role whose token is sent;
  // idempotent adds an Idempotency-Key (one per call). The body is a string of JSON or an object.
  async function api(method, path, options) {
    return (await exchange(method, path, options)).data;
  }

  // exchange is api answering { status, etag, data }; ifNoneMatch sends If-None-Match, and its
  // 304 Not Modified (data null) is no error.
  async function exchange(method, path, { as, body, idempotent, ifNoneMatch } = {}) {
    const headers = { Accept: "application/json" };
    if (as) {
      const token = session.token(as);
      if (!token) throw new ApiError(401, { code: "unauthenticated", detail: "Sign in first." });
      headers.Authorization = "Bearer " + token;
    }
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (idempotent) headers["Idempotency-Key"] = randomKey();
    if (ifNoneMatch) headers["If-None-Match"] = ifNoneMatch;
    let response;
    try {
      response = await fetch(path, { method, headers, body: typeof body === "string" || body === undefined ? body : JSON.stringify(body) });
    } catch {
      throw new ApiError(0, { code: "network", detail: "Network error. Please check your connection and try again." });
    }
    const text = await response.text();
    const data = text ? JSON.parse(text) : null;
    if (!response.ok && response.status !== 304) {
      if (response.status === 401 && as) {
        session.forget(as);
        signedOut.forEach((fn) => fn(as));
      }
      throw new ApiError(response.status, data);
    }
    return { status: response.status, etag: response.headers.get("ETag"), data };
  }

  let configPromise;
  function config() {
    configPromise = configPromise || api("GET", "/api/config");
    return configPromise;
  }

  // ---- header and sign-in box ---------------------------------------------------------------
  // mountHeader fills the page's header — the links to the pages, then who is signed in as role,
  // or the ways to sign in: the development sign-in (only where the server offers it) and a bearer
  // token pasted from the host application. onChange runs after every sign-in or sign-out.
  async function mountHeader(role, onChange) {
    const container = h("div", { class: "session", id: "session" });
    $("header.bar").replaceChildren(h("a", { class: "brand", href: "/" }, "Wolfix"),
      h("nav", {}, h("a", { href: "/" }, "Shop"), h("a", { href: "/admin" }, "Admin"), h("a", { href: "/docs" }, "API docs")),
      container);
    const cfg = await config();
    const render = () => {
      const user = session.user(role);
      if (user) {
        container.replaceChildren(h("span", { class: "signed-in" }, "Signed in as ", h("span", { class: "who" }, user), " (" + role + ") "),
          h("button", { class: "link", type: "button", id: "sign-out", onclick: () => { session.forget(role); changed(); } }, "Sign out"));
        return;
      }
      const error = h("span", { class: "signin-error" });
      const paste = h("textarea", { id: "token-input", placeholder: "eyJhbGciOi…", "aria-label": "Bearer token" });
      const usePasted = () => {
        try {
          const roles = session.keep(paste.value);
          if (!roles.includes(role)) error.textContent = "This page needs a " + role + " token.";
          changed();
        } catch (e) {
          error.textContent = e.message;
        }
      };
      const pasteForm = [h("span", {}, "Bearer token from your host application:"), paste,
        h("button", { type: "button", class: "secondary", id: "use-token", onclick: usePasted }, "Use token")];
      if (!cfg.devSignIn) {
        container.replaceChildren(h("div", { class: "signin" }, ...pasteForm, error));
        return;
      }
      const sub = h("input", { id: "dev-sub", value: "demo-" + role, "aria-label": "User id", size: 14 });
      const devSignIn = async () => {
        try {
          const answer = await api("POST", "/dev/sign-in", { body: { role, sub: sub.value.trim() } });
          session.keep(answer.token);
          changed();
        } catch (e) {
          error.textContent = e.message;
        }
      };
      container.replaceChildren(h("div", { class: "signin" },
        h("span", {}, "Development sign-in:"), sub,
        h("button", { type: "button", id: "dev-sign-in", onclick: devSignIn }, "Sign in as demo " + role),
        h("details", { class: "paste" }, h("summary", {}, "or paste a token"), ...pasteForm), error));
    };
    const changed = () => {
      render();
      onChange();
    };
    signedOut.add((r) => r === role && changed());
    render();
  }

  return { h, $, message, money, when, session, api, exchange, config, mountHeader, ApiError };
})();
