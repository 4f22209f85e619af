import type { Command } from 'commander';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { benchGenerationCacheKafka, formatGenerationCacheKafka, benchKafkaClients, benchKdStep, KD_STEP_CONFIGS, type KdStepConfigName, type KdStepReport, benchTrainStep, measureMatMulPeak, benchGatherGrad, benchGenerationMemory, benchTrainMemory } from '@strata/bench';
import { startBroker, stopBroker } from '@strata/kafka-broker';
import { positiveInt } from './stages';
import { benchParallelStudents, formatParallelStudents, estimateFullRun, formatEstimate, formatKlGap, measureTopKGap, fullRunSizes, readManifestFile, runExperiment, runGenerationExperiment, smokeManifest, withStopOnSignals, type GenerationResults } from '@strata/experiment';

const examples = (file: string) => path.resolve(__dirname, '../../../../examples', file);

/**
 * A generation reproduction: the full run (hours), or with --smoke the same models on a small sample (minutes), which
 * also prints the full run's estimated wall time from the stages it timed.
 */
function reproduction(name: string, manifestFile: string, description: string) {
  return {
    description,
    long: true,
    run: async (json: boolean, o: { smoke?: boolean }) => {
      const file = examples(manifestFile);
      if (!o.smoke) return runAndPrint(json, name, manifestFile);
      const full = readManifestFile(file);
      const smoke = smokeManifest(full);
      const t0 = Date.now();
      const { outDir, results } = await runGenerationExperiment(smoke, file, { outDir: path.resolve(`runs/${name}-smoke`), angleExamples: 64 });
      const wall = (Date.now() - t0) / 1000;
      const estimate = estimateFullRun(full, smoke, results as GenerationResults, fullRunSizes(full, file), 256, 64);
      if (json) process.stdout.write(`${JSON.stringify({ smoke: { wallSeconds: wall, results }, estimate })}\n`);
      else process.stdout.write(`${fs.readFileSync(path.join(outDir, 'report.md'), 'utf8')}\nsmoke run: ${(wall / 60).toFixed(1)} min wall\n${formatEstimate(estimate)}\n`);
    },
  };
}

/** A whole reproduction into runs/<name> (resumable), then its report or results.json. */
async function runAndPrint(json: boolean, name: string, manifestFile: string): Promise<void> {
  const { outDir, results } = await runExperiment(examples(manifestFile), { outDir: path.resolve(`runs/${name}`) });
  process.stdout.write(json ? `${JSON.stringify(results)}\n` : `${fs.readFileSync(path.join(outDir, 'report.md'), 'utf8')}\n`);
}

function formatKdStep(r: KdStepReport): string {
  const c = r.config;
  const phases = Object.entries(r.phases_ms).map(([k, v]) => `${k} ${v.toFixed(1)} ms (${(100 * r.phase_shares[k as keyof typeof r.phase_shares]).toFixed(0)}%)`);
  return [
    `${c.name}: student ${c.layers} x ${c.hidden}, ${c.heads} heads, FFN ${c.ffn}, vocab ${c.vocab}, batch ${c.batch} x ${c.seq_len}; ${c.teacher_layers}-layer teacher cached in float16; ${r.strategy} map ${JSON.stringify(r.layer_map)}`,
    `KD step: ${r.step_ms.toFixed(0)} ms, ${r.examples_per_s.toFixed(1)} examples/s; ${phases.join(', ')}`,
    `achieved ${r.achieved_gflops.toFixed(1)} GFLOP/s; ONNX Runtime MatMul peak ${r.peak_gflops.toFixed(1)} GFLOP/s; ratio ${r.ratio.toFixed(3)}`,
    r.teacher_forward_ms === undefined ? '' : `teacher forward (float32): ${r.teacher_forward_ms.toFixed(0)} ms; with it in every step (no cache) ${r.online_over_cached!.toFixed(2)}x the cached step; int8 teacher forward ${r.teacher_forward_int8_ms!.toFixed(0)} ms (${r.int8_speedup!.toFixed(2)}x faster)`,
  ].filter(Boolean).join('\n');
}

const BENCHES: Record<string, { description: string; long?: boolean; run: (json: boolean, o: { smoke?: boolean; config?: string; steps?: number; seqLen?: number }) => Promise<void> }> = {
  'table1-dart': reproduction('table1-dart', 'table1-dart.yaml', 'the DART reproduction (examples/table1-dart.yaml; 12+12-layer teacher, 3+3 students; needs ../shared/data; about 3 hours; --smoke: minutes + estimate)'),
  commonsenseqa: reproduction('commonsenseqa', 'commonsenseqa.yaml', 'the CommonsenseQA reproduction (examples/commonsenseqa.yaml; decoder-only 8-layer teacher, 2-layer students; needs ../shared/data; --smoke: minutes + estimate)'),
  hellaswag: reproduction('hellaswag', 'hellaswag.yaml', 'the HellaSwag reproduction (examples/hellaswag.yaml; validation set carved 80/20 into train/test; needs ../shared/data; --smoke: minutes + estimate)'),
  'parallel-students': {
    description: 'students one at a time (all cores) vs two at a time in worker threads: wall-time ratio on the HellaSwag smoke sample, 4 students x 3 epochs (needs ../shared/data; about 5 minutes)',
    long: true,
    run: async (json) => {
      const file = examples('hellaswag.yaml');
      const full = readManifestFile(file);
      const r = await benchParallelStudents(full, file, path.resolve('runs/parallel-students'), { log: json ? () => undefined : undefined });
      process.stdout.write(json ? `${JSON.stringify(r)}\n` : `${formatParallelStudents(r)}\n`);
    },
  },
  'table1-sst2': {
    description: 'the SST-2 reproduction of docs/RESULTS.md (examples/table1-sst2.yaml; needs ../shared/data; tens of minutes)',
    long: true,
    run: (json) => runAndPrint(json, 'table1-sst2', 'table1-sst2.yaml'),
  },
  'table1-sst2-pretrained': {
    description: 'the SST-2 reproduction with a pretrained teacher, the paper\'s setting (examples/table1-sst2-pretrained.yaml: all-MiniLM-L6-v2 fine-tuned, 30 students; needs ../shared/data and ../shared/models; about 3 hours, resumable)',
    long: true,
    run: (json) => runAndPrint(json, 'table1-sst2-pretrained', 'table1-sst2-pretrained.yaml'),
  },
  'table1-sst2-pretrained-int8': {
    description: 'the same grid with the states cached from the fine-tuned teacher quantized to int8 (examples/table1-sst2-pretrained-int8.yaml; reuses the teacher of a table1-sst2-pretrained run copied into runs/table1-sst2-pretrained-int8; resumable)',
    long: true,
    run: (json) => runAndPrint(json, 'table1-sst2-pretrained-int8', 'table1-sst2-pretrained-int8.yaml'),
  },
  'topk-kl-gap': {
    description: 'KL of a top-k teacher cache vs the full distribution on a small vocabulary (CMUdict G2P; trains a small teacher and student, about 2.5 minutes)',
    run: async (json) => {
      const r = await measureTopKGap(path.resolve('runs/topk-kl-gap'), { log: json ? undefined : (l) => process.stderr.write(`${l}\n`) });
      process.stdout.write(json ? `${JSON.stringify(r)}\n` : `${formatKlGap(r)}\n`);
    },
  },
  'matmul-peak': {
    description: 'ONNX Runtime float32 MatMul throughput (1024x1024x1024)',
    run: async (json) => {
      const peak = await measureMatMulPeak();
      process.stdout.write(json ? `${JSON.stringify({ peak_gflops: peak.gflops, ms: peak.ms, size: peak.size })}\n` : `MatMul ${peak.size}^3: ${peak.ms.toFixed(1)} ms, ${peak.gflops.toFixed(1)} GFLOP/s\n`);
    },
  },
  'kafka-clients': {
    description: 'kafkajs vs @platformatic/kafka with real activation records: produce/consume MB/s, p99 latency (uses $STRATA_BROKERS, else starts a local broker)',
    run: async (json) => {
      const log = json ? undefined : (l: string) => process.stderr.write(`${l}\n`);
      await withBrokers(async (brokers) => {
        const r = await benchKafkaClients({ brokers, log });
        if (json) {
          process.stdout.write(`${JSON.stringify(r)}\n`);
          return;
        }
        const rows = r.figures.map((f) => `| ${f.set} | ${f.client} | ${f.produce_mb_s.toFixed(1)} | ${f.produce_records_s.toFixed(0)} | ${f.consume_mb_s.toFixed(1)} | ${f.consume_records_s.toFixed(0)} | ${f.latency_p50_ms.toFixed(2)} | ${f.latency_p99_ms.toFixed(2)} | ${f.store_write_mb_s.toFixed(1)} (${f.store_write_records_s.toFixed(0)}/s) | ${f.store_epoch_mb_s.toFixed(1)} (${f.store_epoch_records_s.toFixed(0)}/s) |`);
        const ratios = Object.entries(r.ratios).map(([set, x]) => `${set}: platformatic/kafkajs produce ${x.produce_mb_s.toFixed(2)}x, consume ${x.consume_mb_s.toFixed(2)}x, p50 latency ${x.latency_p50_ms.toFixed(2)}x, p99 latency ${x.latency_p99_ms.toFixed(2)}x, store write ${x.store_write_mb_s.toFixed(2)}x, student epoch ${x.store_epoch_mb_s.toFixed(2)}x`);
        const overhead = r.figures.map((f) => `${f.set}/${f.client}: store write / raw produce ${(f.store_write_mb_s / f.produce_mb_s).toFixed(2)}, student epoch / raw consume ${(f.store_epoch_mb_s / f.consume_mb_s).toFixed(2)}`);
        process.stdout.write(['| records | client | produce MB/s | produce rec/s | consume MB/s | consume rec/s | p50 ms | p99 ms | store write MB/s | student epoch MB/s |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |', ...rows, '', ...ratios, ...overhead, `throughput leader: ${r.throughputLeader}`].join('\n') + '\n');
      });
    },
  },
  'generation-cache-kafka': {
    description: 'a DART-sized generation cache through the broker (table1-dart\'s record layout over 2,048 DART pairs; needs ../shared/data): teacher-inference fill, write, one and three student epochs in MB/s and records/s (uses $STRATA_BROKERS, else starts a local broker)',
    run: async (json) => {
      const log = json ? undefined : (l: string) => process.stderr.write(`${l}\n`);
      await withBrokers(async (brokers) => {
        const r = await benchGenerationCacheKafka({ brokers, dataRoot: process.env.STRATA_DATA_ROOT, log });
        process.stdout.write(json ? `${JSON.stringify(r)}\n` : `${formatGenerationCacheKafka(r)}\n`);
      });
    },
  },
  'gather-grad': {
    description: 'the Gather gradient (ScatterElements add) against the ScatterND add it replaced: time ratio and runs with lost updates, on two threads',
    run: async (json) => {
      const cases = await benchGatherGrad();
      if (json) {
        process.stdout.write(`${JSON.stringify(cases)}\n`);
        return;
      }
      for (const c of cases)
        process.stdout.write(`${c.ids} ids into ${c.rows} rows of ${c.width}: rule ${c.rule_ms.toFixed(1)} ms, scatter ${c.scatter_ms.toFixed(1)} ms, ratio rule/scatter ${c.rule_over_scatter.toFixed(2)}; wrong gradients in ${c.scatter_wrong_runs} of ${c.runs} scatter runs, ${c.rule_wrong_runs} of ${c.runs} rule runs\n`);
    },
  },
  'generation-memory': {
    description: 'peak memory of beam search with a session pair per batch shape vs the default pool of 2, a 12+12-layer DART-sized model, each in its own process (about 10 minutes)',
    long: true,
    run: async (json) => {
      const r = benchGenerationMemory();
      if (json) {
        process.stdout.write(`${JSON.stringify(r)}\n`);
        return;
      }
      const line = (v: typeof r.pooled) => `${v.open_sessions === 'all' ? 'a pair per shape' : `pool of ${v.open_sessions}`}: peak RSS ${(v.peak_rss_mb / 1024).toFixed(2)} GB, ${v.seconds.toFixed(1)} s, ${v.session_opens} session pairs opened`;
      process.stdout.write(
        [
          `${r.config.layers}+${r.config.layers} layers, hidden ${r.config.hidden}, vocab ${r.config.vocab}, beam ${r.config.beam}, up to ${r.config.max_length} tokens, ${r.config.shapes.length} batches [batch, source length]: ${r.config.shapes.map((x) => `[${x.join(', ')}]`).join(' ')}`,
          line(r.unbounded),
          line(r.pooled),
          `peak RSS ratio (pair per shape / pool): ${r.rss_ratio.toFixed(2)}x; time ratio (pool / pair per shape): ${r.time_ratio.toFixed(2)}; same output: ${r.identical ? 'yes' : 'NO'}`,
        ].join('\n') + '\n',
      );
    },
  },
  'train-memory': {
    description: 'training with a session per batch shape: ONNX Runtime arenas vs malloc (plain and tuned), a 12+12-layer DART-sized model over 5 shapes, each in its own process (peak about 7.5 GB; a few minutes)',
    run: async (json) => {
      const r = benchTrainMemory();
      if (json) {
        process.stdout.write(`${JSON.stringify(r)}\n`);
        return;
      }
      process.stdout.write(
        [
          `${r.config.layers}+${r.config.layers} layers, hidden ${r.config.hidden}, vocab ${r.config.vocab}, ${r.config.rounds} rounds over [batch, source, target]: ${r.config.shapes.map((x) => `[${x.join(', ')}]`).join(' ')}`,
          ...r.variants.map((v) => `${v.name}: peak RSS ${(v.peak_rss_mb / 1024).toFixed(2)} GB, last round ${v.round_ms.toFixed(0)} ms (${v.step_ms.map((x) => x.toFixed(0)).join(' / ')}), loss ${v.final_loss.toFixed(6)}`),
          ...r.ratios.map((x) => `${x.name} vs arena: peak RSS ${x.rss_saved.toFixed(2)}x lower, time ${x.time.toFixed(2)}x`),
        ].join('\n') + '\n',
      );
    },
  },
  'kd-step': {
    description: `the KD step students run (CE + KL + hidden-state MSE from a float16 cache) with a per-phase breakdown, for ${Object.keys(KD_STEP_CONFIGS).join(' and ')} students (--config one of them), vs the MatMul peak and the teacher's forward`,
    run: async (json, o) => {
      const names = o.config ? [o.config as KdStepConfigName] : (Object.keys(KD_STEP_CONFIGS) as KdStepConfigName[]);
      for (const config of names) {
        const r = await benchKdStep({ config, steps: o.steps, seqLen: o.seqLen, log: json ? undefined : (l) => process.stderr.write(`${l}\n`) });
        process.stdout.write(json ? `${JSON.stringify(r)}\n` : `${formatKdStep(r)}\n`);
      }
    },
  },
  'train-step': {
    description: 'training step of a 3-layer student vs the MatMul peak, and an online vs cached 12-layer teacher',
    run: async (json) => {
      const r = await benchTrainStep({ log: json ? undefined : (l) => process.stderr.write(`${l}\n`) });
      if (json) {
        process.stdout.write(`${JSON.stringify(r)}\n`);
        return;
      }
      process.stdout.write(
        [
          `student ${r.config.layers} layers, hidden ${r.config.hidden}, ${r.config.heads} heads, FFN ${r.config.ffn}, seq ${r.config.seq_len}, batch ${r.config.batch}, vocab ${r.config.vocab}, dropout ${r.config.dropout}`,
          `training step (cached teacher): ${r.step_ms.toFixed(0)} ms, ${r.examples_per_s.toFixed(1)} examples/s`,
          `achieved ${r.achieved_gflops.toFixed(1)} GFLOP/s of ${(r.flops_per_step / 1e9).toFixed(1)} GFLOP per step`,
          `ONNX Runtime MatMul peak: ${r.peak_gflops.toFixed(1)} GFLOP/s`,
          `ratio achieved/peak: ${r.ratio.toFixed(3)} (target >= 0.35)`,
          `online ${r.config.teacher_layers}-layer teacher: ${r.online_teacher_step_ms.toFixed(0)} ms per step, ${r.online_over_cached.toFixed(2)}x the cached-teacher step`,
          `FLOPs counted as: ${r.flop_count}`,
        ].join('\n') + '\n',
      );
    },
  },
};

export function registerBenchCommands(program: Command): void {
  program
    .command('bench')
    .description(`run a benchmark: ${Object.keys(BENCHES).join(', ')}, or all (every benchmark but the long reproductions)`)
    .argument('[name]', 'benchmark name, or "all"', 'all')
    .option('--json', 'print one JSON object per benchmark')
    .option('--smoke', 'reproductions only: a few-minute run of the same models on a sample, with the full run\'s estimated wall time')
    .option('--config <name>', `kd-step only: one student configuration (${Object.keys(KD_STEP_CONFIGS).join(', ')})`)
    .option('--steps <n>', 'kd-step only: timed steps after the warm-up (default 6; the median is reported)', positiveInt('--steps'))
    .option('--seq-len <n>', 'kd-step only: tokens per example, all valid (default 128)', positiveInt('--seq-len'))
    .addHelpText('after', `\nExamples:\n  strata bench train-step --json\n  strata bench table1-dart --smoke\n\nBenchmarks:\n${Object.entries(BENCHES).map(([n, b]) => `  ${n.padEnd(14)} ${b.description}`).join('\n')}\n`)
    .action(async (name: string, opts: { json?: boolean; smoke?: boolean; config?: string; steps?: number; seqLen?: number }) => {
      const names = name === 'all' ? Object.keys(BENCHES).filter((n) => !BENCHES[n].long) : [name];
      for (const n of names) {
        const bench = BENCHES[n];
        if (!bench) throw new Error(`unknown benchmark '${n}'; choose one of ${Object.keys(BENCHES).join(', ')}, or all`);
        // Reproductions run for hours and resume: a signal lets them save where they are.
        if (bench.long) await withStopOnSignals(() => bench.run(!!opts.json, { smoke: opts.smoke }));
        else await bench.run(!!opts.json, { smoke: opts.smoke, config: opts.config, steps: opts.steps, seqLen: opts.seqLen });
      }
    });
}

/** Runs `fn` against $STRATA_BROKERS, or against a broker started here on 19192 and stopped afterwards. */
async function withBrokers(fn: (brokers: string) => Promise<void>): Promise<void> {
  const given = process.env.STRATA_BROKERS;
  if (given) return fn(given);
  const own = { port: 19192, log: (l: string) => process.stderr.write(`${l}\n`) };
  const { brokers } = await startBroker(own);
  try {
    await fn(brokers);
  } finally {
    await stopBroker(own);
  }
}
