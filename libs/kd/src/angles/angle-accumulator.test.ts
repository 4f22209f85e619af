import { KdError } from '../errors';
import { AngleAccumulator, type AngleBatch } from './angle-accumulator';

/** Builds a [B][S][D] array from per-token vectors. */
const states = (tokens: number[][]) => new Float32Array(tokens.flat());

/**
 * One batch, B = 1, S = 2, D = 2: token 0 is valid; token 1 is padding with wild values.
 * Student 1 at the origin; teachers t1 = (1,0), t2 = (0,1), t3 = (1,1), t4 = (−1,0).
 */
function fixture(maskPad = 0): AngleBatch {
  const wild = [1e6, -3e5];
  return {
    batchSize: 1,
    seqLen: 2,
    hiddenSize: 2,
    student: [states([[0, 0], wild])],
    teacher: [states([[1, 0], wild]), states([[0, 1], [-7, 2]]), states([[1, 1], [5e4, 1]]), states([[-1, 0], [0.5, -9]])],
    attentionMask: new BigInt64Array([1n, BigInt(maskPad)]),
  };
}

const T = 4;
const at = (m: number[], i: number, j: number) => m[i * T + j];

describe('AngleAccumulator (METHOD.md §5)', () => {
  it('gives the full T x T matrix of cosines: 0, 1/√2, −1, diagonal 1, symmetric', () => {
    const acc = new AngleAccumulator([1], [1, 2, 3, 4]);
    acc.add(fixture());
    const [r] = acc.result();
    expect(r.studentLayer).toBe(1);
    expect(r.teacherLayers).toEqual([1, 2, 3, 4]);
    expect(r.meanCosine).toHaveLength(16);
    expect(at(r.meanCosine, 0, 1)).toBeCloseTo(0, 12);
    expect(at(r.meanCosine, 0, 2)).toBeCloseTo(1 / (Math.SQRT2 + 1e-6), 12);
    expect(at(r.meanCosine, 0, 3)).toBeCloseTo(-1 / (1 + 1e-6), 12);
    expect(at(r.meanCosine, 1, 2)).toBeCloseTo(1 / (Math.SQRT2 + 1e-6), 12);
    expect(at(r.meanCosine, 2, 3)).toBeCloseTo(-1 / (Math.SQRT2 + 1e-6), 12);
    for (let i = 0; i < T; i++) {
      expect(at(r.meanCosine, i, i)).toBe(1);
      for (let j = 0; j < T; j++) expect(at(r.meanCosine, i, j)).toBe(at(r.meanCosine, j, i));
    }
    expect(r.tokenCount).toBe(1);
    expect(r.angleCount).toBe(6);
  });

  it('counts acute angles (cos > 0) over the off-diagonal pairs: 2 of 6 here', () => {
    // pairs: (1,2) 0, (1,3) .707, (1,4) −1, (2,3) .707, (2,4) 0, (3,4) −.707 → acute: 2; cos 0 is not acute.
    const acc = new AngleAccumulator([1], [1, 2, 3, 4]);
    acc.add(fixture());
    expect(acc.result()[0].fractionAcute).toBeCloseTo(2 / 6, 12);
  });

  it('bins the off-diagonal cosines over [-1, 1]', () => {
    const acc = new AngleAccumulator([1], [1, 2, 3, 4], 4);
    acc.add(fixture());
    const h = acc.result()[0].histogram;
    expect(h.map((b) => [b.lo, b.hi])).toEqual([[-1, -0.5], [-0.5, 0], [0, 0.5], [0.5, 1]]);
    // −1 and −.707 → bin 0; the two cosines of ~0 (|cos| < 1e-7) land either side of 0; .707 twice → bin 3.
    expect(h[0].count).toBe(2);
    expect(h[1].count + h[2].count).toBe(2);
    expect(h[3].count).toBe(2);
    expect(h.reduce((n, b) => n + b.count, 0)).toBe(6);
  });

  it('ignores padding: wild values at a masked token change nothing', () => {
    const clean = fixture();
    clean.student = [states([[0, 0], [0, 0]])];
    clean.teacher = clean.teacher.map((t) => new Float32Array([t[0], t[1], 0, 0]));
    const a = new AngleAccumulator([1], [1, 2, 3, 4]);
    const b = new AngleAccumulator([1], [1, 2, 3, 4]);
    a.add(fixture());
    b.add(clean);
    expect(a.result()).toEqual(b.result());
    // The same token unmasked does count.
    const c = new AngleAccumulator([1], [1, 2, 3, 4]);
    c.add(fixture(1));
    expect(c.result()[0].tokenCount).toBe(2);
    expect(c.result()[0].meanCosine).not.toEqual(a.result()[0].meanCosine);
  });

  it('accumulates over batches exactly as over one batch holding them all', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
    const B = 3, S = 5, D = 4;
    const make = (n: number) => Array.from({ length: n }, () => new Float32Array(Array.from({ length: B * S * D }, rand)));
    const student = make(2);
    const teacher = make(3);
    const mask = new Int32Array(Array.from({ length: B * S }, (_, k) => (k % S < 2 + (k % 3) ? 1 : 0)));
    const whole = new AngleAccumulator([2, 4], [3, 6, 9], 10);
    whole.add({ batchSize: B, seqLen: S, hiddenSize: D, student, teacher, attentionMask: mask });
    const split = new AngleAccumulator([2, 4], [3, 6, 9], 10);
    for (let b = 0; b < B; b++) {
      const rows = (h: Float32Array) => h.slice(b * S * D, (b + 1) * S * D);
      split.add({ batchSize: 1, seqLen: S, hiddenSize: D, student: student.map(rows), teacher: teacher.map(rows), attentionMask: mask.slice(b * S, (b + 1) * S) });
    }
    const w = whole.result();
    const s = split.result();
    expect(s.map((r) => r.tokenCount)).toEqual(w.map((r) => r.tokenCount));
    expect(w[0].tokenCount).toBe(Array.from(mask).filter((m) => m !== 0).length);
    for (let l = 0; l < 2; l++) {
      expect(s[l].studentLayer).toBe([2, 4][l]);
      expect(s[l].histogram).toEqual(w[l].histogram);
      expect(s[l].fractionAcute).toBe(w[l].fractionAcute);
      s[l].meanCosine.forEach((v, k) => expect(v).toBeCloseTo(w[l].meanCosine[k], 12));
    }
    // Different student layers see different angles.
    expect(w[0].meanCosine).not.toEqual(w[1].meanCosine);
  });

  it('reports NaN means before any valid token', () => {
    const [r] = new AngleAccumulator([1], [1, 2]).result();
    expect(r.tokenCount).toBe(0);
    expect(r.meanCosine.every(Number.isNaN)).toBe(true);
    expect(r.fractionAcute).toBeNaN();
    expect(r.histogram).toHaveLength(40);
  });

  it('rejects differing widths and tells the caller to project', () => {
    const acc = new AngleAccumulator([1], [1, 2]);
    const base = { batchSize: 1, seqLen: 1, hiddenSize: 2, student: [new Float32Array(2)], attentionMask: [1] };
    expect(() => acc.add({ ...base, teacher: [new Float32Array(2), new Float32Array(3)] })).toThrow(
      'teacher hidden states of layer 2 have 3 values; B x S x D = 1x1x2 = 2; width 3 differs from 2: project the teacher states first',
    );
    expect(() => acc.add({ ...base, teacherHiddenSize: 768, teacher: [new Float32Array(2), new Float32Array(2)] })).toThrow(
      'teacher width 768 differs from student width 2; project the teacher states to width 2 before angle analysis',
    );
    expect(() => acc.add({ ...base, teacher: [new Float32Array(2)] })).toThrow('1 teacher arrays for 2 teacherLayers [1, 2]');
    expect(() => acc.add({ ...base, attentionMask: [1, 1], teacher: [new Float32Array(2), new Float32Array(2)] })).toThrow(KdError);
  });

  it('rejects empty or repeated layer lists and bad bin counts', () => {
    expect(() => new AngleAccumulator([], [1])).toThrow('studentLayers is empty');
    expect(() => new AngleAccumulator([1], [2, 2])).toThrow('teacherLayers [2, 2] repeats a layer');
    expect(() => new AngleAccumulator([1], [2], 0)).toThrow('histogramBins is 0');
  });
});
