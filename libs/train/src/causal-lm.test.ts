import { seededRandom } from '@strata/autodiff';
import { Qwen3Config, initParams, qwen3ParamSpecs } from '@strata/nn';
import { CausalBatch, ContinuationScorer, Qwen3Generator, Rng, Trainer, causalFeeds, causalKey, hypothesisScore, nextTokenTargets, qwen3TrainGraph } from './index';

const PAD = 0;
const BOS = 1;
const EOS = 2;
const SEP = 3;

/** Right-padded rows of prompt (type 0) + continuation (type 1). */
function batchOf(rows: { prompt: number[]; answer: number[] }[], B: number, S: number): CausalBatch {
  const b: CausalBatch = { batchSize: B, length: S, size: rows.length, inputIds: new BigInt64Array(B * S), attentionMask: new BigInt64Array(B * S), tokenTypeIds: new BigInt64Array(B * S) };
  rows.forEach((r, i) => {
    [...r.prompt, ...r.answer].forEach((t, j) => {
      b.inputIds[i * S + j] = BigInt(t);
      b.attentionMask[i * S + j] = 1n;
      b.tokenTypeIds[i * S + j] = j >= r.prompt.length ? 1n : 0n;
    });
  });
  for (let i = rows.length; i < B; i++) b.attentionMask[i * S] = 1n;
  return b;
}

/** Toy task: BOS x1..xn SEP -> x1..xn EOS (copy), symbols 4..9. */
function copies(n: number, seed: number): { prompt: number[]; answer: number[] }[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const xs = Array.from({ length: 2 + rng.nextInt(3) }, () => 4 + rng.nextInt(6));
    return { prompt: [BOS, ...xs, SEP], answer: [...xs, EOS] };
  });
}

const toy: Qwen3Config = {
  vocabSize: 10, hidden: 32, layers: 2, heads: 4, kvHeads: 2, headDim: 8, intermediate: 64, maxPositions: 16, ropeTheta: 10000, rmsNormEps: 1e-6,
  tieWordEmbeddings: true, attentionDropout: 0, hiddenDropout: 0, padId: PAD, bosId: BOS, eosId: EOS,
};

describe('causal LM training, scoring and generation', () => {
  it('next-token targets cover every real token after the first, or only the marked ones', () => {
    const b = batchOf([{ prompt: [BOS, 5, SEP], answer: [6, EOS] }], 2, 6);
    const all = nextTokenTargets(b, 'all');
    expect(Array.from(all.labels.subarray(0, 6), Number)).toEqual([5, SEP, 6, EOS, 0, 0]);
    expect(all.count).toBe(4);
    const marked = nextTokenTargets(b, 'marked');
    expect(marked.count).toBe(2);
    expect(Array.from(marked.weights.subarray(0, 6))).toEqual([0, 0, 0.5, 0.5, 0, 0]);
  });

  it('learns to copy; ranks the right continuation first and generates it (greedy and beam)', async () => {
    const params = qwen3ParamSpecs(toy);
    const rng = new Rng(2);
    const trainer = new Trainer({
      params, initial: initParams(params, () => rng.next()), buildGraph: (k) => qwen3TrainGraph(toy, k), seed: 1, session: { threads: 1 },
      schedule: { peakLr: 3e-3, warmupSteps: 30, totalSteps: 500, decay: 'linear' },
    });
    const train = copies(8192, 1);
    for (let i = 0; trainer.step < 500; i = (i + 32) % train.length) await trainer.trainStep(causalKey(32, 12), causalFeeds(batchOf(train.slice(i, i + 32), 32, 12), true, 'marked'));
    const dev = copies(48, 2);
    const scorer = new ContinuationScorer(toy, trainer.params, new Map(params.map((p) => [p.name, p.shape])));
    let right = 0;
    for (const ex of dev) {
      const wrong = ex.answer.map((t, j) => (j === 0 ? 4 + ((t - 3) % 6) : t)); // first symbol changed
      const [a, b] = await scorer.score(batchOf([ex, { prompt: ex.prompt, answer: wrong }], 2, 12));
      expect(a.tokens).toBe(ex.answer.length);
      if (a.logProb > b.logProb) right++;
    }
    expect(right / dev.length).toBeGreaterThanOrEqual(0.9);
    await scorer.release();
    for (const beam of [1, 4]) {
      const gen = new Qwen3Generator(toy, params, trainer.params, { beam, maxLength: 5, maxPromptLength: 6 });
      const hyps = await gen.generate(dev.map((e) => e.prompt));
      const exact = hyps.filter((h, i) => JSON.stringify(h.tokens) === JSON.stringify(dev[i].answer.slice(0, -1))).length / dev.length;
      expect(exact).toBeGreaterThanOrEqual(0.9);
      await gen.release();
    }
    await trainer.release();
  });

  it('beam search over left-padded prompts equals exhaustive search scored by full recomputation (4-token vocabulary)', async () => {
    const cfg: Qwen3Config = { ...toy, vocabSize: 4, hidden: 8, headDim: 4, intermediate: 16, eosId: 2 };
    const specs = qwen3ParamSpecs(cfg);
    const params = initParams(specs, seededRandom(5), 1.0);
    const scorer = new ContinuationScorer(cfg, params, new Map(specs.map((p) => [p.name, p.shape])));
    const prompts = [[1, 3, 0, 3], [1]];
    const maxLength = 3;
    for (const [beam, horizon] of [[16, maxLength], [4, 2]]) {
      const gen = new Qwen3Generator(cfg, specs, params, { beam, maxLength: horizon, maxPromptLength: 4 });
      const hyps = await gen.generate(prompts);
      for (const [i, prompt] of prompts.entries()) {
        // Every continuation (ending at EOS or cut at the horizon), its log-likelihood from the full causal graph.
        const candidates: number[][] = [];
        const grow = (c: number[]) => {
          for (let v = 0; v < 4; v++) {
            const next = [...c, v];
            if (v === 2 || next.length === horizon) candidates.push(next);
            else grow(next);
          }
        };
        grow([]);
        let best = { tokens: [] as number[], score: -Infinity };
        for (let k = 0; k < candidates.length; k += 16) {
          const chunk = candidates.slice(k, k + 16);
          const scored = await scorer.score(batchOf(chunk.map((answer) => ({ prompt, answer })), 16, prompt.length + horizon));
          scored.forEach((s, j) => {
            const score = hypothesisScore(s.logProb, chunk[j].length, 1);
            if (score > best.score) best = { tokens: chunk[j].filter((t, n) => !(t === 2 && n === chunk[j].length - 1)), score };
          });
        }
        expect(hyps[i].tokens).toEqual(best.tokens);
        expect(hyps[i].score).toBeCloseTo(best.score, 4);
      }
      await gen.release();
    }
    await scorer.release();
  });
});
