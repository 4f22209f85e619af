// The body of a student worker thread (see student-workers.ts): it loads the teacher from disk itself, because a
// loaded model holds a tokenizer with methods and cannot cross a thread boundary, then trains one cell.
import { parentPort, workerData } from 'node:worker_threads';
import { loadTeacher } from './common';
import { loadGenerationModel } from './generation-model';
import { trainGenerationStudent } from './generation-student';
import { trainStudent } from './student';
import type { ParentMessage, StudentJob, ThreadMessage } from './student-workers';
import { Interrupted, requestStop } from '../stop';

const post = (m: ThreadMessage) => parentPort!.postMessage(m);
parentPort!.on('message', (m: ParentMessage) => {
  if (m.type === 'stop') requestStop(m.reason);
});
// Listening must not keep the thread alive once its student is done.
parentPort!.unref();

async function main(job: StudentJob): Promise<void> {
  const log = (line: string) => post({ type: 'log', line });
  if (job.kind === 'generation') {
    const { teacherOnnx, tokenizerPath, ...rest } = job.options;
    post({ type: 'result', result: await trainGenerationStudent({ ...rest, teacher: loadGenerationModel(teacherOnnx, tokenizerPath), log }) });
  } else {
    const { teacherOnnx, tokenizerPath, ...rest } = job.options;
    post({ type: 'result', result: await trainStudent({ ...rest, teacher: loadTeacher(teacherOnnx, tokenizerPath), log }) });
  }
}

// An uncaught rejection would also end the thread, but with the message only; this keeps the stack.
main(workerData as StudentJob).catch((err: unknown) =>
  post({ type: 'error', message: err instanceof Error ? err.message : String(err), stack: err instanceof Error ? err.stack : undefined, interrupted: err instanceof Interrupted ? err.reason : undefined }),
);
