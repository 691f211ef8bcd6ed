// The /ui page: forms -> the gateway's JSON API -> the gateway's SVG pictures, inlined.
// No charting here: every picture is drawn server side (gateway/plots, matplotlib).
"use strict";

const $ = (sel) => document.querySelector(sel);
const T0 = performance.now();

const CHINCHILLA_CSV = `N,D,loss
7e7,5e9,3.3546
7e7,2e10,3.1003
7e7,1e11,2.9058
7e7,5e11,2.7819
3e8,5e9,3.0133
3e8,2e10,2.7591
3e8,1e11,2.5646
3e8,5e11,2.4407
1.2e9,5e9,2.813
1.2e9,2e10,2.5588
1.2e9,1e11,2.3643
1.2e9,5e11,2.2404
4e9,5e9,2.7013
4e9,2e10,2.447
4e9,1e11,2.2525
4e9,5e11,2.1286
1.6e10,5e9,2.6182
1.6e10,2e10,2.364
1.6e10,1e11,2.1695
1.6e10,5e11,2.0456`;

const EMERGENCE_CSV = `name,scale,score,items,floor
mmlu/GPT-3,2.7e9,0.259,14042,0.25
mmlu/GPT-3,6.7e9,0.249,14042,0.25
mmlu/GPT-3,1.3e10,0.260,14042,0.25
mmlu/GPT-3,1.75e11,0.439,14042,0.25
lambada/Pythia,7e7,0.185,5153,
lambada/Pythia,1.6e8,0.328,5153,
lambada/Pythia,4.1e8,0.516,5153,
lambada/Pythia,1.4e9,0.616,5153,
lambada/Pythia,2.8e9,0.647,5153,
lambada/Pythia,6.9e9,0.673,5153,
lambada/Pythia,1.2e10,0.705,5153,`;

class ApiError extends Error {}

// --- API key (only when the gateway requires one): kept in this tab, sent as a bearer token

const KEY_STORE = "zuhur.apiKey";
const apiKey = () => sessionStorage.getItem(KEY_STORE) || "";

function headers(extra) {
  const key = apiKey();
  return key ? { ...extra, authorization: `Bearer ${key}` } : extra;
}

// A refused request as one sentence a person can act on (401/403/429 say what to do).
async function refusal(reply) {
  let detail = `${reply.status} ${reply.statusText}`;
  try {
    const problem = await reply.json();
    detail = problem.errors ? problem.errors.map((e) => `${e.field}: ${e.message}`).join("; ")
                            : problem.detail || problem.title;
  } catch (_) { /* not JSON */ }
  const keyField = $("#api-key");
  keyField.classList.toggle("error", reply.status === 401 || reply.status === 403);
  if (reply.status === 401) {
    return new ApiError(apiKey()
      ? `401: the gateway refused this API key (${detail}); enter a valid one above and press Use key`
      : "401: this gateway needs an API key: enter it above and press Use key");
  }
  if (reply.status === 403) return new ApiError(`403: this API key may not do that (${detail})`);
  if (reply.status === 429) {
    const wait = reply.headers.get("retry-after");
    return new ApiError(`429: over the limit for this key${wait ? `; retry in ${wait} s` : ""} (${detail})`);
  }
  return new ApiError(detail);
}

async function call(url, body, accept = "application/json") {
  const reply = await fetch(url, {
    method: "POST",
    headers: headers({ "content-type": "application/json", accept }),
    body: JSON.stringify(body),
  });
  if (!reply.ok) throw await refusal(reply);
  return accept === "application/json" ? reply.json() : reply.text();
}

// Server-Sent Events over fetch (EventSource cannot send the key): yields {event, data}.
async function* serverEvents(url) {
  const reply = await fetch(url, { headers: headers({ accept: "text/event-stream" }) });
  if (!reply.ok) throw await refusal(reply);
  const reader = reply.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.search(/\r\n\r\n|\n\n|\r\r/)) >= 0) {  // a blank line ends an event
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end).replace(/^(\r\n\r\n|\n\n|\r\r)/, "");
      let event = "message";
      const data = [];
      for (const line of block.split(/\r\n|\r|\n/)) {
        const [field, ...rest] = line.split(":");
        const text = rest.join(":").replace(/^ /, "");
        if (field === "event") event = text;
        else if (field === "data") data.push(text);
      }
      if (data.length) yield { event, data: data.join("\n") };
    }
  }
}

function show(target, svg) {
  $(target).innerHTML = svg;
  if (!document.body.dataset.firstChartMs) {
    document.body.dataset.firstChartMs = String(Math.round(performance.now() - T0));
  }
}

function status(target, text, error = false) {
  const el = $(target);
  el.textContent = text;
  el.classList.toggle("error", error);
}

// --- percolation -----------------------------------------------------------------------

function sweepRequest(form, size) {
  const f = new FormData(form);
  const model = f.get("model");
  const req = {
    model,
    grid: { start: Number(f.get("start")), stop: Number(f.get("stop")), points: Number(f.get("points")) },
    replicates: Number(f.get("replicates")),
    seed: Number(f.get("seed")),
  };
  if (model.startsWith("square_lattice")) req.L = size; else req.n = size;
  if (model === "configuration") req.degrees = { kind: "poisson", mean: Number(f.get("mean")) };
  return req;
}

function sizesOf(form) {
  return String(new FormData(form).get("sizes")).split(/[ ,;]+/).filter(Boolean).map(Number);
}

// One sweep as a job; progress from the job's Server-Sent Events; resolves to the curve.
async function sweepJob(request, onProgress) {
  const job = await call("/v1/jobs", { method: "sweep", request });
  for await (const { event, data } of serverEvents(`/v1/jobs/${job.id}/events`)) {
    if (event === "progress") onProgress(JSON.parse(data));
    if (event === "final") {
      const done = JSON.parse(data);
      if (done && done.status === "succeeded") return done.result;
      throw new ApiError(done && done.error ? done.error.detail : "job vanished");
    }
  }
  throw new ApiError("the job's event stream ended without its result");
}

async function runSweeps(event) {
  event.preventDefault();
  const form = $("#perc-form");
  const sizes = sizesOf(form);
  const shares = sizes.map(() => 0);
  const bar = $("#perc-progress");
  bar.value = 0;
  status("#perc-status", `queued ${sizes.length} sweep job(s)`);
  const seen = (window.zuhurProgress = []);  // every progress event, for whoever watches
  const progress = (i) => (p) => {
    seen.push({ size: sizes[i], ...p });
    shares[i] = p.total ? p.done / p.total : 0;
    bar.value = shares.reduce((a, b) => a + b, 0) / sizes.length;
    status("#perc-status", `size ${sizes[i]}: ${p.done} / ${p.total} replicates`);
  };
  try {
    const curves = await Promise.all(sizes.map((s, i) =>
      sweepJob(sweepRequest(form, s), progress(i)).then((c) => { shares[i] = 1; return c; })));
    bar.value = 1;
    show("#perc-chart", await call("/ui/plots/sweeps", { curves }, "image/svg+xml"));
    status("#perc-status", `done: ${sizes.length} curve(s), ${curves[0].replicates} replicates each`);
  } catch (err) {
    status("#perc-status", err.message, true);
  }
}

async function essay() {
  status("#perc-status", "essay preset: n = 50");
  try {
    const curve = call("/v1/sweeps", {
      model: "erdos_renyi", n: 50, grid: { start: 0, stop: 5, points: 101 }, replicates: 400, seed: 1,
    });
    const samples = [0.25, 2.5, 4.0].map((c) => call("/v1/graphs/sample", {
      model: "erdos_renyi", n: 50, c, replicates: 1, seed: 7, edge_lists: true,
    }));
    const body = { curve: await curve, samples: await Promise.all(samples) };
    show("#perc-chart", await call("/ui/plots/essay", body, "image/svg+xml"));
    $("#perc-progress").value = 1;
    status("#perc-status", "n = 50: one graph at c = 0.25, 2.5 and 4.0, largest component in red");
  } catch (err) {
    status("#perc-status", err.message, true);
  }
}

// The first picture a visitor sees: the ER transition sharpening with n (synchronous sweeps).
async function defaultChart() {
  const form = $("#perc-form");
  try {
    const curves = await Promise.all(sizesOf(form).map((s) => call("/v1/sweeps", sweepRequest(form, s))));
    show("#perc-chart", await call("/ui/plots/sweeps", { curves }, "image/svg+xml"));
    $("#perc-progress").value = 1;
    status("#perc-status", "Erdős–Rényi: the giant component appears at c = 1, sharper as n grows");
  } catch (err) {
    status("#perc-status", err.message, true);
  }
}

// --- scaling laws ----------------------------------------------------------------------

function parseCsv(text) {
  const lines = text.trim().split(/\r?\n/).filter((l) => l.trim());
  const header = lines[0].split(",").map((h) => h.trim());
  return lines.slice(1).map((line) => {
    const cells = line.split(",").map((c) => c.trim());
    return Object.fromEntries(header.map((h, i) => [h, cells[i] ?? ""]));
  });
}

const geom = (lo, hi, k) => Array.from({ length: k }, (_, i) => lo * (hi / lo) ** (i / (k - 1)));
const fmt = (v) => (v === null || v === undefined ? "—" : Number(v).toPrecision(4));

async function fitScaling(event) {
  event.preventDefault();
  const rows = parseCsv($("#scaling-csv").value);
  const target = Number(new FormData($("#scaling-form")).get("target"));
  let url, body;
  if (rows.length && "loss" in rows[0]) {
    const N = rows.map((r) => Number(r.N)), D = rows.map((r) => Number(r.D));
    const sizes = [...new Set(N)];
    const ds = geom(Math.min(...D), Math.max(...D), 16);
    const C = N.map((n, i) => 6 * n * D[i]);
    url = "/v1/fits/scaling-law";
    body = {
      form: "chinchilla", N, D, loss: rows.map((r) => Number(r.loss)),
      predict_N: sizes.flatMap((n) => ds.map(() => n)), predict_D: sizes.flatMap(() => ds),
      predict_C: geom(Math.min(...C), Math.max(target, Math.max(...C)), 24),
    };
  } else {
    const keys = Object.keys(rows[0] || {});
    const x = rows.map((r) => Number(r[keys[0]])), y = rows.map((r) => Number(r[keys[1]]));
    url = "/v1/fits/power-law";
    body = { x, y, predict_x: geom(Math.min(...x), Math.max(target, Math.max(...x)), 40) };
  }
  status("#scaling-status", "fitting…");
  try {
    const fit = await call(url, body);
    $("#scaling-params").innerHTML = "<tr><th>parameter</th><th>value</th><th>95% interval</th></tr>" +
      Object.entries({ ...fit.params, ...(fit.compute_optimal || {}) }).map(([k, p]) =>
        `<tr><td>${k}</td><td>${fmt(p.value)}</td><td>${fmt(p.ci95[0])} – ${fmt(p.ci95[1])}</td></tr>`).join("");
    show("#scaling-chart", await call(url, body, "image/svg+xml"));  // same cache entry: a HIT
    const last = fit.predictions[fit.predictions.length - 1];
    status("#scaling-status", `${fit.model}: ${fit.n} points, R² ${fmt(fit.r2)}; ` +
      `prediction at the target ${fmt(last.value)} [${fmt(last.ci95[0])}, ${fmt(last.ci95[1])}]`);
  } catch (err) {
    status("#scaling-status", err.message, true);
  }
}

// --- emergence -------------------------------------------------------------------------

function seriesOf(rows) {
  const byName = new Map();
  for (const r of rows) {
    const name = r.name || "series";
    if (!byName.has(name)) byName.set(name, { name, scale: [], score: [] });
    const s = byName.get(name);
    s.scale.push(Number(r.scale));
    s.score.push(Number(r.score));
    if (r.items) s.items = [Number(r.items)];
    if (r.floor) s.floor = Number(r.floor);
  }
  return [...byName.values()];
}

async function judge(event) {
  event.preventDefault();
  const body = { series: seriesOf(parseCsv($("#emergence-csv").value)) };
  status("#emergence-status", `judging ${body.series.length} series…`);
  try {
    const batch = await call("/v1/fits/emergence/batch", body);
    $("#emergence-verdicts").innerHTML = "<tr><th>series</th><th>verdict</th><th>threshold</th><th>why</th></tr>" +
      batch.results.map((r) => r.result
        ? `<tr><td>${r.name}</td><td class="verdict verdict-${r.result.verdict}">${r.result.verdict}</td>` +
          `<td>${r.result.threshold_side === "inside" ? fmt(r.result.threshold.value) : r.result.threshold_side}</td>` +
          `<td>${r.result.reason}</td></tr>`
        : `<tr><td>${r.name}</td><td class="error">refused</td><td></td>` +
          `<td>${r.errors.map((e) => `${e.field}: ${e.message}`).join("; ")}</td></tr>`).join("");
    show("#emergence-chart", await call("/v1/fits/emergence/batch", body, "image/svg+xml"));
    status("#emergence-status", `${batch.results.length} series judged`);
  } catch (err) {
    status("#emergence-status", err.message, true);
  }
}

// --- wiring ----------------------------------------------------------------------------

function selectTab(name) {
  document.querySelectorAll(".tab").forEach((t) => t.classList.toggle("active", t.dataset.tab === name));
  document.querySelectorAll(".panel").forEach((p) => p.classList.toggle("active", p.id === name));
}

function useKey(event) {
  event.preventDefault();
  const key = $("#api-key").value.trim();
  if (key) sessionStorage.setItem(KEY_STORE, key); else sessionStorage.removeItem(KEY_STORE);
  $("#api-key").classList.remove("error");
  status("#perc-status", key ? "key set: drawing the default chart" : "key cleared");
  defaultChart();
}

document.addEventListener("DOMContentLoaded", () => {
  $("#api-key").value = apiKey();
  $("#key-form").addEventListener("submit", useKey);
  document.querySelectorAll(".tab").forEach((t) => t.addEventListener("click", () => selectTab(t.dataset.tab)));
  $("#perc-form").addEventListener("submit", runSweeps);
  $("#perc-essay").addEventListener("click", essay);
  $("#scaling-csv").value = CHINCHILLA_CSV;
  $("#scaling-form").addEventListener("submit", fitScaling);
  $("#emergence-csv").value = EMERGENCE_CSV;
  $("#emergence-form").addEventListener("submit", judge);
  defaultChart();
});
