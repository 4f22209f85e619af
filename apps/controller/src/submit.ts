// `controller submit`: the controller's two service calls made once from inside the cluster (the students' init
// container), so an Experiment rendered with `strata k8s render` runs without the controller. Waits for the
// teacher, requests the cache, registers the experiment; both calls are idempotent, so running it from every
// student pod, or after the controller made them, changes nothing.
import * as fs from 'node:fs';
import { readManifestFile, validateAgainstTeacher, type TeacherShape } from '@strata/experiment';
import { cacheRequestBody, clusterManifest, manifestTeacherShape, teacherArtifacts } from '@strata/k8s';
import { ServiceError, type ServiceClient } from './services';
import { teacherShape, underArtifacts } from './teacher';

export interface SubmitOptions {
  manifestPath: string;
  artifacts: string;
  services: ServiceClient;
  log?: (line: string) => void;
  /** Between looks at the teacher and between retries of a service call. */
  pollMs?: number;
  /** Give up on a service after this many failed calls. */
  attempts?: number;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The trained teacher is complete once teacher.json (written after teacher.onnx) parses. */
function trainedTeacherReady(dir: string): boolean {
  try {
    JSON.parse(fs.readFileSync(`${dir}/teacher.json`, 'utf8'));
    return fs.existsSync(`${dir}/teacher.onnx`);
  } catch {
    return false;
  }
}

export async function submit(opts: SubmitOptions): Promise<{ cacheKey: string; state: string }> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const sleep = opts.sleep ?? defaultSleep;
  const pollMs = opts.pollMs ?? 15000;
  const attempts = opts.attempts ?? 40;
  const manifest = clusterManifest(readManifestFile(opts.manifestPath));
  const where = teacherArtifacts(manifest);
  const onnx = underArtifacts(opts.artifacts, where.onnx);

  let shape: TeacherShape;
  if (where.trained) {
    let waited = false;
    while (!trainedTeacherReady(onnx.replace(/\/teacher\.onnx$/, ''))) {
      if (!waited) log(`waiting for the teacher Job to write ${where.onnx}`);
      waited = true;
      await sleep(pollMs);
    }
    shape = manifestTeacherShape(manifest)!;
  } else {
    if (!fs.existsSync(onnx)) throw new Error(`teacher ${where.onnx} not found under ${opts.artifacts}; copy it onto the artifacts volume (docs/DEPLOY.md)`);
    shape = teacherShape(onnx);
    validateAgainstTeacher(manifest, shape);
  }

  const retry = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
    for (let i = 1; ; i++) {
      try {
        return await f();
      } catch (e) {
        if (!(e instanceof ServiceError) || i >= attempts) throw e;
        log(`${what} failed (${e.message}); retry ${i}/${attempts - 1}`);
        await sleep(pollMs);
      }
    }
  };
  const cache = await retry('cache request', () => opts.services.requestCache(cacheRequestBody(manifest, shape)));
  if (cache.state === 'failed') throw new Error(`cache ${cache.cacheKey} failed${cache.error ? `: ${cache.error}` : ''}`);
  await retry('evaluator registration', () => opts.services.register(manifest));
  log(`experiment ${manifest.metadata.name}: cache ${cache.cacheKey} ${cache.state}, registered with the evaluator`);
  return { cacheKey: cache.cacheKey, state: cache.state };
}
