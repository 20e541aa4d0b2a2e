// WorkerPool over real worker_threads, with a worker script that speaks the pool's protocol
// (fixtures/pool-worker.mjs): tasks spread over the workers, the init message reaching each
// worker once with shared memory, a worker that dies costing only its own task, replacement
// workers, and pools that cannot start.

import { afterEach, describe, expect, it } from 'vitest';
import { WorkerCrashError, WorkerPool, WorkerPoolError, WorkerTimeoutError } from '../../src/workers/pool.js';

const SCRIPT = new URL('./fixtures/pool-worker.mjs', import.meta.url);

const pools: WorkerPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.terminate()));
});

async function pool(size: number, extra: Record<string, unknown> = {}, script: URL | string = SCRIPT) {
  const counter = new SharedArrayBuffer(4);
  const p = await WorkerPool.create({ script, role: 'test-role', size, init: () => ({ payload: { counter, ...extra } }) });
  pools.push(p);
  return { pool: p, counter: new Int32Array(counter) };
}

type WhoAmI = { threadId: number; inits: number };

describe('WorkerPool', () => {
  it('runs tasks on its workers at once, each worker initialised once with shared memory', async () => {
    const { pool: p, counter } = await pool(2);
    // A worker runs one task at a time, so two tasks that overlap ran on two threads.
    const [a, b] = await Promise.all([p.run({ op: 'whoami-after', ms: 200 }), p.run({ op: 'whoami-after', ms: 200 })]) as WhoAmI[];
    expect(a.threadId).not.toBe(b.threadId);
    expect([a.inits, b.inits]).toEqual([1, 1]);
    const sums = await Promise.all(Array.from({ length: 20 }, (_, i) => p.run({ op: 'add', n: i + 1 })));
    expect(Atomics.load(counter, 0)).toBe(210); // both workers wrote into the main thread's buffer
    expect(Math.max(...(sums as number[]))).toBe(210);
    expect(p.stats).toEqual({ started: 2, crashed: 0, tasks: 22, timedOut: 0 });
    expect(p.infos.map((i) => (i as { shared: boolean }).shared)).toEqual([true, true]);
  });

  it('rejects only the task whose worker exits, and replaces the worker', async () => {
    const { pool: p } = await pool(2);
    const before = (await Promise.all([p.run({ op: 'whoami-after', ms: 100 }), p.run({ op: 'whoami-after', ms: 100 })]) as WhoAmI[]).map((w) => w.threadId);
    expect(new Set(before).size).toBe(2);
    const survivor = p.run({ op: 'sleep', ms: 300 });
    const dying = p.run({ op: 'exit', code: 7 });
    await expect(dying).rejects.toThrow(WorkerCrashError);
    await expect(dying).rejects.toThrow(/worker \d died while running a task: it exited with code 7/);
    await expect(survivor).resolves.toBe(300);
    const after = await Promise.all([p.run({ op: 'whoami-after', ms: 100 }), p.run({ op: 'whoami-after', ms: 100 })]) as WhoAmI[];
    const threads = new Set(after.map((w) => w.threadId));
    expect(threads.size).toBe(2);
    expect([...threads].filter((t) => !before.includes(t))).toHaveLength(1); // the replacement
    expect(after.every((w) => w.inits === 1)).toBe(true); // the replacement got the init message too
    expect(p.stats.started).toBe(3);
    expect(p.stats.crashed).toBe(1);
  });

  it('treats an uncaught exception in a worker as its death', async () => {
    const { pool: p } = await pool(1);
    await expect(p.run({ op: 'throw-later' })).rejects.toThrow(/died while running a task: thrown outside any task/);
    await expect(p.run({ op: 'add', n: 1 })).resolves.toBe(1);
    expect(p.stats).toMatchObject({ started: 2, crashed: 1 });
  });

  it('ends a worker whose task runs past its timeout, rejects only that task, and replaces the worker', async () => {
    const { pool: p } = await pool(2);
    const stuck = p.run({ op: 'spin' }, [], { timeoutMs: 300 });
    const fine = p.run({ op: 'sleep', ms: 100 }, [], { timeoutMs: 600 });
    await expect(stuck).rejects.toThrow(WorkerTimeoutError);
    await expect(stuck).rejects.toThrow(/^kerasm.WorkerPool: worker \d was ended: its task ran past 0.3 s$/);
    await expect(fine).resolves.toBe(100);
    // The replacement runs tasks, and the finished task's 600 ms limit does not end its worker later.
    await expect(Promise.all([p.run({ op: 'add', n: 2 }), p.run({ op: 'sleep', ms: 400 })])).resolves.toEqual([2, 400]);
    expect(p.stats).toMatchObject({ started: 3, crashed: 0, timedOut: 1 });
    await expect(p.run({ op: 'add', n: 1 }, [], { timeoutMs: 0 })).rejects.toThrow('expected timeoutMs > 0, got 0');
  });

  it('passes a task that throws back as its error, and the worker lives on', async () => {
    const { pool: p } = await pool(1);
    await expect(p.run({ op: 'throw', message: 'bad task' })).rejects.toThrow('bad task');
    await expect(p.run({ op: 'whoami' })).resolves.toMatchObject({ inits: 1 });
    expect(p.stats.started).toBe(1);
  });

  it('gives up with a clear error when workers cannot start or set themselves up', async () => {
    const missing = new URL('./fixtures/no-such-worker.mjs', import.meta.url);
    const { pool: broken } = await pool(2, {}, missing);
    await expect(broken.run({ op: 'whoami' })).rejects.toThrow(WorkerPoolError);
    await expect(broken.run({ op: 'whoami' })).rejects.toThrow(/3 workers in a row died before they were ready .*no-such-worker\.mjs/);
    const { pool: refusing } = await pool(2, { failInit: 'no data for me' });
    await expect(refusing.run({ op: 'whoami' })).rejects.toThrow('kerasm.WorkerPool: a worker could not set itself up: no data for me');
    await expect(WorkerPool.create({ script: SCRIPT, role: 'test-role', size: 0, init: () => ({ payload: null }) })).rejects.toThrow('expected size to be a positive integer, got 0');
  });

  it('rejects unfinished tasks when terminated', async () => {
    const { pool: p } = await pool(1);
    const running = expect(p.run({ op: 'sleep', ms: 5000 })).rejects.toThrow('kerasm.WorkerPool: the pool was terminated');
    const queued = expect(p.run({ op: 'whoami' })).rejects.toThrow('kerasm.WorkerPool: the pool was terminated');
    await p.terminate();
    await running;
    await queued;
    await expect(p.run({ op: 'whoami' })).rejects.toThrow('the pool was terminated');
  });
});
