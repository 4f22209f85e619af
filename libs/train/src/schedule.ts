export interface ScheduleConfig {
  peakLr: number;
  warmupSteps: number;
  totalSteps: number;
  decay: 'linear' | 'cosine' | 'constant';
  /** Floor as a fraction of the peak (0 by default). */
  minRatio?: number;
}

/** Linear warmup to the peak, then linear or cosine decay to `minRatio`·peak at `totalSteps`. `step` counts from 0. */
export function learningRate(step: number, cfg: ScheduleConfig): number {
  const { peakLr, warmupSteps, totalSteps, decay, minRatio = 0 } = cfg;
  if (warmupSteps > 0 && step < warmupSteps) return (peakLr * (step + 1)) / warmupSteps;
  if (decay === 'constant') return peakLr;
  const span = Math.max(1, totalSteps - warmupSteps);
  const progress = Math.min(1, Math.max(0, (step - warmupSteps) / span));
  const factor = decay === 'linear' ? 1 - progress : 0.5 * (1 + Math.cos(Math.PI * progress));
  return peakLr * (minRatio + (1 - minRatio) * factor);
}
