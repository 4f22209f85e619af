import { StepDecoder, generate, hypothesisScore } from './beam-search';

/**
 * A toy decoder whose next-token distribution depends on the whole history (a hash of it), so beam bookkeeping
 * mistakes (a row continuing the wrong hypothesis) change the result.
 */
class HistoryDecoder implements StepDecoder {
  private histories: number[][];
  constructor(readonly rows: number, readonly vocabSize: number, private readonly seed: number) {
    this.histories = Array.from({ length: rows }, () => []);
  }

  logProbs(history: readonly number[]): number[] {
    let h = this.seed >>> 0;
    for (const t of history) h = Math.imul(h ^ (t + 0x9e37), 0x85ebca6b) >>> 0;
    const logits = Array.from({ length: this.vocabSize }, (_, v) => {
      const x = Math.imul(h ^ (v * 0x27d4eb2d), 0xc2b2ae35) >>> 0;
      return ((x % 1000) / 1000) * 4;
    });
    const m = Math.max(...logits);
    const lse = m + Math.log(logits.reduce((s, z) => s + Math.exp(z - m), 0));
    return logits.map((z) => z - lse);
  }

  async step(tokens: readonly number[], beamIndex: readonly number[]): Promise<Float32Array> {
    this.histories = tokens.map((t, r) => [...this.histories[beamIndex[r]], t]);
    const out = new Float32Array(this.rows * this.vocabSize);
    this.histories.forEach((h, r) => out.set(this.logProbs(h), r * this.vocabSize));
    return out;
  }
}

/** Every sequence up to maxLength (ending at EOS, or cut at maxLength), scored like beam search; the best. */
function exhaustive(model: HistoryDecoder, start: number, eos: number, maxLength: number, lp: number): { tokens: number[]; score: number } {
  let best = { tokens: [] as number[], score: -Infinity };
  const visit = (history: number[], generated: number[], logProb: number) => {
    const logp = model.logProbs(history);
    for (let v = 0; v < model.vocabSize; v++) {
      const s = logProb + logp[v];
      const length = generated.length + 1;
      if (v === eos || length === maxLength) {
        const score = hypothesisScore(s, length, lp);
        if (score > best.score) best = { tokens: v === eos ? [...generated] : [...generated, v], score };
      } else visit([...history, v], [...generated, v], s);
    }
  };
  visit([start], [], 0);
  return best;
}

describe('beam search', () => {
  const V = 4;
  const EOS = 1;
  it.each([
    [3, 1.0, 16],
    [4, 1.0, 64],
    [4, 0.0, 64],
    [4, 2.0, 64],
    [4, -0.5, 64],
  ])('equals exhaustive search on a %d-token horizon (length penalty %d, beam %d), for a batch of inputs', async (maxLength, lp, beam) => {
    const seeds = [1, 2, 3, 4, 5];
    const decoder = new HistoryDecoder(seeds.length * beam, V, 0);
    // Each input is a different start token over one shared decoder: the rows of each input run independently.
    const starts = seeds.map((s) => s % V);
    const got = await generate(decoder, { beam, maxLength, lengthPenalty: lp, eosId: EOS, startTokens: starts });
    starts.forEach((start, i) => {
      const want = exhaustive(new HistoryDecoder(1, V, 0), start, EOS, maxLength, lp);
      expect(got[i].tokens).toEqual(want.tokens);
      expect(got[i].score).toBeCloseTo(want.score, 5);
    });
  });

  it('with the default beam of 4 equals exhaustive search where 4 beams hold every prefix (4 tokens, 2 steps)', async () => {
    for (const seed of [7, 8, 9]) {
      const got = await generate(new HistoryDecoder(4, V, seed), { maxLength: 2, eosId: EOS, startTokens: [0] });
      const want = exhaustive(new HistoryDecoder(1, V, seed), 0, EOS, 2, 1);
      expect(got[0].tokens).toEqual(want.tokens);
      expect(got[0].score).toBeCloseTo(want.score, 5);
    }
  });

  it('greedy takes the argmax at every step and stops at EOS', async () => {
    const model = new HistoryDecoder(1, V, 3);
    const [h] = await generate(new HistoryDecoder(1, V, 3), { beam: 1, maxLength: 6, eosId: EOS, startTokens: [2] });
    const history = [2];
    const tokens: number[] = [];
    let logProb = 0;
    for (let t = 0; t < 6; t++) {
      const logp = model.logProbs(history);
      const best = logp.indexOf(Math.max(...logp));
      logProb += logp[best];
      if (best === EOS) break;
      tokens.push(best);
      history.push(best);
    }
    expect(h.tokens).toEqual(tokens);
    expect(h.logProb).toBeCloseTo(logProb, 5);
  });

  it('checks its arguments', async () => {
    await expect(generate(new HistoryDecoder(3, V, 0), { beam: 2, maxLength: 3, eosId: EOS, startTokens: [0, 1] })).rejects.toThrow('decoder has 3 rows; 2 inputs x beam 2 need 4');
    await expect(generate(new HistoryDecoder(2, V, 0), { beam: 2, maxLength: 0, eosId: EOS, startTokens: [0] })).rejects.toThrow('maxLength must be a positive integer, got 0');
  });
});
