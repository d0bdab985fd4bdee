// The inspector page: polls the control API's JSON and draws it with DOM calls only.
// Nothing a client sent is ever parsed as HTML: text goes in through textContent (via el()),
// links only when they are http(s) URLs, and the server's Content Security Policy refuses
// inline script besides.
"use strict";

(() => {
  const POLL_MS = 500; // a change shows within a second
  const TOKEN_STORE = "mock-gateway-control-token";
  const API = new URL(".", location.href); // the page is /_mock/ui: the API is /_mock/
  const $ = (id) => document.getElementById(id);

  // -- DOM helpers ---------------------------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") node.className = value;
      else if (name === "text") node.textContent = String(value);
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function safeHref(url) {
    try {
      const parsed = new URL(url, location.href);
      return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
    } catch {
      return null;
    }
  }

  const redact = (key) => (key == null ? "–" : key.length > 4 ? "****" + key.slice(-4) : "****");
  const clockText = (iso) => (iso ? iso.slice(11, 23) : "");
  const plural = (n, word) => `${n.toLocaleString("en")} ${word}${n === 1 ? "" : "s"}`;
  const badge = (text, kind) => el("span", { class: `badge ${kind || String(text).toLowerCase()}`, text });

  function toast(message, kind) {
    const box = $("toast");
    box.textContent = message;
    box.dataset.kind = kind || "info";
    box.classList.add("show");
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => box.classList.remove("show"), 3500);
  }

  // -- the control API, with the token asked for once ------------------------------------

  class ApiError extends Error {}
  let token = sessionStorage.getItem(TOKEN_STORE) || "";
  let tokenPrompt = null;

  function askToken(refused) {
    if (tokenPrompt) return tokenPrompt;
    const dialog = $("token-dialog");
    $("token-error").textContent = refused ? "That token was refused; try again." : "";
    tokenPrompt = new Promise((resolve) => {
      $("token-form").onsubmit = (event) => {
        event.preventDefault();
        token = $("token-input").value;
        sessionStorage.setItem(TOKEN_STORE, token);
        dialog.close();
        tokenPrompt = null;
        resolve();
      };
    });
    dialog.showModal();
    $("token-input").focus();
    return tokenPrompt;
  }

  $("token-dialog").addEventListener("cancel", (event) => event.preventDefault()); // Esc: stay

  async function call(method, path, body) {
    for (;;) {
      const headers = {};
      if (token) headers["X-Mock-Control-Token"] = token;
      if (body !== undefined) headers["Content-Type"] = "application/json";
      const response = await fetch(new URL(path, API), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store",
      });
      if (response.status === 401) {
        await askToken(Boolean(token));
        continue;
      }
      const text = await response.text();
      let data = null;
      try {
        data = text ? JSON.parse(text) : null;
      } catch {
        data = { message: text.slice(0, 200) };
      }
      if (!response.ok) throw new ApiError((data && data.message) || `HTTP ${response.status}`);
      return data;
    }
  }

  async function act(promise, done) {
    try {
      const result = await promise;
      if (done) toast(typeof done === "function" ? done(result) : done, "ok");
      return result;
    } catch (error) {
      toast(error.message, "error");
      return undefined;
    } finally {
      kick();
    }
  }

  // -- thumbnails: fetched with the token header, shown from blob: URLs ----------------

  const thumbs = new Map(); // path -> Promise<blob URL>
  const THUMB_CACHE = 600;
  let thumbsLoading = 0;
  const thumbQueue = [];

  function loadThumb(path, img) {
    let pending = thumbs.get(path);
    if (!pending) {
      pending = new Promise((resolve, reject) => thumbQueue.push({ path, img, resolve, reject }));
      thumbs.set(path, pending);
      pending.catch(() => thumbs.delete(path)); // a later refresh tries again
      pumpThumbs();
      if (thumbs.size > THUMB_CACHE) {
        const [oldest, url] = thumbs.entries().next().value; // Map keeps insertion order
        thumbs.delete(oldest);
        url.then(URL.revokeObjectURL, () => {});
      }
    }
    return pending;
  }

  // At most two previews render at once, and only for images still on the page: during a
  // flood of submits the newest rows change faster than images could render.
  function pumpThumbs() {
    while (thumbsLoading < 2 && thumbQueue.length) {
      const { path, img, resolve, reject } = thumbQueue.shift();
      if (!img.isConnected) {
        reject(new ApiError("no longer shown"));
        continue;
      }
      thumbsLoading += 1;
      const headers = token ? { "X-Mock-Control-Token": token } : {};
      fetch(new URL(path, location.origin), { headers })
        .then((r) => (r.ok ? r.blob() : Promise.reject(new ApiError(`HTTP ${r.status}`))))
        .then((blob) => resolve(URL.createObjectURL(blob)), reject)
        .finally(() => {
          thumbsLoading -= 1;
          pumpThumbs();
        });
    }
  }

  const onScreen = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      const img = entry.target;
      onScreen.unobserve(img);
      loadThumb(img.dataset.path, img).then(
        (url) => (img.src = url),
        () => img.isConnected && img.classList.add("broken"),
      );
    }
  });

  function thumbnail(path, fullUrl, index) {
    const img = el("img", { class: "thumb", alt: `output ${index + 1}`, width: 64, height: 64 });
    img.dataset.path = path;
    onScreen.observe(img); // fetched once it scrolls into view
    const href = safeHref(fullUrl);
    return href ? el("a", { href, target: "_blank", rel: "noopener noreferrer", title: "full size" }, img) : img;
  }

  // -- a pager -----------------------------------------------------------------------

  function pager(box, view, total, onMove) {
    const sig = `${view.offset}/${view.size}/${total}`;
    if (box.dataset.sig === sig) return; // rebuilt only on change: a click is never lost
    box.dataset.sig = sig;
    box.replaceChildren();
    if (!total) return;
    const first = view.offset + 1;
    const last = Math.min(view.offset + view.size, total);
    const move = (offset) => () => {
      view.offset = Math.max(0, offset);
      onMove();
    };
    box.append(
      el("span", { class: "muted", text: `${first.toLocaleString("en")}–${last.toLocaleString("en")} of ${total.toLocaleString("en")}` }),
      el("button", { type: "button", class: "small", disabled: view.offset === 0, onclick: move(view.offset - view.size), "aria-label": "previous page", text: "‹" }),
      el("button", { type: "button", class: "small", disabled: last >= total, onclick: move(view.offset + view.size), "aria-label": "next page", text: "›" }),
    );
  }

  // Rows keyed by an id, rebuilt only when what they show changed (images stay put).
  function syncRows(body, items, idOf, build, signature) {
    const keep = new Set();
    items.forEach((item, position) => {
      const id = idOf(item);
      keep.add(id);
      const sig = signature(item);
      let row = body.rowsById.get(id);
      if (!row || row.sig !== sig) {
        const fresh = build(item, row);
        fresh.sig = sig;
        if (row) row.replaceWith(fresh);
        row = fresh;
        body.rowsById.set(id, row);
      }
      if (body.children[position] !== row) body.insertBefore(row, body.children[position] || null);
    });
    for (const [id, row] of body.rowsById) {
      if (!keep.has(id)) {
        row.remove();
        body.rowsById.delete(id);
      }
    }
  }

  function keyedBody(id) {
    const body = $(id);
    body.rowsById = new Map();
    return body;
  }

  // -- Jobs ----------------------------------------------------------------------------

  const jobsView = { offset: 0, size: 50 };
  const jobsBody = keyedBody("jobs-body");
  const knownModels = new Set();

  function timelineNode(job) {
    const steps = job.timeline.map((moment, i) => {
      const previous = job.timeline[i - 1];
      const delta = previous ? ` +${(moment.time - previous.time).toFixed(2)}s` : "";
      return el("li", { class: moment.status.toLowerCase() }, el("b", { text: moment.status }), " ", el("span", { class: "mono", text: clockText(moment.at) }), delta ? el("span", { class: "delta", text: delta }) : null);
    });
    return el("ol", { class: "timeline" }, steps);
  }

  // "<slug>_<uuid>": may wrap after the underscore, the slug shown quieter.
  function requestIdNode(requestId) {
    const cut = requestId.indexOf("_") + 1;
    return el("div", { class: "request-id mono" }, el("span", { class: "rid-prefix", text: requestId.slice(0, cut) }), el("wbr"), el("span", { class: "rid", text: requestId.slice(cut) }));
  }

  function webhookNode(hook) {
    if (!hook) return el("span", { class: "muted", text: "–" });
    const detail = [];
    if (hook.attempts) detail.push(plural(hook.attempts, "attempt"));
    if (hook.last_status != null) detail.push(`last ${hook.last_status}`);
    else if (hook.last_error) detail.push(hook.last_error);
    return el(
      "div",
      { class: "webhook-cell", title: hook.reason || hook.url },
      badge(hook.state.replace("_", " "), `hook-${hook.state}`),
      el("div", { class: "muted small", text: detail.join(" · ") }),
      hook.reason ? el("div", { class: "reason small", text: hook.reason }) : null,
    );
  }

  function jobRow(job, old) {
    const thumbSig = `${job.status} ${job.thumbnails.join()}`;
    const oldThumbs = old && old.thumbSig === thumbSig ? old.firstChild : null;
    const thumbsCell =
      oldThumbs ||
      el(
        "td",
        { class: "col-thumbs" },
        job.thumbnails.length
          ? el("div", { class: "thumbs" }, job.thumbnails.slice(0, 4).map((path, i) => thumbnail(path, job.media_url[i], i)), job.thumbnails.length > 4 ? el("span", { class: "more", text: `+${job.thumbnails.length - 4}` }) : null)
          : el("div", { class: `thumb placeholder ${job.status.toLowerCase()}`, text: { QUEUED: "…", PROCESSING: "…", FAILED: "✕", ERROR: "✕" }[job.status] || "" }),
      );
    const row = el(
      "tr",
      { "data-request-id": job.request_id, class: `job ${job.status.toLowerCase()}` },
      thumbsCell,
      el(
        "td",
        { class: "col-job" },
        requestIdNode(job.request_id),
        el("div", { class: "model" }, el("span", { class: "tag", text: job.model_id }), job.model !== job.model_id ? el("span", { class: "muted small", text: job.model }) : null, el("span", { class: "muted small", text: `${job.width}×${job.height} · ${plural(job.num_images, "image")}` })),
        el("div", { class: "prompt", title: job.prompt, text: job.prompt }),
      ),
      el("td", { class: "mono", text: job.key }),
      el("td", { class: "col-status" }, el("span", { class: `status ${job.status.toLowerCase()}`, "data-status": job.status, text: job.status }), timelineNode(job)),
      el("td", { class: "num mono" }, `$${job.cost_usd}`, job.refunded ? el("div", { class: "small refunded", text: "refunded" }) : null),
      el("td", {}, webhookNode(job.webhook)),
      el("td", { class: "error-text", text: job.error || "" }),
    );
    row.thumbSig = thumbSig;
    return row;
  }

  function fillSelect(select, values, label) {
    const current = select.value;
    const wanted = ["", ...values.map(([value]) => value)].join("\n");
    if (select.dataset.values === wanted) return;
    select.dataset.values = wanted;
    select.replaceChildren(el("option", { value: "", text: label }), ...values.map(([value, text]) => el("option", { value, text })));
    select.value = current;
  }

  async function refreshJobs() {
    const params = new URLSearchParams({ limit: jobsView.size, offset: jobsView.offset });
    for (const name of ["key", "model", "status"]) {
      const value = $(`filter-${name}`).value;
      if (value) params.set(name, value);
    }
    const [page, keys] = await Promise.all([call("GET", `jobs?${params}`), call("GET", "keys")]);
    if (page.total && jobsView.offset >= page.total) {
      jobsView.offset = Math.floor((page.total - 1) / jobsView.size) * jobsView.size;
      return refreshJobs();
    }
    // Redacted keys can look alike (****-key): the note tells them apart.
    const keyChoices = keys.keys.map((k) => [k.key, k.note ? `${redact(k.key)} · ${k.note.slice(0, 40)}` : redact(k.key)]);
    fillSelect($("filter-key"), keyChoices, "any key");
    page.jobs.forEach((job) => knownModels.add(job.model_id));
    fillSelect($("filter-model"), [...knownModels].sort().map((m) => [m, m]), "any model");
    syncRows(jobsBody, page.jobs, (job) => job.request_id, jobRow, (job) => JSON.stringify(job));
    $("jobs-empty").hidden = page.jobs.length > 0;
    $("count-jobs").textContent = page.total ? page.total.toLocaleString("en") : "";
    pager($("jobs-pager"), jobsView, page.total, kick);
  }

  for (const name of ["key", "model", "status"]) {
    $(`filter-${name}`).addEventListener("change", () => {
      jobsView.offset = 0;
      kick();
    });
  }

  // -- Keys ----------------------------------------------------------------------------

  const keysBody = keyedBody("keys-body");

  function limitNode(bucket) {
    if (!bucket) return el("span", { class: "muted", text: "no limit" });
    const state = bucket.retry_after != null ? el("span", { class: "badge limited", text: `limited · retry in ${bucket.retry_after}s` }) : el("span", { class: "muted small", text: `${bucket.remaining} of ${bucket.burst} left` });
    return el("div", {}, el("span", { class: "mono", text: bucket.limit }), bucket.source === "default" ? el("span", { class: "tag subtle", text: "default" }) : null, el("div", {}, state));
  }

  function keyRow(entry) {
    const input = el("input", { type: "text", inputmode: "decimal", value: entry.key.balance_usd, "aria-label": `balance of ${redact(entry.key.key)}`, class: "balance-input mono" });
    const save = (event) => {
      event.preventDefault();
      act(call("PUT", `keys/${encodeURIComponent(entry.key.key)}`, { balance_usd: input.value.trim() }), (k) => `Balance of ${redact(k.key)} is now $${k.balance_usd}`).then(() => {
        input.dataset.dirty = "";
      });
    };
    input.addEventListener("input", () => (input.dataset.dirty = "1"));
    const forbidden = el("input", { type: "checkbox", checked: entry.key.forbidden, "aria-label": `forbid ${redact(entry.key.key)}` });
    forbidden.addEventListener("change", () => act(call("PUT", `keys/${encodeURIComponent(entry.key.key)}`, { forbidden: forbidden.checked }), (k) => `${redact(k.key)} is ${k.forbidden ? "forbidden (403)" : "allowed again"}`));
    return el(
      "tr",
      { "data-key": redact(entry.key.key), class: entry.key.forbidden ? "forbidden" : "" },
      el("td", {}, el("div", { class: "mono", text: redact(entry.key.key) }), entry.key.note ? el("div", { class: "muted small", text: entry.key.note }) : null),
      el("td", {}, el("form", { class: "inline-form balance", onsubmit: save }, el("span", { class: "currency", text: "$" }), input, el("button", { type: "submit", class: "small", text: "Save" }))),
      el("td", {}, limitNode(entry.buckets.submit)),
      el("td", {}, limitNode(entry.buckets.status)),
      el("td", {}, el("label", { class: "switch" }, forbidden, el("span", { text: entry.key.forbidden ? "forbidden" : "allowed" }))),
    );
  }

  async function refreshKeys() {
    const [keys, limits] = await Promise.all([call("GET", "keys"), call("GET", "rate-limits")]);
    const buckets = new Map();
    for (const bucket of limits.rate_limits) {
      if (!buckets.has(bucket.key)) buckets.set(bucket.key, {});
      buckets.get(bucket.key)[bucket.group] = bucket;
    }
    const entries = keys.keys.map((key) => ({ key, buckets: buckets.get(key.key) || {} }));
    // A balance being edited is not overwritten under the user's fingers.
    const editing = (entry) => {
      const row = keysBody.rowsById.get(entry.key.key);
      const input = row && row.querySelector(".balance-input");
      return input && (input.dataset.dirty || document.activeElement === input);
    };
    syncRows(keysBody, entries, (e) => e.key.key, keyRow, (e) => (editing(e) ? keysBody.rowsById.get(e.key.key).sig : JSON.stringify(e)));
    $("keys-empty").hidden = entries.length > 0;
    $("count-keys").textContent = entries.length || "";
  }

  // -- Journal -------------------------------------------------------------------------

  const journalView = { offset: 0, size: 100 };
  const journalBody = keyedBody("journal-body");

  function journalRow(entry) {
    const notes = [
      ...entry.warnings.map((w) => el("div", { class: "warning" }, el("b", { text: w.kind }), " ", w.message)),
      ...entry.faults.map((id) => el("div", { class: "fault-note" }, el("b", { text: "fault" }), " ", id)),
    ];
    const body = entry.body == null ? null : el("details", {}, el("summary", { text: "body" }), el("pre", { text: JSON.stringify(entry.body, null, 2) }));
    return el(
      "tr",
      { class: entry.warnings.length ? "warned" : "", "data-seq": entry.seq },
      el("td", { class: "mono small", text: clockText(entry.at) }),
      el("td", {}, el("span", { class: "method", text: entry.method }), " ", el("span", { class: "mono path", text: entry.path }), body),
      el("td", { class: "mono", text: entry.key || "–" }),
      el("td", { class: "num" }, entry.status == null ? badge("dropped", "error") : el("span", { class: `http s${String(entry.status)[0]}`, text: entry.status })),
      el("td", { class: "small" }, entry.request_id ? requestIdNode(entry.request_id) : null),
      el("td", {}, notes),
    );
  }

  async function refreshJournal() {
    const data = await call("GET", "requests");
    let entries = data.requests.slice().reverse();
    const warned = entries.filter((e) => e.warnings.length).length;
    if ($("journal-warned").checked) entries = entries.filter((e) => e.warnings.length);
    const shown = entries.slice(journalView.offset, journalView.offset + journalView.size);
    syncRows(journalBody, shown, (e) => `${e.seq}@${e.time}`, journalRow, (e) => JSON.stringify(e));
    $("journal-empty").hidden = shown.length > 0;
    $("journal-summary").textContent = `${plural(data.recorded, "call")} recorded · ${plural(warned, "warning")} · keeps the newest ${data.capacity.toLocaleString("en")}`;
    $("count-journal").textContent = warned ? `⚠ ${warned}` : "";
    pager($("journal-pager"), journalView, entries.length, kick);
  }

  $("journal-warned").addEventListener("change", () => {
    journalView.offset = 0;
    kick();
  });

  // -- Webhooks ------------------------------------------------------------------------

  const hooksView = { offset: 0, size: 50 };
  const hooksBody = keyedBody("webhooks-body");

  function hookRow(delivery) {
    const attempts = delivery.attempts.map((a) =>
      el(
        "li",
        { class: a.error ? "failed" : "ok" },
        el("b", { text: `#${a.attempt}` }),
        " ",
        el("span", { class: "mono", text: clockText(a.at) }),
        " ",
        a.status != null ? el("span", { class: `http s${String(a.status)[0]}`, text: a.status }) : el("span", { class: "badge error", text: "no answer" }),
        ` ${a.duration_ms} ms`,
        a.error ? el("div", { class: "error-text small", text: a.error }) : null,
      ),
    );
    return el(
      "tr",
      { "data-delivery": delivery.id, "data-request-id-hook": delivery.request_id },
      el("td", {}, requestIdNode(delivery.request_id), el("div", { class: "mono url", text: delivery.url }), el("div", { class: "muted small", text: `key ${delivery.key} · created ${clockText(delivery.created_at)}` })),
      el(
        "td",
        {},
        badge(delivery.state.replace("_", " "), `hook-${delivery.state}`),
        delivery.reason ? el("div", { class: "reason small", text: delivery.reason }) : null,
        delivery.next_attempt_at ? el("div", { class: "muted small", text: `next attempt ${clockText(delivery.next_attempt_at)}` }) : null,
      ),
      el("td", {}, attempts.length ? el("ol", { class: "attempts" }, attempts) : el("span", { class: "muted", text: "none yet" })),
    );
  }

  async function refreshWebhooks() {
    const data = await call("GET", "webhooks");
    const deliveries = data.webhooks.slice().reverse();
    const shown = deliveries.slice(hooksView.offset, hooksView.offset + hooksView.size);
    syncRows(hooksBody, shown, (d) => d.id, hookRow, (d) => JSON.stringify(d));
    $("webhooks-empty").hidden = shown.length > 0;
    const states = {};
    deliveries.forEach((d) => (states[d.state] = (states[d.state] || 0) + 1));
    $("webhooks-summary").textContent = Object.entries(states).map(([s, n]) => `${n} ${s.replace("_", " ")}`).join(" · ");
    $("count-webhooks").textContent = deliveries.length || "";
    pager($("webhooks-pager"), hooksView, deliveries.length, kick);
  }

  // -- Faults --------------------------------------------------------------------------

  const faultsBody = keyedBody("faults-body");

  function faultMatches(rule) {
    const parts = [];
    if (rule.endpoint) parts.push(`endpoint ${rule.endpoint}`);
    if (rule.model) parts.push(`model ${rule.model}`);
    if (rule.key) parts.push(`key ${redact(rule.key)}`);
    if (rule.prompt_contains) parts.push(`prompt contains “${rule.prompt_contains}”`);
    if (rule.probability != null) parts.push(`p=${rule.probability}`);
    return parts.length ? parts.join(" · ") : "every call";
  }

  function faultDoes(rule) {
    const parts = [];
    if (rule.status != null) parts.push(`answer ${rule.status}`);
    if (rule.outcome) parts.push(`job ends ${rule.outcome}${rule.error ? `: ${rule.error}` : ""}`);
    if (rule.drop_connection) parts.push("drop the connection");
    if (rule.latency_ms) parts.push(`+${rule.latency_ms} ms`);
    return parts.join(" · ");
  }

  function faultRow(rule) {
    return el(
      "tr",
      { "data-fault-id": rule.id },
      el("td", {}, el("span", { class: "mono", text: rule.id }), rule.note ? el("div", { class: "muted small", text: rule.note }) : null),
      el("td", { text: faultMatches(rule) }),
      el("td", { text: faultDoes(rule) }),
      el("td", { class: "num", text: rule.fired }),
      el("td", { class: "num", text: rule.remaining == null ? "∞" : rule.remaining }),
      el("td", { class: "num" }, el("button", { type: "button", class: "small", onclick: () => act(call("DELETE", `faults/${encodeURIComponent(rule.id)}`), `Removed ${rule.id}`), text: "Remove" })),
    );
  }

  async function refreshFaults() {
    const data = await call("GET", "faults");
    syncRows(faultsBody, data.faults, (r) => r.id, faultRow, (r) => JSON.stringify(r));
    $("faults-empty").hidden = data.faults.length > 0;
    $("count-faults").textContent = data.faults.length || "";
  }

  function showActionFields() {
    const action = $("fault-action").value;
    for (const label of document.querySelectorAll("#fault-form [data-for]")) label.hidden = label.dataset.for !== action;
  }
  $("fault-action").addEventListener("change", showActionFields);
  showActionFields();

  $("fault-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const value = (name) => form.elements[name].value.trim();
    const rule = {};
    for (const name of ["endpoint", "model", "key", "prompt_contains", "note"]) if (value(name)) rule[name] = value(name);
    for (const name of ["latency_ms", "times", "probability"]) if (value(name)) rule[name] = Number(value(name));
    const action = value("action");
    if (action === "status") {
      rule.status = Number(value("status"));
      if (value("retry_after")) rule.retry_after = Number(value("retry_after"));
    } else if (action === "outcome") {
      rule.outcome = value("outcome");
      if (value("error")) rule.error = value("error");
    } else if (action === "drop") rule.drop_connection = true;
    $("fault-error").textContent = "";
    try {
      const added = await call("POST", "faults", rule);
      toast(`Added ${added.id}`, "ok");
    } catch (error) {
      $("fault-error").textContent = error.message;
    }
    kick();
  });

  $("faults-clear").addEventListener("click", () => act(call("DELETE", "faults"), (r) => `Removed ${plural(r.removed, "rule")}`));

  // -- Clock and reset -----------------------------------------------------------------

  function renderClock(clock) {
    const state = $("clock-state");
    state.textContent = clock.frozen ? "frozen" : "running";
    state.dataset.state = clock.frozen ? "frozen" : "running";
    $("clock-time").textContent = clockText(clock.now);
    $("clock-time").title = `${clock.now.replace("T", " ").replace("Z", " UTC")} (mock time)`;
    $("clock-rate").textContent = `×${clock.rate}`;
    $("freeze").disabled = clock.frozen;
  }

  $("advance-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const seconds = Number($("advance-seconds").value);
    act(call("POST", "clock/advance", { seconds }).then(renderClock), `Advanced ${seconds} s`);
  });
  $("freeze").addEventListener("click", () => act(call("POST", "clock/freeze", {}).then(renderClock), "Clock frozen"));
  $("resume-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const rate = Number($("resume-rate").value);
    act(call("POST", "clock/resume", { rate }).then(renderClock), `Clock running at ×${rate}`);
  });

  const resetButton = $("reset");
  resetButton.addEventListener("click", () => {
    if (resetButton.dataset.armed) {
      delete resetButton.dataset.armed;
      resetButton.textContent = "Reset";
      act(call("POST", "reset", {}), "Reset to the configured start state");
      return;
    }
    resetButton.dataset.armed = "1";
    resetButton.textContent = "Confirm reset";
    setTimeout(() => {
      delete resetButton.dataset.armed;
      resetButton.textContent = "Reset";
    }, 4000);
  });

  // -- tabs and the live loop ----------------------------------------------------------

  const panels = { jobs: refreshJobs, keys: refreshKeys, journal: refreshJournal, webhooks: refreshWebhooks, faults: refreshFaults };
  let active = (location.hash.slice(1) in panels && location.hash.slice(1)) || "jobs";

  function showTab(name) {
    active = name;
    for (const tab of document.querySelectorAll("[role=tab]")) tab.setAttribute("aria-selected", String(tab.dataset.tab === name));
    for (const panel of document.querySelectorAll("[data-panel]")) panel.hidden = panel.dataset.panel !== name;
    history.replaceState(null, "", `#${name}`);
    kick();
  }
  for (const tab of document.querySelectorAll("[role=tab]")) tab.addEventListener("click", () => showTab(tab.dataset.tab));

  let wake = () => {};
  function kick() {
    wake();
  }
  const pause = (ms) =>
    new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  function setLive(ok, why) {
    const live = $("live");
    live.dataset.state = ok ? "live" : "down";
    $("live-text").textContent = ok ? "live" : "unreachable";
    live.title = ok ? `updated ${new Date().toLocaleTimeString()}` : why || "";
  }

  async function loop() {
    showTab(active);
    for (;;) {
      let wait = POLL_MS;
      if (!document.hidden) {
        const started = performance.now();
        try {
          const [clock] = await Promise.all([call("GET", "clock"), panels[active]()]);
          renderClock(clock);
          setLive(true);
        } catch (error) {
          setLive(false, error.message);
        }
        // A heavy view (a full 10,000-entry journal) is polled less often, so the page
        // never takes more than a small share of the mock's time.
        wait = Math.max(POLL_MS, 4 * (performance.now() - started));
      }
      await pause(wait);
    }
  }
  document.addEventListener("visibilitychange", kick);
  loop();
})();
