// Checkpoint tensor names -> Strata parameter names (which are Hugging Face's full names, as libs/nn declares them).
// Pure: the same checkpoint can be saved from a bare model (`embeddings.*`, `encoder.*`) or a model with a head
// (`bert.embeddings.*`), with legacy LayerNorm names (`gamma`/`beta`), with buffers and tied copies beside the weights.

export type ImportArch = 'bert' | 'bart' | 'qwen3';

/** What one checkpoint tensor is to Strata. */
export type NameRole =
  | { kind: 'param'; name: string }
  /** Not a parameter: a buffer, or a copy of a tied weight; not worth listing. */
  | { kind: 'ignored'; why: string }
  /** A weight Strata has no use for (a pre-training head); listed in the log as unused. */
  | { kind: 'unused'; why: string };

const BERT_BARE = /^(embeddings|encoder|pooler)\./;
const BART_BARE = /^(shared|encoder|decoder)\./;
const QWEN3_BARE = /^(embed_tokens|layers|norm)\b/;

/** `x.LayerNorm.gamma` -> `x.LayerNorm.weight` (TF-era BERT checkpoints). */
function legacyNorm(name: string): string {
  return name.replace(/(LayerNorm|layer_norm|layernorm[a-z_]*)\.gamma$/, '$1.weight').replace(/(LayerNorm|layer_norm|layernorm[a-z_]*)\.beta$/, '$1.bias');
}

export function checkpointRole(arch: ImportArch, raw: string, opts: { tiedHead?: boolean } = {}): NameRole {
  const name = legacyNorm(raw);
  if (/(^|\.)position_ids$/.test(name) || /\.inv_freq$/.test(name) || /_float_tensor$/.test(name) || /(^|\.)version$/.test(name)) return { kind: 'ignored', why: 'buffer' };
  if (arch === 'bert') {
    if (name.startsWith('cls.')) return { kind: 'unused', why: 'pre-training head' };
    if (BERT_BARE.test(name)) return { kind: 'param', name: `bert.${name}` };
    return { kind: 'param', name };
  }
  if (arch === 'bart') {
    const full = BART_BARE.test(name) ? `model.${name}` : name;
    if (/^model\.(encoder|decoder)\.embed_tokens\.weight$/.test(full)) return { kind: 'ignored', why: 'tied to model.shared.weight' };
    if (full === 'lm_head.weight') return { kind: 'ignored', why: 'tied to model.shared.weight' };
    return { kind: 'param', name: full };
  }
  const full = QWEN3_BARE.test(name) ? `model.${name}` : name;
  if (full === 'lm_head.weight' && (opts.tiedHead ?? true)) return { kind: 'ignored', why: 'tied to model.embed_tokens.weight' };
  return { kind: 'param', name: full };
}

/** Parameters a fine-tuning may start without: the task head (and BERT's pooler, which bare encoders may lack). */
export function mayInitialize(arch: ImportArch, param: string): boolean {
  if (arch === 'bert') return param.startsWith('classifier.') || param.startsWith('bert.pooler.');
  return false;
}

export interface NameMatch {
  /** Strata parameter -> checkpoint tensor name. */
  byParam: Map<string, string>;
  /** Parameters no tensor provides. */
  missing: string[];
  /** Checkpoint tensors that are no parameter (unknown names and unused heads), with why. */
  unused: { tensor: string; why: string }[];
  /** Two tensors naming the same parameter (e.g. `bert.x` and `x`). */
  conflicts: { param: string; tensors: string[] }[];
}

/** Matches checkpoint tensor names to the parameters of the Strata model built from the same config. */
export function matchNames(arch: ImportArch, tensors: readonly string[], params: readonly string[], opts: { tiedHead?: boolean } = {}): NameMatch {
  const wanted = new Set(params);
  const byParam = new Map<string, string>();
  const unused: NameMatch['unused'] = [];
  const conflicts = new Map<string, string[]>();
  for (const t of tensors) {
    const role = checkpointRole(arch, t, opts);
    if (role.kind === 'ignored') continue;
    if (role.kind === 'unused') {
      unused.push({ tensor: t, why: role.why });
      continue;
    }
    if (!wanted.has(role.name)) {
      unused.push({ tensor: t, why: 'no such parameter in the model the config describes' });
      continue;
    }
    const earlier = byParam.get(role.name);
    if (earlier !== undefined) conflicts.set(role.name, [...(conflicts.get(role.name) ?? [earlier]), t]);
    else byParam.set(role.name, t);
  }
  const missing = params.filter((p) => !byParam.has(p));
  return { byParam, missing, unused, conflicts: [...conflicts].map(([param, ts]) => ({ param, tensors: ts })) };
}
