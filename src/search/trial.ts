// One attempt at one trial: seed, build, size check, continue from earlier weights, train with a
// snapshot of the weights at the scored epoch, check the History, measure, score. The tuner runs
// it on its own thread, and each pool worker runs the very same function, so that the two paths
// cannot drift apart.
//
// What must stay true:
// - A trial's own failure (a throwing build or fit, a loss that stops being finite) comes back
//   as an outcome with status 'failed'; only mistakes in the search's setup throw (SetupError),
//   since every trial would fail the same way.
// - The outcome carries the space the build grew even when the build threw, because what it
//   registered before the error still belongs to the space.

import { Model } from '../models/model.js';
import type { Tensor } from '../tensor.js';
import { Callback, type History, type Logs } from '../training/callbacks.js';
import { takeRows, type Data, type FitArgs } from '../training/fit.js';
import { setRandomSeed } from '../util/seed.js';
import { HyperParameters, type HPValues, type HyperParameterSpec } from './hyperparameters.js';
import { MEASURED_OBJECTIVES, type Objective } from './objective.js';
import type { TrialRequest, TrialStatus } from './oracles/oracle.js';

/** Builds (and optionally trains) a model for one set of hyperparameter values. */
export interface HyperModel {
  /** Returns a compiled Model. */
  build(hp: HyperParameters): Model;
  /** Trains the model; model.fit(x, y, fitArgs) when absent. Must return fit()'s History. */
  fit?(hp: HyperParameters, model: Model, x: Data, y: Data, fitArgs: FitArgs): Promise<History>;
}

/**
 * A hypermodel that workers can load: a module whose export `exportName` (default 'default') is
 * a factory `(config) => HyperModel | ((hp) => Model)`, possibly async. A closure cannot be sent
 * to another thread; a module URL can, and every worker imports it once.
 * @example
 * ```ts
 * // digits.mjs: export const hypermodel = ({ classes }) => (hp) => { ...; return model; };
 * const tuner = new Tuner({
 *   hypermodel: { module: new URL('./digits.mjs', import.meta.url), exportName: 'hypermodel', config: { classes: 10 } },
 *   oracle: new RandomSearch(), objective: 'val_accuracy', maxTrials: 20, workers: 2,
 * });
 * ```
 */
export interface HyperModelModule {
  module: string | URL;
  exportName?: string;
  /** Passed to the factory; must survive structuredClone. */
  config?: unknown;
}

export type HyperModelLike = HyperModel | ((hp: HyperParameters) => Model) | HyperModelModule;

/** Errors in the search's own setup: these end the search instead of failing one trial. */
export class SetupError extends Error {}

export function setupError(message: string): never {
  throw new SetupError(`kerasm.Tuner: ${message}`);
}

export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'an object';
  return typeof value;
}

export function isHyperModelModule(value: unknown): value is HyperModelModule {
  if (typeof value !== 'object' || value === null || !('module' in value)) return false;
  const module = (value as HyperModelModule).module;
  return typeof module === 'string' || module instanceof URL;
}

/** A HyperModel from a function or a {build, fit?} object; null if it is neither. */
export function asHyperModel(value: unknown): HyperModel | null {
  if (typeof value === 'function') return { build: value as (hp: HyperParameters) => Model };
  if (typeof value === 'object' && value !== null && typeof (value as HyperModel).build === 'function') return value as HyperModel;
  return null;
}

/**
 * The module's URL as an import() specifier. Relative paths are refused: a worker would resolve
 * them against the bundle's URL, not against the file that wrote them.
 */
export function moduleSpecifier(module: string | URL): string {
  const text = String(module);
  if (text.startsWith('./') || text.startsWith('../') || (text.startsWith('/') && !text.startsWith('//'))) {
    throw new Error(`kerasm.Tuner: expected the hypermodel module as an absolute URL or a package name, got '${text}'; write new URL('${text}', import.meta.url)`);
  }
  return text;
}

/** Imports a hypermodel module and calls its factory. */
export async function loadHyperModel(ref: HyperModelModule): Promise<HyperModel> {
  const specifier = moduleSpecifier(ref.module);
  const name = ref.exportName ?? 'default';
  let exports: Record<string, unknown>;
  try {
    exports = (await import(/* webpackIgnore: true */ /* @vite-ignore */ specifier)) as Record<string, unknown>;
  } catch (e) {
    setupError(`could not import the hypermodel module ${specifier}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const factory = exports[name];
  if (typeof factory !== 'function') {
    setupError(`expected the hypermodel module ${specifier} to export '${name}' as a function (config) => HyperModel, got ${describeValue(factory)}`);
  }
  const made = await (factory as (config: unknown) => unknown)(ref.config);
  const hypermodel = asHyperModel(made);
  if (!hypermodel) {
    setupError(`expected ${name}(config) of ${specifier} to return a function (hp) => Model or {build(hp), fit?}, got ${describeValue(made)}`);
  }
  return hypermodel;
}

/** What stays the same for every trial of a search (sent to each worker once). */
export interface TrialSettings {
  objectives: Objective[];
  executionsPerTrial: number;
  maxModelSize?: number;
  seed?: number;
  /** Seconds an attempt may take; past it training stops at the next batch and the attempt fails. */
  trialTimeout?: number;
  /**
   * When the search's time budget runs out (Date.now() time, the same clock in every thread):
   * training stops at the first batch that ends past it, and the attempt completes with its best
   * epoch so far (the one cut short is validated and counts too).
   */
  stopAt?: number;
}

/** One attempt at one trial. */
export interface TrialTask {
  trialId: string;
  /** The trial's place in start order, which its seed derives from. */
  index: number;
  /** 0 for the first attempt, 1 for the first retry, ... */
  attempt: number;
  request: TrialRequest;
  /** The oracle's space when the trial was proposed. */
  space: HyperParameterSpec[];
  /** The weights of request.resumedFrom, when the tuner still has them. */
  resumeWeights?: Float32Array[];
}

export interface TrialOutcome {
  status: Exclude<TrialStatus, 'running'>;
  error?: string;
  /** The attempt failed because it ran past trialTimeout (a retry would too). */
  timedOut?: boolean;
  /** The search's time budget stopped training before its last epoch (see TrialSettings.stopAt). */
  cutShort?: boolean;
  /** The first objective per epoch trained (see Trial.curve). */
  curve?: (number | null)[];
  /** The median stopping rule (TrialRequest.stopIfWorse) ended training early. */
  stoppedEarly?: boolean;
  metrics: Record<string, number>;
  score: number | null;
  bestStep: number | null;
  /** The values the build registered (defaults filled in). */
  hyperparameters: HPValues;
  /** The space after the build, to merge into the oracle's. */
  space: HyperParameterSpec[];
  /** The best execution's weights at its scored epoch (completed trials). */
  weights?: Float32Array[];
  /** The model holding those weights, when the attempt ran on this thread. */
  model?: Model;
}

/** Builds a model and checks that it is a compiled Model. */
export function buildModel(hypermodel: HyperModel, hp: HyperParameters): Model {
  const model = hypermodel.build(hp);
  if (!(model instanceof Model)) {
    const foreign = typeof (model as { countParams?: unknown } | null)?.countParams === 'function';
    setupError(foreign
      ? `the hypermodel's build(hp) returned a ${describeValue(model)} made by another copy of kerasm; the hypermodel module must load kerasm ` +
        'the way the Tuner was loaded (import of the ES bundle, or require of the CommonJS one)'
      : `expected the hypermodel's build(hp) to return a Model, got ${describeValue(model)}`);
  }
  if (!model.compiled && !model.compileArgs) {
    setupError(`expected the hypermodel's build(hp) to return a compiled model: call model.compile({ optimizer, loss, metrics }) inside build`);
  }
  return model;
}

/** The outcome of an attempt that failed before it produced any result. */
export function failedOutcome(task: TrialTask, error?: string): TrialOutcome {
  return {
    status: 'failed', ...(error !== undefined ? { error } : {}), metrics: {}, score: null, bestStep: null,
    hyperparameters: { ...task.request.values }, space: task.space,
  };
}

/** Runs one attempt; throws only a SetupError. */
export async function runTrial(
  hypermodel: HyperModel, settings: TrialSettings, task: TrialTask, x: Data, y: Data, fitArgs: FitArgs,
): Promise<TrialOutcome> {
  const hp = new HyperParameters(task.request.values);
  hp.merge(task.space);
  const outcome = failedOutcome(task);
  try {
    await execute(hypermodel, settings, task, hp, outcome, x, y, fitArgs);
  } catch (e) {
    if (e instanceof SetupError) throw e;
    outcome.status = 'failed';
    outcome.error = e instanceof Error ? e.message : String(e);
    if (e instanceof TrialTimeout) outcome.timedOut = true;
  }
  return outcome;
}

/** The attempt ran past trialTimeout. */
class TrialTimeout extends Error {}

/**
 * Stops training at the first batch that ends at or past `at` on `clock`, and remembers where.
 * Both the trial's own timeout and the search's budget stop a trial this way.
 */
class ClockStop extends Callback {
  private epoch = 0;
  stoppedAt: { epoch: number; batch: number } | null = null;
  constructor(private readonly at: number, private readonly clock: () => number) {
    super();
  }

  passed(): boolean {
    return this.clock() >= this.at;
  }

  override onEpochBegin(epoch: number): void {
    this.epoch = epoch;
  }

  override onBatchEnd(batch: number): void {
    if (this.stoppedAt === null && this.passed()) {
      this.stoppedAt = { epoch: this.epoch, batch };
      this.model!.stopTraining = true;
    }
  }
}

/** trialTimeout (performance.now() time): `check()` throws a TrialTimeout once it has passed. */
class TrialDeadline extends ClockStop {
  constructor(private readonly seconds: number) {
    super(performance.now() + seconds * 1000, () => performance.now());
  }

  /** Throws if training was stopped, or, given the execution about to start, if time is up. */
  check(next?: { execution: number; of: number }): void {
    if (this.stoppedAt) {
      throw new TrialTimeout(`the trial ran past trialTimeout ${this.seconds} s: training stopped after batch ${this.stoppedAt.batch} of epoch ${this.stoppedAt.epoch}`);
    }
    if (next && this.passed()) {
      throw new TrialTimeout(`the trial ran past trialTimeout ${this.seconds} s before execution ${next.execution} of ${next.of}`);
    }
  }
}

async function execute(
  hypermodel: HyperModel, settings: TrialSettings, task: TrialTask, hp: HyperParameters, outcome: TrialOutcome,
  x: Data, y: Data, fitArgs: FitArgs,
): Promise<void> {
  const { request } = task;
  const primary = settings.objectives[0];
  const sign = primary.direction === 'max' ? 1 : -1;
  const measured = (MEASURED_OBJECTIVES as readonly string[]).includes(primary.name);
  const runs: { metrics: Record<string, number>; bestStep: number; weights: Float32Array[]; model: Model; curve: (number | null)[] }[] = [];
  const deadline = settings.trialTimeout === undefined ? null : new TrialDeadline(settings.trialTimeout);
  // The search's budget, on Date.now(), the clock every thread shares (see TrialSettings.stopAt).
  const budget = settings.stopAt === undefined ? null : new ClockStop(settings.stopAt, Date.now);
  for (let e = 0; e < settings.executionsPerTrial; e++) {
    // Past the search's budget, the executions done so far make the trial.
    if (e > 0 && budget?.passed()) {
      outcome.cutShort = true;
      break;
    }
    if (e > 0) deadline?.check({ execution: e + 1, of: settings.executionsPerTrial });
    if (settings.seed !== undefined) setRandomSeed((settings.seed + 7919 * task.index + 104729 * task.attempt + 31 * e) >>> 0);
    let model: Model;
    try {
      model = buildModel(hypermodel, hp);
    } finally {
      outcome.space = hp.space;
      outcome.hyperparameters = { ...hp.values };
    }
    const params = model.countParams();
    if (settings.maxModelSize !== undefined && params > settings.maxModelSize) {
      outcome.status = 'invalid';
      outcome.metrics = { params };
      outcome.error = `the model has ${params} parameters, more than maxModelSize ${settings.maxModelSize}`;
      return;
    }
    const from = task.resumeWeights;
    if (from) model.setWeights(from);
    const args: FitArgs = {
      verbose: 0, ...fitArgs,
      ...(request.epochs !== undefined ? { epochs: request.epochs, initialEpoch: from ? request.initialEpoch ?? 0 : 0 } : {}),
    };
    // The weights at the scored epoch, which are the ones kept and resumed from.
    // A measured primary objective ('params', 'latency') does not change with epochs: the last one is kept.
    let best: { value: number; step: number; logs: Logs; weights: Float32Array[] } | null = null;
    // The objective after each epoch, and the median stopping rule's check against it.
    const curve: (number | null)[] = [];
    let stopped = false;
    const snapshot = new (class extends Callback {
      override onEpochEnd(epoch: number, logs: Logs = {}) {
        if (measured) {
          best = { value: 0, step: epoch, logs: { ...logs }, weights: model.weights.map((w) => w.read()) };
          return;
        }
        const value = logs[primary.name];
        const finite = value !== undefined && Number.isFinite(value);
        curve.push(finite ? value : null);
        if (finite && (best === null || sign * (value - best.value) > 0)) best = { value, step: epoch, logs: { ...logs }, weights: model.weights.map((w) => w.read()) };
        // After the last epoch there is nothing left to stop.
        const last = this.params !== undefined && epoch + 1 >= this.params.epochs;
        const threshold = request.stopIfWorse?.[curve.length - 1];
        if (!last && threshold != null && (best === null || sign * (best.value - threshold) < 0)) {
          stopped = true;
          model.stopTraining = true;
        }
      }
    })();
    args.callbacks = [...(fitArgs.callbacks ?? []), snapshot, ...(deadline ? [deadline] : []), ...(budget ? [budget] : [])];
    const history = hypermodel.fit ? await hypermodel.fit(hp, model, x, y, args) : await model.fit(x, y, args);
    deadline?.check();
    if (budget?.stoppedAt) outcome.cutShort = true;
    checkHistory(history, settings.objectives);
    if (best === null) {
      throw new Error(`objective '${primary.name}' was never finite: ${JSON.stringify(history.history[primary.name])}`);
    }
    const found = best as { value: number; step: number; logs: Logs; weights: Float32Array[] };
    model.setWeights(found.weights);
    const metrics: Record<string, number> = { ...found.logs, params };
    if (settings.objectives.some((o) => o.name === 'latency')) metrics.latency = measureLatency(model, x);
    runs.push({ metrics, bestStep: found.step, weights: found.weights, model, curve });
    // A setting the rule stopped once is not worth the other executions.
    if (stopped) {
      outcome.stoppedEarly = true;
      break;
    }
  }
  // The mean over executions of every metric; the weights and step of the best execution.
  const metrics: Record<string, number> = {};
  for (const key of Object.keys(runs[0].metrics)) metrics[key] = runs.reduce((s, r) => s + r.metrics[key], 0) / runs.length;
  const bestRun = runs.reduce((a, b) => (sign * (b.metrics[primary.name] - a.metrics[primary.name]) > 0 ? b : a));
  outcome.metrics = metrics;
  if (!measured) outcome.curve = meanCurve(runs.map((r) => r.curve));
  outcome.score = metrics[primary.name];
  outcome.bestStep = bestRun.bestStep;
  outcome.status = 'completed';
  outcome.weights = bestRun.weights;
  outcome.model = bestRun.model;
}

/** Epoch by epoch, the mean over the executions that trained that epoch (null if any was not finite). */
function meanCurve(curves: (number | null)[][]): (number | null)[] {
  const length = Math.max(...curves.map((c) => c.length));
  return Array.from({ length }, (_, i) => {
    const values = curves.filter((c) => c.length > i).map((c) => c[i]);
    return values.includes(null) ? null : (values as number[]).reduce((a, b) => a + b, 0) / values.length;
  });
}

/** A non-finite loss fails the trial; an objective missing from the History ends the search. */
function checkHistory(history: History, objectives: readonly Objective[]): void {
  if (!history || typeof history !== 'object' || !history.history) setupError(`expected the hypermodel's fit to return fit()'s History, got ${describeValue(history)}`);
  const losses = history.history.loss ?? [];
  const bad = losses.findIndex((l) => !Number.isFinite(l));
  if (bad >= 0) throw new Error(`the loss became ${losses[bad]} at epoch ${history.epoch[bad]}`);
  for (const o of objectives) {
    if ((MEASURED_OBJECTIVES as readonly string[]).includes(o.name)) continue;
    if (!(o.name in history.history)) {
      setupError(`objective '${o.name}' is not in the training history, which has ${Object.keys(history.history).join(', ') || 'nothing'}` +
        (o.name.startsWith('val_') ? ' (val_ metrics need validationSplit or validationData in the fit arguments)' : ''));
    }
  }
}

/** The first `count` samples of x (for timing inference). */
function firstSamples(x: Data, count: number): Data {
  const cut = (t: Tensor) => takeRows(t, null, 0, Math.min(count, t.shape[0]));
  if (Array.isArray(x) && x.length > 0 && typeof x[0] === 'object' && 'shape' in (x[0] as object)) return (x as Tensor[]).map(cut);
  if (Array.isArray(x)) return (x as number[][]).slice(0, count);
  return cut(x);
}

/**
 * Inference milliseconds per sample, by predict() on up to 32 samples after a warm-up: the best
 * of 3 rounds, each repeating predict() for at least 5 ms, since browsers coarsen timers.
 */
function measureLatency(model: Model, x: Data): number {
  const sample = firstSamples(x, 32);
  const first = Array.isArray(sample) && sample[0] && typeof sample[0] === 'object' && 'shape' in sample[0] ? (sample[0] as Tensor) : sample;
  const count = Array.isArray(first) ? first.length : (first as Tensor).shape[0];
  model.predict(sample);
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    const t0 = performance.now();
    let calls = 0;
    let elapsed = 0;
    do {
      model.predict(sample);
      calls++;
      elapsed = performance.now() - t0;
    } while (elapsed < 5);
    best = Math.min(best, elapsed / calls);
  }
  return best / Math.max(1, count);
}
