import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseManifest, planGrid } from './index';

const dir = path.resolve(__dirname, '../../../examples');

describe('examples/*.yaml', () => {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  it('are all there', () => {
    expect(files.sort()).toEqual(['mnli.yaml', 'qnli.yaml', 'qqp.yaml', 'quickstart.yaml', 'sst2.yaml', 'table1-sst2.yaml']);
  });
  it.each(files)('%s validates and plans the five strategies x both inits', (file) => {
    const manifest = parseManifest(fs.readFileSync(path.join(dir, file), 'utf8'), file);
    const cells = planGrid(manifest);
    const s = manifest.spec.students;
    expect(cells).toHaveLength(5 * 2 * s.seeds.length * s.depths.length);
    expect(new Set(cells.map((c) => c.strategy))).toEqual(new Set(['none', 'forward', 'reverse', 'all-to-one', 'out-of-order-random']));
  });
  it('quickstart needs no shared data (the embedded spam task) and trains on the train split', () => {
    const m = parseManifest(fs.readFileSync(path.join(dir, 'quickstart.yaml'), 'utf8'), 'quickstart.yaml');
    expect(m.spec.task).toBe('spam');
    expect(m.spec.data.trainSplit).toBe('train');
  });
});
