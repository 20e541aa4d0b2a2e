// Objectives: what a trial is scored by, and in which direction. Several objectives are kept
// apart (no weighted sum): the tuner reports their Pareto front.

import type { Trial } from './oracles/oracle.js';

export type Direction = 'max' | 'min';

export interface Objective {
  /** A name in fit()'s History ('val_accuracy', 'loss', ...), or 'params' / 'latency'. */
  name: string;
  direction: Direction;
}

export type ObjectiveLike = string | Objective;

/** Measured by the tuner rather than read from the History; both are minimised. */
export const MEASURED_OBJECTIVES = ['params', 'latency'] as const;

/** Keras' rule: accuracy-like metrics are maximised, everything else minimised. */
export function inferDirection(name: string): Direction {
  if ((MEASURED_OBJECTIVES as readonly string[]).includes(name)) return 'min';
  return /acc|auc|precision|recall/.test(name) ? 'max' : 'min';
}

export function toObjectives(spec: ObjectiveLike | ObjectiveLike[]): Objective[] {
  const list = Array.isArray(spec) ? spec : [spec];
  if (list.length === 0) throw new Error('kerasm.Tuner: expected at least one objective');
  const objectives = list.map((o) => {
    if (typeof o === 'string') return { name: o, direction: inferDirection(o) };
    if (typeof o !== 'object' || o === null || typeof o.name !== 'string' || (o.direction !== 'max' && o.direction !== 'min')) {
      throw new Error(`kerasm.Tuner: expected an objective as a name or {name, direction: 'max' | 'min'}, got ${JSON.stringify(o)}`);
    }
    return { name: o.name, direction: o.direction };
  });
  const names = objectives.map((o) => o.name);
  if (new Set(names).size !== names.length) throw new Error(`kerasm.Tuner: objectives named twice: ${names.join(', ')}`);
  return objectives;
}

/** Whether a is at least as good as b on every objective and better on one. */
export function dominates(a: Trial, b: Trial, objectives: readonly Objective[]): boolean {
  let better = false;
  for (const o of objectives) {
    const x = a.metrics[o.name];
    const y = b.metrics[o.name];
    const gain = o.direction === 'max' ? x - y : y - x;
    if (gain < 0) return false;
    if (gain > 0) better = true;
  }
  return better;
}

/**
 * The completed trials that no other completed trial dominates, in input order.
 * @example
 * ```ts
 * paretoFront(tuner.trials, [{ name: 'val_loss', direction: 'min' }, { name: 'params', direction: 'min' }]);
 * ```
 */
export function paretoFront(trials: readonly Trial[], objectives: readonly Objective[]): Trial[] {
  const candidates = trials.filter(
    (t) => t.status === 'completed' && objectives.every((o) => Number.isFinite(t.metrics[o.name])),
  );
  return candidates.filter((t) => !candidates.some((u) => u !== t && dominates(u, t, objectives)));
}
