// Checkout page: one purchase attempt, one Idempotency-Key, at most one order and one charge.
//
// Where the API is (POST /checkout, GET /orders/{id}); the first of these that is set wins:
//   1. the query parameter  ?api=https://abc123.execute-api.eu-west-1.amazonaws.com
//   2. a script that runs before this one:  window.CHECKOUT_CONFIG = {apiBase: "https://..."}
//   3. <meta name="api-base" content="https://..."> in index.html
//   4. "" (the default): this page's own origin, as served by the local server.
// Only http and https URLs are accepted; a trailing slash is ignored. An API on another origin
// must answer CORS for this page's origin: allow the request headers Content-Type and
// Idempotency-Key, and expose Retry-After (without it the page waits 1 s on 409).
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
  const ITEM = { cart_id: "cart_demo_mug", amount: 1500, currency: "eur" };
  const TIMEOUT_MS = 10000;
  const MAX_TRIES = 5; // requests per attempt that failed on the way (network, 429, 5xx)
  const MAX_BUSY = 12; // 409 answers waited for per attempt
  const BACKOFF_MS = 500;
  const BACKOFF_CAP_MS = 8000;
  const POLL_MS = 2000;
  const MAX_POLLS = 30;
  const IN_PROGRESS = "/problems/idempotency-key-in-progress";
  const OPEN = new Set(["pending", "requires_action"]);

  const $ = (id) => document.getElementById(id);
  const el = {
    form: $("checkout"), fields: $("fields"), email: $("email"), method: $("payment-method"),
    pay: $("pay"), fresh: $("new-purchase"), status: $("status"), message: $("message"),
    detail: $("detail"), order: $("order"), orderId: $("order-id"), orderStatus: $("order-status"),
  };

  const base = apiBase();
  const money = new Intl.NumberFormat("en-IE", { style: "currency", currency: ITEM.currency.toUpperCase() });
  const price = money.format(ITEM.amount / 10 ** money.resolvedOptions().maximumFractionDigits);
  const payLabel = "Pay " + price;

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

  function requestBody() {
    const body = { ...ITEM };
    if (el.method.value) body.payment_method = el.method.value;
    const email = el.email.value.trim();
    if (email) body.customer_email = email;
    return body;
  }

  // UI states. The form is locked while an attempt is open: its body must not change.
  const UI = {
    idle: { form: true, pay: true, label: payLabel, fresh: false },
    sending: { form: false, pay: false, label: "Processing…", fresh: false, busy: true },
    unknown: { form: false, pay: true, label: "Retry payment", fresh: true },
    done: { form: false, pay: false, label: "Paid", fresh: true },
    ordered: { form: false, pay: false, label: "Order placed", fresh: true },
    declined: { form: true, pay: true, label: payLabel, fresh: true },
    invalid: { form: true, pay: true, label: payLabel, fresh: false },
    changed: { form: false, pay: false, label: payLabel, fresh: true },
  };
  function setState(name) {
    const ui = UI[name];
    el.status.dataset.state = name;
    el.fields.disabled = !ui.form;
    el.pay.disabled = !ui.pay;
    el.pay.textContent = ui.label;
    el.fresh.hidden = !ui.fresh;
    const busy = ui.busy ? "true" : "false";
    el.pay.setAttribute("aria-busy", busy);
    el.status.setAttribute("aria-busy", busy);
    el.form.setAttribute("aria-busy", busy);
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
  function hideOrder() {
    el.order.hidden = true;
    el.orderId.textContent = "";
    el.orderStatus.textContent = "";
  }

  function onSubmit(ev) {
    ev.preventDefault();
    if (inFlight) return; // a request with this attempt's key is on its way: never a second
    const state = el.status.dataset.state;
    if (state === "done" || state === "ordered" || state === "changed") return; // only "New purchase" goes on
    let attempt = load(ATTEMPT);
    if (!attempt) {
      if (!el.email.checkValidity()) {
        say("Please enter a valid email address, or leave it empty.");
        el.email.focus();
        return;
      }
      attempt = { key: newKey(), body: requestBody() };
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
    setState("idle");
    say("Ready for a new purchase.");
    el.email.focus();
  }

  // run sends an attempt until it has an answer, and shows the answer.
  async function run(attempt) {
    inFlight = true; // set before anything asynchronous
    const gen = generation;
    fillForm(attempt.body);
    setState("sending");
    say("Processing your payment…");
    let outcome;
    try {
      outcome = await send(attempt, gen);
    } finally {
      inFlight = false;
    }
    if (gen === generation) finish(outcome, gen);
  }

  function fillForm(body) {
    el.method.value = body.payment_method || "";
    el.email.value = body.customer_email || "";
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
      if (s === 409 && body && body.type === IN_PROGRESS) {
        tries--; // the first request with this key is still running: wait for it
        if (++busy > MAX_BUSY) return { kind: "unknown" };
        await sleep(retryAfter(res) || 1000);
        continue;
      }
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
  function finish(outcome, gen) {
    switch (outcome.kind) {
      case "order": {
        const o = outcome.order;
        drop(ATTEMPT);
        save(LAST, { id: o.order_id, status: o.status });
        showOrderStatus(o.order_id, o.status, gen, 0);
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

  function showOrderStatus(id, status, gen, polls) {
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
    pollTimer = setTimeout(() => pollOrder(id, status, gen, polls + 1), POLL_MS);
  }

  async function pollOrder(id, status, gen, polls) {
    if (gen !== generation) return;
    try {
      const { res, body } = await request(base + "/orders/" + encodeURIComponent(id), { method: "GET" });
      if (res.ok && body && body.status) status = body.status;
    } catch (_) { /* keep polling */ }
    if (gen !== generation) return;
    save(LAST, { id, status });
    showOrderStatus(id, status, gen, polls);
  }

  function init() {
    el.pay.textContent = payLabel;
    $("item-price").textContent = price;
    $("total").textContent = price;
    el.form.addEventListener("submit", onSubmit);
    el.fresh.addEventListener("click", onNewPurchase);
    const attempt = load(ATTEMPT);
    if (attempt && attempt.key && attempt.body) {
      say("Resuming your payment…");
      run(attempt); // the same key and body: the API replays or finishes the first answer
      return;
    }
    const last = load(LAST);
    if (last && last.id) {
      showOrderStatus(last.id, last.status, generation, 0);
      return;
    }
    setState("idle");
  }

  init();
})();
