// The performance targets: kerasm's median throughput over tfjs-wasm's, measured in the same
// process on the same inputs. They are information; missing one does not fail the bench.

import { byClock } from './lib/report.mjs';

export const TARGETS = [
  { label: 'matmul N >= 256 (plain SIMD)', tag: 'matmul-large', run: 'main', goal: 1.25 },
  { label: 'conv2d, 32+ input channels', tag: 'conv-deep', run: 'main', goal: 1.2 },
  { label: 'conv2d, one input channel', tag: 'conv-c1', run: 'main', goal: 2.0 },
  { label: 'maxPool', tag: 'pool', run: 'main', goal: 1.0 },
  { label: 'matmul N >= 256 (relaxed SIMD)', tag: 'matmul-large', run: 'relaxed-simd', goal: 1.6 },
];

/**
 * One line per target and matching workload, with PASS, MISS or n/a (not measured), judged by
 * the ratio of the chosen clock ('wall' or 'cpu').
 */
export function evaluateTargets(rows, clock) {
  const lines = [];
  for (const target of TARGETS) {
    const matches = rows.filter(
      (r) => r.impl === 'kerasm' && r.run === target.run && r.tags.includes(target.tag),
    );
    if (matches.length === 0) {
      const line = { target: target.label, workload: '(not run)', goal: target.goal };
      lines.push({ ...line, ratio: null, other: null, status: 'n/a' });
    }
    for (const row of matches) {
      const { ratio = null, other = null } = row.check === 'error' ? {} : byClock(row, clock);
      const status = ratio === null ? 'n/a' : ratio >= target.goal ? 'PASS' : 'MISS';
      lines.push({
        target: target.label, workload: row.workload, goal: target.goal, ratio, other, status,
      });
    }
  }
  return lines;
}
