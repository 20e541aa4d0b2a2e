// Bayesian optimization: a Gaussian process fitted to the scores so far, and the next trial
// where the expected improvement over the best score is largest.
//
// Encoding: each hyperparameter becomes coordinates in [0, 1]: ints and floats one (log scale
// for log sampling; rounded back to the step when decoded), booleans one (0 or 1), choices of
// numbers one (their rank, since 32 is nearer to 64 than to 512), other choices one-hot (one per
// value). Fixed values and inactive hyperparameters take their default's
// coordinates, so every trial is a point of the same cube.
//
// Model: zero-mean GP on standardized scores, Matern 5/2 kernel, the length scale chosen from a
// few candidates by marginal likelihood; Cholesky in float64.
// Acquisition: expected improvement, maximised over random points of the space plus Gaussian
// perturbations of the best trials (which is where improvements usually are).
// Trials still running count as observations of the best score so far (constant liar).
// see: Rasmussen and Williams, "Gaussian Processes for Machine Learning" (2006), algorithm 2.1
//      and eq. 4.17 (Matern 5/2); Jones, Schonlau and Welch (1998) for expected improvement;
//      Ginsbourger, Le Riche and Carraro, "Kriging is well-suited to parallelize optimization"
//      (2010) for the constant liar.

import type { Random } from '../../util/random.js';
import {
  assignActive, fromUnit, toUnit, type HPValue, type HPValues, type HyperParameterSpec,
} from '../hyperparameters.js';
import { Oracle, type OracleArgs, type Trial, type TrialRequest } from './oracle.js';

export interface BayesianOptimizationArgs extends OracleArgs {
  /**
   * Random trials before the GP is used (default: one per hyperparameter, at least 3 and at
   * most 10; a choice counts once, not once per value, so a search of 20 to 50 trials spends
   * most of them on the GP's proposals).
   */
  numInitialPoints?: number;
  /** Observation noise added to the kernel diagonal (on standardized scores). */
  alpha?: number;
  /** Random candidates scored by the acquisition per trial. */
  candidates?: number;
}

const LENGTH_SCALES = [0.05, 0.1, 0.2, 0.4, 0.8];

/** Coordinates of one spec's value. */
function encodeOne(spec: HyperParameterSpec, value: HPValue): number[] {
  switch (spec.type) {
    case 'int':
    case 'float':
      return [toUnit(spec, value as number)];
    case 'boolean':
      return [value ? 1 : 0];
    case 'choice': {
      // Numbers are ordered: one coordinate, their rank. Strings and booleans are not: one-hot.
      const ranks = numericRanks(spec.values);
      if (ranks) return [ranks.length === 1 ? 0 : ranks.indexOf(value as number) / (ranks.length - 1)];
      return spec.values.map((v) => (v === value ? 1 : 0));
    }
    case 'fixed':
      return [];
  }
}

/** A numeric choice's values in increasing order, or null for other choices. */
function numericRanks(values: readonly HPValue[]): number[] | null {
  return values.every((v) => typeof v === 'number') ? [...(values as number[])].sort((a, b) => a - b) : null;
}

/** The value nearest to these coordinates. */
function decodeOne(spec: HyperParameterSpec, coords: number[]): HPValue {
  switch (spec.type) {
    case 'int':
    case 'float':
      return fromUnit(spec, coords[0]);
    case 'boolean':
      return coords[0] >= 0.5;
    case 'choice': {
      const ranks = numericRanks(spec.values);
      if (ranks) return ranks[Math.round(Math.min(1, Math.max(0, coords[0])) * (ranks.length - 1))];
      let best = 0;
      coords.forEach((c, i) => { if (c > coords[best]) best = i; });
      return spec.values[best];
    }
    case 'fixed':
      return spec.default;
  }
}

function matern52(r: number): number {
  const s = Math.sqrt(5) * r;
  return (1 + s + (s * s) / 3) * Math.exp(-s);
}

function distance(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] - b[i]) ** 2;
  return Math.sqrt(sum);
}

/** In-place Cholesky of a symmetric positive definite n×n matrix (row-major); false if not SPD. */
function cholesky(a: Float64Array, n: number): boolean {
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j];
    for (let k = 0; k < j; k++) d -= a[j * n + k] ** 2;
    if (!(d > 0)) return false;
    const ljj = Math.sqrt(d);
    a[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = s / ljj;
    }
    for (let k = j + 1; k < n; k++) a[j * n + k] = 0;
  }
  return true;
}

/** Solves L y = b (forward) then, with `transpose`, L^T x = y. */
function solveLower(l: Float64Array, n: number, b: Float64Array, transpose: boolean): Float64Array {
  const y = new Float64Array(b);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < i; k++) y[i] -= l[i * n + k] * y[k];
    y[i] /= l[i * n + i];
  }
  if (!transpose) return y;
  for (let i = n - 1; i >= 0; i--) {
    for (let k = i + 1; k < n; k++) y[i] -= l[k * n + i] * y[k];
    y[i] /= l[i * n + i];
  }
  return y;
}

/** Standard normal CDF via erf (Abramowitz and Stegun 7.1.26, error below 1.5e-7). */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

interface Fitted {
  points: Float64Array[];
  chol: Float64Array;
  weights: Float64Array; // K^-1 y
  lengthScale: number;
}

/**
 * @example
 * ```ts
 * const oracle = new BayesianOptimization({ numInitialPoints: 5, seed: 7 });
 * ```
 */
export class BayesianOptimization extends Oracle {
  readonly algorithm = 'BayesianOptimization';
  private readonly numInitialPoints: number | undefined;
  private readonly alpha: number;
  private readonly candidates: number;

  constructor(args: BayesianOptimizationArgs = {}) {
    super(args);
    this.numInitialPoints = args.numInitialPoints;
    this.alpha = args.alpha ?? 1e-4;
    this.candidates = args.candidates ?? 500;
  }

  encode(values: HPValues): Float64Array {
    const coords: number[] = [];
    for (const spec of this.space.space) coords.push(...encodeOne(spec, values[spec.name] ?? spec.default));
    return Float64Array.from(coords);
  }

  decode(coords: Float64Array): HPValues {
    const widths = this.space.space.map((spec) => encodeOne(spec, spec.default).length);
    const offsets = widths.map((_, i) => widths.slice(0, i).reduce((a, b) => a + b, 0));
    return assignActive(this.space.space, (spec, i) => decodeOne(spec, Array.from(coords.subarray(offsets[i], offsets[i] + widths[i]))));
  }

  protected propose(trialId: string): TrialRequest | 'wait' | 'exhausted' {
    const rng = this.rngFor(trialId);
    const done = this.completed();
    const dims = this.encode({}).length;
    const hyperparameters = this.space.space.filter((spec) => spec.type !== 'fixed').length;
    const initial = this.numInitialPoints ?? Math.min(10, Math.max(3, hyperparameters));
    if (done.length < initial || dims === 0) {
      const values = this.sampleUnseen(rng);
      return values === null ? 'exhausted' : { values };
    }
    // Running trials join the fit as if they had scored the best score so far (the "constant
    // liar"), so that proposals made while they run spread out instead of piling up near them.
    const observed = done.map((t) => (this.maximize ? t.score! : -t.score!));
    const lie = Math.max(...observed);
    const pending = [...this.running.values()].map((r) => r.values);
    const ys = [...observed, ...pending.map(() => lie)];
    const fitted = this.fit([...done.map((t) => t.hyperparameters), ...pending], ys);
    const best = Math.max(...this.standardize(ys));
    let bestValues: HPValues | null = null;
    let bestEi = -Infinity;
    const keys = this.seenKeys();
    for (const coords of this.candidatePoints(rng, done, dims)) {
      const values = this.decode(coords);
      if (this.seen(values, keys)) continue;
      const ei = this.expectedImprovement(fitted, this.encode(values), best);
      if (ei > bestEi) {
        bestEi = ei;
        bestValues = values;
      }
    }
    if (bestValues === null) bestValues = this.sampleUnseen(rng);
    return bestValues === null ? 'exhausted' : { values: bestValues };
  }

  private standardize(ys: number[]): number[] {
    const mean = ys.reduce((a, b) => a + b, 0) / ys.length;
    const std = Math.sqrt(ys.reduce((a, b) => a + (b - mean) ** 2, 0) / ys.length) || 1;
    return ys.map((y) => (y - mean) / std);
  }

  /** The GP whose length scale gives the largest log marginal likelihood. */
  private fit(values: HPValues[], scores: number[]): Fitted {
    const points = values.map((v) => this.encode(v));
    const y = Float64Array.from(this.standardize(scores));
    const n = points.length;
    let best: Fitted | null = null;
    let bestLogLik = -Infinity;
    for (const lengthScale of LENGTH_SCALES) {
      const k = new Float64Array(n * n);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) k[i * n + j] = matern52(distance(points[i], points[j]) / lengthScale);
        k[i * n + i] += this.alpha;
      }
      if (!cholesky(k, n)) continue;
      const weights = solveLower(k, n, y, true);
      // log p(y) = -y^T K^-1 y / 2 - sum(log diag L) - n log(2 pi) / 2
      let logLik = 0;
      for (let i = 0; i < n; i++) logLik -= 0.5 * y[i] * weights[i] + Math.log(k[i * n + i]);
      if (logLik > bestLogLik) {
        bestLogLik = logLik;
        best = { points, chol: k, weights, lengthScale };
      }
    }
    if (best === null) throw new Error('kerasm.BayesianOptimization: the kernel matrix is not positive definite; raise alpha');
    return best;
  }

  private expectedImprovement(f: Fitted, x: Float64Array, best: number): number {
    const n = f.points.length;
    const kx = Float64Array.from(f.points, (p) => matern52(distance(p, x) / f.lengthScale));
    let mu = 0;
    for (let i = 0; i < n; i++) mu += kx[i] * f.weights[i];
    const v = solveLower(f.chol, n, kx, false);
    let variance = 1 + this.alpha;
    for (let i = 0; i < n; i++) variance -= v[i] * v[i];
    const sigma = Math.sqrt(Math.max(variance, 1e-12));
    const xi = 0.01;
    const z = (mu - best - xi) / sigma;
    return (mu - best - xi) * normalCdf(z) + sigma * Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);
  }

  /** Random points of the cube, and perturbations of the best trials' points. */
  private *candidatePoints(rng: Random, done: Trial[], dims: number): Generator<Float64Array> {
    for (let c = 0; c < this.candidates; c++) yield this.encode(this.sampleRandom(rng));
    const top = this.byScore(done).slice(0, 3).map((t) => this.encode(t.hyperparameters));
    for (let c = 0; c < this.candidates; c++) {
      const base = top[c % top.length];
      const scale = c % 2 === 0 ? 0.05 : 0.15;
      yield Float64Array.from({ length: dims }, (_, i) => Math.min(1, Math.max(0, base[i] + scale * rng.normal())));
    }
  }
}
