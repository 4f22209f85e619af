import type { GradientRule } from './context';

const rules = new Map<string, GradientRule>();

/** Registers one rule for one or more op types (one small rule per op family). */
export function registerGradient(opTypes: string | string[], rule: GradientRule): void {
  for (const op of Array.isArray(opTypes) ? opTypes : [opTypes]) rules.set(op, rule);
}

export function gradientRule(opType: string): GradientRule | undefined {
  return rules.get(opType);
}

export function registeredOps(): string[] {
  return [...rules.keys()].sort();
}

/** Ops whose outputs carry no gradient: integer or boolean results, or data that only steers. */
export const NON_DIFFERENTIABLE = new Set([
  'Shape', 'Size', 'ConstantOfShape', 'Constant', 'Range', 'Equal', 'Greater', 'Less', 'GreaterOrEqual', 'LessOrEqual',
  'Not', 'And', 'Or', 'ArgMax', 'ArgMin', 'Sign',
]);
