// Runs `kd map` through a fresh commander program (main.ts wiring is separate), capturing stdout.
import { Command } from 'commander';
import { registerKdCommands } from './kd';

async function run(...args: string[]): Promise<string> {
  const program = new Command('strata').exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  registerKdCommands(program);
  program.commands.forEach((c) => c.exitOverride().commands.forEach((s) => s.exitOverride()));
  const chunks: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  try {
    await program.parseAsync(['kd', 'map', ...args], { from: 'user' });
  } finally {
    spy.mockRestore();
  }
  return chunks.join('');
}

describe('strata kd map', () => {
  it('--json prints the forward map with the embedding pair', async () => {
    expect(JSON.parse(await run('--strategy', 'forward', '--teacher-layers', '12', '--student-layers', '3', '--json'))).toEqual([
      [0, 0],
      [1, 4],
      [2, 8],
      [3, 12],
    ]);
  });

  it('prints a readable table', async () => {
    expect(await run('--strategy', 'reverse', '--teacher-layers', '12', '--student-layers', '3')).toBe(
      'strategy reverse: teacher 12 layers, student 3 layers, encoder\n' +
        'student hs  teacher hs\n' +
        '         0           0\n' +
        '         1          12\n' +
        '         2           8\n' +
        '         3           4\n',
    );
  });

  it('honours --no-embeddings, --architecture decoder and --embeddings', async () => {
    const base = ['--strategy', 'all-to-one', '--teacher-layers', '12', '--student-layers', '2', '--json'];
    expect(JSON.parse(await run(...base, '--no-embeddings'))).toEqual([[1, 6], [2, 6]]);
    expect(JSON.parse(await run(...base, '--architecture', 'decoder'))).toEqual([[1, 6], [2, 6]]);
    expect(JSON.parse(await run(...base, '--architecture', 'decoder', '--embeddings'))).toEqual([[0, 6], [1, 6], [2, 6]]);
  });

  it('passes --explicit, --seed and --epoch through', async () => {
    expect(JSON.parse(await run('--strategy', 'explicit', '--teacher-layers', '12', '--student-layers', '3', '--explicit', '1,7,12', '--json'))).toEqual([
      [0, 0],
      [1, 1],
      [2, 7],
      [3, 12],
    ]);
    const args = ['--strategy', 'out-of-order-random', '--teacher-layers', '12', '--student-layers', '6', '--seed', '3', '--json'];
    const a = JSON.parse(await run(...args));
    expect(JSON.parse(await run(...args))).toEqual(a);
    expect(a.slice(1).map((p: number[]) => p[1]).sort((x: number, y: number) => x - y)).toEqual([2, 4, 6, 8, 10, 12]);
    const rail = JSON.parse(await run('--strategy', 'rail-kd', '--teacher-layers', '12', '--student-layers', '4', '--seed', '1', '--epoch', '2', '--json'));
    expect(rail).toHaveLength(5);
  });

  it('reports library errors and bad arguments', async () => {
    await expect(run('--strategy', 'sideways', '--teacher-layers', '12', '--student-layers', '3')).rejects.toThrow(
      "unknown strategy 'sideways'; known strategies: none, forward",
    );
    await expect(run('--strategy', 'forward', '--teacher-layers', '3', '--student-layers', '12')).rejects.toThrow(
      'studentLayers (12) is deeper than teacherLayers (3)',
    );
    await expect(run('--strategy', 'forward', '--teacher-layers', '0', '--student-layers', '3')).rejects.toThrow(
      "--teacher-layers must be a positive integer, got '0'",
    );
    await expect(run('--strategy', 'explicit', '--teacher-layers', '12', '--student-layers', '3', '--explicit', '4,8')).rejects.toThrow(
      'options.explicit has 2 entries but studentLayers is 3',
    );
  });
});
