// Shared by the evaluator's tests: Debian's chromium through playwright-core (nothing downloads a browser), and an
// embedded run's folder turned into what the services leave.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LOSS_TERMS, type ResultCell } from '@strata/experiment';

// The browser helpers live with the charts' layout checks; re-exported so the evaluator's tests import one place.
export { CHROMIUM, describeBrowser, launchChromium } from '@strata/plots/src/testing';

/**
 * Turns an embedded run's folder into what the services leave: each student gets the training record a
 * student-trainer writes instead of its scored result, and results.json / report.md go, so the evaluator scores and
 * aggregates them itself.
 */
export function asServiceRun(expDir: string, cellIds: readonly string[]): void {
  const cacheKey = fs.readdirSync(path.join(expDir, 'cache'))[0];
  for (const id of cellIds) {
    const r = JSON.parse(fs.readFileSync(path.join(expDir, 'students', id, 'result.json'), 'utf8')) as ResultCell;
    // The record keeps the loop's shapes: a point per logged step, maps per epoch, dev metrics as fractions.
    const curve = r.curves.step.map((step, i) => ({ step, loss: r.curves.loss[i], ...Object.fromEntries(LOSS_TERMS.filter((k) => r.curves[k]).map((k) => [k, r.curves[k]![i]])) }));
    const dev = (r.dev ?? []).map((p) => ({ ...p, metrics: Object.fromEntries(Object.entries(p.metrics).map(([k, v]) => [k, v / 100])) }));
    const record = { cellId: id, hash: r.hash, cacheKey, curve, layerMaps: r.layerMapsPerEpoch ?? [r.layerMap], dev, wallSeconds: r.wallSeconds, parameters: r.student.parameters, onnx: `students/${id}.onnx` };
    fs.writeFileSync(path.join(expDir, 'students', id, 'training.json'), JSON.stringify(record));
    fs.rmSync(path.join(expDir, 'students', id, 'result.json'));
  }
  for (const f of ['results.json', 'report.md']) fs.rmSync(path.join(expDir, f), { force: true });
}
