// `strata dashboard` in chromium on real embedded runs: one finished, one still training while the page is open.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runExperiment, trainTinyTeacher, writeTinyManifest } from '@strata/experiment';
import { describeBrowser, launchChromium } from '@strata/plots/src/testing';
import type { Browser, Page } from 'playwright-core';
import { startDashboard, type Dashboard } from './server';

/** report.md's Table 1 rows as { "<init>/<strategy>": accuracy mean } (the strategy column shows display names). */
function reportMeans(md: string): Record<string, number> {
  const display: Record<string, string> = { None: 'none', Forward: 'forward', Reverse: 'reverse', 'All-to-one': 'all-to-one', 'Out-of-order random': 'out-of-order-random' };
  const out: Record<string, number> = {};
  let init = '';
  for (const line of md.split('\n')) {
    // A strategy that resolved to another's maps is marked `Reverse (= Forward: same layer maps)`.
    const cells = line.split('|').map((c) => c.trim().replace(/ \(= .*\)$/, '')).filter((_, i, a) => i > 0 && i < a.length - 1);
    if (cells[0] === '*Random init*') init = 'random';
    else if (cells[0] === '*Weight copy*') init = 'copy';
    else if (init && display[cells[0]] && /±/.test(cells[2] ?? '')) out[`${init}/${display[cells[0]]}`] = Number(cells[2].split('±')[0]);
  }
  return out;
}

describeBrowser('strata dashboard in chromium', () => {
  let root: string;
  let dashboard: Dashboard;
  let browser: Browser;
  let running: Promise<unknown> | undefined;
  let slow: string;
  const quiet = { log: () => undefined };

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-dashboard-'));
    const teacher = await trainTinyTeacher(path.join(root, 'teacher-src'), 400);
    const finished = writeTinyManifest(path.join(root, 'manifests', 'finished.yaml'), 'finished', teacher.onnx, { store: 'file', strategies: ['none', 'forward', 'reverse'], seeds: [1, 2], examples: 160 });
    await runExperiment(finished, { outDir: path.join(root, 'runs', 'finished'), angleExamples: 32, ...quiet });
    // The second run is started by the test that watches it train: started here, it could end before that test opened
    // its page (it did when another project's tests ran beside this one).
    slow = writeTinyManifest(path.join(root, 'manifests', 'running.yaml'), 'running', teacher.onnx, { store: 'file', strategies: ['none', 'forward'], seeds: [1, 2], examples: 300, epochs: 2 });
    dashboard = await startDashboard({ root: path.join(root, 'runs'), port: 0 });
    browser = await launchChromium();
  }, 600_000);

  afterAll(async () => {
    await running?.catch(() => undefined);
    await browser?.close();
    await dashboard?.close();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  const open = async (url: string): Promise<Page> => {
    const page = await browser.newPage({ acceptDownloads: true });
    const failed: string[] = [];
    page.on('pageerror', (e) => failed.push(e.message));
    await page.goto(new URL(url, dashboard.url).href);
    expect(failed).toEqual([]);
    return page;
  };

  it('shows the finished run: the aggregated table has report.md\'s means, bars and curves render, a student downloads', async () => {
    const runDir = path.join(root, 'runs', 'finished');
    const page = await open('/runs/finished');
    expect(await page.textContent('#phase')).toBe('complete');
    const rows: { key: string; cells: string[] }[] = [];
    for (const tr of await page.locator('table.aggregate tr[data-strategy]').all())
      rows.push({ key: `${await tr.getAttribute('data-init')}/${await tr.getAttribute('data-strategy')}`, cells: await tr.locator('td').allTextContents() });
    const fromReport = reportMeans(fs.readFileSync(path.join(runDir, 'report.md'), 'utf8'));
    expect(Object.keys(fromReport).sort()).toEqual(rows.map((r) => r.key).sort());
    for (const r of rows) expect(Number(r.cells[2].split('±')[0])).toBeCloseTo(fromReport[r.key], 2);
    // With 1-layer students reverse resolves to forward's map; both the report and the page say so.
    expect(fs.readFileSync(path.join(runDir, 'report.md'), 'utf8')).toMatch(/Reverse \(= Forward: same layer maps\)/);
    expect(await page.textContent('tr[data-strategy="reverse"][data-init="random"] td')).toMatch(/^reverse \(= forward: same layer maps\)$/);
    // Bars and curves are inline SVG with drawn marks in them.
    expect(await page.$$eval('#bars figure svg rect, #bars figure svg path, #bars figure svg line', (els) => els.length)).toBeGreaterThan(3);
    expect(await page.$$eval('#curves figure svg path, #curves figure svg polyline', (els) => els.length)).toBeGreaterThan(0);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#artifacts a[href$="forward-random-d1-s1.onnx"]')]);
    const saved = path.join(root, 'downloaded.onnx');
    await download.saveAs(saved);
    expect(fs.readFileSync(saved).equals(fs.readFileSync(path.join(runDir, 'students', 'forward-random-d1-s1.onnx')))).toBe(true);
    // The report renders as HTML, its plots as images of the run.
    const report = await open('/runs/finished/report');
    expect(await report.$$eval('#report table', (t) => t.length)).toBeGreaterThan(0);
    expect(await report.$$eval('#report img', (imgs) => imgs.every((i) => (i as unknown as { naturalWidth: number }).naturalWidth > 0))).toBe(true);
    await Promise.all([page.close(), report.close()]);
  });

  it('runs a student in the browser and shows class probabilities; empty and over-long inputs get a clear message', async () => {
    const page = await open('/runs/finished');
    await page.selectOption('#student', 'forward-random-d1-s1');
    await page.fill('#text', 'WIN a FREE prize now!!! click here to claim your cash reward');
    await page.click('#predict');
    await page.waitForSelector('#probs tr');
    const probs = (await page.locator('#probs tr td:nth-child(2)').allTextContents()).map((t) => Number(t.replace('%', '')));
    expect(probs).toHaveLength(2);
    expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(100, 0);
    expect(await page.textContent('#prediction')).toMatch(/^(ham|spam) \(\d+\.\d%\)/);

    await page.fill('#text', '   ');
    await page.click('#predict');
    expect(await page.textContent('#prediction')).toBe('type some text first');
    // Past the textarea's maxlength (a paste through script): the page refuses before asking the server...
    await page.$eval('#text', (t) => {
      (t as unknown as { value: string }).value = 'spam '.repeat(4000);
    });
    await page.click('#predict');
    expect(await page.textContent('#prediction')).toMatch(/longer than 10,000 characters/);
    // ...and the server answers the same limit as JSON, never a parse error.
    const res = await fetch(new URL('/runs/finished/tokenize', dashboard.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ cell: 'forward-random-d1-s1', text: 'x'.repeat(20_000) }) });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: expect.stringMatching(/longer than 10,000 characters/) });
    await page.close();
  });

  it('follows a running run: partial table while it trains, complete without a reload when it ends', async () => {
    const runDir = path.join(root, 'runs', 'running');
    running = runExperiment(slow, { outDir: runDir, angleExamples: 32, ...quiet });
    // Wait until the run has planned its grid (the teacher is given, so that is quick).
    for (let i = 0; i < 600 && !JSON.parse(fs.existsSync(path.join(runDir, 'run.json')) ? fs.readFileSync(path.join(runDir, 'run.json'), 'utf8') : '{}').cells; i++) await new Promise((r) => setTimeout(r, 100));
    const page = await open('/runs/running');
    expect(await page.textContent('#phase')).not.toBe('complete');
    const scored = await page.textContent('#scored');
    expect(scored).toMatch(/^\d+\/4$/);
    const marker = await page.evaluate('window.marker = 42');
    await running;
    await page.waitForFunction("document.getElementById('phase').textContent === 'complete'", undefined, { timeout: 20_000 });
    expect(await page.textContent('#scored')).toBe('4/4');
    // Same document: the live part was replaced in place, not reloaded.
    expect(await page.evaluate('window.marker')).toBe(marker);
    await page.close();
  }, 600_000);

  it('lists every run of the folder and compares them side by side', async () => {
    const page = await open('/');
    expect(await Promise.all((await page.locator('#runs tr[data-run]').all()).map((tr) => tr.getAttribute('data-run')))).toEqual(['finished', 'running']);
    const keys = await Promise.all((await page.locator('#compare tr[data-key]').all()).map((tr) => tr.getAttribute('data-key')));
    expect(keys).toEqual(expect.arrayContaining(['1/random/none', '1/random/forward', '1/random/reverse']));
    await page.close();
  });

  it('serves only files inside a run, and JSON errors', async () => {
    const outside = await fetch(new URL('/runs/finished/files/..%2F..%2Fteacher-src%2Fteacher.onnx', dashboard.url));
    expect(outside.status).toBe(403);
    const missing = await fetch(new URL('/runs/nope', dashboard.url));
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: string }).error).toMatch(/no run 'nope'/);
  });
});
