// The Switchboard console: a few views rendered from the JSON API, refreshed when the server's
// event stream says something changed. Untrusted text is only ever set as textContent; the
// prompt and answer HTML comes rendered and defused by the server.
"use strict";

// `confirmStop`: the session whose Stop waits for a second click (kept across refreshes);
// `delivering`: the session whose Open PR request is under way; `flash`: the notice shown;
// `choosing`: the session whose agent and model controls are open.
const state = { me: null, events: null, confirmStop: null, delivering: null, flash: null, choosing: null };
const main = () => document.getElementById("main");

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key === "html") node.innerHTML = value; // server-rendered, sanitized HTML only
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

async function api(path, options = {}) {
  const headers = { "Accept": "application/json" };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (state.me && options.method && options.method !== "GET") headers["X-CSRF-Token"] = state.me.csrf;
  const response = await fetch(path, {
    method: options.method || "GET",
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    credentials: "same-origin",
  });
  const data = await response.json().catch(() => ({}));
  if (response.status === 401 && path !== "/api/login") {
    state.me = null;
    showLogin();
    throw new Error(data.error || "sign in first");
  }
  if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
  return data;
}

function when(ms) {
  if (!ms) return "";
  return new Date(ms).toLocaleString();
}

function dollars(value) {
  return value === null || value === undefined ? "" : `$${Number(value).toFixed(4)}`;
}

// `html`: the server's rendered, defused HTML of a reply (then `text` is not shown).
function notice(text, kind = "error", html = null) {
  const box = html === null
    ? el("p", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status", text })
    : el("div", { class: `notice ${kind} markdown`, role: "status", html });
  // Kept across its page's refreshes for its 8 seconds (a reply's refresh would wipe it).
  state.flash = { box, hash: location.hash };
  main().prepend(box);
  setTimeout(() => { box.remove(); if (state.flash?.box === box) state.flash = null; }, 8000);
}

// ---- Sign-in -------------------------------------------------------------------------------

function showLogin(message) {
  document.getElementById("nav").hidden = true;
  if (state.events) { state.events.close(); state.events = null; }
  const input = el("input", { id: "token", type: "password", autocomplete: "current-password", required: true, "aria-label": "Sign-in token" });
  const form = el("form", { class: "login", onsubmit: async (e) => {
    e.preventDefault();
    await signIn(input.value).catch((err) => notice(err.message));
  } },
    el("h1", { text: "Sign in" }),
    el("p", { class: "muted", text: "Paste the token Switchboard printed when it first started (or your own from web.users)." }),
    el("label", { for: "token", text: "Token" }), input,
    el("button", { type: "submit", text: "Sign in" }));
  main().replaceChildren(form);
  if (message) notice(message);
  input.focus();
}

async function signIn(token) {
  state.me = await api("/api/login", { method: "POST", body: { token } });
  start();
}

// ---- Views ---------------------------------------------------------------------------------

async function render() {
  if (!state.me) return;
  const hash = location.hash || "#/";
  try {
    if (hash.startsWith("#/s/")) await renderSession(decodeURIComponent(hash.slice(4)));
    else if (hash === "#/hosts") await renderHosts();
    else await renderSessions();
  } catch (err) {
    if (state.me) notice(err.message);
  }
  const flash = state.flash;
  if (flash && flash.hash === location.hash && !main().contains(flash.box)) main().prepend(flash.box);
}

function filterValue(id) {
  const node = document.getElementById(id);
  return node ? node.value : "";
}

async function renderSessions() {
  const platform = filterValue("f-platform");
  const status = filterValue("f-state");
  const query = new URLSearchParams({ platform, state: status });
  const data = await api(`/api/sessions?${query}`);
  const select = (id, label, options, value) => el("label", {}, label + " ",
    el("select", { id, onchange: render }, options.map(([v, text]) => el("option", { value: v, selected: v === value, text }))));
  const filters = el("div", { class: "filters" },
    select("f-platform", "Platform", [["", "all"], ["web", "web"], ["telegram", "telegram"], ["slack", "slack"], ["discord", "discord"], ["github", "github"]], platform),
    select("f-state", "State", [["", "all"], ["running", "running"], ["queued", "queued"], ["idle", "idle"], ["retired", "retired"]], status));
  const host = el("select", { id: "new-host", "aria-label": "Host" }, state.me.hosts.map((h) => el("option", { value: h, selected: h === state.me.default_host, text: h })));
  // No agent or model chosen: the project's, else the host's default agent and its model.
  const agent = el("select", { id: "new-agent", "aria-label": "Agent" },
    [el("option", { value: "", text: "its default agent" })].concat(state.me.agents.map((a) => el("option", { value: a, text: a }))));
  const modelList = el("datalist", { id: "new-models" });
  const model = el("input", { id: "new-model", list: "new-models", placeholder: "default model", "aria-label": "Model", size: 18 });
  agent.addEventListener("change", async () => {
    const offered = agent.value ? await api(`/api/agents/${encodeURIComponent(agent.value)}`).catch(() => null) : null;
    modelList.replaceChildren(...(offered ? offered.models : []).map((m) => el("option", { value: m })));
  });
  // A project's sessions run on its own host: "its host" leaves the choice to the project.
  const projects = state.me.projects || [];
  const project = el("select", { id: "new-project", "aria-label": "Project" },
    [el("option", { value: "", text: projects.length === 1 ? projects[0] : "no project" })]
      .concat(projects.length === 1 ? [] : projects.map((p) => el("option", { value: p, text: p }))));
  const onHost = () => project.value !== "" || projects.length === 1 ? "" : host.value;
  const create = el("form", { class: "new-session", onsubmit: async (e) => {
    e.preventDefault();
    const made = await api("/api/sessions", { method: "POST", body: { project: project.value, host: onHost(), agent: agent.value, model: model.value.trim() } }).catch((err) => notice(err.message));
    if (made) location.hash = `#/s/${made.id}`;
  } }, el("h2", { text: "New session" }), "of ", project, " on ", host, " with ", agent, " ", model, modelList, " ", el("button", { id: "new-session", type: "submit", text: "Start" }));
  const rows = data.sessions.map((s) => el("tr", {},
    el("td", { class: "title" }, el("a", { href: `#/s/${s.id}`, text: s.title || "New session" }), " ",
      el("code", { class: "muted", title: s.id, text: s.short_id })),
    el("td", { text: s.platform }), el("td", { text: s.thread }), el("td", { text: s.host }),
    el("td", { text: s.agent }), el("td", {}, el("span", { class: `state ${s.state}`, text: s.state })),
    el("td", { class: "num", text: String(s.queued) }), el("td", { text: when(s.last_activity) }),
    el("td", { class: "num", text: dollars(s.cost_usd) })));
  // A narrow screen scrolls the table, not the page.
  const table = rows.length === 0 ? el("p", { class: "muted", text: "No sessions yet." }) :
    el("div", { class: "table-scroll" }, el("table", { class: "sessions" },
      el("thead", {}, el("tr", {}, ["Session", "Platform", "Thread", "Host", "Agent", "State", "Queued", "Last activity", "Cost"].map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, rows)));
  const focused = document.activeElement && document.activeElement.id;
  main().replaceChildren(el("h1", { text: "Sessions" }), create, filters, table);
  if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
}

// One span per line and the line breaks as text between them, so a copy gives the patch as it
// is (a line break inside a block-level line was copied twice).
function diffView(patch) {
  const pre = el("pre", { class: "diff" });
  const lines = patch.split("\n");
  if (lines.length > 1 && lines[lines.length - 1] === "") lines.pop();
  lines.forEach((line, i) => {
    let kind = "ctx";
    if (line.startsWith("+++") || line.startsWith("---") || line.startsWith("diff ") || line.startsWith("index ")) kind = "meta";
    else if (line.startsWith("@@")) kind = "hunk";
    else if (line.startsWith("+")) kind = "add";
    else if (line.startsWith("-")) kind = "del";
    if (i > 0) pre.append("\n");
    pre.append(el("span", { class: kind, text: line }));
  });
  return pre;
}

function turnView(turn) {
  const status = turn.outcome ? turn.outcome : turn.state;
  const parts = [
    el("div", { class: "prompt" },
      el("div", { class: "meta" }, el("strong", { text: turn.author }), " ", el("span", { class: "muted", text: when(turn.created_at) }),
        " ", el("span", { class: `state ${status}`, text: status }), turn.cost_usd ? el("span", { class: "muted", text: ` ${dollars(turn.cost_usd)}` }) : null),
      el("div", { class: "markdown", html: turn.prompt_html })),
  ];
  if (turn.activity_html) parts.push(el("div", { class: "activity", "aria-live": "polite" }, "⏳ ", el("span", { class: "markdown", html: turn.activity_html })));
  if (turn.tool_calls.length) {
    parts.push(el("details", { class: "tools" }, el("summary", { text: `${turn.tool_calls.length} tool call${turn.tool_calls.length === 1 ? "" : "s"}` }),
      el("ul", {}, turn.tool_calls.map((c) => el("li", {}, el("code", { text: c.name }), " ", c.summary)))));
  }
  if (turn.answer_html) parts.push(el("div", { class: "answer markdown", html: turn.answer_html }));
  if (turn.patch) parts.push(el("details", { class: "patch", open: true }, el("summary", { text: "Changes" }), diffView(turn.patch)));
  parts.push(...fileViews(turn.files));
  return el("article", { class: "turn", id: `turn-${turn.id}` }, parts);
}

// Images inline, other files (but the patch, shown as a diff) as links.
function fileViews(files) {
  return files.filter((f) => f.image || !f.name.endsWith(".diff")).map((file) => file.image
    ? el("figure", {},
      el("a", { href: file.url, target: "_blank", rel: "noopener", title: "Open at full size" },
        el("img", { src: file.url, alt: file.caption || file.name, loading: "lazy" })),
      el("figcaption", { text: file.caption }))
    : el("p", {}, el("a", { href: file.url, text: file.name })));
}

// A reply to a command (a screenshot, say).
function replyView(reply) {
  return el("article", { class: "note" },
    el("div", { class: "meta muted", text: when(reply.created_at) }),
    el("div", { class: "markdown", html: reply.html }),
    fileViews(reply.files));
}

// A session's model as the page names it: its own, else its agent's default.
function modelName(model, choices) {
  if (model) return model;
  return choices.default_model ? `default model (${choices.default_model})` : "default model";
}

async function renderSession(id) {
  const data = await api(`/api/sessions/${encodeURIComponent(id)}`);
  const s = data.session;
  const actions = [];
  const running = data.turns.some((t) => t.state === "running" || t.state === "starting");
  if (!running && state.confirmStop === s.id) state.confirmStop = null;
  const confirming = (value) => { state.confirmStop = value; render(); };
  if (s.can_act && running && state.confirmStop === s.id) {
    // Stopping loses the turn's work in progress: it takes a second, deliberate click.
    actions.push(el("div", { class: "confirm", role: "group", "aria-label": "Stop the running turn?" },
      el("span", { text: "Stop the running turn? The agent is interrupted." }),
      el("button", { id: "stop-confirm", type: "button", class: "danger", onclick: async () => {
        state.confirmStop = null;
        const done = await api(`/api/sessions/${s.id}/stop`, { method: "POST", body: {} }).catch((err) => notice(err.message));
        if (done) notice(done.message.replace(/[*_`]/g, ""), "info");
        render();
      }, text: "Stop it" }),
      el("button", { id: "stop-keep", type: "button", class: "secondary", onclick: () => confirming(null), text: "Keep it running" })));
  } else if (s.can_act && running) {
    actions.push(el("button", { id: "stop", type: "button", onclick: () => confirming(s.id), text: "Stop the running turn" }));
  }
  if (s.can_act && s.queued > 0) actions.push(el("button", { id: "cancel", type: "button", onclick: async () => {
    const done = await api(`/api/sessions/${s.id}/cancel`, { method: "POST", body: {} }).catch((err) => notice(err.message));
    if (done) notice(`Dropped ${done.dropped} queued prompt(s).`, "info");
  }, text: `Cancel ${s.queued} queued` }));
  const ws = s.workspace;
  if (ws && s.can_act && s.platform === "web" && s.state !== "retired") {
    // `/pr`: commits, pushes the session's branch and opens (or updates) its pull request.
    const busy = state.delivering === s.id;
    actions.push(el("button", { id: "pr", type: "button", disabled: busy, onclick: async () => {
      state.delivering = s.id;
      render();
      const done = await api(`/api/sessions/${s.id}/pr`, { method: "POST", body: {} }).catch((err) => notice(err.message));
      state.delivering = null;
      await render();
      if (done) notice(done.message, "info", done.html || null);
    }, text: busy ? "Pushing…" : ws.pr_url ? "Update PR" : "Open PR" }));
  }
  const project = ws ? el("p", { class: "muted" }, `${ws.project} · `, el("code", { text: ws.branch }),
    ws.pr_url ? [" · ", el("a", { id: "pr-link", href: ws.pr_url, target: "_blank", rel: "noopener", text: `pull request #${ws.pr_number}` })] : null) : null;
  // `/agent` and `/model` for a web session, behind a Change link: the next turns take the choice.
  let choices = null;
  let change = null;
  const choosable = s.can_act && s.platform === "web" && s.state !== "retired";
  if (choosable) change = el("button", { id: "choose", type: "button", class: "link", onclick: () => { state.choosing = state.choosing === s.id ? null : s.id; render(); }, text: state.choosing === s.id ? "close" : "change" });
  if (choosable && state.choosing === s.id) {
    const switched = (done) => { if (done) notice(done.message, "info", done.html || null); render(); };
    const agentPick = el("select", { id: "agent-pick", "aria-label": "Agent" }, state.me.agents.map((a) => el("option", { value: a, selected: a === s.agent, text: a })));
    const modelField = el("input", { id: "model-name", list: "session-models", placeholder: "default", "aria-label": "Model", size: 18 });
    modelField.value = document.getElementById("model-name")?.value || "";
    choices = el("div", { class: "choices" },
      el("form", { class: "agent-choice", onsubmit: async (e) => {
        e.preventDefault();
        switched(await api(`/api/sessions/${s.id}/agent`, { method: "POST", body: { agent: agentPick.value } }).catch((err) => notice(err.message)));
      } }, "Agent ", agentPick, " ", el("button", { id: "agent-switch", type: "submit", text: "Switch (fresh conversation)" })),
      el("form", { class: "model-choice", onsubmit: async (e) => {
        e.preventDefault();
        const done = await api(`/api/sessions/${s.id}/model`, { method: "POST", body: { model: modelField.value.trim() } }).catch((err) => notice(err.message));
        if (done) modelField.value = "";
        switched(done);
      } }, "Model ", modelField, el("datalist", { id: "session-models" }, data.choices.models.map((m) => el("option", { value: m }))), " ",
        el("button", { id: "model-set", type: "submit", text: "Set model" })));
  }
  const header = el("div", { class: "session-head" },
    el("h1", { text: s.title || "New session" }),
    el("p", { class: "muted" }, `${s.platform} · ${s.thread} · session `, el("code", { title: s.id, text: s.short_id })),
    el("p", { class: "muted" }, `${s.host} · `, el("span", { id: "session-agent", text: `${s.agent} · ${modelName(s.model, data.choices)}` }), change ? [" (", change, ")"] : null, " · ", el("span", { class: `state ${s.state}`, text: s.state }), ` · ${dollars(s.cost_usd)} · ${s.turns} turn(s)`),
    project,
    s.can_act ? null : el("p", { class: "notice info", text: "Read-only: this session belongs to another platform." }),
    choices,
    el("div", { class: "actions" }, actions));
  const entries = [
    ...data.turns.map((t) => ({ at: t.created_at, node: turnView(t) })),
    ...data.replies.map((r) => ({ at: r.created_at, node: replyView(r) })),
  ].sort((a, b) => a.at - b.at);
  const earlier = data.earlier_turns ? el("p", { class: "muted", text: `${data.earlier_turns} earlier turn(s) not shown (switchboard sessions show ${s.id} has them all).` }) : null;
  const turns = el("section", { class: "turns", "aria-label": "Conversation" }, earlier, entries.map((e) => e.node));
  // A refresh must not lose what is being typed, nor the focus.
  const drafts = Object.fromEntries(["prompt", "shot-url"].map((id) => [id, document.getElementById(id)?.value || ""]));
  const asked = document.getElementById("stop-confirm") === null && state.confirmStop === s.id;
  const focused = asked ? "stop-keep" : document.activeElement?.id;
  let composer = null;
  if (s.can_act && s.platform === "web" && s.state !== "retired") {
    const box = el("textarea", { id: "prompt", rows: 4, placeholder: "Ask the agent… (Ctrl+Enter sends)", "aria-label": "Prompt" });
    box.value = drafts.prompt;
    const send = async () => {
      const text = box.value.trim();
      if (!text) return;
      const sent = await api(`/api/sessions/${s.id}/prompts`, { method: "POST", body: { text } }).catch((err) => notice(err.message));
      if (sent) { box.value = ""; render(); }
    };
    box.addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); send(); } });
    const shotUrl = el("input", { id: "shot-url", type: "url", placeholder: "http://localhost:3000 (empty: the host's display)", "aria-label": "Page to capture" });
    shotUrl.value = drafts["shot-url"];
    const shoot = el("form", { class: "screenshot", onsubmit: async (e) => {
      e.preventDefault();
      const body = shotUrl.value.trim() ? { url: shotUrl.value.trim() } : {};
      const taken = await api(`/api/sessions/${s.id}/screenshot`, { method: "POST", body }).catch((err) => notice(err.message));
      if (taken) { shotUrl.value = ""; notice("Taking the screenshot…", "info"); }
    } }, shotUrl, el("button", { id: "shoot", type: "submit", text: "Screenshot" }));
    composer = el("div", { class: "composer" },
      el("form", { onsubmit: (e) => { e.preventDefault(); send(); } }, box, el("button", { id: "send", type: "submit", text: "Send" })),
      shoot);
  }
  main().replaceChildren(...[header, turns, composer].filter(Boolean));
  if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
}

async function renderHosts() {
  main().replaceChildren(el("h1", { text: "Hosts" }), el("p", { class: "muted", text: "Probing hosts…" }));
  const data = await api("/api/hosts");
  const kb = (v) => (v === null || v === undefined ? "" : `${(v / 1048576).toFixed(1)} GB`);
  const cards = data.hosts.map((h) => el("section", { class: `host ${h.reachable ? "up" : "down"}` },
    el("h2", { text: h.name }),
    el("dl", {},
      el("dt", { text: "Reachable" }), el("dd", { text: h.reachable ? `yes (${h.latency_ms} ms)` : `no: ${h.error || "unknown"}` }),
      el("dt", { text: "Turns" }), el("dd", { text: `${h.running} of ${h.max_turns} running` }),
      el("dt", { text: "Load" }), el("dd", { text: h.load || "" }),
      el("dt", { text: "Memory free" }), el("dd", { text: `${kb(h.mem_available_kb)} of ${kb(h.mem_total_kb)}` }),
      el("dt", { text: "Disk free" }), el("dd", { text: kb(h.disk_free_kb) }),
      el("dt", { text: "Agent" }), el("dd", { text: h.agent_version || "not found" }),
      h.missing_tools.length ? [el("dt", { text: "Missing" }), el("dd", { text: h.missing_tools.join(", ") })] : null),
    h.workspaces.length ? el("table", { class: "workspaces" },
      el("tr", {}, el("th", { text: "Workspace" }), el("th", { text: "Disk" })),
      h.workspaces.map((w) => el("tr", {},
        el("td", {}, w.session ? el("a", { href: `#/s/${w.session}`, text: w.path }) : el("code", { text: w.path })),
        el("td", { text: w.kib >= 1024 ? `${(w.kib / 1024).toFixed(1)} MB` : `${w.kib} KB` })))) : null));
  main().replaceChildren(el("h1", { text: "Hosts" }), ...cards);
}

// ---- Start ---------------------------------------------------------------------------------

function start() {
  document.getElementById("nav").hidden = false;
  document.getElementById("who").textContent = `${state.me.user}${state.me.admin ? " (admin)" : ""}`;
  if (!state.events) {
    state.events = new EventSource("/api/events");
    state.events.addEventListener("changed", () => { if (location.hash !== "#/hosts") render(); });
  }
  render();
}

window.addEventListener("hashchange", () => { render(); main().focus({ preventScroll: true }); });

document.addEventListener("DOMContentLoaded", async () => {
  document.getElementById("logout").addEventListener("click", async () => {
    await api("/api/logout", { method: "POST", body: {} }).catch(() => {});
    state.me = null;
    showLogin("Signed out.");
  });
  // The printed sign-in link carries the token in the fragment, which never reaches a server.
  const token = new URLSearchParams(location.hash.slice(1)).get("token");
  if (token) {
    history.replaceState(null, "", location.pathname);
    await signIn(token).catch((err) => showLogin(err.message));
    return;
  }
  try {
    state.me = await api("/api/me");
    start();
  } catch (_) {
    // showLogin ran on 401
  }
});
