// The dashboard page (pure: view in, HTML out): results table, training curves, angle heatmaps, and a demo that runs a
// chosen student .onnx in the browser with onnxruntime-web (the server only tokenizes: the tokenizer is native code).
import { lineChartSvg } from '@strata/plots';

export interface DashboardCell {
  id: string;
  strategy: string;
  init: string;
  depth: number;
  seed: number;
  layerMap: [number, number][] | null;
  metrics?: Record<string, number>;
  progress?: { step: number; totalSteps: number; loss: number };
  failed?: string;
  curve?: [number, number][];
}

export interface DashboardView {
  name: string;
  task: string;
  phase: string;
  cells: DashboardCell[];
  teacherMetrics: Record<string, number>;
  /** Angle heatmap files under plots/ (served at /v1/experiments/<name>/plots/<file>). */
  anglePlots: string[];
  /** Cells whose student can be tried in the demo. */
  demoCells: string[];
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const fmt = (x: number | undefined) => (x === undefined ? '' : x.toFixed(2));

function status(c: DashboardCell): string {
  if (c.metrics) return 'scored';
  if (c.failed) return `failed: ${c.failed}`;
  if (c.progress) return `training ${c.progress.step}/${c.progress.totalSteps} (loss ${c.progress.loss.toFixed(3)})`;
  return 'waiting';
}

export function renderDashboard(v: DashboardView): string {
  const metricNames = [...new Set(v.cells.flatMap((c) => Object.keys(c.metrics ?? {})))].sort();
  const rows = v.cells
    .map((c) => {
      const map = c.layerMap === null ? 'per epoch' : c.layerMap.length ? c.layerMap.map(([s, t]) => `${s}&rarr;${t}`).join(' ') : '&mdash;';
      const metrics = metricNames.map((m) => `<td class="num">${fmt(c.metrics?.[m])}</td>`).join('');
      return `<tr data-cell="${esc(c.id)}"><td>${esc(c.id)}</td><td>${esc(c.strategy)}</td><td>${esc(c.init)}</td><td class="num">${c.depth}</td><td class="num">${c.seed}</td><td>${map}</td>${metrics}<td>${esc(status(c))}</td></tr>`;
    })
    .join('\n');
  const curves = ['random', 'copy']
    .map((init) => {
      const series = v.cells.filter((c) => c.init === init && c.curve?.length).map((c) => ({ name: c.id, points: c.curve! }));
      return series.length ? `<figure>${lineChartSvg({ title: `training loss (${init} init)`, series, xLabel: 'step', yLabel: 'loss' })}</figure>` : '';
    })
    .join('');
  const heatmaps = v.anglePlots.map((f) => `<figure><img alt="${esc(f)}" src="/v1/experiments/${esc(encodeURIComponent(v.name))}/plots/${esc(f)}"></figure>`).join('');
  const teacher = Object.entries(v.teacherMetrics).map(([k, x]) => `${esc(k)} ${fmt(x)}`).join(', ');
  const options = v.demoCells.map((id) => `<option value="${esc(id)}">${esc(id)}</option>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Strata: ${esc(v.name)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25rem .5rem}
td.num{text-align:right;font-variant-numeric:tabular-nums}figure{display:inline-block;margin:.5rem}textarea{width:40rem;height:4rem}
#prediction{font-size:1.2rem;font-weight:600}
</style></head>
<body>
<h1>${esc(v.name)}</h1>
<p>task <b>${esc(v.task)}</b>, phase <b id="phase">${esc(v.phase)}</b>, ${v.cells.filter((c) => c.metrics).length}/${v.cells.length} cells scored${teacher ? `; teacher ${teacher}` : ''}.
<a href="/v1/experiments/${esc(encodeURIComponent(v.name))}/results">results.json</a> &middot; <a href="/v1/experiments/${esc(encodeURIComponent(v.name))}/report">report.md</a></p>
<h2>Results</h2>
<table id="results"><thead><tr><th>cell</th><th>strategy</th><th>init</th><th>depth</th><th>seed</th><th>layer map (student&rarr;teacher)</th>${metricNames.map((m) => `<th>${esc(m)}</th>`).join('')}<th>status</th></tr></thead>
<tbody>
${rows}
</tbody></table>
<h2>Training curves</h2>
<div id="curves">${curves || '<p>no curves yet</p>'}</div>
<h2>Angles</h2>
<div id="angles">${heatmaps || '<p>the angle analysis runs once every cell is scored</p>'}</div>
<h2>Try a student</h2>
<p>The student runs here, in the browser, on onnxruntime-web; the server only tokenizes.</p>
<select id="student">${options}</select><br>
<textarea id="text" placeholder="type an input"></textarea><br>
<button id="predict" ${options ? '' : 'disabled'}>predict</button>
<p id="prediction"></p>
<table id="probs"></table>
<details><summary>logits</summary><pre id="logits"></pre></details>
<script src="/vendor/ort/ort.wasm.min.js"></script>
<script>
const experiment = ${JSON.stringify(v.name)};
ort.env.wasm.wasmPaths = '/vendor/ort/';
ort.env.wasm.numThreads = 1;
const sessions = {};
async function predict() {
  const cell = document.getElementById('student').value;
  const text = document.getElementById('text').value;
  const out = document.getElementById('prediction');
  document.getElementById('probs').innerHTML = '';
  // The server takes at most 10,000 characters, and the text travels in the URL: refuse here what it cannot answer.
  if (!text.trim()) { out.textContent = 'type some text first'; return; }
  if (text.length > 10000 || encodeURIComponent(text).length > 12000) { out.textContent = 'the text is too long for the demo (at most 10,000 characters, fewer with non-ASCII text); shorten it'; return; }
  out.textContent = 'running...';
  try {
    const res = await fetch('/v1/experiments/' + encodeURIComponent(experiment) + '/tokenize?cell=' + encodeURIComponent(cell) + '&text=' + encodeURIComponent(text));
    const raw = await res.text();
    let t;
    try { t = JSON.parse(raw); } catch { throw new Error('the server answered ' + res.status + ' ' + res.statusText); }
    if (!res.ok || t.error) throw new Error(t.error || ('the server answered ' + res.status));
    sessions[cell] = sessions[cell] || ort.InferenceSession.create('/v1/experiments/' + encodeURIComponent(experiment) + '/students/' + encodeURIComponent(cell) + '/model.onnx', { executionProviders: ['wasm'] });
    const session = await sessions[cell];
    const tensor = (a) => new ort.Tensor('int64', BigInt64Array.from(a.map(BigInt)), t.dims);
    const result = await session.run({ input_ids: tensor(t.input_ids), attention_mask: tensor(t.attention_mask), token_type_ids: tensor(t.token_type_ids) });
    const logits = Array.from(result.logits.data).slice(0, t.labels.length);
    const best = logits.indexOf(Math.max(...logits));
    out.textContent = t.labels[best];
    out.dataset.label = String(best);
    document.getElementById('logits').textContent = JSON.stringify(logits);
    const exps = logits.map((x) => Math.exp(x - logits[best]));
    const sum = exps.reduce((a, b) => a + b, 0);
    document.getElementById('probs').innerHTML = t.labels.map((l, i) => '<tr><td>' + String(l).replace(/[&<>]/g, '') + '</td><td class="num">' + (100 * exps[i] / sum).toFixed(1) + '%</td></tr>').join('');
  } catch (e) {
    out.textContent = 'error: ' + e.message;
  }
}
document.getElementById('predict').addEventListener('click', predict);
</script>
</body></html>
`;
}
