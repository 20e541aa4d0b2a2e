// Timing: warm up, pick a repetition count so that one sample lasts long enough for the clock
// to be meaningful, then take samples. The harness interleaves the samples of the different
// implementations of one workload (round robin), so that a change in the machine's load
// (it is shared) hits them all alike and the ratios stay fair.

import { existsSync, readFileSync } from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';

const now = () => performance.now();

/**
 * How long and how often one implementation is measured.
 * @typedef {object} Policy
 * @property {number} warmupMs     keep running until this much time has passed
 * @property {number} [warmupRuns] ... and at least this many runs (default 1)
 * @property {number} minSampleMs  one sample repeats the run until it lasts at least this long
 * @property {number} maxSamples
 * @property {number} minSamples   taken even when they exceed the budget
 * @property {number} budgetMs     total sampling time aimed at, for slow implementations
 * @property {number} [keepWarmupMs]  the last warm-up run, when at least this long, is kept
 *   as the first sample: a run that long is a sample by itself (for the slow policy even a
 *   first run, whose one-time costs are lost in it), and running it again costs minutes
 */

/**
 * Default policies, by workload sampling ('op' or 'train') and engine policy ('fast' or
 * 'slow'). tfjs-cpu gets tight ones, since one 1024 matmul takes seconds there and one
 * convnet training step minutes. A training step's first run pays for one-time work (kerasm
 * plans the step's memory, jax-js traces and compiles, tfjs-layers builds its train function),
 * so the warm-up runs at least twice and plans from its fastest run; samples last a second.
 */
export function policies(quick) {
  const op = {
    fast: quick
      ? { warmupMs: 100, minSampleMs: 50, maxSamples: 3, minSamples: 2, budgetMs: 1000 }
      : { warmupMs: 300, minSampleMs: 200, maxSamples: 7, minSamples: 3, budgetMs: 4000 },
    slow: quick
      ? { warmupMs: 0, minSampleMs: 50, maxSamples: 2, minSamples: 1, budgetMs: 1000 }
      : { warmupMs: 0, minSampleMs: 200, maxSamples: 5, minSamples: 2, budgetMs: 6000 },
  };
  const train = {
    fast: quick
      ? { warmupMs: 300, warmupRuns: 2, minSampleMs: 200, maxSamples: 3, minSamples: 2,
          budgetMs: 2000, keepWarmupMs: 2000 }
      : { warmupMs: 2000, warmupRuns: 2, minSampleMs: 1000, maxSamples: 5, minSamples: 3,
          budgetMs: 8000, keepWarmupMs: 5000 },
    slow: quick
      ? { warmupMs: 0, minSampleMs: 200, maxSamples: 2, minSamples: 1, budgetMs: 2000,
          keepWarmupMs: 2000 }
      : { warmupMs: 0, minSampleMs: 1000, maxSamples: 3, minSamples: 1, budgetMs: 10000,
          keepWarmupMs: 10000 },
  };
  return { op, train };
}

// A full garbage collection before each sample, so that no implementation pays for the
// garbage another one left (tfjs-cpu leaves plenty). `npm run bench` passes no node flags,
// hence the flag set at run time and gc() fetched from a fresh context.
v8.setFlagsFromString('--expose-gc');
export const collectGarbage = vm.runInNewContext('gc');

/**
 * Runs `run` until warm (awaiting it when `isAsync`). Returns the fastest run in ms, the best
 * guess of its cost on a shared machine, where any single run may have lost the core for a
 * while, and the last run as a sample of one run (see keepWarmupMs).
 */
export async function warmUp(run, policy, isAsync) {
  const start = now();
  const minRuns = policy.warmupRuns ?? 1;
  let fastest = Infinity;
  let runs = 0;
  let last = null;
  do {
    const cpuStart = threadCpuMs();
    const t = now();
    if (isAsync) await run();
    else run();
    const ms = now() - t;
    fastest = Math.min(fastest, ms);
    last = { msPerRun: ms, wallMs: ms, cpuMs: threadCpuMs() - cpuStart };
    runs++;
  } while (now() - start < policy.warmupMs || runs < minRuns);
  return { fastestMs: fastest, lastRun: last };
}

/** Repetitions per sample and number of samples, from the duration of one warm run. */
export function planSamples(oneRunMs, policy) {
  const runMs = Math.max(oneRunMs, 1e-3);
  const reps = runMs >= policy.minSampleMs ? 1 : Math.ceil(policy.minSampleMs / runMs);
  const affordable = Math.floor(policy.budgetMs / (reps * runMs));
  // Runs of several seconds (a slow implementation on a big workload) get two samples (or
  // fewer, if the policy allows), so that the whole bench stays within minutes.
  const floor = runMs * policy.minSamples <= 2 * policy.budgetMs
    ? policy.minSamples
    : Math.min(2, policy.minSamples);
  const samples = Math.max(floor, Math.min(policy.maxSamples, affordable));
  return { reps, samples };
}

/**
 * One sample: `reps` back-to-back runs (each awaited when `isAsync`; synchronous runs are
 * never awaited). Returns their mean wall-clock duration in ms, and the wall and CPU time of
 * the whole sample, to tell how much of a core the process really had.
 */
export async function takeSample(run, reps, isAsync) {
  const cpuStart = threadCpuMs();
  const start = now();
  if (isAsync) {
    for (let i = 0; i < reps; i++) await run();
  } else {
    for (let i = 0; i < reps; i++) run();
  }
  const wallMs = now() - start;
  const cpuMs = threadCpuMs() - cpuStart;
  return { msPerRun: wallMs / reps, wallMs, cpuMs };
}

// CPU time of this thread alone, from Linux's scheduler statistics (nanoseconds, up to one
// scheduler tick stale). process.cpuUsage() would also count V8's background threads (GC,
// compilers), which hides how often the benchmark thread itself lost its core. NaN elsewhere.
const SCHEDSTAT = `/proc/self/task/${process.pid}/schedstat`;
const hasSchedstat = existsSync(SCHEDSTAT);

/** Whether samples carry the thread's CPU time (needed by --clock cpu). */
export const hasThreadCpuClock = hasSchedstat;

function threadCpuMs() {
  if (!hasSchedstat) return NaN;
  return Number(readFileSync(SCHEDSTAT, 'utf8').split(' ')[0]) / 1e6;
}

/** Work per second in each unit: FLOPs and bytes are counted in billions, samples one by one. */
export const UNIT_SCALE = { 'GFLOP/s': 1e9, 'GB/s': 1e9, 'samples/s': 1 };

/** Throughput statistics of the samples; `work` (FLOPs, bytes, samples) is per run. */
export function summarize(msPerRun, work, unit) {
  const scale = UNIT_SCALE[unit];
  if (scale === undefined) throw new Error(`unknown unit '${unit}'`);
  const rates = msPerRun.map((ms) => (work * 1000) / ms / scale).sort((a, b) => a - b);
  const times = [...msPerRun].sort((a, b) => a - b);
  return {
    median: median(rates),
    min: rates[0],
    max: rates[rates.length - 1],
    medianMs: median(times),
  };
}

function median(sorted) {
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
