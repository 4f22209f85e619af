// A DART-sized generation cache through the broker (#23 point 1): records of the table1-dart teacher's shape (a
// 12+12-layer pre-LN BART-style model, hidden 128, BPE vocabulary 4,000, sources up to 96 tokens and targets up to 64,
// the layer set examples/table1-dart.yaml's students match, top-64 per target token, float16) over real DART training
// pairs, made by the same fillGenerationCache teacher-inference runs (weights untrained: the bytes are what matters).
// Measured: teacher-inference's whole fill into Kafka (forward + write), the write alone (pre-encoded records through
// KafkaCacheWriter, chunked as the service chunks them), one student's epoch replay (KafkaEpoch.get in shuffled batches
// of 32 examples, both stacks' records, reassembled, CRC-checked, decoded) and three students replaying at once.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { KafkaCacheWriter, KafkaEpoch, encodeRecord, readRecordHeader, type ActivationRecordInput, type CacheWriter } from '@strata/activations';
import { Tokenizer, makeBatches } from '@strata/data';
import {
  fillGenerationCache, generationBatchOptions, generationCacheLayers, generationConfig, generationExportModel, generationParamSpecs, loadGenerationData, loadGenerationModel, planGrid,
  prepareGenerationCache, readManifestFile, recordIds, tokenizerTexts,
} from '@strata/experiment';
import { createKafkaClient, uniqueName } from '@strata/kafka';
import { initParams } from '@strata/nn';
import { Rng, exportInference } from '@strata/train';

export interface GenerationCacheKafkaOptions {
  brokers: string;
  /** DART training pairs cached (default 2,048; table1-dart caches 24,000). */
  examples?: number;
  /** Where the table1-dart manifest is (its teacher sizes and grid give the record layout). */
  manifest?: string;
  dataRoot?: string;
  log?: (line: string) => void;
}

export interface Throughput {
  seconds: number;
  mb_s: number;
  records_s: number;
  examples_s: number;
}

export interface GenerationCacheKafkaReport {
  config: { examples: number; records: number; layers: number[]; hidden: number; stack_layers: number; top_k: number; dtype: string; bytes: number; mean_record_kb: number; max_record_kb: number; messages_per_record: number; chunk_bytes: number; teacher_forward_threads: string };
  /** fillGenerationCache into KafkaCacheWriter: the teacher's forward passes and the writes (teacher-inference). */
  fill: Throughput;
  /** KafkaCacheWriter.appendBatch of the encoded records, 32 examples (64 records) per send. */
  write: Throughput;
  /** One student epoch from the topic. */
  epoch: Throughput;
  /** Three students replaying the topic at once: aggregate over the three. */
  epoch_x3: Throughput & { per_student_mb_s: number[] };
}

const MB = 1024 * 1024;
const rate = (seconds: number, bytes: number, records: number, examples: number): Throughput => ({ seconds, mb_s: bytes / MB / seconds, records_s: records / seconds, examples_s: examples / seconds });

/** Collects what fillGenerationCache writes, encoded (the bytes teacher-inference sends). */
function memoryWriter(): CacheWriter & { encoded: Uint8Array[] } {
  const ids = new Set<string>();
  const encoded: Uint8Array[] = [];
  return {
    cacheKey: 'memory',
    encoded,
    get count() {
      return ids.size;
    },
    has: (id) => ids.has(id),
    isComplete: () => false,
    async appendBatch(records) {
      for (const r of records) {
        const bytes = r instanceof Uint8Array ? r : encodeRecord(r as ActivationRecordInput);
        ids.add(readRecordHeader(bytes).exampleId);
        encoded.push(bytes);
      }
    },
    async complete() {},
    async close() {},
  };
}

export async function benchGenerationCacheKafka(o: GenerationCacheKafkaOptions): Promise<GenerationCacheKafkaReport> {
  const log = o.log ?? (() => undefined);
  const manifest = readManifestFile(o.manifest ?? path.resolve(__dirname, '../../../examples/table1-dart.yaml'));
  const t = manifest.spec.teacher.train!;
  const examples = o.examples ?? 2048;
  const task = manifest.spec.task;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bench-gen-kafka-'));
  const client = createKafkaClient({ brokers: o.brokers, clientId: 'bench-generation-cache' });
  try {
    // The teacher: the manifest's sizes, a BPE tokenizer trained on the sample, untrained weights.
    const data = { dataRoot: o.dataRoot, maxExamples: examples };
    const train = loadGenerationData(task, { split: manifest.spec.data.trainSplit }, data, false);
    log(`training a ${t.tokenizer} tokenizer (vocab ${t.vocabSize}) on ${train.examples.length} ${task} pairs`);
    const tokenizer = Tokenizer.train(tokenizerTexts(task, train), { kind: t.tokenizer, vocabSize: t.vocabSize });
    const tokenizerPath = path.join(dir, 'tokenizer.json');
    tokenizer.save(tokenizerPath);
    const maxTargetLength = t.maxTargetLength ?? t.maxLength;
    const model = generationConfig('encoder-decoder', { ...t, dropout: 0, maxPositions: Math.max(t.maxLength, maxTargetLength) }, tokenizer);
    const specs = generationParamSpecs(model);
    const rng = new Rng(1);
    const onnx = path.join(dir, 'teacher.onnx');
    exportInference(onnx, (values) => generationExportModel(model, { kind: 'initializers', values }), initParams(specs, () => rng.next()));
    const teacher = loadGenerationModel(onnx, tokenizerPath);
    const cells = planGrid(manifest, { teacherLayers: t.layers });
    const layers = generationCacheLayers(cells, t.layers, 'encoder-decoder');
    const topK = manifest.spec.cache.topK ?? 64;
    const prepared = await prepareGenerationCache({ teacher, task, train: { split: manifest.spec.data.trainSplit }, data, layers, topK, dtype: manifest.spec.cache.dtype, maxLength: t.maxLength, maxTargetLength });
    const batchSize = manifest.spec.students.batchSize;

    // 1. teacher-inference's whole fill, into a fresh topic.
    log(`filling a ${prepared.ids.length}-example cache (layers ${layers.join(',')} per stack, top-${prepared.topK}) into Kafka`);
    const fillKey = uniqueName('bench-gen-fill');
    const fillWriter = await KafkaCacheWriter.open(client, fillKey);
    let t0 = performance.now();
    await fillGenerationCache(teacher, { ...prepared, cacheKey: fillKey }, fillWriter, { batchSize });
    const fillSeconds = (performance.now() - t0) / 1000;
    const fillBytes = fillWriter.bytesWritten;
    await fillWriter.close();

    // The same records, encoded once, for the write and the replays.
    const memory = memoryWriter();
    await fillGenerationCache(teacher, prepared, memory, { batchSize });
    const encoded = memory.encoded;
    const bytes = encoded.reduce((a, b) => a + b.byteLength, 0);
    const records = encoded.length;

    // 2. The write alone: 32 examples (64 records) per send, as the fill sends a batch.
    const key = uniqueName('bench-gen-cache');
    const writer = await KafkaCacheWriter.open(client, key);
    t0 = performance.now();
    for (let i = 0; i < records; i += 2 * batchSize) await writer.appendBatch(encoded.slice(i, i + 2 * batchSize));
    await writer.complete({ layers, dtype: manifest.spec.cache.dtype, meta: { topK: prepared.topK } });
    const writeSeconds = (performance.now() - t0) / 1000;
    await writer.close();

    // 3. Student epochs: the students' own batch order (shuffled by seed), both stacks' records of each example.
    const epochOnce = async (seed: number) => {
      const epoch = await KafkaEpoch.open(client, key, { groupId: uniqueName(`bench-gen-student-${seed}`), expectedIds: prepared.recordIds });
      const start = performance.now();
      let got = 0;
      for (const b of makeBatches(prepared.rows, { ...generationBatchOptions(task, batchSize, t.maxLength, maxTargetLength, seed), epoch: 0 })) {
        const ids = Array.from(b.rowIndex.subarray(0, b.size), (r) => recordIds(model, prepared.ids[r])).flatMap((x) => [x.encoder!, x.decoder]);
        got += (await epoch.get(ids)).length;
      }
      const seconds = (performance.now() - start) / 1000;
      const received = epoch.stats.bytes;
      await epoch.close();
      if (got !== records) throw new Error(`student ${seed} got ${got} of ${records} records`);
      return { seconds, bytes: received };
    };
    log('one student epoch');
    const one = await epochOnce(1);
    log('three students at once');
    t0 = performance.now();
    const three = await Promise.all([2, 3, 4].map(epochOnce));
    const threeSeconds = (performance.now() - t0) / 1000;
    const chunk = 900 * 1024;
    const sizes = encoded.map((e) => e.byteLength);
    return {
      config: {
        examples: prepared.ids.length, records, layers, hidden: t.hidden, stack_layers: t.layers, top_k: prepared.topK, dtype: manifest.spec.cache.dtype, bytes,
        mean_record_kb: bytes / records / 1024, max_record_kb: Math.max(...sizes) / 1024, messages_per_record: sizes.reduce((a, s) => a + Math.ceil(s / chunk), 0) / records, chunk_bytes: chunk,
        teacher_forward_threads: process.env.STRATA_THREADS ?? 'all cores',
      },
      fill: rate(fillSeconds, fillBytes, records, prepared.ids.length),
      write: rate(writeSeconds, bytes, records, prepared.ids.length),
      epoch: rate(one.seconds, one.bytes, records, prepared.ids.length),
      epoch_x3: { ...rate(threeSeconds, 3 * bytes, 3 * records, 3 * prepared.ids.length), per_student_mb_s: three.map((s) => s.bytes / MB / s.seconds) },
    };
  } finally {
    await client.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function formatGenerationCacheKafka(r: GenerationCacheKafkaReport): string {
  const c = r.config;
  const row = (name: string, x: Throughput) => `| ${name} | ${x.seconds.toFixed(1)} | ${x.mb_s.toFixed(1)} | ${x.records_s.toFixed(0)} | ${x.examples_s.toFixed(0)} |`;
  return [
    `${c.examples} DART training pairs, ${c.records} records (encoder + decoder per pair), ${(c.bytes / MB).toFixed(1)} MB: mean ${c.mean_record_kb.toFixed(1)} KB, max ${c.max_record_kb.toFixed(1)} KB per record, ${c.messages_per_record.toFixed(2)} messages per record at ${c.chunk_bytes / 1024} KiB chunks; hidden states ${c.layers.join(',')} of ${c.stack_layers} per stack, hidden ${c.hidden}, top-${c.top_k}, ${c.dtype}`,
    '',
    '| path | seconds | MB/s | records/s | examples/s |',
    '| --- | ---: | ---: | ---: | ---: |',
    row('teacher-inference fill (forward + write)', r.fill),
    row('write (KafkaCacheWriter, 64 records per send)', r.write),
    row('one student epoch (KafkaEpoch.get, shuffled)', r.epoch),
    row('three students at once (aggregate)', r.epoch_x3),
    '',
    `three students: ${r.epoch_x3.per_student_mb_s.map((x) => x.toFixed(1)).join(', ')} MB/s each`,
  ].join('\n');
}
