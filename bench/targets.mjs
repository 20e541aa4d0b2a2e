// The performance targets: kerasm's median throughput over a peer's (tfjs-wasm unless a
// target names another), measured in the same process on the same inputs, or an absolute
// throughput. They are information; missing one does not fail the bench.

import { BASELINE } from './impls/index.mjs';
import { byClock } from './lib/report.mjs';
import { ONE_WORKER } from './workloads/search.mjs';

/**
 * @typedef {object} Target
 * @property {string} label
 * @property {string} tag       the workloads it covers (their `tags`)
 * @property {string} run       'main' or 'relaxed-simd'
 * @property {number} goal      a ratio, or with `versus: null` a throughput in `unit`
 * @property {string | null} [versus]  the peer of the ratio (default tfjs-wasm); null: absolute
 * @property {string} [unit]    the unit of an absolute goal
 */

/** @type {Target[]} */
export const TARGETS = [
  { label: 'matmul N >= 256 (plain SIMD)', tag: 'matmul-large', run: 'main', goal: 1.25 },
  { label: 'conv2d, 32+ input channels', tag: 'conv-deep', run: 'main', goal: 1.2 },
  { label: 'conv2d, one input channel', tag: 'conv-c1', run: 'main', goal: 2.0 },
  { label: 'maxPool', tag: 'pool', run: 'main', goal: 1.0 },
  { label: 'matmul N >= 256 (relaxed SIMD)', tag: 'matmul-large', run: 'relaxed-simd', goal: 1.6 },
  { label: 'MLP training', tag: 'train-mlp', run: 'main', goal: 6 },
  { label: 'MLP training', tag: 'train-mlp', run: 'main', goal: 1.3, versus: 'jax-js' },
  // One core, whatever the peers do (tfjs-wasm cannot train a convnet at all).
  {
    label: 'convnet training', tag: 'train-convnet', run: 'main', goal: 400, versus: null,
    unit: 'samples/s',
  },
  // Whole searches per second with 2 workers over 1, on a 2-core machine (wall clock only: the
  // work is spread over threads, so one thread's CPU time says nothing).
  { label: 'search, 2 workers', tag: 'search', run: 'main', goal: 1.8, versus: ONE_WORKER },
];

/**
 * One line per target and matching workload, with PASS, MISS or n/a (not measured, or the
 * peer failed), judged by the chosen clock ('wall' or 'cpu'). `measured` is the ratio (or the
 * throughput) by that clock, `other` the same by the other clock.
 */
export function evaluateTargets(rows, clock) {
  const lines = [];
  for (const target of TARGETS) {
    const versus = target.versus === undefined ? BASELINE : target.versus;
    const matches = rows.filter(
      (r) => r.impl === 'kerasm' && r.run === target.run && r.tags.includes(target.tag),
    );
    const unit = versus === null ? target.unit : 'x';
    const line = (workload, fields) => ({
      target: target.label, workload, goal: target.goal, versus, unit, ...fields,
    });
    if (matches.length === 0) {
      lines.push(line('(not run)', { measured: null, other: null, status: 'n/a' }));
    }
    for (const row of matches) {
      const { measured, other } = measure(row, rows, versus, clock);
      const status = measured === null ? 'n/a' : measured >= target.goal ? 'PASS' : 'MISS';
      lines.push(line(row.workload, { measured, other, status }));
    }
  }
  return lines;
}

/** kerasm's throughput over the peer's in the same workload, or kerasm's own throughput. */
function measure(row, rows, versus, clock) {
  const none = { measured: null, other: null };
  if (row.median === undefined) return none;
  const otherClock = clock === 'cpu' ? 'wall' : 'cpu';
  if (versus === null) {
    return { measured: byClock(row, clock).median, other: byClock(row, otherClock).median };
  }
  const peer = rows.find((r) => r.workload === row.workload && r.impl === versus);
  if (!peer || peer.median === undefined) return none;
  const ratio = (c) => {
    const r = byClock(row, c).median / byClock(peer, c).median;
    return Number.isFinite(r) ? r : null;
  };
  return { measured: ratio(clock), other: ratio(otherClock) };
}
