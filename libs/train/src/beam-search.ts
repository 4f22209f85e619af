// Greedy and beam search over any step-wise decoder (the ONNX key/value-cache graphs, or a plain JS model in tests).
// Batched: input i owns rows i·beam .. i·beam + beam − 1 of the decoder.

/** A decoder that advances every row by one token per call. */
export interface StepDecoder {
  /** Rows the decoder runs: inputs × beam. */
  readonly rows: number;
  readonly vocabSize: number;
  /**
   * Appends tokens[r] to row r, whose history is first replaced by that of row beamIndex[r] (beam search keeps the
   * state of the hypothesis each row extends). Returns log-probabilities of the next token, [rows × vocabSize].
   */
  step(tokens: readonly number[], beamIndex: readonly number[]): Promise<Float32Array>;
}

export interface GenerationOptions {
  /** 1 = greedy search (default 4). */
  beam?: number;
  /** Most tokens generated per input, EOS included. */
  maxLength: number;
  /** Hypothesis score = Σ log p / length^lengthPenalty, length counting EOS (Hugging Face's convention; default 1). */
  lengthPenalty?: number;
  eosId: number;
  /** Token fed at the first step (decoder start token, or the last prompt token's successor slot). */
  startTokens: readonly number[];
}

export interface Hypothesis {
  /** Generated tokens, EOS excluded. */
  tokens: number[];
  /** Σ log p of the generated tokens (EOS included when finished). */
  logProb: number;
  /** logProb / length^lengthPenalty. */
  score: number;
  /** False when it stopped at maxLength without EOS. */
  finished: boolean;
}

/** Hugging Face's length-normalized score. */
export function hypothesisScore(logProb: number, length: number, lengthPenalty: number): number {
  return logProb / Math.max(1, length) ** lengthPenalty;
}

/**
 * Greedy (beam 1) or beam search for `startTokens.length` inputs. Beam search keeps `beam` live hypotheses per input;
 * a hypothesis ending in EOS among the top `beam` candidates of a step is finished. An input is done when it has
 * `beam` finished hypotheses and no live one can still beat the worst of them: the bound is exact (Σ log p only
 * falls, so the best a live hypothesis can reach is its Σ log p over the most favourable future length), so with a
 * beam wide enough to hold every prefix the result is the exhaustive optimum. Live hypotheses reaching maxLength are
 * scored as they are.
 */
export async function generate(decoder: StepDecoder, opts: GenerationOptions): Promise<Hypothesis[]> {
  const beam = opts.beam ?? 4;
  const lp = opts.lengthPenalty ?? 1;
  const inputs = opts.startTokens.length;
  const V = decoder.vocabSize;
  if (!Number.isInteger(beam) || beam < 1) throw new Error(`beam must be a positive integer, got ${beam}`);
  if (!Number.isInteger(opts.maxLength) || opts.maxLength < 1) throw new Error(`maxLength must be a positive integer, got ${opts.maxLength}`);
  if (decoder.rows !== inputs * beam) throw new Error(`decoder has ${decoder.rows} rows; ${inputs} inputs x beam ${beam} need ${inputs * beam}`);
  return beam === 1 ? greedy(decoder, opts, V) : beamSearch(decoder, opts, beam, lp, V);
}

async function greedy(decoder: StepDecoder, opts: GenerationOptions, V: number): Promise<Hypothesis[]> {
  const n = opts.startTokens.length;
  const out: Hypothesis[] = Array.from({ length: n }, () => ({ tokens: [], logProb: 0, score: 0, finished: false }));
  const identity = Array.from({ length: n }, (_, i) => i);
  let tokens = [...opts.startTokens];
  for (let t = 0; t < opts.maxLength && out.some((h) => !h.finished); t++) {
    const logp = await decoder.step(tokens, identity);
    tokens = out.map((h, r) => {
      if (h.finished) return opts.eosId;
      let best = 0;
      for (let v = 1; v < V; v++) if (logp[r * V + v] > logp[r * V + best]) best = v;
      h.logProb += logp[r * V + best];
      if (best === opts.eosId) h.finished = true;
      else h.tokens.push(best);
      return best;
    });
  }
  const lp = opts.lengthPenalty ?? 1;
  for (const h of out) h.score = hypothesisScore(h.logProb, h.tokens.length + (h.finished ? 1 : 0), lp);
  return out;
}

interface Live {
  tokens: number[];
  logProb: number;
  /** Decoder row holding this hypothesis's state. */
  row: number;
}

async function beamSearch(decoder: StepDecoder, opts: GenerationOptions, beam: number, lp: number, V: number): Promise<Hypothesis[]> {
  const n = opts.startTokens.length;
  const maxLength = opts.maxLength;
  // At the first step every beam row of an input holds the same prefix: expand only the first.
  let live: Live[][] = Array.from({ length: n }, (_, i) => [{ tokens: [], logProb: 0, row: i * beam }]);
  const finished: Hypothesis[][] = Array.from({ length: n }, () => []);
  const done = new Array<boolean>(n).fill(false);
  let tokens = Array.from({ length: n * beam }, (_, r) => opts.startTokens[Math.floor(r / beam)]);
  let beamIndex = Array.from({ length: n * beam }, (_, r) => r);
  const keepBest = (list: Hypothesis[], h: Hypothesis) => {
    list.push(h);
    list.sort((a, b) => b.score - a.score);
    if (list.length > beam) list.pop();
  };
  for (let t = 0; t < maxLength && done.some((d) => !d); t++) {
    const logp = await decoder.step(tokens, beamIndex);
    const nextTokens = new Array<number>(n * beam).fill(opts.eosId);
    const nextIndex = Array.from({ length: n * beam }, (_, r) => r);
    const length = t + 1;
    for (let i = 0; i < n; i++) {
      if (done[i]) continue;
      // The 2·beam best extensions over all live hypotheses of this input.
      const cands: { h: Live; v: number; logProb: number }[] = [];
      for (const h of live[i]) {
        const base = h.row * V;
        for (let v = 0; v < V; v++) {
          const s = h.logProb + logp[base + v];
          if (cands.length < 2 * beam) {
            cands.push({ h, v, logProb: s });
            if (cands.length === 2 * beam) cands.sort((a, b) => b.logProb - a.logProb);
          } else if (s > cands[cands.length - 1].logProb) {
            let k = cands.length - 1;
            while (k > 0 && cands[k - 1].logProb < s) k--;
            cands.splice(k, 0, { h, v, logProb: s });
            cands.pop();
          }
        }
      }
      cands.sort((a, b) => b.logProb - a.logProb);
      const next: Live[] = [];
      cands.forEach((c, rank) => {
        if (next.length === beam) return;
        if (c.v === opts.eosId) {
          if (rank < beam) keepBest(finished[i], { tokens: [...c.h.tokens], logProb: c.logProb, score: hypothesisScore(c.logProb, length, lp), finished: true });
          return;
        }
        const row = i * beam + next.length;
        next.push({ tokens: [...c.h.tokens, c.v], logProb: c.logProb, row });
        nextTokens[row] = c.v;
        nextIndex[row] = c.h.row;
      });
      live[i] = next;
      if (length === maxLength) {
        for (const h of next) keepBest(finished[i], { tokens: h.tokens, logProb: h.logProb, score: hypothesisScore(h.logProb, length, lp), finished: false });
        done[i] = true;
        continue;
      }
      if (finished[i].length === beam) {
        const worst = finished[i][beam - 1].score;
        // Best reachable score of a live hypothesis: Σ log p only falls, so divide by the most favourable length.
        const bestLength = lp > 0 ? maxLength : length + 1;
        if (next.every((h) => hypothesisScore(h.logProb, bestLength, lp) <= worst)) done[i] = true;
      }
    }
    tokens = nextTokens;
    beamIndex = nextIndex;
    live = live.map((l, i) => (done[i] ? [] : l));
  }
  return finished.map((list) => list[0]);
}
