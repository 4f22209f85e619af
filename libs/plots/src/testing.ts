// Test helpers for SVG layout in a real browser: Debian's chromium through playwright-core (nothing downloads a
// browser). Not exported from the package's index (charts stay dependency-free); tests import
// '@strata/plots/src/testing'. The launch and skip rules are those of apps/evaluator/src/testing.ts.
import * as fs from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.STRATA_CHROMIUM ?? '/usr/bin/chromium';

/** describe when chromium is there; otherwise skipped with a printed reason, or failing under STRATA_REQUIRE_BROWSER=1. */
export function describeBrowser(name: string, fn: () => void): void {
  if (fs.existsSync(CHROMIUM)) {
    describe(name, fn);
    return;
  }
  if (process.env.STRATA_REQUIRE_BROWSER === '1') {
    describe(name, () => it('needs a browser', () => {
      throw new Error(`${CHROMIUM} not found; STRATA_REQUIRE_BROWSER=1 requires Debian's chromium (apt-get install chromium)`);
    }));
    return;
  }
  process.stderr.write(`skipping ${name}: ${CHROMIUM} not found (apt-get install chromium, or set STRATA_CHROMIUM)\n`);
  describe.skip(name, fn);
}

/** Headless, with the flags that keep it off this machine's closed network. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
}

/**
 * What chromium finds wrong with the layout of one SVG document (empty when nothing): every text, rect, path, line,
 * circle and polygon must lie inside the SVG's viewport (0.5 px tolerance), legend entries must read differently and
 * not overlap, and each printed heatmap value must lie inside the cell it is printed on.
 */
// The few DOM types the check uses, declared here so the workspace keeps compiling without the DOM lib.
interface Box { left: number; top: number; right: number; bottom: number }
interface DomElement {
  tagName: string;
  textContent: string | null;
  parentElement: DomElement | null;
  getAttribute(name: string): string | null;
  getBoundingClientRect(): Box;
  querySelector(selector: string): DomElement | null;
  querySelectorAll(selector: string): ArrayLike<DomElement>;
}

export async function svgLayoutProblems(page: Page, svg: string): Promise<string[]> {
  await page.setContent(`<!doctype html><html><body style="margin:0;padding:0">${svg}</body></html>`);
  return page.evaluate(() => {
    const problems: string[] = [];
    const root = (globalThis as unknown as { document: DomElement }).document.querySelector('svg');
    if (!root) return ['no <svg> element'];
    const vp = root.getBoundingClientRect();
    const tol = 0.5;
    const describe = (el: DomElement) => {
      const cls = el.getAttribute('class');
      const t = el.tagName === 'text' ? ` "${el.textContent}"` : '';
      const parent = el.parentElement?.getAttribute('class');
      return `<${el.tagName}${cls ? ` class="${cls}"` : ''}>${t}${parent ? ` in ${parent}` : ''}`;
    };
    const box = (r: Box) => `[${[r.left, r.top, r.right, r.bottom].map((v) => Math.round(v * 10) / 10).join(', ')}]`;
    const inside = (r: Box, o: Box) => r.left >= o.left - tol && r.top >= o.top - tol && r.right <= o.right + tol && r.bottom <= o.bottom + tol;
    for (const el of Array.from(root.querySelectorAll('text, rect, path, line, circle, polygon, polyline'))) {
      const r = el.getBoundingClientRect();
      if (!inside(r, vp)) problems.push(`${describe(el)} at ${box(r)} is outside the viewport ${box(vp)}`);
    }
    const entries = Array.from(root.querySelectorAll('.legend-entry'));
    const names = entries.map((e) => e.querySelector('text')?.textContent ?? '');
    names.forEach((n, k) => {
      if (names.indexOf(n) !== k) problems.push(`legend entries ${names.indexOf(n)} and ${k} both read "${n}"`);
    });
    const boxes = entries.map((e) => e.getBoundingClientRect());
    for (let a = 0; a < boxes.length; a++) for (let b = a + 1; b < boxes.length; b++) {
      const [p, q] = [boxes[a], boxes[b]];
      if (p.left < q.right - tol && q.left < p.right - tol && p.top < q.bottom - tol && q.top < p.bottom - tol) problems.push(`legend entries "${names[a]}" and "${names[b]}" overlap`);
    }
    const cells = Array.from(root.querySelectorAll('rect.cell')).map((c) => c.getBoundingClientRect());
    for (const v of Array.from(root.querySelectorAll('text.cell-value'))) {
      const r = v.getBoundingClientRect();
      const cx = (r.left + r.right) / 2;
      const cy = (r.top + r.bottom) / 2;
      const cell = cells.find((c) => cx >= c.left && cx <= c.right && cy >= c.top && cy <= c.bottom);
      if (!cell) problems.push(`${describe(v)} at ${box(r)} is on no cell`);
      else if (r.left < cell.left - tol || r.right > cell.right + tol) problems.push(`${describe(v)} at ${box(r)} is wider than its cell ${box(cell)}`);
    }
    return problems;
  });
}
