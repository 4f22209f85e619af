import { readFileSync } from 'node:fs';
import { decodeUtf8 } from '@strata/data';
import { InvalidArgumentError, Option, type Command } from 'commander';
import {
  BLEU_SMOOTHING_METHODS,
  BLEU_TOKENIZERS,
  corpusBleu,
  corpusChrf,
  formatBleu,
  formatChrf,
  segmentLines,
  type BleuSmoothing,
  type BleuTokenizer,
} from '@strata/metrics';

/** One segment per line, read as sacreBLEU's command line reads it (strict UTF-8, each line right-stripped). */
function readSegments(file: string, role: string): string[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    throw new Error(`cannot read ${role} file '${file}': ${reason}`);
  }
  let text: string;
  try {
    text = decodeUtf8(bytes, file);
  } catch (err) {
    throw new Error(`cannot read ${role} file ${(err as Error).message}`);
  }
  return segmentLines(text);
}

/** The hypothesis lines and one reference stream per --ref file, all with the same line count. */
function readCorpus(hypFile: string, refFiles: readonly string[]): { hyps: string[]; refs: string[][] } {
  const hyps = readSegments(hypFile, 'hypothesis');
  const refs = refFiles.map((file) => readSegments(file, 'reference'));
  refs.forEach((lines, i) => {
    if (lines.length !== hyps.length) {
      throw new Error(
        `line counts differ: hypothesis file '${hypFile}' has ${hyps.length} lines, reference file '${refFiles[i]}' has ${lines.length}`,
      );
    }
  });
  return { hyps, refs };
}

function parseNonNegativeInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('Expected a non-negative integer.');
  return n;
}

function parseNonNegativeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('Expected a number >= 0.');
  return n;
}

/** Kept as typed, so '2.0' names the score chrF2.0 as sacreBLEU's CHRF(beta=2.0) does, and '2' chrF2. */
function parseBeta(value: string): string {
  parseNonNegativeNumber(value);
  return value.trim();
}

interface BleuCliOptions {
  hyp: string;
  ref: string[];
  tokenize: BleuTokenizer;
  lowercase?: boolean;
  smooth: BleuSmoothing;
  smoothValue?: number;
  effectiveOrder?: boolean;
  maxNgramOrder: number;
  json?: boolean;
}

interface ChrfCliOptions {
  hyp: string;
  ref: string[];
  charOrder: number;
  wordOrder: number;
  beta: string;
  lowercase?: boolean;
  whitespace?: boolean;
  epsSmoothing?: boolean;
  json?: boolean;
}

export function registerMetricsCommands(program: Command): void {
  const metrics = program
    .command('metrics')
    .description('Score system outputs against references: sacreBLEU 2.x-compatible BLEU and chrF');

  metrics
    .command('bleu')
    .description('Corpus BLEU as sacreBLEU computes it (files hold one segment per line)')
    .requiredOption('--hyp <file>', 'hypotheses, one segment per line')
    .requiredOption('--ref <file...>', 'reference file(s), one segment per line, aligned with --hyp; repeat or list several for multiple references')
    .addOption(new Option('--tokenize <name>', 'tokenizer').choices([...BLEU_TOKENIZERS]).default('13a'))
    .option('--lowercase', 'lowercase hypotheses and references before scoring')
    .addOption(new Option('--smooth <method>', 'smoothing method').choices([...BLEU_SMOOTHING_METHODS]).default('exp'))
    .option('--smooth-value <v>', 'parameter of floor (default 0.1) and add-k (default 1) smoothing', parseNonNegativeNumber)
    .option('--effective-order', 'average only over the n-gram orders the hypotheses contain (for sentence-level use)')
    .option('--max-ngram-order <n>', 'highest n-gram order', parseNonNegativeInt, 4)
    .option('--json', 'print {score, counts, totals, precisions, bp, sys_len, ref_len, signature} as JSON')
    .addHelpText('after', '\nExample:\n  strata metrics bleu --hyp hyp.txt --ref ref.txt --tokenize 13a')
    .action((opts: BleuCliOptions) => {
      const { hyps, refs } = readCorpus(opts.hyp, opts.ref);
      const result = corpusBleu(hyps, refs, {
        tokenize: opts.tokenize,
        lowercase: opts.lowercase ?? false,
        smooth: opts.smooth,
        smoothValue: opts.smoothValue,
        effectiveOrder: opts.effectiveOrder ?? false,
        maxNgramOrder: opts.maxNgramOrder,
      });
      const { score, counts, totals, precisions, bp, sys_len, ref_len, signature } = result;
      process.stdout.write(
        opts.json
          ? `${JSON.stringify({ score, counts, totals, precisions, bp, sys_len, ref_len, signature }, null, 2)}\n`
          : `${formatBleu(result)}\n${signature}\n`,
      );
    });

  metrics
    .command('chrf')
    .description('Corpus chrF (chrF++ with --word-order 2) as sacreBLEU computes it (files hold one segment per line)')
    .requiredOption('--hyp <file>', 'hypotheses, one segment per line')
    .requiredOption('--ref <file...>', 'reference file(s), one segment per line, aligned with --hyp; the best-scoring reference counts per segment')
    .option('--char-order <n>', 'character n-gram order', parseNonNegativeInt, 6)
    .option('--word-order <n>', 'word n-gram order (2 gives chrF++)', parseNonNegativeInt, 0)
    .option('--beta <n>', 'weight of recall relative to precision (written 2.0, the score is named chrF2.0 as in sacreBLEU)', parseBeta, '2')
    .option('--lowercase', 'lowercase hypotheses and references before scoring')
    .option('--whitespace', 'keep whitespace inside character n-grams')
    .option('--eps-smoothing', 'epsilon smoothing as chrF++.py, NLTK and Moses (instead of effective order)')
    .option('--json', 'print {name, score, char_order, word_order, beta, signature} as JSON')
    .addHelpText('after', '\nExample:\n  strata metrics chrf --hyp hyp.txt --ref ref.txt --word-order 2   # chrF++')
    .action((opts: ChrfCliOptions) => {
      const { hyps, refs } = readCorpus(opts.hyp, opts.ref);
      const result = corpusChrf(hyps, refs, {
        charOrder: opts.charOrder,
        wordOrder: opts.wordOrder,
        beta: opts.beta,
        lowercase: opts.lowercase ?? false,
        whitespace: opts.whitespace ?? false,
        epsSmoothing: opts.epsSmoothing ?? false,
      });
      process.stdout.write(opts.json ? `${JSON.stringify(result, null, 2)}\n` : `${formatChrf(result)}\n${result.signature}\n`);
    });
}
