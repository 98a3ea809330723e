// The autodeploy web page: a client of the /v1 API like any other. The token
// is kept in localStorage and sent as a bearer token; the log is read as
// Server-Sent Events (text/event-stream) with fetch, so the token travels in
// a header and never in a URL. All text from the server is inserted with
// textContent, never parsed as markup.
//
// Two views: `/` (new deployment, preview, the list) and `/d/ID` (one
// deployment: its plan, phase progress and live log; a reload keeps it).
// "Deploy it" sends only the plan_id the preview answered, so what is
// deployed is what was reviewed; editing the form after a preview disables
// it until the next preview.
"use strict";

const $ = (id) => document.getElementById(id);
const FINAL = ["healthy", "applied", "unhealthy", "failed", "interrupted", "destroyed", "cancelled"];
const GONE = ["destroyed", "destroying", "cancelled"];
// The phases a deployment goes through, by target (crates/core Phase).
const LOCAL_PHASES = ["fetch", "analyze", "plan", "app_start", "health"];
const CLOUD_PHASES = ["fetch", "analyze", "plan", "rehearse", "terraform_init", "terraform_plan", "terraform_apply", "release", "health"];

let lastPlan = null;      // the last preview's answer
let previewedForm = null; // the form as it was when previewed
let following = null;     // AbortController of the log stream
let current = null;       // the deployment shown at /d/ID
const seenPhases = new Set();

function token() { return localStorage.getItem("autodeploy.token") || ""; }

function showError(msg) {
  const e = $("error");
  e.textContent = msg || "";
  e.hidden = !msg;
}

class ApiFailure extends Error {
  constructor(status, code, message) {
    super(message + " (" + code + ")");
    this.status = status;
    this.code = code;
  }
}

function tokenRejected(e) {
  $("token-state").textContent = `token rejected (401): ${e.message} — paste a valid token (autodeploy token create --user NAME)`;
  $("token-state").className = "error";
}

async function api(method, path, body, extraHeaders) {
  const headers = Object.assign({ "Authorization": "Bearer " + token() }, extraHeaders || {});
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
  if (!r.ok) {
    const err = data && data.error ? data.error : { code: "http_" + r.status, message: text || r.statusText };
    const f = new ApiFailure(r.status, err.code, err.message);
    if (r.status === 401) tokenRejected(f);
    throw f;
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

// What a preview depends on (secrets are not part of a plan).
function formState() {
  return JSON.stringify([$("repo").value.trim(), $("request").value.trim(), $("target").value, $("env").value]);
}

function checkStale() {
  if (!lastPlan) return;
  const stale = formState() !== previewedForm;
  $("stale").hidden = !stale;
  $("confirm").disabled = stale;
}

function url(d) {
  return d.url && /^https?:\/\//.test(d.url) ? d.url : null;
}

function money(n) { return "$" + Number(n).toFixed(2); }

// ---- home view -------------------------------------------------------------

async function preview(ev) {
  ev.preventDefault();
  showError("");
  $("preview").disabled = true;
  try {
    const form = formState();
    const p = await api("POST", "/v1/plan", { repo: $("repo").value.trim(), request: $("request").value.trim(), options: options() });
    lastPlan = p;
    previewedForm = form;
    $("plan-id").textContent = p.plan_id;
    fill($("analysis"), p.analysis.services.map((s) =>
      `${s.name} (${s.path}): ${s.language}${s.framework ? " / " + s.framework : ""}` +
      `${s.port ? ", port " + s.port : ""}${s.databases.length ? ", uses " + s.databases.join(", ") : ""}`));
    $("understood").textContent = p.summary;
    fill($("notes"), p.notes || []);
    const d = p.decision;
    $("decision").textContent = `${d.cloud} in ${d.region}, ${d.strategy}, ${d.environment}`;
    fill($("reasons"), (d.reasons || []).map((r) => r.text));
    fill($("warnings"), (d.warnings || []).map((w) => `${w.code}: ${w.message}`));
    $("cost").textContent = money(d.estimated_monthly_usd);
    $("files").textContent = Object.keys(p.files).length + " (" + Object.keys(p.files).slice(0, 6).join(", ") + "…)";
    $("plan").hidden = false;
    checkStale();
  } catch (e) {
    showError(e.message);
  } finally {
    $("preview").disabled = false;
  }
}

async function confirmDeploy() {
  if (!lastPlan || formState() !== previewedForm) { checkStale(); return; }
  showError("");
  $("confirm").disabled = true;
  try {
    const key = "web-" + Date.now() + "-" + Math.random().toString(36).slice(2);
    const d = await api("POST", "/v1/deployments", { plan_id: lastPlan.plan_id, secrets: pairs("secrets", "Secrets") }, { "Idempotency-Key": key });
    // Sent once: nothing of a secret stays on the page.
    $("secrets").value = "";
    location.assign("/d/" + encodeURIComponent(d.id));
  } catch (e) {
    showError(e.code === "plan_expired" || e.code === "plan_stale" ? e.message + " — preview again" : e.message);
    $("confirm").disabled = false;
  }
}

async function refresh() {
  if (!token() || $("home-view").hidden) return;
  try {
    // Every user's deployments for an admin's token (403 admin_required
    // for others: the box is unticked and the message shown).
    const all = $("all-users").checked;
    let page;
    try {
      page = await api("GET", "/v1/deployments?limit=100" + (all ? "&all_users=true" : ""));
    } catch (e) {
      if (all && e.code === "admin_required") {
        $("all-users").checked = false;
        showError(e.message);
        return refresh();
      }
      throw e;
    }
    document.querySelectorAll(".owner-col").forEach((c) => { c.hidden = !all; });
    $("whose").textContent = all
      ? "Every user's deployments (the owner is the user's id; `autodeploy users` names them)."
      : "Deployments of this token's user: the ones `autodeploy list --as USER` shows for the same user.";
    const rows = page.items.map((d) => {
      const tr = el("tr", null, { "data-id": d.id });
      const name = el("td");
      name.appendChild(el("a", d.name, { href: "/d/" + encodeURIComponent(d.id), class: "dep-link" }));
      tr.appendChild(name);
      if (all) tr.appendChild(el("td", d.owner, { class: "owner-col mono" }));
      tr.appendChild(el("td", d.status, { class: "status", "data-status": d.status }));
      tr.appendChild(el("td", d.cloud || "—"));
      const u = el("td", null, { class: "url" });
      if (url(d)) u.appendChild(el("a", d.url, { href: d.url, target: "_blank", rel: "noopener noreferrer", class: "app-url" }));
      else u.textContent = "—";
      tr.appendChild(u);
      tr.appendChild(el("td", new Date(d.created_at).toLocaleString(), { class: "wide" }));
      return tr;
    });
    $("deployments").replaceChildren(...rows);
  } catch (e) {
    if (e.status !== 401) showError(e.message);
  }
}

// ---- deployment view -------------------------------------------------------

function phasesOf(d) {
  if (d.status === "destroying" || d.status === "destroyed" || seenPhases.has("destroy")) return ["destroy"];
  const cloud = d.cloud || (d.plan && d.plan.decision && d.plan.decision.cloud);
  return cloud === "local" ? LOCAL_PHASES : CLOUD_PHASES;
}

function renderPhases() {
  const d = current;
  if (!d) return;
  const list = phasesOf(d);
  const at = d.phase ? list.indexOf(d.phase) : -1;
  const finished = FINAL.includes(d.status);
  const items = list.map((p, i) => {
    let state = "pending";
    if (finished && ["healthy", "applied", "destroyed"].includes(d.status)) state = "done";
    else if (i < at || (seenPhases.has(p) && i !== at)) state = "done";
    else if (i === at) state = finished ? (["failed", "unhealthy", "interrupted"].includes(d.status) ? "failed" : "done") : "current";
    return el("li", p.replace(/_/g, " "), { "data-phase": p, "data-state": state });
  });
  $("phases").replaceChildren(...items);
}

function renderDeployment(d) {
  current = d;
  document.title = d.name + " — autodeploy";
  $("dep-name").textContent = d.name;
  $("dep-status").textContent = d.status;
  $("dep-status").setAttribute("data-status", d.status);
  $("dep-id").textContent = d.id;
  $("dep-source").textContent = d.source + (d.commit ? " @ " + d.commit.slice(0, 12) : "");
  $("dep-request").textContent = d.request;
  const dec = d.plan && d.plan.decision;
  $("dep-plan").textContent = dec
    ? `${dec.cloud} in ${dec.region}, ${dec.strategy}, ${dec.environment}; about ${money(dec.estimated_monthly_usd)} a month` +
      (d.options && d.options.plan_id ? ` (previewed as ${d.options.plan_id})` : "")
    : (d.options && d.options.plan_id ? `as previewed (${d.options.plan_id}); the worker has not planned yet` : "not planned yet");
  const u = $("dep-url");
  if (url(d)) u.replaceChildren(el("a", d.url, { href: d.url, target: "_blank", rel: "noopener noreferrer", class: "app-url" }));
  else u.textContent = "—";
  $("dep-error").textContent = d.error || "";
  for (const e of document.querySelectorAll(".dep-error")) e.hidden = !d.error;
  $("destroy").hidden = GONE.includes(d.status);
  renderPhases();
}

async function loadDeployment(id) {
  try {
    renderDeployment(await api("GET", "/v1/deployments/" + encodeURIComponent(id)));
  } catch (e) {
    if (e.status !== 401) showError(e.message);
  }
}

// Follow /v1/deployments/{id}/logs: parse the event stream by hand.
async function follow(id) {
  if (following) following.abort();
  const ctl = new AbortController();
  following = ctl;
  $("live-status").textContent = "following…";
  $("log").replaceChildren();
  let after = 0;
  while (!ctl.signal.aborted) {
    try {
      const r = await fetch(`/v1/deployments/${encodeURIComponent(id)}/logs?after=${after}`, {
        headers: { "Authorization": "Bearer " + token(), "Accept": "text/event-stream" }, signal: ctl.signal,
      });
      if (r.status === 401) { tokenRejected(new ApiFailure(401, "unauthorized", "the log needs a valid token")); return; }
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
            if (l.phase && !seenPhases.has(l.phase)) {
              seenPhases.add(l.phase);
              if (current && current.phase !== l.phase && !FINAL.includes(current.status)) current.phase = l.phase;
              renderPhases();
            }
            $("live-status").textContent = "following" + (current && current.phase ? " — " + current.phase.replace(/_/g, " ") : "") + "…";
          } else if (event === "end" && data) {
            const s = JSON.parse(data).status;
            $("live-status").textContent = s;
            $("live-status").setAttribute("data-status", s);
            await loadDeployment(id);
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

function openDestroy() {
  if (!current) return;
  $("destroy-name").textContent = current.name;
  $("destroy-typed").value = "";
  $("destroy-confirm").disabled = true;
  $("destroy-dialog").showModal();
  $("destroy-typed").focus();
}

async function destroy(ev) {
  ev.preventDefault();
  if (!current || $("destroy-typed").value !== current.name) return;
  $("destroy-dialog").close();
  showError("");
  try {
    renderDeployment(await api("POST", `/v1/deployments/${encodeURIComponent(current.id)}/destroy`));
    seenPhases.clear();
    renderPhases();
    follow(current.id);
  } catch (e) {
    showError(e.message);
  }
}

// ---- start -----------------------------------------------------------------

async function saveToken(ev) {
  ev.preventDefault();
  await checkToken($("token").value.trim());
  route();
}

// Ask an authenticated endpoint whether the server knows `t`; keep it
// unless it was rejected, and say which.
async function checkToken(t) {
  const state = $("token-state");
  state.className = "muted";
  state.textContent = "checking…";
  try {
    const r = await fetch("/v1/deployments?limit=1", { headers: { "Authorization": "Bearer " + t } });
    if (r.status === 401) {
      let msg = "the server does not know this token";
      try { msg = (await r.json()).error.message; } catch (_) { /* keep the default */ }
      // A kept token the server no longer knows (revoked) is forgotten.
      if (t === token()) localStorage.removeItem("autodeploy.token");
      tokenRejected(new ApiFailure(401, "unauthorized", msg));
      return;
    }
    localStorage.setItem("autodeploy.token", t);
    if (r.ok) { state.textContent = "saved — token accepted"; state.className = "ok"; }
    else { state.textContent = `saved, but the server answered ${r.status}; try again later`; }
  } catch (e) {
    localStorage.setItem("autodeploy.token", t);
    state.textContent = "saved, but the server could not be reached (" + e.message + ")";
  }
}

function route() {
  const m = location.pathname.match(/^\/d\/([^/]+)$/);
  $("home-view").hidden = !!m;
  $("deployment-view").hidden = !m;
  if (!token()) return;
  if (m) {
    const id = decodeURIComponent(m[1]);
    loadDeployment(id).then(() => follow(id));
  } else {
    refresh();
  }
}

async function init() {
  $("token").value = token();
  $("token-state").textContent = "paste a token (autodeploy token create --user NAME)";
  $("token-form").addEventListener("submit", saveToken);
  $("plan-form").addEventListener("submit", preview);
  $("plan-form").addEventListener("input", checkStale);
  $("plan-form").addEventListener("change", checkStale);
  $("confirm").addEventListener("click", confirmDeploy);
  $("refresh").addEventListener("click", refresh);
  $("all-users").addEventListener("change", refresh);
  $("destroy").addEventListener("click", openDestroy);
  $("destroy-typed").addEventListener("input", () => {
    $("destroy-confirm").disabled = !current || $("destroy-typed").value !== current.name;
  });
  $("destroy-form").addEventListener("submit", destroy);
  $("destroy-cancel").addEventListener("click", () => $("destroy-dialog").close());
  if (token()) await checkToken(token());
  route();
  setInterval(() => {
    if (!$("home-view").hidden) refresh();
    else if (current && !FINAL.includes(current.status)) loadDeployment(current.id);
  }, 3000);
}

init();
