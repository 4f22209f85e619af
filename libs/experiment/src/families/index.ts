// The family adapter of a task: classification, or generation (seq2seq and decoder-only multiple choice).
import { getTask } from '@strata/data';
import type { FamilyAdapter } from '../family';
import { classificationFamily } from './classification';
import { generationFamily } from './generation';

// Each adapter's run and cache are the generic ones it extends: a caller holds a run only with the adapter that made it.
export function familyOf(task: string): FamilyAdapter {
  return getTask(task).kind === 'classification' ? classificationFamily : generationFamily;
}
