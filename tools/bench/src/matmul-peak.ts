import { DataType, GraphBuilder, createSession, ort } from '@strata/onnx';

export interface MatMulPeak {
  size: number;
  gflops: number;
  ms: number;
}

/** ONNX Runtime's float32 MatMul throughput on this machine: the yardstick every ratio is measured against. */
export async function measureMatMulPeak(size = 1024, repeats = 10): Promise<MatMulPeak> {
  const g = new GraphBuilder('matmul-peak');
  g.input('a', DataType.FLOAT, [size, size]);
  g.input('b', DataType.FLOAT, [size, size]);
  g.output(g.op('MatMul', ['a', 'b']), 'c');
  const session = await createSession(g.build());
  const fill = () => Float32Array.from({ length: size * size }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
  const feeds = { a: new ort.Tensor('float32', fill(), [size, size]), b: new ort.Tensor('float32', fill(), [size, size]) };
  for (let i = 0; i < 3; i++) await session.run(feeds);
  let best = Infinity;
  for (let i = 0; i < repeats; i++) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  await session.release();
  return { size, ms: best, gflops: (2 * size ** 3) / (best * 1e6) };
}
