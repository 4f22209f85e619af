import { KdError } from '../errors';
import { PREDICTION_DIVERGENCES, checkKind, type PredictionDivergence } from './divergences';

/** How the hidden-state MSE is scaled (docs METHOD.md §4). */
export type HiddenNormalize = 'token' | 'bert-reference' | 'element' | 'cosine';

export const HIDDEN_NORMALIZATIONS: readonly HiddenNormalize[] = ['token', 'bert-reference', 'element', 'cosine'];

/** Weights and settings of the distillation objective. */
export interface KdLossConfig {
  /** Weight of the prediction KL term. */
  kl: number;
  /** Weight λ of the hidden-state term (ignored when the strategy matches no layers). */
  hidden: number;
  /** Weight of the hard-label cross-entropy. */
  ce: number;
  /** Softmax temperature τ of the prediction KL (the KL is multiplied by τ²). */
  temperature: number;
  hiddenLoss: 'mse';
  normalize: HiddenNormalize;
  /** The prediction term: forward KL (the paper's), or another divergence of the same two distributions. */
  kd: PredictionDivergence;
  /** Teacher share α of the skew-kl mixture (kd skew-kl only; default SKEW_KL_DEFAULT_ALPHA). */
  skewAlpha?: number;
}

/** METHOD.md §4 defaults: CE 1, KL 1, hidden λ = 3, τ = 1 (classification), per-token normalization. */
export const KD_LOSS_DEFAULTS: Readonly<KdLossConfig> = Object.freeze({
  kl: 1,
  hidden: 3,
  ce: 1,
  temperature: 1,
  hiddenLoss: 'mse',
  normalize: 'token',
  kd: 'forward-kl',
});

/** Fills missing fields from the defaults and checks the values; throws KdError naming the bad field. */
export function kdLossConfig(partial: Partial<KdLossConfig> = {}): KdLossConfig {
  const c: KdLossConfig = { ...KD_LOSS_DEFAULTS, ...partial };
  for (const k of ['kl', 'hidden', 'ce'] as const)
    if (!Number.isFinite(c[k]) || c[k] < 0) throw new KdError(`loss.${k} must be a finite number >= 0, got ${c[k]}`);
  if (!Number.isFinite(c.temperature) || c.temperature <= 0) throw new KdError(`loss.temperature must be a finite number > 0, got ${c.temperature}`);
  if (c.hiddenLoss !== 'mse') throw new KdError(`loss.hiddenLoss must be 'mse', got '${c.hiddenLoss}'`);
  if (!HIDDEN_NORMALIZATIONS.includes(c.normalize))
    throw new KdError(`loss.normalize must be one of ${HIDDEN_NORMALIZATIONS.join(', ')}, got '${c.normalize}'`);
  if (!(PREDICTION_DIVERGENCES as readonly string[]).includes(c.kd)) throw new KdError(`loss.kd must be one of ${PREDICTION_DIVERGENCES.join(', ')}, got '${c.kd}'`);
  try {
    checkKind(c.kd, c.skewAlpha);
  } catch (e) {
    throw new KdError(`loss.${(e as Error).message}`);
  }
  return c;
}
