// `strata status <run dir>`: where a run stands, read from its folder alone (embedded or Kafka, running or finished).
import type { Command } from 'commander';
import { requireDir } from '../cli-errors';
// The reader itself, not the package index: status answers in a fraction of a second without loading ONNX Runtime.
import { readRunStatus, type CellStatus, type RunStatus } from '@strata/experiment/src/run-status';

const pct = (done: number, total: number) => (total > 0 ? `${Math.floor((100 * done) / total)}%` : '');

function progressOf(c: CellStatus): string {
  const p = c.progress;
  if (!p) return '';
  const epoch = p.epoch !== undefined && p.epochs !== undefined ? `, epoch ${p.epoch}/${p.epochs}` : '';
  const loss = p.loss !== undefined ? `, loss ${p.loss.toFixed(4)}` : '';
  return `step ${p.step}/${p.totalSteps} (${pct(p.step, p.totalSteps)})${epoch}${loss}`;
}

const metricsOf = (m: Record<string, number> | undefined) => (m ? Object.entries(m).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ') : '');

/** The status as the terminal shows it (pure). */
export function formatStatus(s: RunStatus): string {
  const by = (state: CellStatus['state']) => s.cells.filter((c) => c.state === state);
  const training = by('training');
  const waiting = by('waiting');
  const done = by('done');
  const lines = [
    `${s.dir}: experiment ${s.name}${s.task ? `, task ${s.task}` : ''}`,
    `phase: ${s.phase}${s.updatedAt ? ` (last change ${s.updatedAt})` : ''}`,
    `teacher: ${s.teacher.done ? `done${s.teacher.metrics ? ` (${metricsOf(s.teacher.metrics)})` : ''}` : 'not finished'}`,
    `cells: ${s.cellsDone}/${s.cellsTotal} done, ${training.length} training, ${waiting.length} waiting${s.gridKnown ? '' : ' (grid not known yet: counting the cell folders that exist)'}`,
  ];
  if (training.length) lines.push('training:', ...training.map((c) => `  ${c.id}  ${progressOf(c)}`));
  if (waiting.length) lines.push(`waiting: ${waiting.map((c) => c.id).join(', ')}`);
  if (done.length) {
    const width = Math.max(...done.map((c) => c.id.length));
    lines.push('done:', ...done.map((c) => `  ${c.id.padEnd(width)}  ${metricsOf(c.metrics)}`));
  }
  return `${lines.join('\n')}\n`;
}

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description("where a run stands, from its folder alone (no broker, no training; embedded or Kafka runs, running or finished): phase, cells done / training (with step and loss) / waiting, and the metrics of finished cells")
    .argument('<run dir>', 'a run folder, e.g. runs/quickstart-spam (experiment run --out)')
    .option('--json', 'print the status as JSON')
    .addHelpText('after', '\nExamples:\n  strata status runs/quickstart-spam\n  strata status runs/quickstart-spam --json | jq .cellsDone')
    .action((dir: string, o: { json?: boolean }) => {
      requireDir(dir, 'a run folder (runs/<metadata.name>, or the --out of experiment run)');
      const status = readRunStatus(dir);
      process.stdout.write(o.json ? `${JSON.stringify(status)}\n` : formatStatus(status));
    });
}
