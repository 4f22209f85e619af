import { objectProblems } from './validate';

describe('objectProblems', () => {
  const job = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j' }, spec: { template: { spec: { containers: [{ name: 'c', image: 'i' }] } } } };

  it('passes a valid built-in object', () => {
    expect(objectProblems(job)).toEqual([]);
  });

  it('reports schema violations of built-in kinds with their path', () => {
    const bad = structuredClone(job) as any;
    bad.spec.completions = 'thirty';
    delete bad.spec.template.spec.containers[0].name;
    const problems = objectProblems(bad);
    expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(/^Job j: spec\.completions: must be integer/)]));
    expect(problems.join('\n')).toContain("must have required property name");
  });

  it('validates Experiments against the generated CRD and custom kinds against a given schema', () => {
    expect(objectProblems({ apiVersion: 'strata.dev/v1alpha1', kind: 'Experiment', metadata: { name: 'e' }, spec: { task: 'sst2' } })).toEqual([
      'Experiment e: spec.teacher: required field is missing',
    ]);
    const schema = { type: 'object', properties: { spec: { type: 'object', properties: { n: { type: 'integer' } } } } };
    expect(objectProblems({ apiVersion: 'x/v1', kind: 'Y', metadata: { name: 'y' }, spec: { m: 1 } }, { 'x/v1/Y': schema })).toEqual(['Y y: spec.m: unknown field']);
  });

  it('says so when it knows no schema', () => {
    expect(objectProblems({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } })).toEqual(['Widget w: no schema known for example.com/v1/Widget']);
  });
});
