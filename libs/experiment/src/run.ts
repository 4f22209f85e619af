// `strata experiment run`: the embedded pipeline with the task's family adapter.
import * as path from 'node:path';
import { contextOf, experimentContext, type RunOptions } from './context';
import { familyOf } from './families';
import { generationFamily } from './families/generation';
import { runPipeline } from './pipeline';
import type { ExperimentResults } from './report';
import type { ExperimentManifest } from './schema';

// async: a bad manifest rejects the promise (as every other failure of a run does) rather than throwing at the call.
export async function runExperiment(manifestPath: string, opts: RunOptions = {}): Promise<{ outDir: string; results: ExperimentResults }> {
  const ctx = experimentContext(manifestPath, opts);
  return runPipeline(ctx, familyOf(ctx.manifest.spec.task), opts);
}

/** A generation experiment from a parsed manifest (a smoke or benchmark variant of the file's). */
export async function runGenerationExperiment(manifest: ExperimentManifest, manifestPath: string, opts: RunOptions = {}): Promise<{ outDir: string; results: ExperimentResults }> {
  return runPipeline(contextOf(manifest, path.resolve(manifestPath), opts), generationFamily, opts);
}
