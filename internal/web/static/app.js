// Checkout page: one purchase attempt, one Idempotency-Key, at most one order and one charge.
//
// The page lists the catalog (GET /products), lets the buyer choose a quantity of each product
// (sold-out ones are disabled), shows the total computed from the catalog's prices, and sends
// {"items": [{"sku", "quantity"}], "currency", "amount": the total shown, ...} to POST /checkout.
// The server prices the cart itself; the amount only tells it what the buyer agreed to pay.
//
// Where the API is (POST /checkout, GET /orders/{id}, GET /products); the first of these that is set wins:
//   1. the query parameter  ?api=https://abc123.execute-api.eu-west-1.amazonaws.com
//   2. a script that runs before this one:  window.CHECKOUT_CONFIG = {apiBase: "https://..."}
//   3. <meta name="api-base" content="https://..."> in index.html
//   4. "" (the default): this page's own origin, as served by the local server.
// Only http and https URLs are accepted; a trailing slash is ignored. An API on another origin
// must answer CORS for this page's origin (GET /products included): allow the request headers
// Content-Type and Idempotency-Key, and expose Retry-After (without it the page waits 1 s on 409).
//
// How the page keeps its promise:
//   - A purchase attempt gets one key (crypto.randomUUID()) before its first request. The key
//     and the exact request body live in sessionStorage until the attempt ends (an order, a
//     decline, a refusal, or "New purchase"), so a retry or a reload sends the same key and
//     body, which the API answers by replaying its first answer, never by charging again.
//     After a reload with an attempt still open, the page resumes it on its own.
//   - While a request is in flight, Pay is disabled and says "Processing…" (aria-busy), and a
//     flag refuses any further submit (Enter in a field, scripted clicks, requestSubmit).
//   - Network errors and timeouts (10 s), 429 and 5xx are retried with the same key, with
//     exponential backoff and jitter (0.5 s, 1 s, 2 s, 4 s; 5 tries); 409 (the first request
//     with this key is still running) waits Retry-After and asks again. When the tries run
//     out, the attempt stays open and Pay becomes "Retry payment", which is safe.
//   - 402 shows the decline; 400 and 422 say what to do; an order that is pending or
//     requires_action is polled (GET /orders/{id} every 2 s, at most 30 times).
(() => {
  "use strict";

  const ATTEMPT = "checkout.attempt.v1"; // {key, body}: the open purchase attempt
  const LAST = "checkout.order.v1"; // {id, status}: the order of the last attempt
  const CURRENCY = "checkout.currency.v1"; // the currency chosen last
  const TIMEOUT_MS = 10000;
  const MAX_TRIES = 5; // requests per attempt that failed on the way (network, 429, 5xx)
  const MAX_BUSY = 12; // 409 answers waited for per attempt
  const BACKOFF_MS = 500;
  const BACKOFF_CAP_MS = 8000;
  const POLL_MS = 2000;
  const MAX_POLLS = 30;
  const IN_PROGRESS = "/problems/idempotency-key-in-progress";
  const PRICE_CHANGED = "/problems/price-changed";
  const OUT_OF_STOCK = "/problems/out-of-stock";
  const UNKNOWN_PRODUCT = "/problems/unknown-product";
  const MAX_QUANTITY = 99; // the API's limit of one line
  const OPEN = new Set(["pending", "requires_action"]);

  const $ = (id) => document.getElementById(id);
  const el = {
    form: $("checkout"), fields: $("fields"), email: $("email"), method: $("payment-method"),
    cart: $("cart-fields"), currency: $("currency"), catalog: $("catalog"), products: $("products"),
    total: $("total"), note: $("catalog-note"), receipt: $("receipt"), lines: $("lines"), paid: $("paid-amount"),
    pay: $("pay"), fresh: $("new-purchase"), status: $("status"), message: $("message"),
    detail: $("detail"), order: $("order"), orderId: $("order-id"), orderStatus: $("order-status"),
  };

  const base = apiBase();
  let products = []; // the catalog as last listed: [{sku, name, prices, availability}]
  let catalogLoaded = false;
  let cartQty = {}; // sku -> quantity chosen (or restored from an open attempt)
  let short = new Set(); // skus an out-of-stock or unknown-product answer named
  let newTotal = null; // {amount, currency} of a 409 price-changed the buyer is asked to confirm

  let inFlight = false; // the guard against double submission; the disabled button is the second
  let generation = 0; // bumped by "New purchase": loops of an older attempt stop
  let pollTimer = 0;
  let requests = 0;
  const memory = {}; // stands in for sessionStorage when the browser refuses it

  function apiBase() {
    const clean = (s) => s.trim().replace(/\/+$/, "");
    const q = new URLSearchParams(location.search).get("api");
    if (q) {
      try {
        const u = new URL(q);
        if (u.protocol === "https:" || u.protocol === "http:") return clean(u.origin + u.pathname);
      } catch (_) { /* not a URL: ignored */ }
    }
    const w = window.CHECKOUT_CONFIG && window.CHECKOUT_CONFIG.apiBase;
    if (typeof w === "string") return clean(w);
    const m = document.querySelector('meta[name="api-base"]');
    return m ? clean(m.content) : "";
  }

  // Storage.
  function load(name) {
    try {
      const v = sessionStorage.getItem(name);
      return v ? JSON.parse(v) : null;
    } catch (_) {
      return memory[name] || null;
    }
  }
  function save(name, v) {
    memory[name] = v;
    try { sessionStorage.setItem(name, JSON.stringify(v)); } catch (_) { /* memory only */ }
  }
  function drop(name) {
    delete memory[name];
    try { sessionStorage.removeItem(name); } catch (_) { /* memory only */ }
  }

  function newKey() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16)); // not a secure context: same format
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  // Money and the cart.
  function format(amount, currency) {
    try {
      const f = new Intl.NumberFormat("en-US", { style: "currency", currency: String(currency).toUpperCase() });
      return f.format(amount / 10 ** f.resolvedOptions().maximumFractionDigits);
    } catch (_) {
      return amount + " " + currency;
    }
  }
  function product(sku) {
    return products.find((p) => p.sku === sku);
  }
  function sellable(p, currency) {
    return p && p.availability !== "sold_out" && p.prices && typeof p.prices[currency] === "number";
  }
  // cartItems is the cart as the API takes it: the products with a quantity, sorted by sku.
  function cartItems() {
    const cur = el.currency.value;
    return Object.keys(cartQty).sort()
      .filter((sku) => cartQty[sku] > 0 && (!catalogLoaded || sellable(product(sku), cur)))
      .map((sku) => ({ sku, quantity: cartQty[sku] }));
  }
  // cartTotal is the total of items at the catalog's prices, or null if one has no price.
  function cartTotal(items, currency) {
    let t = 0;
    for (const it of items) {
      const p = product(it.sku);
      const unit = p && p.prices && p.prices[currency];
      if (typeof unit !== "number") return null;
      t += unit * it.quantity;
    }
    return t;
  }
  function payable() {
    const items = cartItems();
    return catalogLoaded && items.length > 0 && cartTotal(items, el.currency.value) !== null;
  }
  function payLabel() {
    const items = cartItems();
    const t = cartTotal(items, el.currency.value);
    return items.length && t !== null ? "Pay " + format(t, el.currency.value) : "Pay";
  }

  // updateTotal shows the cart's total and, where the buyer may pay, the Pay button for it.
  function updateTotal() {
    const state = el.status.dataset.state;
    if (state === "price-changed" && newTotal) {
      el.total.textContent = format(newTotal.amount, newTotal.currency);
      return;
    }
    const cur = el.currency.value;
    const t = cartTotal(cartItems(), cur);
    el.total.textContent = t === null ? "—" : format(t, cur);
    if (UI[state] && UI[state].pay === "cart") {
      el.pay.textContent = payLabel();
      el.pay.disabled = !payable();
    }
  }

  function renderCatalog() {
    const cur = el.currency.value;
    const rows = products.map((p) => {
      const tr = document.createElement("tr");
      tr.dataset.sku = p.sku;
      tr.dataset.availability = p.availability;
      if (short.has(p.sku)) tr.dataset.short = "true";
      const th = document.createElement("th");
      th.scope = "row";
      const label = document.createElement("label");
      label.htmlFor = "qty-" + p.sku;
      label.textContent = p.name;
      th.append(label);
      if (p.availability === "sold_out") {
        const s = document.createElement("span");
        s.className = "sold-out";
        s.textContent = "Sold out";
        th.append(s);
      }
      const price = document.createElement("td");
      price.className = "amount";
      price.id = "price-" + p.sku;
      price.textContent = p.prices && typeof p.prices[cur] === "number" ? format(p.prices[cur], cur) : "—";
      const qty = document.createElement("td");
      const input = document.createElement("input");
      Object.assign(input, { type: "number", id: "qty-" + p.sku, min: "0", max: String(MAX_QUANTITY), step: "1", inputMode: "numeric" });
      input.dataset.sku = p.sku;
      input.disabled = !sellable(p, cur);
      input.value = input.disabled ? "0" : String(cartQty[p.sku] || 0);
      qty.append(input);
      tr.append(th, price, qty);
      return tr;
    });
    el.products.replaceChildren(...rows);
    updateTotal();
  }

  // loadCatalog lists the products (GET /products), retrying network errors and 5xx.
  async function loadCatalog() {
    for (let tries = 1; ; tries++) {
      try {
        const { res, body } = await request(base + "/products", { method: "GET" });
        if (res.ok && body && Array.isArray(body.products)) {
          products = body.products;
          catalogLoaded = true;
          el.catalog.dataset.loaded = "true";
          el.note.textContent = products.length ? "" : "Nothing is for sale right now.";
          el.note.hidden = products.length > 0;
          renderCatalog();
          return;
        }
        if (res.status < 500 && res.status !== 429) throw new Error("GET /products: " + res.status);
      } catch (_) { /* retried below */ }
      if (tries >= MAX_TRIES) {
        el.note.hidden = false;
        el.note.textContent = "The catalog could not be loaded. Reload the page to try again.";
        return;
      }
      await sleep(backoff(tries));
    }
  }

  function onQuantity(ev) {
    const input = ev.target;
    if (!input || !input.dataset || !input.dataset.sku) return;
    const q = Math.floor(Number(input.value));
    cartQty[input.dataset.sku] = Number.isFinite(q) ? Math.max(0, Math.min(q, MAX_QUANTITY)) : 0;
    updateTotal();
  }

  function onCurrency() {
    save(CURRENCY, el.currency.value);
    renderCatalog();
  }

  function requestBody() {
    const items = cartItems();
    const currency = el.currency.value;
    const body = { items, currency, amount: cartTotal(items, currency) }; // the total shown
    if (el.method.value) body.payment_method = el.method.value;
    const email = el.email.value.trim();
    if (email) body.customer_email = email;
    return body;
  }

  // UI states. The form is locked while an attempt is open, except where the API asked for a
  // fixed cart: the body must not change under a key but by the buyer's own fix. pay: "cart"
  // is Pay for the cart's total, enabled when there is one.
  const UI = {
    idle: { form: true, pay: "cart", fresh: false },
    sending: { form: false, pay: false, label: "Processing…", fresh: false, busy: true },
    unknown: { form: false, pay: true, label: "Retry payment", fresh: true },
    done: { form: false, pay: false, label: "Paid", fresh: true },
    ordered: { form: false, pay: false, label: "Order placed", fresh: true },
    declined: { form: true, pay: "cart", fresh: true },
    invalid: { form: true, pay: "cart", fresh: false },
    changed: { form: false, pay: false, label: "Pay", fresh: true },
    "price-changed": { form: false, pay: true, label: "Confirm the new total", fresh: true },
    "out-of-stock": { form: true, pay: "cart", fresh: true },
    "unknown-product": { form: true, pay: "cart", fresh: true },
  };
  function setState(name) {
    const ui = UI[name];
    el.status.dataset.state = name;
    el.fields.disabled = !ui.form;
    el.cart.disabled = !ui.form;
    if (ui.pay === "cart") {
      el.pay.disabled = !payable();
      el.pay.textContent = payLabel();
    } else {
      el.pay.disabled = !ui.pay;
      el.pay.textContent = ui.label;
    }
    el.fresh.hidden = !ui.fresh;
    const busy = ui.busy ? "true" : "false";
    el.pay.setAttribute("aria-busy", busy);
    el.status.setAttribute("aria-busy", busy);
    el.form.setAttribute("aria-busy", busy);
    updateTotal();
  }
  // say shows a message in the live region, and below it the API's own words when given.
  function say(text, apiDetail) {
    el.message.textContent = text;
    el.detail.textContent = apiDetail ? "Details: " + apiDetail : "";
    el.detail.hidden = !apiDetail;
  }
  function showOrder(id, status) {
    if (!id) return;
    el.orderId.textContent = id;
    el.orderStatus.textContent = status || "";
    el.order.hidden = false;
  }
  // showReceipt shows the lines of an order as the API priced them, and its amount.
  function showReceipt(lines, amount, currency) {
    if (!Array.isArray(lines) || !lines.length) return;
    el.lines.replaceChildren(...lines.map((l) => {
      const tr = document.createElement("tr");
      tr.dataset.sku = l.sku;
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = l.name || l.sku;
      const unit = document.createElement("td");
      unit.className = "amount";
      unit.textContent = format(l.unit_price, currency);
      const q = document.createElement("td");
      q.textContent = "× " + l.quantity;
      tr.append(th, unit, q);
      return tr;
    }));
    el.paid.textContent = format(amount, currency);
    el.receipt.hidden = false;
  }
  function hideOrder() {
    el.order.hidden = true;
    el.orderId.textContent = "";
    el.orderStatus.textContent = "";
    el.receipt.hidden = true;
    el.lines.replaceChildren();
    el.paid.textContent = "";
  }
  function names(skus) {
    return (Array.isArray(skus) ? skus : []).map((s) => {
      const p = product(s);
      return p ? p.name + " (" + s + ")" : s;
    }).join(", ");
  }

  function onSubmit(ev) {
    ev.preventDefault();
    if (inFlight) return; // a request with this attempt's key is on its way: never a second
    const state = el.status.dataset.state;
    if (state === "done" || state === "ordered" || state === "changed") return; // only "New purchase" goes on
    let attempt = load(ATTEMPT);
    if (attempt && state === "price-changed") {
      if (!newTotal) return;
      // The buyer confirmed the new total: the same attempt and key, with the total now shown.
      attempt = { key: attempt.key, body: { ...attempt.body, amount: newTotal.amount, currency: newTotal.currency } };
      save(ATTEMPT, attempt);
    } else if (!attempt || state === "out-of-stock" || state === "unknown-product") {
      if (!payable()) {
        say("Choose at least one product to buy.");
        return;
      }
      if (!el.email.checkValidity()) {
        say("Please enter a valid email address, or leave it empty.");
        el.email.focus();
        return;
      }
      // A new attempt gets a new key; a cart fixed after out-of-stock or unknown-product keeps
      // its attempt's key: the API stored nothing under it.
      attempt = { key: attempt ? attempt.key : newKey(), body: requestBody() };
      save(ATTEMPT, attempt);
      drop(LAST);
      hideOrder();
    }
    run(attempt);
  }

  function onNewPurchase() {
    if (inFlight) return;
    generation++;
    clearTimeout(pollTimer);
    drop(ATTEMPT);
    drop(LAST);
    hideOrder();
    el.form.reset();
    el.currency.value = load(CURRENCY) || el.currency.value;
    cartQty = {};
    short = new Set();
    newTotal = null;
    setState("idle");
    renderCatalog();
    say("Ready for a new purchase.");
    el.email.focus();
    loadCatalog();
  }

  // run sends an attempt until it has an answer, and shows the answer.
  async function run(attempt) {
    inFlight = true; // set before anything asynchronous
    const gen = generation;
    newTotal = null;
    fillForm(attempt.body);
    setState("sending");
    say("Processing your payment…");
    let outcome;
    try {
      outcome = await send(attempt, gen);
    } finally {
      inFlight = false;
    }
    if (gen === generation) finish(outcome, attempt, gen);
  }

  function fillForm(body) {
    el.method.value = body.payment_method || "";
    el.email.value = body.customer_email || "";
    if (body.currency && [...el.currency.options].some((o) => o.value === body.currency)) el.currency.value = body.currency;
    cartQty = {};
    for (const it of Array.isArray(body.items) ? body.items : []) cartQty[it.sku] = it.quantity;
    if (catalogLoaded) renderCatalog();
  }

  function isType(body, type) {
    return !!body && typeof body.type === "string" && (body.type === type || body.type.endsWith(type));
  }

  // send posts the attempt, retrying what is safe to retry with the same key.
  async function send(attempt, gen) {
    let tries = 0;
    let busy = 0;
    for (;;) {
      if (gen !== generation) return { kind: "cancelled" };
      tries++;
      let res, body;
      try {
        ({ res, body } = await request(base + "/checkout", {
          method: "POST",
          headers: { "Content-Type": "application/json", "Idempotency-Key": attempt.key },
          body: JSON.stringify(attempt.body),
        }));
        el.status.dataset.requests = String(++requests);
      } catch (_) {
        // Lost on the way there or back, or timed out: the work may be done or not. The same
        // key makes asking again safe either way.
        el.status.dataset.requests = String(++requests);
        if (tries >= MAX_TRIES) return { kind: "unknown" };
        await sleep(backoff(tries));
        continue;
      }
      const s = res.status;
      if ((s === 200 || s === 201) && body && body.order_id) return { kind: "order", order: body };
      if (s === 409 && isType(body, IN_PROGRESS)) {
        tries--; // the first request with this key is still running: wait for it
        if (++busy > MAX_BUSY) return { kind: "unknown" };
        await sleep(retryAfter(res) || 1000);
        continue;
      }
      if (s === 409 && isType(body, PRICE_CHANGED)) return { kind: "price-changed", problem: body };
      if (s === 409 && isType(body, OUT_OF_STOCK)) return { kind: "out-of-stock", problem: body };
      if (s === 400 && isType(body, UNKNOWN_PRODUCT)) return { kind: "unknown-product", problem: body };
      if (s === 402) return { kind: "declined", problem: body };
      if (s === 422) return { kind: "changed", problem: body };
      if (s < 500 && s !== 429 && !(s >= 200 && s < 300)) return { kind: "refused", status: s, problem: body };
      // 429, 5xx (nothing was stored: the API released the key) or a 2xx without an order.
      if (tries >= MAX_TRIES) return { kind: "unknown", problem: body };
      await sleep(Math.max(backoff(tries), retryAfter(res)));
    }
  }
  // request is fetch with a timeout that also covers reading the body; body is the parsed
  // JSON, or null.
  async function request(url, init) {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), TIMEOUT_MS);
    try {
      const res = await fetch(url, { ...init, signal: ctl.signal, cache: "no-store", credentials: "omit" });
      const text = await res.text();
      let body = null;
      try { body = text ? JSON.parse(text) : null; } catch (_) { /* not JSON: a gateway's page */ }
      return { res, body };
    } finally {
      clearTimeout(timer);
    }
  }

  // backoff is the wait after failed try n (1, 2, ...): 0.5 s, 1 s, 2 s, ... capped, plus up
  // to half of it again at random, so many pages do not retry in step.
  function backoff(n) {
    const d = Math.min(BACKOFF_CAP_MS, BACKOFF_MS * 2 ** (n - 1));
    return d + Math.random() * d / 2;
  }

  // retryAfter reads Retry-After (seconds or an HTTP date) in milliseconds, at most 30 s; 0 if absent.
  function retryAfter(res) {
    const v = res.headers.get("Retry-After");
    if (!v) return 0;
    let ms = /^\d+$/.test(v.trim()) ? Number(v) * 1000 : Date.parse(v) - Date.now();
    if (!(ms > 0)) return 0;
    return Math.min(ms, 30000);
  }

  function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  function detail(problem, fallback) {
    return (problem && typeof problem.detail === "string" && problem.detail) || fallback;
  }

  // finish shows the end of an attempt (or that it is still open).
  function finish(outcome, attempt, gen) {
    switch (outcome.kind) {
      case "order": {
        const o = outcome.order;
        drop(ATTEMPT);
        short = new Set();
        const last = { id: o.order_id, status: o.status, lines: o.lines, amount: o.amount, currency: o.currency };
        save(LAST, last);
        showReceipt(last.lines, last.amount, last.currency);
        showOrderStatus(last, gen, 0);
        loadCatalog(); // what is left after this order
        return;
      }
      case "price-changed": {
        // Nothing stored: the attempt stays open, and its key is sent again when the buyer confirms.
        const p = outcome.problem || {};
        const cur = p.currency || attempt.body.currency;
        if (typeof p.amount !== "number") { // no new total to show: the cart must be sent again
          finish({ kind: "refused", status: 409, problem: p }, attempt, gen);
          return;
        }
        newTotal = { amount: p.amount, currency: cur };
        setState("price-changed");
        el.pay.textContent = "Confirm and pay " + format(p.amount, cur);
        const was = typeof attempt.body.amount === "number" ? " (it was " + format(attempt.body.amount, attempt.body.currency) + ")" : "";
        say("The prices changed: the total of your cart is now " + format(p.amount, cur) + was + ". Nothing was charged. " +
          "Press \u201cConfirm and pay\u201d to pay the new total, or start a new purchase.", detail(p, ""));
        loadCatalog(); // the new prices
        return;
      }
      case "out-of-stock":
      case "unknown-product": {
        // Nothing stored: the buyer fixes the cart and pays with the same key.
        const p = outcome.problem || {};
        short = new Set(Array.isArray(p.skus) ? p.skus : []);
        setState(outcome.kind);
        const what = names(p.skus) || "some products";
        say(outcome.kind === "out-of-stock"
          ? "Not enough left of " + what + ". Nothing was charged. Change the quantities and press Pay again."
          : "No longer for sale: " + what + ". Nothing was charged. Remove it from your cart and press Pay again.",
          detail(p, ""));
        $("status").dataset.skus = [...short].join(",");
        loadCatalog(); // sold-out products become disabled
        return;
      }
      case "declined": {
        drop(ATTEMPT);
        const id = (detail(outcome.problem, "").match(/ord_[0-9a-f]+/) || [])[0];
        if (id) showOrder(id, "failed");
        setState("declined");
        const d = detail(outcome.problem, "");
        const code = (d.match(/\(([^)]+)\)/) || [])[1]; // "card_declined: insufficient_funds"
        say("Payment declined" + (code ? " (" + code + ")" : "") + ". Nothing was charged. " +
          "Choose another payment method and press Pay to try again.", d);
        loadCatalog(); // a declined order gives its units back
        return;
      }
      case "changed":
        drop(ATTEMPT);
        setState("changed");
        say("This purchase was changed after it was first sent, so it cannot be sent again. " +
          "Nothing was charged for the change: start a new purchase.", detail(outcome.problem, ""));
        return;
      case "refused": {
        drop(ATTEMPT); // refused requests charge nothing: fix the form and pay with a new key
        setState("invalid");
        const p = outcome.problem || {};
        say("The payment could not be started. Check the form and press Pay again; nothing was charged.",
          detail(p, `the API answered ${outcome.status}`));
        if (p.field === "customer_email") el.email.focus();
        else if (p.field === "payment_method") el.method.focus();
        return;
      }
      case "unknown":
        setState("unknown");
        say("We could not confirm your payment because of a network or server problem. " +
          "Press \u201cRetry payment\u201d: it is safe, you will not be charged twice.");
        return;
      default: // cancelled by "New purchase"
    }
  }

  // showOrderStatus shows the order of the last attempt (last: {id, status, lines, amount,
  // currency}) and polls it while it may still change.
  function showOrderStatus(last, gen, polls) {
    const { id, status } = last;
    showOrder(id, status);
    switch (status) {
      case "paid":
        setState("done");
        say("Payment received. Thank you! Your order is " + id + ".");
        return;
      case "requires_action":
        setState("ordered");
        say("Your bank asks you to confirm this payment. Waiting for the confirmation…");
        break;
      case "pending":
        setState("ordered");
        say("Order placed. Waiting for the payment…");
        break;
      case "failed":
        setState("declined");
        say("The payment of this order failed. Start a new purchase to pay another way.");
        return;
      case "abandoned": // never paid: the reconciler canceled it (3-D Secure not finished in time)
        setState("declined");
        say("This order was not paid in time and was cancelled; nothing was charged. Start a new purchase to pay.");
        loadCatalog(); // its units went back to stock
        return;
      default:
        setState("ordered");
        say("Your order is " + status + ".");
        return;
    }
    if (polls >= MAX_POLLS) {
      say("Your order is " + status.replace("_", " ") + ". Reload this page later to see if it changed.");
      return;
    }
    clearTimeout(pollTimer);
    pollTimer = setTimeout(() => pollOrder(last, gen, polls + 1), POLL_MS);
  }

  async function pollOrder(last, gen, polls) {
    if (gen !== generation) return;
    let status = last.status;
    try {
      const { res, body } = await request(base + "/orders/" + encodeURIComponent(last.id), { method: "GET" });
      if (res.ok && body && body.status) status = body.status;
    } catch (_) { /* keep polling */ }
    if (gen !== generation) return;
    last = { ...last, status };
    save(LAST, last);
    showOrderStatus(last, gen, polls);
  }

  function init() {
    const cur = load(CURRENCY);
    if (cur && [...el.currency.options].some((o) => o.value === cur)) el.currency.value = cur;
    el.form.addEventListener("submit", onSubmit);
    el.fresh.addEventListener("click", onNewPurchase);
    el.products.addEventListener("input", onQuantity);
    el.products.addEventListener("change", onQuantity);
    el.currency.addEventListener("change", onCurrency);
    const attempt = load(ATTEMPT);
    if (attempt && attempt.key && attempt.body) {
      say("Resuming your payment…");
      run(attempt); // the same key and body: the API replays or finishes the first answer
    } else {
      const last = load(LAST);
      if (last && last.id) {
        showReceipt(last.lines, last.amount, last.currency);
        showOrderStatus(last, generation, 0);
      } else {
        setState("idle");
        say("Choose what to buy, then press Pay.");
      }
    }
    loadCatalog();
  }

  init();
})();
