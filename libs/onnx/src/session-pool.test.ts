import { SessionPool } from './session-pool';

/** A stand-in for a session: records when it was closed. */
function recorder() {
  const closed: string[] = [];
  const open = (key: string) => async () => ({ key });
  const pool = (capacity?: number) => new SessionPool<{ key: string }>(async (s) => void closed.push(s.key), capacity);
  return { closed, open, pool };
}

describe('SessionPool', () => {
  it('keeps at most `capacity` open, closing the least recently used', async () => {
    const { closed, open, pool: make } = recorder();
    const pool = make(2);
    for (const key of ['a', 'b', 'a', 'c', 'a', 'b']) await pool.use(key, open(key), async () => undefined);
    // a b | a reused | c closes b | a reused | b reopened, closes c
    expect(closed).toEqual(['b', 'c']);
    expect(pool.size).toBe(2);
    expect(pool.opens).toBe(4);
    await pool.release();
    expect(closed.sort()).toEqual(['a', 'b', 'b', 'c']);
    expect(pool.size).toBe(0);
  });

  it('reuses an open session instead of opening it again', async () => {
    const { open, pool: make } = recorder();
    const pool = make(1);
    const seen = new Set<object>();
    for (let i = 0; i < 3; i++) await pool.use('a', open('a'), async (s) => void seen.add(s));
    expect(seen.size).toBe(1);
    expect(pool.opens).toBe(1);
  });

  it('never closes a session while it is in use', async () => {
    const { closed, open, pool: make } = recorder();
    const pool = make(1);
    let finish!: () => void;
    const held = pool.use('a', open('a'), () => new Promise<void>((resolve) => (finish = resolve)));
    await pool.use('b', open('b'), async () => expect(pool.size).toBe(2)); // over capacity while a runs
    expect(closed).toEqual(['b']); // a, though used less recently, is still running
    finish();
    await held;
    expect(closed).toEqual(['b']);
    expect(pool.size).toBe(1);
  });

  it('forgets a session that failed to open, so the next use tries again', async () => {
    const { open, pool: make } = recorder();
    const pool = make(2);
    await expect(pool.use('a', () => Promise.reject(new Error('bad graph')), async () => 1)).rejects.toThrow('bad graph');
    expect(pool.size).toBe(0);
    await expect(pool.use('a', open('a'), async (s) => s.key)).resolves.toBe('a');
  });

  it('passes on what the work returns or throws, and rejects a capacity below 1', async () => {
    const { open, pool: make } = recorder();
    const pool = make();
    await expect(pool.use('a', open('a'), async () => 42)).resolves.toBe(42);
    await expect(pool.use('a', open('a'), async () => { throw new Error('run failed'); })).rejects.toThrow('run failed');
    expect(pool.size).toBe(1);
    expect(() => make(0)).toThrow('capacity must be at least 1, got 0');
  });
});
