// The console's script: a file, not inline, so the Content-Security-Policy can forbid inline script.
"use strict";
// This process's CSRF token, embedded in the page by the gateway; every state change sends it.
const TOKEN = document.querySelector("meta[name=hearth-csrf]").content;
async function post(path, body) {
  const r = await fetch(path, {method: "POST", headers: {"Content-Type": "application/json", "X-Hearth-CSRF": TOKEN},
                               body: JSON.stringify(body)});
  if (!r.ok) {
    let why = r.status + " " + r.statusText;
    try { why = (await r.json()).error || why; } catch (e) { /* not JSON: keep the status line */ }
    throw new Error(why);
  }
  return r.json();
}
// plain words for the ids the config and the core use (a technician on a phone reads words, not ids)
const KINDS = {bed: "Bed pressure pad", chair: "Chair pad", contact: "Door contact", motion: "Motion sensor", plug: "Smart plug"};
const ALERTS = {not_up: "Not up at the usual time", night_bed_exit: "Out of bed in the night for long",
  night_door: "Front door opened in the night", no_meal: "No kitchen activity", silence: "No movement for longer than usual",
  appliance_on: "An appliance left on", battery_low: "Battery low", sensor_offline: "Sensor offline",
  sensor_silent: "Sensor gone silent", blind_check: "A check cannot run", delivery_refused: "A message was refused",
  held_during_pause: "Alerts held during a pause", consent_review_due: "Consent review due"};
const SEVERITY = {urgent: "Urgent", warning: "Concern", info: "Note"};
function words(id) { return id ? String(id).replaceAll("_", " ") : id; }
function sensorWhat(x) {
  const kind = KINDS[x.kind] || words(x.kind);
  return x.role && x.role !== x.kind ? kind + ": " + words(x.role) : kind;
}
function cell(text, cls) { const td = document.createElement("td"); td.textContent = text ?? "—"; if (cls) td.className = cls; return td; }
function fill(id, rows, render, empty) {
  const body = document.querySelector("#" + id + " tbody"); body.replaceChildren();
  if (!rows.length) { const tr = document.createElement("tr"); const td = cell(empty, "muted"); td.colSpan = 8; tr.append(td); body.append(tr); return; }
  // each cell carries its column's name: on a phone the rows become cards that label their values
  const labels = [...document.querySelectorAll("#" + id + " thead th")].map(th => th.textContent);
  for (const r of rows) {
    const tr = document.createElement("tr"); render(r, tr);
    [...tr.children].forEach((td, i) => { td.dataset.label = labels[i] || ""; });
    body.append(tr);
  }
}
function describe(st) {
  if (typeof st !== "object" || st === null) return String(st);
  const parts = [];
  parts.push(st.learning ? "Still learning (" + st.days_learned + " day(s) so far; starting settings in use)"
                         : "Routine learned from " + st.days_learned + " days");
  const u = st.usual || {};
  const usual = [];
  if (u.wake_by) usual.push("up by " + u.wake_by);
  if (u.first_kitchen_by) usual.push("in the kitchen by " + u.first_kitchen_by);
  if (u.bed) usual.push("in bed around " + u.bed);
  if (usual.length) parts.push("usually " + usual.join(", "));
  if (st.away) parts.push("out now");
  if (st.blind && st.blind.length) parts.push("cannot check: " + st.blind.join("; "));
  if (st.unhealthy_sensors && st.unhealthy_sensors.length) parts.push("sensors needing attention: " + st.unhealthy_sensors.join(", "));
  if (st.contexts && st.contexts.length) parts.push("context: " + st.contexts.join(", "));
  return parts.map(x => x[0].toUpperCase() + x.slice(1)).join(". ") + ".";
}
function short(t) { return t ? t.replace("T", " ").slice(0, 16) : "never"; }
async function refresh() {
  let s;
  try { s = await (await fetch("api/status")).json(); }
  catch (e) { document.getElementById("summary").textContent = "Cannot reach the gateway: " + e; return; }
  document.getElementById("home").textContent = s.home;
  showSharing(s.sharing);
  const b = s.broker;
  document.getElementById("summary").innerHTML = "";
  const sum = document.getElementById("summary");
  const broker = document.createElement("span"); broker.className = b.connected ? "ok" : "bad";
  broker.textContent = (b.connected ? "Broker connected" : "Broker NOT connected") + " (" + b.status + ")";
  sum.append(broker, document.createTextNode(" · " + s.stats.messages + " messages, " + s.stats.events + " events, "
      + s.stats.rejections + " rejected, " + s.stats.alerts + " alerts · " + short(s.now)));
  // what is wrong with the gateway itself (storage, clock, broker, zigbee2mqtt, config): the same list
  // `hearth status` and the hub show
  const problems = document.getElementById("problems");
  problems.replaceChildren(...(s.gateway.problems || []).map(p => { const li = document.createElement("li"); li.textContent = p; return li; }));
  if (s.ble.sensors) { const ble = document.createElement("div"); ble.id = "ble"; ble.textContent = "Bluetooth: " + s.ble.radio; sum.append(ble); }
  const health = Object.fromEntries(s.health.map(h => [h.sensor, h]));
  fill("sensors", s.sensors, (x, tr) => {
    const h = health[x.id] || {};
    tr.append(cell(x.id), cell(sensorWhat(x)), cell(words(x.room)), cell(short(h.last_seen), h.last_seen ? "" : "bad"),
      cell(h.available === false ? "offline" : (h.available ? "online" : "?"), h.available === false ? "bad" : "ok"),
      cell(h.battery != null ? h.battery + "%" : null, h.battery != null && h.battery < 20 ? "bad" : ""), cell(h.linkquality));
  }, "No sensors configured");
  fill("unassigned", s.unassigned_devices, (d, tr) => tr.append(cell(d.ieee_address), cell(d.friendly_name), cell(d.model)), "None");
  // keys zigbee2mqtt always sends that Hearth does not use are listed for completeness, not as faults
  fill("rejections", s.rejections, (r, tr) => tr.append(cell(r.source), cell(r.reason, r.reason === "ignored_key" ? "muted" : "bad"),
      cell(r.device), cell(r.count), cell(short(r.last)), cell(r.detail)), "Nothing rejected");
  fill("alerts", s.alerts, (a, tr) => {
    tr.className = a.severity;
    tr.append(cell(short(a.time)), cell(SEVERITY[a.severity] || a.severity), cell(ALERTS[a.kind] || words(a.kind)),
      cell(a.message), afterwards(a));
  }, "No alerts");
  const people = Object.entries(s.routines.people || s.routines || {});
  fill("routines", people, ([p, st], tr) => tr.append(cell(st.name || p), cell(describe(st), st.degraded ? "bad" : "")),
      "No routine status yet");
}
function afterwards(a) {
  const td = document.createElement("td");
  if (a.outcome) { td.textContent = (a.outcome.outcome === "real" ? "Real" : "False alarm") + " (" + a.outcome.by + ")"; return td; }
  if (a.audience !== "care") { td.className = "muted"; td.textContent = "—"; return td; }
  for (const [label, outcome] of [["Real", "real"], ["False alarm", "false_alarm"]]) {
    const b = document.createElement("button"); b.textContent = label; b.dataset.key = a.key; b.dataset.outcome = outcome;
    b.addEventListener("click", async () => {
      const by = document.getElementById("by").value.trim();
      if (!by) { document.getElementById("by").focus(); return; }
      const err = document.getElementById("outcome-error");
      try { await post("api/alerts/outcome", {key: a.key, outcome: outcome, by: by}); err.textContent = ""; }
      catch (e) { err.textContent = "Not recorded: " + e.message; }
      refresh();
    });
    td.append(b, document.createTextNode(" "));
  }
  return td;
}
function showSharing(sh) {
  const box = document.getElementById("sharing"), form = document.getElementById("pause-form");
  if (!sh.configured) return;
  form.hidden = false;
  const sel = document.getElementById("pause-person");
  if (!sel.options.length) for (const p of sh.people) sel.append(new Option(p.name, p.id));
  document.getElementById("pause-hours").max = sh.max_pause_hours;
  const o = sh.outbox || {};
  const parts = Object.entries(o).map(([k, v]) => v + " " + k);
  box.className = "";
  box.textContent = "Outbox: " + (parts.join(", ") || "empty") + ". ";
  for (const p of sh.pauses) {
    const s = document.createElement("span"); s.className = "bad pause";
    s.textContent = "Sharing about " + (p.name || p.person) + " paused until " + short(p.until) + " (" + p.by + "). "
      + "Nothing about them leaves the home until then, urgent alerts included. ";
    box.append(s);
  }
}
async function pause(body) {
  const err = document.getElementById("pause-error");
  try { await post("api/pause", body); err.textContent = ""; }
  catch (e) { err.textContent = "Not done: " + e.message; }
  refresh();
}
document.getElementById("pause-form").addEventListener("submit", e => { e.preventDefault();
  pause({person: document.getElementById("pause-person").value, hours: Number(document.getElementById("pause-hours").value)}); });
document.getElementById("pause-end").addEventListener("click", () => pause({person: document.getElementById("pause-person").value, end: true}));
refresh(); setInterval(refresh, 5000);
