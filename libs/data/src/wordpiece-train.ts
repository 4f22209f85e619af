// WordPiece vocabulary learning, done here rather than by the Rust trainer of the `tokenizers` package: that one
// numbers the continuing-subword symbols ("##x") in hash-map order, a different order in every process, and breaks
// ties between equally frequent pairs by those numbers, so the same corpus gave a different vocabulary on every run
// (huggingface/tokenizers#1794; four runs on SST-2 gave four vocabularies). The algorithm is the same as that
// trainer's (BPE merges over pre-tokenized words, the continuing prefix on every symbol but a word's first, most
// frequent pair first); only the numbering, and so the tie-break, is fixed: symbols by code point, then merges in
// the order they were learnt, ties to the pair with the smaller numbers.

export interface WordPieceTrainOptions {
  /** Size of the learnt vocabulary (alphabet plus merges; special tokens are not counted here). */
  vocabSize: number;
  continuingPrefix?: string;
}

/** A pair of symbol ids as one number (ids stay far below 2^21). */
const SHIFT = 2 ** 21;
const pairKey = (a: number, b: number): number => a * SHIFT + b;

/** Max-heap of (count, pair): higher count first, then the smaller pair key. */
class PairHeap {
  private readonly counts: number[] = [];
  private readonly keys: number[] = [];

  get size(): number {
    return this.keys.length;
  }

  private before(i: number, j: number): boolean {
    return this.counts[i] !== this.counts[j] ? this.counts[i] > this.counts[j] : this.keys[i] < this.keys[j];
  }

  private swap(i: number, j: number): void {
    [this.counts[i], this.counts[j]] = [this.counts[j], this.counts[i]];
    [this.keys[i], this.keys[j]] = [this.keys[j], this.keys[i]];
  }

  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    for (let i = this.keys.length - 1; i > 0; ) {
      const up = (i - 1) >> 1;
      if (!this.before(i, up)) break;
      this.swap(i, up);
      i = up;
    }
  }

  pop(): { count: number; key: number } {
    const top = { count: this.counts[0], key: this.keys[0] };
    const lastCount = this.counts.pop()!;
    const lastKey = this.keys.pop()!;
    if (this.keys.length > 0) {
      this.counts[0] = lastCount;
      this.keys[0] = lastKey;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < this.keys.length && this.before(l, best)) best = l;
        if (r < this.keys.length && this.before(r, best)) best = r;
        if (best === i) break;
        this.swap(i, best);
        i = best;
      }
    }
    return top;
  }
}

/**
 * Learns a WordPiece vocabulary from word counts (words as the tokenizer's normalizer and pre-tokenizer produce
 * them). Returns the tokens in id order: the alphabet (each character by code point, then its continuing form),
 * then the merged tokens as they were learnt, `vocabSize` in all or fewer when the words run out of pairs. The
 * result depends only on the counts, not on the order the words come in.
 */
export function trainWordPieceVocab(wordCounts: ReadonlyMap<string, number>, options: WordPieceTrainOptions): string[] {
  const prefix = options.continuingPrefix ?? '##';
  const words = [...wordCounts.entries()].filter(([w, n]) => w.length > 0 && n > 0);
  const initial = new Set<string>();
  const continuing = new Set<string>();
  for (const [w] of words) {
    const chars = [...w];
    initial.add(chars[0]);
    for (let i = 1; i < chars.length; i++) continuing.add(chars[i]);
  }
  const byCodePoint = (a: string, b: string) => a.codePointAt(0)! - b.codePointAt(0)!;
  const alphabet = [...new Set([...initial, ...continuing])].sort(byCodePoint);
  const tokens: string[] = [];
  const ids = new Map<string, number>();
  const add = (t: string): number => {
    let id = ids.get(t);
    if (id === undefined) {
      id = tokens.length;
      tokens.push(t);
      ids.set(t, id);
    }
    return id;
  };
  // Every character by itself (as the Rust trainer keeps them: a character seen only inside words is still a
  // token), then the continuing forms.
  for (const c of alphabet) add(c);
  for (const c of [...continuing].sort(byCodePoint)) add(prefix + c);
  if (tokens.length >= options.vocabSize) return tokens.slice(0, options.vocabSize);

  const symbols: number[][] = words.map(([w]) => [...w].map((c, i) => ids.get(i === 0 ? c : prefix + c)!));
  const freq = words.map(([, n]) => n);
  const pairCounts = new Map<number, number>();
  const where = new Map<number, Set<number>>();
  symbols.forEach((s, w) => {
    for (let i = 0; i + 1 < s.length; i++) {
      const k = pairKey(s[i], s[i + 1]);
      pairCounts.set(k, (pairCounts.get(k) ?? 0) + freq[w]);
      let set = where.get(k);
      if (!set) where.set(k, (set = new Set()));
      set.add(w);
    }
  });
  const heap = new PairHeap();
  for (const [k, n] of pairCounts) heap.push(n, k);

  while (tokens.length < options.vocabSize && heap.size > 0) {
    const top = heap.pop();
    const current = pairCounts.get(top.key) ?? 0;
    if (current !== top.count) {
      // A stale entry: counts only fall between pushes (a rise pushes a fresh entry), so requeue the lower count.
      if (current > 0 && current < top.count) heap.push(current, top.key);
      continue;
    }
    const a = Math.floor(top.key / SHIFT);
    const b = top.key % SHIFT;
    const right = tokens[b].startsWith(prefix) ? tokens[b].slice(prefix.length) : tokens[b];
    const merged = add(tokens[a] + right);
    const changed = new Map<number, number>();
    const bump = (k: number, by: number) => changed.set(k, (changed.get(k) ?? 0) + by);
    for (const w of where.get(top.key) ?? []) {
      const s = symbols[w];
      const next: number[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
          next.push(merged);
          i++;
        } else next.push(s[i]);
      }
      // `where` is never pruned: a word that no longer holds the pair comes out unchanged.
      if (next.length === s.length) continue;
      for (let i = 0; i + 1 < s.length; i++) bump(pairKey(s[i], s[i + 1]), -freq[w]);
      symbols[w] = next;
      for (let i = 0; i + 1 < next.length; i++) {
        const k = pairKey(next[i], next[i + 1]);
        bump(k, freq[w]);
        let set = where.get(k);
        if (!set) where.set(k, (set = new Set()));
        set.add(w);
      }
    }
    for (const [k, by] of changed) {
      if (by === 0) continue;
      const n = (pairCounts.get(k) ?? 0) + by;
      if (n > 0) pairCounts.set(k, n);
      else pairCounts.delete(k);
      if (by > 0) heap.push(n, k);
    }
  }
  return tokens;
}
