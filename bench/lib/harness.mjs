// Runs one workload on every prepared implementation and turns the samples into result rows.

import { compare } from './check.mjs';
import { collectGarbage, planSamples, summarize, takeSample, warmUp } from './measure.mjs';
import { mulberry32, seedFrom } from './random.mjs';
import { BASELINE, IMPL_NAMES } from '../impls/index.mjs';

/**
 * @param {import('../workloads/index.mjs').Workload} workload
 * @param {import('../impls/index.mjs').Engine[]} engines  prepared, in print order
 * @param {Record<string, string>} unavailable  implementation name -> why it could not start
 * @param {ReturnType<typeof import('./measure.mjs').policies>} policies
 * @param {string} run  'main' or the child's run name
 */
export async function runWorkload(workload, engines, unavailable, policies, run) {
  const policy = policies[workload.sampling ?? 'op'];
  const inputs = workload.inputs(mulberry32(seedFrom(workload.name)));
  // A workload without a float64 reference is timed but not checked.
  const reference = workload.reference ? workload.reference(inputs) : null;
  const rowOf = (impl, fields) => ({
    workload: run === 'main' ? workload.name : `${workload.name} (${run})`,
    family: workload.family,
    tags: workload.tags,
    run,
    impl,
    unit: workload.unit,
    work: workload.work,
    ...fields,
  });
  const rows = [];
  for (const [impl, reason] of Object.entries(unavailable)) {
    if (workload.impls[impl]) rows.push(rowOf(impl, { check: 'error', error: reason }));
  }

  // Set up and warm up each implementation in turn, then sample them round robin.
  const live = [];
  for (const engine of engines) {
    const setup = workload.impls[engine.name];
    if (!setup) continue;
    let instance = null;
    try {
      await engine.activate();
      instance = setup(engine.ctx, inputs);
      const enginePolicy = policy[engine.policy];
      const isAsync = instance.async === true;
      const { fastestMs, lastRun } = await warmUp(instance.run, enginePolicy, isAsync);
      const plan = planSamples(fastestMs, enginePolicy);
      const l = {
        engine, instance, plan, isAsync, times: [], cpuTimes: [], cpuMs: 0, wallMs: 0,
        memoryBefore: 0, error: /** @type {string | null} */ (null),
      };
      // A last warm-up run as long as keepWarmupMs counts as the first sample (measure.mjs).
      const keep = enginePolicy.keepWarmupMs;
      if (keep !== undefined && lastRun.msPerRun >= keep && plan.reps === 1) {
        addSample(l, lastRun, 1);
      }
      live.push(l);
    } catch (error) {
      rows.push(rowOf(engine.name, { check: 'error', error: describeError(error) }));
      safeDispose(instance);
    }
  }
  for (const l of live) l.memoryBefore = l.engine.memory();
  const rounds = Math.max(0, ...live.map((l) => l.plan.samples));
  for (let round = 0; round < rounds; round++) {
    for (const l of live) {
      if (l.error || l.times.length >= l.plan.samples) continue;
      try {
        await l.engine.activate();
        collectGarbage();
        addSample(l, await takeSample(l.instance.run, l.plan.reps, l.isAsync), l.plan.reps);
      } catch (error) {
        l.error = describeError(error);
      }
    }
  }

  for (const l of live) {
    const { engine, instance, plan, times } = l;
    if (l.error) {
      rows.push(rowOf(engine.name, { check: 'error', error: l.error }));
      safeDispose(instance);
      continue;
    }
    const memoryGrowth = engine.memory() - l.memoryBefore;
    await engine.activate();
    // The result of the last timed run: this checks the very path that was measured.
    const checked = reference
      ? compare(instance.result(), reference, workload.tolerance)
      : { ok: true, maxErr: null, unchecked: true };
    instance.dispose();
    rows.push(rowOf(engine.name, {
      ...summarize(times, workload.work, workload.unit),
      samples: times.length,
      reps: plan.reps, // 1 whenever a warm-up run was kept (it outlasts a sample)
      // Below 100%, the machine's other work took the core away now and then (the samples
      // then read slower than the implementation is).
      cpuShare: l.cpuMs / l.wallMs,
      // The same statistics by this thread's CPU time instead of the wall clock: much less
      // disturbed by a busy machine, though only as exact as the scheduler's tick.
      cpuTime: summarize(l.cpuTimes, workload.work, workload.unit),
      maxErr: checked.maxErr,
      tolerance: workload.tolerance,
      check: checked.unchecked ? 'unchecked' : checked.ok ? 'ok' : 'MISMATCH',
      ...(checked.ok ? {} : { detail: checked.detail }),
      ...(memoryGrowth > 0 ? { memoryGrowth: `${memoryGrowth} ${engine.memoryUnit}` } : {}),
      ...(instance.losses ? { losses: instance.losses() } : {}),
    }));
  }

  const baseline = rows.find((r) => r.impl === BASELINE && r.median !== undefined);
  for (const row of rows) {
    if (row.median === undefined || !baseline) continue;
    row.ratio = row.median / baseline.median;
    row.cpuRatio = row.cpuTime.median / baseline.cpuTime.median;
  }
  const order = (r) => IMPL_NAMES.indexOf(r.impl) >>> 0;
  return rows.sort((a, b) => order(a) - order(b));
}

function addSample(l, sample, reps) {
  l.times.push(sample.msPerRun);
  l.cpuTimes.push(sample.cpuMs / reps);
  l.cpuMs += sample.cpuMs;
  l.wallMs += sample.wallMs;
}

function safeDispose(instance) {
  try {
    instance?.dispose();
  } catch {
    // already failing; the first error is the one reported
  }
}

export function describeError(error) {
  if (error instanceof Error) return error.message;
  if (error && typeof error === 'object' && 'message' in error) return String(error.message);
  return String(error);
}
