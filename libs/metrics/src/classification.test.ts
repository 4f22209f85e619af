import { accuracy, f1PositiveClass } from './classification';
import { MetricsError } from './errors';

describe('accuracy', () => {
  it('is the fraction of exact label matches', () => {
    expect(accuracy([1, 0, 1, 1], [1, 1, 1, 0])).toBe(0.5);
    expect(accuracy(['entailment', 'neutral', 'contradiction'], ['entailment', 'neutral', 'neutral'])).toBeCloseTo(2 / 3, 15);
    expect(accuracy([true], [true])).toBe(1);
  });
  it('rejects misaligned or empty inputs', () => {
    expect(() => accuracy([1, 0], [1])).toThrow(new MetricsError('accuracy: 2 predictions but 1 gold labels'));
    expect(() => accuracy([], [])).toThrow('accuracy: no examples');
  });
});

describe('f1PositiveClass', () => {
  // tp = 2 (0, 4), fp = 1 (1), fn = 1 (2): F1 = 4 / 6
  const pred = [1, 1, 0, 0, 1];
  const gold = [1, 0, 1, 0, 1];
  it('is 2TP / (2TP + FP + FN) of class 1 by default (GLUE MRPC/QQP)', () => {
    expect(f1PositiveClass(pred, gold)).toBeCloseTo(2 / 3, 15);
  });
  it('can take another positive label', () => {
    // class 0: tp = 1 (3), fp = 1 (2), fn = 1 (1): 2 / 4
    expect(f1PositiveClass(pred, gold, 0)).toBe(0.5);
    expect(f1PositiveClass(['dup', 'not', 'dup'], ['dup', 'dup', 'not'], 'dup')).toBe(0.5);
  });
  it('is 0 without a true positive', () => {
    expect(f1PositiveClass([0, 0], [0, 0])).toBe(0);
    expect(f1PositiveClass([1, 0], [0, 1])).toBe(0);
  });
  it('rejects misaligned inputs', () => {
    expect(() => f1PositiveClass([1], [1, 0])).toThrow('f1PositiveClass: 1 predictions but 2 gold labels');
  });
});
