// The report of a generation run: Table 1 plus its setup (splits, carve, cache) and its stage timings.
import { renderReport } from '../report';
import type { GenerationResults } from './generation-setup';

/** The Table-1 report plus the setup of a generation run (splits, carve, cache) and its stage timings. */
export function renderGenerationReport(r: GenerationResults): string {
  const s = r.setup;
  const lines = [
    '',
    '## Setup',
    '',
    `- Architecture: ${s.architecture}; teacher ${r.teacher.layers} layers per stack, hidden ${r.teacher.hidden}, vocabulary ${s.vocabSize}.`,
    `- Trained on ${s.train} (${s.trainExamples} examples); evaluated on ${s.eval}${s.maxEvalExamples ? ` (at most ${s.maxEvalExamples} examples)` : ''}.`,
    `- Teacher cache: hidden states ${(s.cacheLayers as number[]).join(', ')} per stack and the top-${s.topK} next-token distribution of every target position.`,
    `- Generation: beam ${(s.evaluation as { beam: number }).beam}, length penalty ${(s.evaluation as { lengthPenalty: number }).lengthPenalty}.`,
    '',
    '## Timings (seconds, this machine)',
    '',
    `teacher training ${fmt(r.timings.teacherTrain)}, teacher evaluation ${fmt(r.timings.teacherEval)}, cache ${fmt(r.timings.cache)}, students ${fmt(r.timings.studentsWall)}${(r.timings.parallelism ?? 1) > 1 ? ` (${r.timings.parallelism} at a time)` : ''}, angles ${fmt(r.timings.angles)}, total ${fmt(r.timings.total)} (stages reused from an earlier run count 0).`,
    '',
    '| Cell | train | eval | steps |',
    '| --- | ---: | ---: | ---: |',
    ...Object.entries(r.timings.students).map(([id, t]) => `| ${id} | ${t.train.toFixed(0)} | ${t.eval.toFixed(0)} | ${t.steps} |`),
  ];
  return `${renderReport(r).trimEnd()}\n${lines.join('\n')}\n`;
}

function fmt(v: number | undefined): string {
  return v === undefined ? 'n/a' : v.toFixed(0);
}
