import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { manifestJson } from '@strata/k8s';
import { parseManifest } from '@strata/experiment';
import { ServiceError, type ServiceClient } from './services';
import { submit } from './submit';

const repo = path.resolve(__dirname, '../../..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-submit-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function manifestFile(example: string): string {
  const file = path.join(dir, `${path.basename(example, '.yaml')}.json`);
  fs.writeFileSync(file, manifestJson(parseManifest(fs.readFileSync(path.join(repo, example), 'utf8'))));
  return file;
}

describe('controller submit', () => {
  it('waits for the trained teacher, then requests the cache and registers, retrying a service that is not up yet', async () => {
    const artifacts = path.join(dir, 'a1');
    const teacherDir = path.join(artifacts, 'sst2-layer-selection/teacher');
    const calls: string[] = [];
    let sleeps = 0;
    let failures = 1;
    const services = {
      async requestCache(body: { teacher: string; layers: number[] }) {
        calls.push(`cache ${body.teacher} ${body.layers.join(',')}`);
        if (failures-- > 0) throw new ServiceError('teacher-inference POST /v1/caches: ECONNREFUSED');
        return { ok: true as const, cacheKey: 'k', topic: 'strata.acts.k', state: 'running' as const };
      },
      async register(m: { metadata: { name: string } }) {
        calls.push(`register ${m.metadata.name}`);
      },
    } as unknown as ServiceClient;
    const lines: string[] = [];
    const sleep = async () => {
      sleeps++;
      // the teacher Job finishes after the second look
      if (sleeps === 2) {
        fs.mkdirSync(teacherDir, { recursive: true });
        fs.writeFileSync(path.join(teacherDir, 'teacher.onnx'), 'x');
        fs.writeFileSync(path.join(teacherDir, 'teacher.json'), '{"metrics":{}}');
      }
    };
    const r = await submit({ manifestPath: manifestFile('examples/sst2.yaml'), artifacts, services, sleep, log: (l) => lines.push(l) });
    expect(r).toEqual({ cacheKey: 'k', state: 'running' });
    expect(calls).toEqual(['cache sst2-layer-selection/teacher/teacher.onnx 0,2,3,4,6', 'cache sst2-layer-selection/teacher/teacher.onnx 0,2,3,4,6', 'register sst2-layer-selection']);
    expect(sleeps).toBe(3);
    expect(lines[0]).toBe('waiting for the teacher Job to write sst2-layer-selection/teacher/teacher.onnx');
    expect(lines[1]).toBe('cache request failed (teacher-inference POST /v1/caches: ECONNREFUSED); retry 1/39');
  });

  it('refuses a given teacher that is not on the artifacts volume', async () => {
    await expect(submit({ manifestPath: manifestFile('k8s/examples/quickstart-onnx-teacher.yaml'), artifacts: path.join(dir, 'empty'), services: {} as ServiceClient, log: () => undefined })).rejects.toThrow(
      'teacher quickstart-spam/teacher/teacher.onnx not found under',
    );
  });
});
