// The dashboard's pages (pure: views in, HTML out). The server gathers the views from run folders; every number a page
// shows comes from the run's own files, so the page and report.md cannot disagree.
import type { CellStatus, RunStatus } from '@strata/experiment';
import { aggregate, type Aggregate } from './aggregate';
import { escapeHtml as esc } from './markdown';

/** Same limit as the evaluator's tokenize endpoint, so the demo answers alike on both servers. */
export const MAX_DEMO_CHARS = 10_000;

export interface CellView extends CellStatus {
  layerMap?: [number, number][] | null;
  wallSeconds?: number;
}

export interface Figure {
  title: string;
  svg: string;
}

export interface RunView {
  status: RunStatus;
  cells: CellView[];
  /** Charts drawn for this page: per-strategy bars and training curves. */
  bars: Figure[];
  curves: Figure[];
  /** Files of the run's plots/ folder (angle heatmaps and histograms), served as they are. */
  plotFiles: string[];
  /** Cell ids whose student .onnx exists. */
  students: string[];
  hasReport: boolean;
  hasResults: boolean;
  hasPlan: boolean;
  /** Per depth: strategies whose cells resolved to the same layer maps as an earlier strategy's (label -> that label). */
  sameMaps: Record<number, Record<string, string>>;
  demo: { labels: string[]; pair: boolean } | { unavailable: string };
}

const num = (x: number | undefined, digits = 2) => (x === undefined || !Number.isFinite(x) ? '' : x.toFixed(digits));
const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(2)}`;
const runUrl = (run: string) => `/runs/${encodeURIComponent(run)}`;
const fileUrl = (run: string, file: string) => `${runUrl(run)}/files/${file.split('/').map(encodeURIComponent).join('/')}`;

const STYLE = `
body{font-family:system-ui,sans-serif;margin:1.5rem 2rem;color:#222;max-width:80rem}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.2rem .5rem}th{background:#f4f4f4}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}tr.init td{background:#fafafa;font-style:italic}
figure{display:inline-block;margin:.5rem;vertical-align:top}figure svg,figure img{max-width:100%;height:auto}
#curves figure{width:calc(50% - 1rem);margin:.5rem 0}
.phase{font-weight:600}.muted{color:#666}.bad{color:#a00}nav a{margin-right:1rem}
textarea{width:40rem;max-width:100%;height:4rem}#probs td.bar{width:12rem}#probs .fill{background:#4c78a8;height:.8rem}
`;

function page(title: string, body: string, script = ''): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>${STYLE}</style></head>
<body>
${body}
${script}
</body></html>
`;
}

function statsCell(s: { mean: number; std?: number; n: number } | undefined): string {
  if (!s) return '<td class="num muted">—</td>';
  return `<td class="num">${num(s.mean)} ± ${s.std === undefined ? 'n/a' : num(s.std)}</td>`;
}

/** The Table-1 view: per depth, teacher row then per init each strategy's mean ± std and Δ vs None. */
export function renderAggregate(agg: Aggregate, teacherMetrics: Record<string, number>, sameMaps: Record<number, Record<string, string>> = {}): string {
  if (!agg.depths.length) return '<p class="muted">no cells yet</p>';
  return agg.depths.map((d) => {
    const head = `<tr><th>Model</th><th class="num">n</th>${agg.metrics.map((m) => `<th class="num">${esc(m)}</th><th class="num">Δ ${esc(m)} vs None</th>`).join('')}</tr>`;
    const teacher = `<tr><td>Teacher</td><td class="num">1</td>${agg.metrics.map((m) => `<td class="num">${num(teacherMetrics[m])}</td><td class="num">—</td>`).join('')}</tr>`;
    const blocks = d.inits.map((b) => [
      `<tr class="init"><td colspan="${2 + 2 * agg.metrics.length}">${esc(b.init === 'copy' ? 'Weight copy' : b.init === 'random' ? 'Random init' : b.init)}</td></tr>`,
      ...b.rows.map((r) => `<tr data-strategy="${esc(r.strategy)}" data-init="${esc(b.init)}" data-depth="${d.depth}"><td>${esc(r.strategy)}${sameMaps[d.depth]?.[r.strategy] ? ` <span class="muted" title="same layer maps for every seed: the same students trained again, not an independent measurement">(= ${esc(sameMaps[d.depth][r.strategy])}: same layer maps)</span>` : ''}</td><td class="num">${r.scored}${r.scored < r.planned ? `/${r.planned}` : ''}</td>${agg.metrics.map((m) => `${statsCell(r.stats[m])}<td class="num">${r.strategy === 'none' ? '—' : r.delta[m] === undefined ? '' : signed(r.delta[m])}</td>`).join('')}</tr>`),
    ].join('\n')).join('\n');
    return `<h3>Student depth ${d.depth}</h3>\n<table class="aggregate" data-depth="${d.depth}"><thead>${head}</thead><tbody>\n${teacher}\n${blocks}\n</tbody></table>`;
  }).join('\n');
}

function cellState(c: CellView): string {
  if (c.state === 'done') return 'scored';
  if (c.state === 'training' && c.progress) return `training ${c.progress.step}/${c.progress.totalSteps}${c.progress.loss !== undefined ? ` (loss ${c.progress.loss.toFixed(3)})` : ''}`;
  return c.state;
}

function cellsTable(v: RunView, metrics: string[]): string {
  const rows = v.cells.map((c) => {
    const map = c.layerMap === undefined ? '' : c.layerMap === null ? 'per epoch' : c.layerMap.length ? c.layerMap.map(([s, t]) => `${s}&rarr;${t}`).join(' ') : '&mdash;';
    const model = v.students.includes(c.id) ? `<a download href="${fileUrl(v.status.run, `students/${c.id}.onnx`)}">.onnx</a>` : '';
    return `<tr data-cell="${esc(c.id)}"><td>${esc(c.id)}</td><td>${map}</td>${metrics.map((m) => `<td class="num">${num(c.metrics?.[m])}</td>`).join('')}<td class="num">${num(c.wallSeconds, 0)}</td><td>${esc(cellState(c))}</td><td>${model}</td></tr>`;
  }).join('\n');
  return `<table id="cells"><thead><tr><th>cell</th><th>layer map (student&rarr;teacher)</th>${metrics.map((m) => `<th class="num">${esc(m)}</th>`).join('')}<th class="num">wall s</th><th>status</th><th>student</th></tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

/** The part of a run's page that changes while the run writes (polled and replaced in place). */
export function renderRunLive(v: RunView): string {
  const s = v.status;
  const agg = aggregate(v.cells, s.teacher.metrics ?? {});
  const teacher = Object.entries(s.teacher.metrics ?? {}).map(([k, x]) => `${esc(k)} ${num(x)}`).join(', ');
  const figures = (fs: Figure[], empty: string) => (fs.length ? fs.map((f) => `<figure data-title="${esc(f.title)}">${f.svg}</figure>`).join('\n') : `<p class="muted">${empty}</p>`);
  const heatmaps = v.plotFiles.filter((f) => f.startsWith('angles-') && !f.startsWith('angles-hist-'));
  const hists = v.plotFiles.filter((f) => f.startsWith('angles-hist-'));
  const img = (f: string) => `<figure><img alt="${esc(f)}" src="${fileUrl(s.run, `plots/${f}`)}"></figure>`;
  const artifacts = [
    v.hasReport ? `<li><a href="${runUrl(s.run)}/report">report</a> (<a href="${fileUrl(s.run, 'report.md')}">report.md</a>)</li>` : '',
    v.hasResults ? `<li><a href="${fileUrl(s.run, 'results.json')}">results.json</a></li>` : '',
    v.hasPlan ? `<li><a href="${fileUrl(s.run, 'run.json')}">run.json</a> (manifest and grid)</li>` : '',
    v.students.length ? `<li>students: ${v.students.map((id) => `<a download href="${fileUrl(s.run, `students/${id}.onnx`)}">${esc(id)}.onnx</a>`).join(', ')}</li>` : '',
    s.teacher.done ? `<li><a download href="${fileUrl(s.run, 'teacher.onnx')}">teacher.onnx</a></li>` : '',
  ].join('');
  return `<p>task <b>${esc(s.task ?? '?')}</b>, phase <span class="phase" id="phase">${esc(s.phase)}</span>, <span id="scored">${s.cellsDone}/${s.cellsTotal}</span> cells scored${s.gridKnown ? '' : ' (grid not known yet)'}${teacher ? `; teacher ${teacher}` : ''}${s.updatedAt ? ` <span class="muted">· updated ${esc(s.updatedAt)}</span>` : ''}</p>
<h2>Results</h2>
<p class="muted">Mean ± sample standard deviation (n − 1) over seeds; Δ vs None is the difference of means against None of the same init and depth. n counts scored seeds (scored/planned while running).</p>
<div id="aggregate">${renderAggregate(agg, s.teacher.metrics ?? {}, v.sameMaps)}</div>
<div id="bars">${figures(v.bars, 'bars appear once cells are scored')}</div>
<details><summary>every cell</summary>${cellsTable(v, agg.metrics)}</details>
<h2>Training curves</h2>
<div id="curves">${figures(v.curves, 'curves appear once cells finish')}</div>
<h2>Angles</h2>
<div id="angles">${heatmaps.length ? heatmaps.map(img).join('\n') : '<p class="muted">the angle analysis runs once every cell is scored</p>'}
${hists.length ? `<details><summary>cosine histograms</summary>${hists.map(img).join('\n')}</details>` : ''}</div>
<h2>Artifacts</h2>
<ul id="artifacts">${artifacts}</ul>`;
}

function demoSection(v: RunView): string {
  if ('unavailable' in v.demo) return `<h2>Try a student</h2><p class="muted" id="demo-unavailable">${esc(v.demo.unavailable)}</p>`;
  const options = v.students.map((id) => `<option value="${esc(id)}">${esc(id)}</option>`).join('');
  return `<h2>Try a student</h2>
<p class="muted">The student runs here, in the browser, on onnxruntime-web; the server only tokenizes (at most ${MAX_DEMO_CHARS.toLocaleString('en-US')} characters per text).</p>
<select id="student">${options}</select><br>
<textarea id="text" placeholder="${v.demo.pair ? 'first text' : 'type an input'}" maxlength="${MAX_DEMO_CHARS}"></textarea><br>
${v.demo.pair ? `<textarea id="textB" placeholder="second text" maxlength="${MAX_DEMO_CHARS}"></textarea><br>` : ''}
<button id="predict" ${options ? '' : 'disabled'}>predict</button>
<p id="prediction"></p>
<table id="probs"></table>`;
}

const DEMO_SCRIPT = (run: string, pair: boolean) => `<script src="/vendor/ort/ort.wasm.min.js"></script>
<script>
const RUN = ${JSON.stringify(run)}, MAX = ${MAX_DEMO_CHARS}, PAIR = ${pair};
ort.env.wasm.wasmPaths = '/vendor/ort/';
ort.env.wasm.numThreads = 1;
const sessions = {};
const show = (msg) => { const out = document.getElementById('prediction'); out.textContent = msg; document.getElementById('probs').innerHTML = ''; };
async function predict() {
  const cell = document.getElementById('student').value;
  const text = document.getElementById('text').value;
  const textB = PAIR ? document.getElementById('textB').value : undefined;
  if (!text.trim() || (PAIR && !textB.trim())) return show(PAIR ? 'type both texts first' : 'type some text first');
  if (text.length > MAX || (textB && textB.length > MAX)) return show('the text is longer than ' + MAX.toLocaleString('en-US') + ' characters; shorten it');
  show('running...');
  try {
    const res = await fetch('/runs/' + encodeURIComponent(RUN) + '/tokenize', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ cell, text, textB }) });
    const raw = await res.text();
    let t;
    try { t = JSON.parse(raw); } catch { throw new Error('the server answered ' + res.status + ' ' + res.statusText + (raw ? ': ' + raw.slice(0, 200) : '')); }
    if (!res.ok || t.error) throw new Error(t.error || ('the server answered ' + res.status));
    sessions[cell] = sessions[cell] || ort.InferenceSession.create('/runs/' + encodeURIComponent(RUN) + '/files/students/' + encodeURIComponent(cell) + '.onnx', { executionProviders: ['wasm'] });
    const session = await sessions[cell];
    const tensor = (a) => new ort.Tensor('int64', BigInt64Array.from(a.map(BigInt)), t.dims);
    const feeds = { input_ids: tensor(t.input_ids), attention_mask: tensor(t.attention_mask) };
    if (session.inputNames.includes('token_type_ids')) feeds.token_type_ids = tensor(t.token_type_ids);
    const result = await session.run(feeds);
    const logits = Array.from(result.logits.data).slice(0, t.labels.length);
    const top = Math.max(...logits);
    const exps = logits.map((x) => Math.exp(x - top));
    const sum = exps.reduce((a, b) => a + b, 0);
    const probs = exps.map((e) => e / sum);
    const best = probs.indexOf(Math.max(...probs));
    const out = document.getElementById('prediction');
    out.textContent = t.labels[best] + ' (' + (100 * probs[best]).toFixed(1) + '%)' + (t.truncated ? ' — input truncated to ' + t.tokens + ' tokens' : '');
    out.dataset.label = String(best);
    document.getElementById('probs').innerHTML = t.labels.map((l, i) => '<tr data-label="' + i + '"><td>' + l.replace(/[&<>]/g, '') + '</td><td class="num">' + (100 * probs[i]).toFixed(1) + '%</td><td class="bar"><div class="fill" style="width:' + (100 * probs[i]).toFixed(1) + '%"></div></td></tr>').join('');
  } catch (e) {
    show('error: ' + e.message);
  }
}
document.getElementById('predict').addEventListener('click', predict);
</script>`;

/** Polls the live part while the run is not complete, replacing it when the run's files change. */
const LIVE_SCRIPT = (run: string, updatedAt: string | undefined, phase: string) => `<script>
(() => {
  let since = ${JSON.stringify(updatedAt ?? '')}, phase = ${JSON.stringify(phase)};
  const tick = async () => {
    if (phase === 'complete') return;
    try {
      const res = await fetch('/runs/' + encodeURIComponent(${JSON.stringify(run)}) + '/live?since=' + encodeURIComponent(since));
      if (res.status === 200) {
        document.getElementById('live').innerHTML = await res.text();
        since = res.headers.get('x-updated-at') || since;
        phase = res.headers.get('x-phase') || phase;
      }
    } catch {}
    setTimeout(tick, 2000);
  };
  setTimeout(tick, 2000);
})();
</script>`;

export function renderRunPage(v: RunView): string {
  const s = v.status;
  const body = `<nav><a href="/">all runs</a></nav>
<h1>${esc(s.name)} <span class="muted">(${esc(s.run)})</span></h1>
<div id="live">${renderRunLive(v)}</div>
${demoSection(v)}`;
  const demo = 'unavailable' in v.demo ? '' : DEMO_SCRIPT(s.run, v.demo.pair);
  return page(`Strata: ${s.name}`, body, `${LIVE_SCRIPT(s.run, s.updatedAt, s.phase)}\n${demo}`);
}

export function renderReportPage(run: string, name: string, html: string): string {
  return page(`Strata: ${name} report`, `<nav><a href="/">all runs</a><a href="${runUrl(run)}">${esc(run)}</a></nav>\n<article id="report">${html}</article>`);
}

/**
 * Every run of the folder, and their results side by side: one row per (depth, init, strategy), one column per run,
 * each the mean ± std of the run's first metric, so several experiments compare at a glance (TensorBoard's habit).
 */
export function renderIndex(root: string, runs: Array<{ status: RunStatus; cells: CellView[] }>): string {
  const list = runs.map(({ status: s }) => `<tr data-run="${esc(s.run)}"><td><a href="${runUrl(s.run)}">${esc(s.run)}</a></td><td>${esc(s.name)}</td><td>${esc(s.task ?? '')}</td><td>${esc(s.phase)}</td><td class="num">${s.cellsDone}/${s.cellsTotal}</td><td class="muted">${esc(s.updatedAt ?? '')}</td></tr>`).join('\n');
  const aggs = runs.map((r) => ({ run: r.status.run, agg: aggregate(r.cells, r.status.teacher.metrics ?? {}) }));
  const keys = new Map<string, { depth: number; init: string; strategy: string }>();
  for (const { agg } of aggs) for (const d of agg.depths) for (const b of d.inits) for (const r of b.rows) keys.set(`${d.depth}/${b.init}/${r.strategy}`, { depth: d.depth, init: b.init, strategy: r.strategy });
  const compare = keys.size && runs.length > 1
    ? `<h2>Side by side</h2><p class="muted">Each run's first metric (${aggs.map((a) => `${esc(a.run)}: ${esc(a.agg.metrics[0] ?? '—')}`).join(', ')}), mean ± std over scored seeds.</p>
<table id="compare"><thead><tr><th>depth</th><th>init</th><th>strategy</th>${aggs.map((a) => `<th class="num">${esc(a.run)}</th>`).join('')}</tr></thead><tbody>
${[...keys.entries()].map(([key, k]) => `<tr data-key="${esc(key)}"><td class="num">${k.depth}</td><td>${esc(k.init)}</td><td>${esc(k.strategy)}</td>${aggs.map((a) => {
      const row = a.agg.depths.find((d) => d.depth === k.depth)?.inits.find((b) => b.init === k.init)?.rows.find((r) => r.strategy === k.strategy);
      return statsCell(row?.stats[a.agg.metrics[0]]);
    }).join('')}</tr>`).join('\n')}
</tbody></table>`
    : '';
  const body = `<h1>Strata runs <span class="muted">in ${esc(root)}</span></h1>
${runs.length ? `<table id="runs"><thead><tr><th>run</th><th>experiment</th><th>task</th><th>phase</th><th class="num">cells</th><th>updated</th></tr></thead><tbody>\n${list}\n</tbody></table>` : '<p>no runs here yet: start one with <code>strata experiment run &lt;manifest&gt; --out &lt;this folder&gt;/&lt;name&gt;</code>; this page refreshes.</p>'}
${compare}`;
  return page('Strata runs', body, `<script>setTimeout(() => location.reload(), ${runs.some((r) => r.status.phase !== 'complete') || !runs.length ? 3000 : 30000});</script>`);
}
