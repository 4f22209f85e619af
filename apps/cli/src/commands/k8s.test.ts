// `strata k8s` through a fresh commander program, and once through bin/strata.js (the acceptance command).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import { defaultSettings, experimentCrd, gpuConsumers, objectsProblems, policyProblems, toYamlDocuments } from '@strata/k8s';
import { parseAllDocuments } from 'yaml';
import { registerK8sCommands } from './k8s';

const repo = path.resolve(__dirname, '../../../..');
const POLICY = { gpuComponents: ['teacher-inference', 'teacher-train'], apiClients: ['controller'] };

async function run(...args: string[]): Promise<string> {
  const program = new Command('strata').exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  registerK8sCommands(program);
  program.commands.forEach((c) => c.exitOverride().commands.forEach((s) => s.exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined })));
  const chunks: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  try {
    await program.parseAsync(['k8s', ...args], { from: 'user' });
  } finally {
    spy.mockRestore();
  }
  return chunks.join('');
}

const docs = (text: string) => parseAllDocuments(text).map((d) => d.toJS());

describe('strata k8s render', () => {
  it('prints the ConfigMap, teacher Job and students Job, valid and within policy', async () => {
    const objects = docs(await run('render', path.join(repo, 'examples/sst2.yaml'), '--overlay', 'gpu'));
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['ConfigMap/sst2-layer-selection-manifest', 'Job/sst2-layer-selection-teacher', 'Job/sst2-layer-selection-students']);
    expect(objectsProblems(objects)).toEqual([]);
    expect(policyProblems(objects, POLICY)).toEqual([]);
    expect(gpuConsumers(objects)).toEqual(['Job sst2-layer-selection-teacher/teacher']);
    expect(objects[2].spec.completions).toBe(30);
    expect(objects.every((o) => o.metadata.ownerReferences === undefined)).toBe(true);
  });

  it('takes a namespace, an own settings file and prints JSON', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-k8s-'));
    const settings = { ...defaultSettings('cpu'), images: { ...defaultSettings('cpu').images, studentTrainer: 'registry.example/strata/student-trainer:1' } };
    fs.writeFileSync(path.join(dir, 'settings.json'), JSON.stringify(settings));
    const list = JSON.parse(await run('render', path.join(repo, 'examples/quickstart.yaml'), '--settings', path.join(dir, 'settings.json'), '--namespace', 'research', '--json'));
    expect(list.kind).toBe('List');
    expect(list.items.map((o: any) => o.metadata.namespace)).toEqual(['research', 'research', 'research']);
    expect(list.items[2].spec.template.spec.containers[0].image).toBe('registry.example/strata/student-trainer:1');
    fs.writeFileSync(path.join(dir, 'bad.json'), JSON.stringify({ ...settings, defaultParallelism: 0 }));
    await expect(run('render', path.join(repo, 'examples/quickstart.yaml'), '--settings', path.join(dir, 'bad.json'))).rejects.toThrow('defaultParallelism: Too small');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('names the field when the manifest cannot run on Kubernetes, and the file when it is missing', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-k8s-'));
    const file = path.join(dir, 'rooted.yaml');
    fs.writeFileSync(file, fs.readFileSync(path.join(repo, 'examples/sst2.yaml'), 'utf8').replace('analysis: { angles: true }', 'analysis: { angles: true }\n  data: { root: ../glue }'));
    await expect(run('render', file)).rejects.toThrow('spec.data.root: not used on Kubernetes');
    await expect(run('render', path.join(dir, 'nope.yaml'))).rejects.toThrow(`${path.join(dir, 'nope.yaml')}: no such file or directory; expected an experiment manifest (.yaml or .json)`);
    await expect(run('render', file, '--overlay', 'tpu')).rejects.toThrow("--overlay must be one of cpu, gpu, got 'tpu'");
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('strata k8s crd and settings', () => {
  it('prints the generated CRD and the overlay settings k8s/ ships', async () => {
    expect(await run('crd')).toBe(toYamlDocuments([experimentCrd()]));
    expect(await run('settings', '--overlay', 'gpu')).toBe(fs.readFileSync(path.join(repo, 'k8s/overlays/gpu/settings.json'), 'utf8'));
  });
});

describe('bin/strata.js k8s render examples/sst2.yaml --overlay gpu', () => {
  it('prints valid objects from the installed command', () => {
    const r = spawnSync(process.execPath, [path.join(repo, 'apps/cli/bin/strata.js'), 'k8s', 'render', 'examples/sst2.yaml', '--overlay', 'gpu'], { cwd: repo, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const objects = docs(r.stdout);
    expect(objects).toHaveLength(3);
    expect(objectsProblems(objects)).toEqual([]);
  });
});
