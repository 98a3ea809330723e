// The autodeploy web page: a client of the /v1 API like any other. The token
// is kept in localStorage and sent as a bearer token; the log is read as
// Server-Sent Events (text/event-stream) with fetch, so the token travels in
// a header and never in a URL. All text from the server is inserted with
// textContent (never innerHTML).
"use strict";

const $ = (id) => document.getElementById(id);
let lastPlan = null;
let following = null;

function token() { return localStorage.getItem("autodeploy.token") || ""; }

function showError(msg) {
  const e = $("error");
  e.textContent = msg || "";
  e.hidden = !msg;
}

async function api(method, path, body) {
  const headers = { "Authorization": "Bearer " + token() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
  if (!r.ok) {
    const err = data && data.error ? data.error : { code: "http_" + r.status, message: text || r.statusText };
    throw new Error(err.message + " (" + err.code + ")");
  }
  return data;
}

function el(tag, text, attrs) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  return e;
}

function fill(list, items) {
  list.replaceChildren(...items.map((t) => el("li", t)));
}

// `NAME=VALUE` lines → an object; a line without `=` is an error named back.
function pairs(id, what) {
  const out = {};
  for (const raw of $(id).value.split("\n")) {
    const line = raw.trim();
    if (!line) continue;
    const i = line.indexOf("=");
    if (i <= 0) throw new Error(`${what}: "${line.split("=")[0]}" needs the form NAME=VALUE`);
    out[line.slice(0, i).trim()] = line.slice(i + 1);
  }
  return out;
}

function options() {
  const o = {};
  if ($("target").value) o.target = $("target").value;
  const env = pairs("env", "Environment");
  if (Object.keys(env).length) o.env = env;
  return o;
}

async function preview(ev) {
  ev.preventDefault();
  showError("");
  $("preview").disabled = true;
  try {
    const p = await api("POST", "/v1/plan", { repo: $("repo").value.trim(), request: $("request").value.trim(), options: options() });
    lastPlan = p;
    fill($("analysis"), p.analysis.services.map((s) =>
      `${s.name} (${s.path}): ${s.language}${s.framework ? " / " + s.framework : ""}` +
      `${s.port ? ", port " + s.port : ""}${s.databases.length ? ", uses " + s.databases.join(", ") : ""}`));
    $("understood").textContent = p.summary;
    const d = p.decision;
    $("decision").textContent = `${d.cloud} in ${d.region}, ${d.strategy}, ${d.environment}`;
    fill($("reasons"), (d.reasons || []).map((r) => r.text));
    fill($("warnings"), (d.warnings || []).map((w) => `${w.code}: ${w.message}`));
    $("cost").textContent = "$" + Number(d.estimated_monthly_usd).toFixed(2);
    $("files").textContent = Object.keys(p.files).length + " (" + Object.keys(p.files).slice(0, 6).join(", ") + "…)";
    $("plan").hidden = false;
    $("confirm").disabled = false;
  } catch (e) {
    showError(e.message);
  } finally {
    $("preview").disabled = false;
  }
}

async function confirmDeploy() {
  if (!lastPlan) return;
  showError("");
  $("confirm").disabled = true;
  try {
    const key = "web-" + Date.now() + "-" + Math.random().toString(36).slice(2);
    const r = await fetch("/v1/deployments", {
      method: "POST",
      headers: { "Authorization": "Bearer " + token(), "Content-Type": "application/json", "Idempotency-Key": key },
      body: JSON.stringify({ repo: $("repo").value.trim(), request: $("request").value.trim(), options: options(), secrets: pairs("secrets", "Secrets") }),
    });
    const d = await r.json();
    if (!r.ok) throw new Error(d.error ? d.error.message + " (" + d.error.code + ")" : "HTTP " + r.status);
    // Sent once: nothing of a secret stays on the page.
    $("secrets").value = "";
    follow(d.id);
    refresh();
  } catch (e) {
    showError(e.message);
    $("confirm").disabled = false;
  }
}

// Follow /v1/deployments/{id}/logs: parse the event stream by hand.
async function follow(id) {
  if (following) following.abort();
  const ctl = new AbortController();
  following = ctl;
  $("live").hidden = false;
  $("live-id").textContent = id;
  $("live-status").textContent = "following…";
  $("log").replaceChildren();
  let after = 0;
  while (!ctl.signal.aborted) {
    try {
      const r = await fetch(`/v1/deployments/${encodeURIComponent(id)}/logs?after=${after}`, {
        headers: { "Authorization": "Bearer " + token(), "Accept": "text/event-stream" }, signal: ctl.signal,
      });
      if (!r.ok) throw new Error("HTTP " + r.status);
      const reader = r.body.getReader();
      const dec = new TextDecoder();
      let buf = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          let event = "message", data = "", eid = null;
          for (const line of block.split("\n")) {
            if (line.startsWith("event:")) event = line.slice(6).trim();
            else if (line.startsWith("data:")) data += line.slice(5).trimStart();
            else if (line.startsWith("id:")) eid = line.slice(3).trim();
          }
          if (event === "log" && data) {
            const l = JSON.parse(data);
            if (eid) after = Number(eid);
            const span = el("span", (l.phase ? "[" + l.phase + "] " : "") + l.line + "\n", { class: l.stream });
            $("log").appendChild(span);
            $("log").scrollTop = $("log").scrollHeight;
          } else if (event === "end" && data) {
            const s = JSON.parse(data).status;
            $("live-status").textContent = s;
            $("live-status").setAttribute("data-status", s);
            refresh();
            return;
          }
        }
      }
    } catch (e) {
      if (ctl.signal.aborted) return;
      $("live-status").textContent = "reconnecting (" + e.message + ")";
    }
    await new Promise((res) => setTimeout(res, 1000));
  }
}

async function destroy(id) {
  showError("");
  try {
    await api("POST", `/v1/deployments/${encodeURIComponent(id)}/destroy`);
    follow(id);
    refresh();
  } catch (e) {
    showError(e.message);
  }
}

async function refresh() {
  if (!token()) return;
  try {
    const page = await api("GET", "/v1/deployments?limit=100");
    const rows = page.items.map((d) => {
      const tr = el("tr", null, { "data-id": d.id });
      tr.appendChild(el("td", d.name));
      tr.appendChild(el("td", d.status, { class: "status", "data-status": d.status }));
      tr.appendChild(el("td", d.cloud || "—"));
      const u = el("td");
      if (d.url && /^https?:\/\//.test(d.url)) u.appendChild(el("a", d.url, { href: d.url, target: "_blank", rel: "noopener noreferrer", class: "app-url" }));
      else u.textContent = "—";
      tr.appendChild(u);
      tr.appendChild(el("td", new Date(d.created_at).toLocaleString()));
      const actions = el("td");
      const log = el("button", "Log", { type: "button", class: "small" });
      log.addEventListener("click", () => follow(d.id));
      actions.appendChild(log);
      if (!["destroyed", "destroying", "cancelled"].includes(d.status)) {
        const b = el("button", "Destroy", { type: "button", class: "small danger destroy" });
        b.addEventListener("click", () => destroy(d.id));
        actions.appendChild(b);
      }
      tr.appendChild(actions);
      return tr;
    });
    $("deployments").replaceChildren(...rows);
  } catch (e) {
    showError(e.message);
  }
}

function init() {
  $("token").value = token();
  $("token-state").textContent = token() ? "saved" : "paste a token (autodeploy token create --user NAME)";
  $("token-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    localStorage.setItem("autodeploy.token", $("token").value.trim());
    $("token-state").textContent = "saved";
    refresh();
  });
  $("plan-form").addEventListener("submit", preview);
  $("confirm").addEventListener("click", confirmDeploy);
  $("refresh").addEventListener("click", refresh);
  refresh();
  setInterval(refresh, 5000);
}

init();
