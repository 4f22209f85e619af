import * as os from 'node:os';
import * as ort from 'onnxruntime-node';
import { DataType, dtypeFromOrt, ortTypeName, TensorArray } from './dtype';
import { Model, Tensor } from './ir';
import { encodeModel } from './proto';

export type Feeds = Record<string, ort.Tensor>;

export interface SessionOptions {
  threads?: number;
  /** 'all' by default; 'disabled' keeps node names in error messages while debugging rules. */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /** 'cpu' by default; 'cuda' (or STRATA_DEVICE=cuda) uses the CUDA execution provider when installed. */
  device?: 'cpu' | 'cuda';
  /**
   * ONNX Runtime's per-session memory arena (default true, or false under STRATA_MEM_ARENA=0). A session keeps its
   * arena, grown to its largest run, until it is released; with one session per batch shape the arenas add up. Off,
   * tensors come from the process's malloc and go back to it after each run, so the sessions share one heap
   * (`npx strata bench train-memory`: a third of the memory; with glibc tunables about as fast, docs/BENCHMARKS.md).
   */
  memArena?: boolean;
}

export function defaultThreads(): number {
  const env = Number(process.env.STRATA_THREADS);
  if (env > 0) return env;
  return Math.max(1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
}

function executionProviders(device: 'cpu' | 'cuda'): string[] {
  if (device === 'cpu') return ['cpu'];
  const cuda = ort.listSupportedBackends().find((b) => b.name === 'cuda');
  if (!cuda || !cuda.bundled)
    throw new Error("STRATA_DEVICE=cuda but this onnxruntime-node has no CUDA execution provider; install it with 'ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js' (GPU images do)");
  return ['cuda', 'cpu'];
}

/** Opens an InferenceSession with the settings that matter on CPU (onnx-autodiff.md §9). */
export async function createSession(model: Model | Uint8Array, options: SessionOptions = {}): Promise<ort.InferenceSession> {
  const bytes = model instanceof Uint8Array ? model : encodeModel(model);
  const device = options.device ?? (process.env.STRATA_DEVICE === 'cuda' ? 'cuda' : 'cpu');
  return ort.InferenceSession.create(bytes, {
    executionProviders: executionProviders(device),
    intraOpNumThreads: options.threads ?? defaultThreads(),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: options.optimization ?? 'all',
    enableCpuMemArena: options.memArena ?? process.env.STRATA_MEM_ARENA !== '0',
    enableMemPattern: true,
    // JS runs the optimizer between steps; spinning ORT threads would steal its core.
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
}

export function toOrt(t: Pick<Tensor, 'dtype' | 'dims' | 'data'>): ort.Tensor {
  if (t.dtype === DataType.BOOL) return new ort.Tensor('bool', t.data as Uint8Array, t.dims);
  return new ort.Tensor(ortTypeName(t.dtype) as 'float32', t.data as Float32Array, t.dims);
}

export function fromOrt(name: string, t: ort.Tensor): Tensor {
  return { name, dtype: dtypeFromOrt(t.type), dims: [...t.dims], data: t.data as TensorArray };
}

export { ort };
