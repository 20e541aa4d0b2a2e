// What every search algorithm shares. An oracle proposes the values of the next trial from
// the space and the results so far; the tuner builds, trains and scores, then reports back.
//
// Several trials may run at once (a tuner with workers asks for a new trial whenever a worker
// is free), so a proposal is not always followed by its report. Every proposal counts as
// running until it is reported: its values count as tried (no duplicates of a running trial),
// and an oracle that needs a running trial's result before it can go on (Hyperband at the end
// of a round) answers 'wait'. An oracle with nothing left while trials still run also answers
// 'wait', since a running trial may grow the space or change what comes next.

import { Random } from '../../util/random.js';
import { GP_ALPHA, GP_CANDIDATES, type AcquisitionArgs, type Observation } from './gaussian_process.js';
import {
  assignActive, HyperParameters, sampleValue, valuesKey, type HPValues,
} from '../hyperparameters.js';

export type TrialStatus = 'running' | 'completed' | 'failed' | 'invalid';

/** One trial as the tuner records it (and writes to state.json). */
export interface Trial {
  trialId: string;
  hyperparameters: HPValues;
  /** Each objective's value at the best step (and 'params', 'latency' when measured). */
  metrics: Record<string, number>;
  status: TrialStatus;
  error?: string;
  /** The first objective's value (averaged over executions); null unless completed. */
  score: number | null;
  /** The epoch at which the score was reached. */
  bestStep: number | null;
  /** Multi-fidelity oracles: train up to this epoch, starting at initialEpoch. */
  epochs?: number;
  initialEpoch?: number;
  /** Multi-fidelity oracles: the trial whose model this one continues. */
  resumedFrom?: string;
  retries?: number;
  /**
   * The search's time budget stopped this trial's training before its last epoch; its score is
   * that of its best epoch so far (which may be the epoch cut short).
   */
  cutShort?: boolean;
  /**
   * The first objective after each epoch this trial trained (averaged over executions; null
   * where it was not finite). Absent for a measured objective ('params', 'latency').
   */
  curve?: (number | null)[];
  /** The median stopping rule ended this trial's training after curve.length epochs. */
  stoppedEarly?: boolean;
}

/** What an oracle asks the tuner to run next. */
export interface TrialRequest {
  values: HPValues;
  epochs?: number;
  initialEpoch?: number;
  resumedFrom?: string;
  /**
   * The median stopping rule's thresholds, in the objective's own units: training stops after
   * the epoch at index i (counting the epochs this trial trains, from 0) when the trial's best
   * value so far is worse than stopIfWorse[i]. null: no rule at that epoch.
   */
  stopIfWorse?: (number | null)[];
}

export type OracleState = Record<string, unknown>;

export interface OracleArgs {
  /** Seeds the oracle's sampling; the tuner's seed is used when absent. */
  seed?: number;
  /** Random proposals that may repeat an earlier trial before the oracle gives up. */
  maxCollisions?: number;
  /**
   * The median stopping rule (Golovin et al., "Google Vizier", KDD 2017, section 3.2.1): a
   * trial stops after an epoch when its best value so far is worse than the median, over the
   * trials reported so far that trained that many epochs, of their running means up to that
   * epoch. It saves the epochs of settings that train poorly. `true` takes the defaults below.
   * On by default in BayesianOptimization and RegularizedEvolution; off in RandomSearch and
   * GridSearch, which train every trial to the end as KerasTuner's do. ASHA and Hyperband stop
   * trials by their own rungs and refuse it.
   */
  medianStopping?: boolean | MedianStoppingArgs;
}

export interface MedianStoppingArgs {
  /** Epochs every trial trains before the rule may stop it (default 1). */
  gracePeriod?: number;
  /** Trials that must have reached an epoch before the rule applies at it (default 3). */
  minSamples?: number;
}

export abstract class Oracle {
  /** Names the algorithm in state.json, so a resume with another oracle is refused. */
  abstract readonly algorithm: string;
  /** The space, grown by the tuner as the hypermodel registers hyperparameters. */
  space = new HyperParameters();
  /** Whether a larger score is better (the first objective's direction). */
  maximize = false;
  seed: number | undefined;
  protected readonly maxCollisions: number;
  /** The median stopping rule's settings, or null when it is off. */
  readonly medianStopping: Required<MedianStoppingArgs> | null;
  /** Every trial reported so far, by id. */
  protected readonly trials = new Map<string, Trial>();
  /** Trials proposed and not reported yet, by id. */
  protected readonly running = new Map<string, TrialRequest>();
  /** Trials whose model a later trial may continue (multi-fidelity oracles). */
  get resumableTrialIds(): ReadonlySet<string> {
    return new Set();
  }

  constructor(args: OracleArgs = {}) {
    this.seed = args.seed;
    this.maxCollisions = args.maxCollisions ?? 50;
    this.medianStopping = medianStoppingOf(args.medianStopping, new.target.name);
  }

  /**
   * The values of the next trial (which counts as running until update() reports it), 'wait'
   * when nothing can be proposed until a running trial reports, or 'exhausted' when the
   * algorithm has nothing left to try.
   */
  populateSpace(trialId: string): TrialRequest | 'wait' | 'exhausted' {
    const warm = this.warmStart(this.trials.size + this.running.size);
    const proposal = warm && !this.seen(warm.values) ? warm : this.propose(trialId);
    if (proposal === 'exhausted' && this.running.size > 0) return 'wait';
    if (typeof proposal === 'object') {
      const thresholds = proposal.epochs === undefined ? this.stoppingThresholds() : null;
      if (thresholds) proposal.stopIfWorse = thresholds;
      this.running.set(trialId, structuredClone(proposal));
    }
    return proposal;
  }

  /**
   * The median stopping rule's thresholds for a trial proposed now (see
   * OracleArgs.medianStopping), or null when the rule is off or has too few curves yet. Every
   * reported trial with a curve counts, those the rule stopped included, as in Vizier.
   */
  protected stoppingThresholds(): (number | null)[] | null {
    const rule = this.medianStopping;
    if (!rule) return null;
    const sign = this.maximize ? 1 : -1;
    // Each curve's running means (larger is better); an epoch without a finite value counts as the worst.
    const runningMeans = [...this.trials.values()]
      .filter((t) => t.status === 'completed' && t.epochs === undefined && Array.isArray(t.curve))
      .map((t) => {
        let sum = 0;
        return t.curve!.map((v, i) => (sum += v === null ? -Infinity : sign * v) / (i + 1));
      });
    const thresholds: (number | null)[] = [];
    for (let epoch = 0; ; epoch++) {
      const means = runningMeans.filter((m) => m.length > epoch).map((m) => m[epoch]);
      if (means.length < rule.minSamples) break;
      thresholds.push(epoch + 1 < rule.gracePeriod ? null : sign * median(means));
    }
    return thresholds.some((v) => v !== null) ? thresholds : null;
  }

  /** What populateSpace returns, before the bookkeeping of running trials. */
  protected abstract propose(trialId: string): TrialRequest | 'wait' | 'exhausted';

  /** Marks a trial proposed earlier as running (a resumed search runs again what was in flight). */
  markRunning(trialId: string, request: TrialRequest): void {
    this.running.set(trialId, structuredClone(request));
  }

  /**
   * Values tried before the algorithm proposes any (a warm start from known-good settings):
   * the search's first trials, in order. The oracle sees their results like any others.
   */
  initialHyperparameters: HPValues[] = [];

  /** The warm-start request for the search's `index`-th trial (counting from 0), or null. */
  warmStart(index: number): TrialRequest | null {
    const values = this.initialHyperparameters[index];
    return values === undefined ? null : { values: { ...values } };
  }

  /** Records a finished trial. */
  update(trial: Trial): void {
    this.running.delete(trial.trialId);
    this.trials.set(trial.trialId, structuredClone(trial));
  }

  /** The oracle's own state (what the trials alone do not give back). */
  getState(): OracleState {
    return {};
  }

  /** Restores the state written by getState, after the tuner has replayed update() for every trial. */
  setState(state: OracleState): void {
    void state;
  }

  /** A generator for one proposal: the same seed and trial id give the same numbers, also after a resume. */
  protected rngFor(trialId: string, salt = 0): Random {
    // The seed is mixed before the id is hashed in (FNV-1a), so that nearby seeds and ids do
    // not give the same stream (seed 2, trial 1 against seed 3, trial 0).
    let h = mix32((this.seed ?? 0) >>> 0);
    for (const ch of `${trialId}#${salt}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
    return new Random(mix32(h));
  }

  /** Completed trials with a finite score. */
  protected completed(): Trial[] {
    return [...this.trials.values()].filter((t) => t.status === 'completed' && Number.isFinite(t.score));
  }

  /** Trials as a model learns from them: a larger score is better, whatever the objective's direction. */
  protected observations(trials: Trial[]): Observation[] {
    return trials.map((t) => ({ values: t.hyperparameters, score: this.maximize ? t.score! : -t.score! }));
  }

  /**
   * What the model's proposals need from this oracle; `keys` are the values tried so far, and
   * `model` overrides the noise, the candidate count or the acquisition (expected improvement).
   */
  protected modelArgs(keys: Set<string>, model: Partial<Pick<AcquisitionArgs, 'alpha' | 'candidates' | 'acquisition'>> = {}): AcquisitionArgs {
    return {
      alpha: GP_ALPHA, candidates: GP_CANDIDATES, ...model,
      sampleRandom: (r) => this.sampleRandom(r), isSeen: (v) => this.seen(v, keys), owner: this.algorithm,
    };
  }

  /**
   * The values of the trials running now, which the Gaussian-process searchers count as
   * observations of the best score so far (the constant liar). `newOnly` leaves out the trials
   * that continue an earlier trial's model (multi-fidelity promotions), whose values are
   * observed already.
   */
  protected pendingValues(newOnly = false): HPValues[] {
    const requests = [...this.running.values()];
    return (newOnly ? requests.filter((r) => r.resumedFrom === undefined) : requests).map((r) => r.values);
  }

  /** Sorts best first. */
  protected byScore(trials: Trial[]): Trial[] {
    return [...trials].sort((a, b) => (this.maximize ? b.score! - a.score! : a.score! - b.score!));
  }

  /** Keys (valuesKey) of the values of every reported or running trial. */
  protected seenKeys(): Set<string> {
    const values = [...[...this.trials.values()].map((t) => t.hyperparameters), ...[...this.running.values()].map((r) => r.values)];
    return new Set(values.map(valuesKey));
  }

  protected seen(values: HPValues, keys: Set<string> = this.seenKeys()): boolean {
    return keys.has(valuesKey(values));
  }

  /** Random values of the active hyperparameters. */
  protected sampleRandom(rng: Random): HPValues {
    return assignActive(this.space.space, (spec) => sampleValue(spec, rng));
  }

  /** Random values not tried before, or null after maxCollisions repeats. */
  protected sampleUnseen(rng: Random): HPValues | null {
    const keys = this.seenKeys();
    for (let i = 0; i <= this.maxCollisions; i++) {
      const values = this.sampleRandom(rng);
      if (!this.seen(values, keys)) return values;
    }
    return null;
  }
}

/** The median of a non-empty list (the mean of the two middle values for an even length). */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** OracleArgs.medianStopping, checked and with its defaults filled in. */
function medianStoppingOf(value: OracleArgs['medianStopping'], owner: string): Required<MedianStoppingArgs> | null {
  if (value === undefined || value === false) return null;
  if (value !== true && (typeof value !== 'object' || value === null)) {
    throw new Error(`kerasm.${owner}: expected medianStopping to be true, false or { gracePeriod, minSamples }, got ${JSON.stringify(value)}`);
  }
  const { gracePeriod = 1, minSamples = 3 } = value === true ? {} : value;
  if (!Number.isInteger(gracePeriod) || gracePeriod < 1) throw new Error(`kerasm.${owner}: expected medianStopping.gracePeriod to be an integer >= 1, got ${gracePeriod}`);
  if (!Number.isInteger(minSamples) || minSamples < 1) throw new Error(`kerasm.${owner}: expected medianStopping.minSamples to be an integer >= 1, got ${minSamples}`);
  return { gracePeriod, minSamples };
}

/** The murmur3 finaliser: every input bit affects every output bit. */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}
