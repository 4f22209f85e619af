// A cell's record in results.json (pure): built from what training returns, and upgraded from the files older runs
// wrote (schemaVersion 1), so a re-run over an old run folder reuses its finished cells and readers see one shape.
import type { LayerMap } from '@strata/kd';
import type { DevPoint, ModelSize, ResultCell, TrainCurves } from './report';
import type { Curve, EpochMetrics } from './stages/loop';
import { LOSS_TERMS } from './stages/loss-terms';

/**
 * Logged steps as column arrays. A term is kept only when every point has it: a run resumed from a checkpoint made
 * before terms were logged has them for its later steps only, and columns of unequal length would misalign.
 */
export function trainCurves(points: readonly Curve[]): TrainCurves {
  const out: TrainCurves = { step: points.map((p) => p.step), loss: points.map((p) => p.loss) };
  for (const k of LOSS_TERMS) if (points.length > 0 && points.every((p) => p[k] !== undefined)) out[k] = points.map((p) => p[k]!);
  return out;
}

/** Per-epoch metrics on the paper's scale (`scale`: e.g. fractions to percent). */
export function devPoints(points: readonly EpochMetrics[], scale: (m: Record<string, number>) => Record<string, number> = (m) => m): DevPoint[] {
  return points.map((p) => ({ epoch: p.epoch, step: p.step, metrics: scale(p.metrics) }));
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The fixed map, or null and every epoch's map when the strategy redrew it per epoch (rail-kd). */
export function resolvedMaps(perEpoch: readonly LayerMap[]): Pick<ResultCell, 'layerMap' | 'layerMapsPerEpoch'> {
  return perEpoch.every((m) => same(m, perEpoch[0])) ? { layerMap: perEpoch[0] ?? [] } : { layerMap: null, layerMapsPerEpoch: [...perEpoch] };
}

/** Per-stack maps (generation students): fixed maps per stack, or null per stack and every epoch's maps. */
export function resolvedStackMaps(perEpoch: readonly Partial<Record<string, LayerMap>>[]): Pick<ResultCell, 'layerMap' | 'stackMaps' | 'stackMapsPerEpoch'> {
  const fixed = perEpoch.every((m) => same(m, perEpoch[0]));
  const first = perEpoch[0] ?? {};
  const stackMaps: Record<string, LayerMap | null> = {};
  for (const stack of Object.keys(first)) stackMaps[stack] = fixed ? first[stack]! : null;
  return {
    layerMap: fixed ? (first.decoder ?? null) : null,
    stackMaps,
    ...(fixed ? {} : { stackMapsPerEpoch: perEpoch.map((m) => ({ ...m }) as Record<string, LayerMap>) }),
  };
}

export interface UpgradeFill {
  /** Used when the file has no wallSeconds (schemaVersion 1); else a generation cell's seconds, else NaN. */
  wallSeconds?: number;
  /** Used when the file has no student sizes (schemaVersion 1); else NaN. */
  student?: ModelSize;
  /** Named in errors. */
  file?: string;
}

type Raw = Record<string, unknown>;
const isObject = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);

/** True when `raw` is a cell as schemaVersion 1 wrote it (a `curve` of [step, loss] pairs, `layerMaps`, no `curves.step`). */
export function isLegacyCell(raw: unknown): boolean {
  return isObject(raw) && (!isObject(raw.curves) || !Array.isArray(raw.curves.step) || 'curve' in raw || 'layerMaps' in raw || !('wallSeconds' in raw) || !('student' in raw));
}

/**
 * A result.json cell in the current shape: schemaVersion-1 cells (`curve: [step, loss][]`, `curves.trainLoss`,
 * `layerMaps`) become `curves: { step, loss }` and `layerMapsPerEpoch` / `stackMapsPerEpoch` (only when the map was
 * not fixed); what an old file cannot tell (wallSeconds, student sizes) comes from `fill`, else NaN. Current cells
 * come back as they are. Throws naming the file and field when required fields are missing.
 */
export function upgradeCell(raw: unknown, fill: UpgradeFill = {}): ResultCell {
  const where = fill.file ? `${fill.file}: ` : '';
  if (!isObject(raw)) throw new Error(`${where}a result cell must be a JSON object`);
  for (const [k, type] of [['id', 'string'], ['strategy', 'string'], ['init', 'string'], ['seed', 'number'], ['depth', 'number'], ['hash', 'string']] as const)
    if (typeof raw[k] !== type) throw new Error(`${where}result cell field '${k}' must be a ${type}`);
  if (!isObject(raw.metrics)) throw new Error(`${where}result cell field 'metrics' must be an object`);
  if (!isLegacyCell(raw)) return raw as unknown as ResultCell;
  const { curve, layerMaps, curves: oldCurves, ...rest } = raw as Raw & { curve?: unknown; layerMaps?: unknown; curves?: unknown };
  let curves: TrainCurves;
  if (isObject(oldCurves) && Array.isArray(oldCurves.step)) curves = oldCurves as unknown as TrainCurves;
  else if (Array.isArray(curve)) {
    const pairs = curve as [number, number][];
    curves = { step: pairs.map(([s]) => s), loss: pairs.map(([, l]) => l) };
  } else curves = { step: [], loss: [] };
  const cell = { ...rest, curves } as unknown as ResultCell;
  if (Array.isArray(layerMaps) && !cell.layerMapsPerEpoch && !cell.stackMapsPerEpoch) {
    if (cell.stackMaps) {
      if (Object.values(cell.stackMaps).some((m) => m === null)) cell.stackMapsPerEpoch = layerMaps as Record<string, LayerMap>[];
    } else if (cell.layerMap === null) cell.layerMapsPerEpoch = layerMaps as LayerMap[];
  }
  if (typeof cell.wallSeconds !== 'number') cell.wallSeconds = fill.wallSeconds ?? (cell.seconds ? cell.seconds.train + cell.seconds.eval : NaN);
  if (!isObject(cell.student)) cell.student = fill.student ?? { parameters: NaN, onnxBytes: NaN };
  return cell;
}
