// The trial loop: ask the oracle for values, build and train a model with them, score it from
// its History, report back, keep the best weights, write the state, repeat.
//
// What must stay true:
// - A trial that throws, or whose loss stops being finite, is recorded as failed (with its
//   error), retried up to maxRetriesPerTrial times, and never ends the search. Mistakes in the
//   search's own setup (build returns no compiled Model, an objective missing from the History)
//   do end it, with an error saying what to fix, since every trial would fail the same way.
// - Every trial counts towards maxTrials, whatever its status, so a search always ends.
// - With a directory, state.json is rewritten after every trial, so an interrupted search
//   resumes (overwrite: false) without losing or repeating finished trials.
// see: KerasTuner's Tuner and Oracle (keras_tuner/engine), whose workflow this follows.

import { Model } from '../models/model.js';
import type { Tensor } from '../tensor.js';
import { Callback, type History, type Logs } from '../training/callbacks.js';
import { takeRows, type Data, type FitArgs } from '../training/fit.js';
import { setRandomSeed } from '../util/seed.js';
import { HyperParameters, type HyperParametersJSON } from './hyperparameters.js';
import { paretoFront, toObjectives, MEASURED_OBJECTIVES, type Objective, type ObjectiveLike } from './objective.js';
import type { Oracle, OracleState, Trial, TrialRequest } from './oracles/oracle.js';
import { openStore, type ProjectStore } from './storage.js';

/** Builds (and optionally trains) a model for one set of hyperparameter values. */
export interface HyperModel {
  /** Returns a compiled Model. */
  build(hp: HyperParameters): Model;
  /** Trains the model; model.fit(x, y, fitArgs) when absent. Must return fit()'s History. */
  fit?(hp: HyperParameters, model: Model, x: Data, y: Data, fitArgs: FitArgs): Promise<History>;
}

export interface TunerArgs {
  hypermodel: HyperModel | ((hp: HyperParameters) => Model);
  oracle: Oracle;
  /** Default 'val_loss'. Several objectives: trials are ranked by the first, getParetoFront() uses all. */
  objective?: ObjectiveLike | ObjectiveLike[];
  /** Trials to run, counting failed and invalid ones. */
  maxTrials: number;
  /** Models trained per trial; the score is their mean (default 1). */
  executionsPerTrial?: number;
  /** Seeds the oracle (unless it has its own) and each trial's weight initialisation. */
  seed?: number;
  /** Models with more parameters are marked invalid and not trained. */
  maxModelSize?: number;
  /** Seconds; no trial starts after the budget is spent. */
  timeBudget?: number;
  /** Re-runs of a failed trial with the same values (default 0). */
  maxRetriesPerTrial?: number;
  /**
   * Where the state and the best models' weights go; without it, results stay in memory.
   * Node: the folder <directory>/<projectName>/ (state.json, trial_<id>/). Browsers and workers:
   * IndexedDB, the record '<directory>/<projectName>' of the database 'kerasm-search' and the
   * models indexeddb://<directory>/<projectName>/trial_<id>.
   */
  directory?: string;
  projectName?: string;
  /** true: start over, deleting the project directory; false (default): resume from it. */
  overwrite?: boolean;
  /** Weights kept (on disk or in memory) for the best trials (default 3). */
  modelsToKeep?: number;
  onTrialEnd?: (trial: Trial) => void | Promise<void>;
}

interface StateFile {
  format: 'kerasm-search';
  version: 1;
  oracle: { algorithm: string; state: OracleState };
  objectives: Objective[];
  space: HyperParametersJSON;
  trials: Trial[];
}

/** Errors in the search's own setup: these end the search instead of failing one trial. */
class SetupError extends Error {}

function setupError(message: string): never {
  throw new SetupError(`kerasm.Tuner: ${message}`);
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'an object';
  return typeof value;
}

function checkPositive(name: string, value: number | undefined, integer: boolean): void {
  if (value === undefined) return;
  if (!(value > 0) || (integer && !Number.isInteger(value))) {
    throw new Error(`kerasm.Tuner: expected ${name} to be a positive ${integer ? 'integer' : 'number'}, got ${value}`);
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
 * Searches the hyperparameters of a model.
 * @example
 * ```ts
 * const tuner = new Tuner({
 *   hypermodel: (hp) => {
 *     const model = new Sequential([
 *       new Dense({ units: hp.int('units', { min: 4, max: 32, step: 4 }), activation: 'relu', inputShape: [8] }),
 *       new Dense({ units: 2, activation: 'softmax' }),
 *     ]);
 *     model.compile({ optimizer: hp.choice('optimizer', ['sgd', 'adam']), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
 *     return model;
 *   },
 *   oracle: new BayesianOptimization(),
 *   objective: 'val_accuracy',
 *   maxTrials: 20,
 *   directory: './search',
 * });
 * await tuner.search(x, y, { epochs: 5, validationSplit: 0.2 });
 * console.log(tuner.resultsSummary(3));
 * const [best] = await tuner.getBestModels(1);
 * ```
 */
export class Tuner {
  readonly oracle: Oracle;
  readonly objectives: Objective[];
  /** Every trial run so far, in order (also those restored from state.json). */
  trials: Trial[] = [];
  private readonly hypermodel: HyperModel;
  private readonly args: TunerArgs;
  private readonly modelsToKeep: number;
  private store: ProjectStore | null = null;
  private loaded = false;
  /** Weights of the best trials when there is no directory. */
  private readonly keptWeights = new Map<string, Float32Array[]>();
  /** Weights a multi-fidelity oracle may continue from. */
  private readonly resumeWeights = new Map<string, Float32Array[]>();
  /** Trials whose weights are in the project directory. */
  private readonly savedOnDisk = new Set<string>();

  constructor(args: TunerArgs) {
    this.args = args;
    const hm = args.hypermodel;
    if (typeof hm === 'function') this.hypermodel = { build: hm };
    else if (hm && typeof hm.build === 'function') this.hypermodel = hm;
    else throw new Error(`kerasm.Tuner: expected hypermodel to be a function (hp) => Model or {build(hp), fit?}, got ${describeValue(hm)}`);
    if (!args.oracle || typeof args.oracle.populateSpace !== 'function') {
      throw new Error(`kerasm.Tuner: expected an oracle (RandomSearch, GridSearch, BayesianOptimization, Hyperband), got ${describeValue(args.oracle)}`);
    }
    checkPositive('maxTrials', args.maxTrials, true);
    checkPositive('timeBudget', args.timeBudget, false);
    checkPositive('executionsPerTrial', args.executionsPerTrial, true);
    checkPositive('maxModelSize', args.maxModelSize, true);
    if (args.maxRetriesPerTrial !== undefined && !(Number.isInteger(args.maxRetriesPerTrial) && args.maxRetriesPerTrial >= 0)) {
      throw new Error(`kerasm.Tuner: expected maxRetriesPerTrial to be an integer >= 0, got ${args.maxRetriesPerTrial}`);
    }
    this.modelsToKeep = args.modelsToKeep ?? 3;
    this.objectives = toObjectives(args.objective ?? 'val_loss');
    this.oracle = args.oracle;
    this.oracle.maximize = this.objectives[0].direction === 'max';
    this.oracle.seed ??= args.seed;
  }

  /** Runs trials until maxTrials, the time budget, or the oracle runs out of values. */
  async search(x: Data, y: Data, fitArgs: FitArgs = {}): Promise<void> {
    await this.load();
    const start = performance.now();
    const budgetMs = (this.args.timeBudget ?? Infinity) * 1000;
    while (this.trials.length < this.args.maxTrials && performance.now() - start < budgetMs) {
      const trialId = String(this.trials.length).padStart(4, '0');
      const request = this.oracle.populateSpace(trialId);
      if (request === 'exhausted') break;
      const trial = await this.runTrial(trialId, request, x, y, fitArgs);
      this.trials.push(trial);
      this.oracle.update(trial);
      await this.keepBest(trial);
      await this.saveState();
      await this.args.onTrialEnd?.(structuredClone(trial));
    }
  }

  /** The best completed trials by the first objective, best first. */
  getBestTrials(n = 1): Trial[] {
    const sign = this.objectives[0].direction === 'max' ? -1 : 1;
    return this.trials
      .filter((t) => t.status === 'completed' && Number.isFinite(t.score))
      .sort((a, b) => sign * (a.score! - b.score!))
      .slice(0, n);
  }

  getBestHyperparameters(n = 1): HyperParameters[] {
    return this.getBestTrials(n).map((t) => this.oracle.space.withValues(t.hyperparameters));
  }

  /**
   * The best trials' models, rebuilt and given their trained weights (only the best
   * `modelsToKeep` trials have weights).
   */
  async getBestModels(n = 1): Promise<Model[]> {
    await this.load();
    const models: Model[] = [];
    for (const trial of this.getBestTrials(n)) {
      const model = this.build(this.oracle.space.withValues(trial.hyperparameters));
      // Layer names differ between builds (dense_3 vs dense_7), so weights are matched by position:
      // the same values rebuild the same architecture.
      const weights = this.keptWeights.get(trial.trialId);
      if (weights) model.setWeights(weights);
      else if (this.store && this.savedOnDisk.has(trial.trialId)) await model.loadWeights(this.store.modelUrl(trial.trialId), { matchBy: 'order' });
      else throw new Error(`kerasm.Tuner.getBestModels: the weights of trial ${trial.trialId} were not kept; ask for at most modelsToKeep (${this.modelsToKeep}) models`);
      models.push(model);
    }
    return models;
  }

  /** Completed trials no other completed trial beats on every objective. */
  getParetoFront(): Trial[] {
    return paretoFront(this.trials, this.objectives);
  }

  searchSpaceSummary(): string {
    return this.oracle.space.searchSpaceSummary();
  }

  /** The best n trials, their scores and values, then counts by status. */
  resultsSummary(n = 10): string {
    const objectives = this.objectives.map((o) => `${o.name} (${o.direction})`).join(', ');
    const best = this.getBestTrials(n);
    const lines = ['Results summary', `Objective: ${objectives}`, `Showing ${best.length} best trials`];
    for (const t of best) {
      lines.push('');
      lines.push(`Trial ${t.trialId}: score ${t.score!.toPrecision(5)} at epoch ${t.bestStep}`);
      for (const [k, v] of Object.entries(t.hyperparameters)) lines.push(`  ${k}: ${JSON.stringify(v)}`);
      const others = this.objectives.slice(1).map((o) => `${o.name} ${t.metrics[o.name]?.toPrecision(5)}`);
      if (others.length) lines.push(`  also: ${others.join(', ')}`);
    }
    const count = (s: Trial['status']) => this.trials.filter((t) => t.status === s).length;
    lines.push('', `Trials: ${this.trials.length} (${count('completed')} completed, ${count('failed')} failed, ${count('invalid')} invalid)`);
    return lines.join('\n');
  }

  // ---- One trial ----------------------------------------------------------------------------

  private build(hp: HyperParameters): Model {
    const model = this.hypermodel.build(hp);
    if (!(model instanceof Model)) setupError(`expected the hypermodel's build(hp) to return a Model, got ${describeValue(model)}`);
    if (!model.compiled && !model.compileArgs) {
      setupError(`expected the hypermodel's build(hp) to return a compiled model: call model.compile({ optimizer, loss, metrics }) inside build`);
    }
    return model;
  }

  private async runTrial(trialId: string, request: TrialRequest, x: Data, y: Data, fitArgs: FitArgs): Promise<Trial> {
    const retries = this.args.maxRetriesPerTrial ?? 0;
    let trial: Trial | null = null;
    for (let attempt = 0; attempt <= retries; attempt++) {
      trial = {
        trialId, hyperparameters: { ...request.values }, metrics: {}, status: 'running', score: null, bestStep: null,
        ...(request.epochs !== undefined ? { epochs: request.epochs, initialEpoch: request.initialEpoch ?? 0 } : {}),
        ...(request.resumedFrom !== undefined ? { resumedFrom: request.resumedFrom } : {}),
        ...(attempt > 0 ? { retries: attempt } : {}),
      };
      try {
        await this.execute(trial, request, attempt, x, y, fitArgs);
        return trial;
      } catch (e) {
        if (e instanceof SetupError) throw e;
        trial.status = 'failed';
        trial.error = e instanceof Error ? e.message : String(e);
      }
    }
    return trial!;
  }

  /** Builds, trains and scores; fills in `trial` (status completed or invalid) or throws. */
  private async execute(trial: Trial, request: TrialRequest, attempt: number, x: Data, y: Data, fitArgs: FitArgs): Promise<void> {
    const hp = this.oracle.space.withValues(request.values);
    const executions = this.args.executionsPerTrial ?? 1;
    const primary = this.objectives[0];
    const sign = primary.direction === 'max' ? 1 : -1;
    const runs: { metrics: Record<string, number>; bestStep: number; weights: Float32Array[]; model: Model }[] = [];
    for (let e = 0; e < executions; e++) {
      if (this.args.seed !== undefined) setRandomSeed((this.args.seed + 7919 * this.trials.length + 104729 * attempt + 31 * e) >>> 0);
      let model: Model;
      try {
        model = this.build(hp);
      } finally {
        // What the build registered before any error still belongs to the space.
        this.oracle.space.merge(hp);
        trial.hyperparameters = { ...hp.values };
      }
      const params = model.countParams();
      if (this.args.maxModelSize !== undefined && params > this.args.maxModelSize) {
        trial.status = 'invalid';
        trial.metrics = { params };
        trial.error = `the model has ${params} parameters, more than maxModelSize ${this.args.maxModelSize}`;
        return;
      }
      const from = request.resumedFrom !== undefined ? this.weightsOf(request.resumedFrom) : undefined;
      if (from) model.setWeights(from);
      if (request.resumedFrom !== undefined && !from) trial.initialEpoch = 0;
      const args: FitArgs = {
        verbose: 0, ...fitArgs,
        ...(request.epochs !== undefined ? { epochs: request.epochs, initialEpoch: from ? request.initialEpoch ?? 0 : 0 } : {}),
      };
      // The weights at the scored epoch, which are the ones kept and resumed from.
      // A measured primary objective ('params', 'latency') does not change with epochs: the last one is kept.
      const measured = (MEASURED_OBJECTIVES as readonly string[]).includes(primary.name);
      let best: { value: number; step: number; logs: Logs; weights: Float32Array[] } | null = null;
      const snapshot = new (class extends Callback {
        override onEpochEnd(epoch: number, logs: Logs = {}) {
          if (measured) {
            best = { value: 0, step: epoch, logs: { ...logs }, weights: model.weights.map((w) => w.read()) };
            return;
          }
          const value = logs[primary.name];
          if (value === undefined || !Number.isFinite(value)) return;
          if (best === null || sign * (value - best.value) > 0) best = { value, step: epoch, logs: { ...logs }, weights: model.weights.map((w) => w.read()) };
        }
      })();
      args.callbacks = [...(fitArgs.callbacks ?? []), snapshot];
      const history = this.hypermodel.fit ? await this.hypermodel.fit(hp, model, x, y, args) : await model.fit(x, y, args);
      this.checkHistory(history);
      if (best === null) {
        throw new Error(`objective '${primary.name}' was never finite: ${JSON.stringify(history.history[primary.name])}`);
      }
      const found = best as { value: number; step: number; logs: Logs; weights: Float32Array[] };
      model.setWeights(found.weights);
      const metrics: Record<string, number> = { ...found.logs, params };
      if (this.objectives.some((o) => o.name === 'latency')) metrics.latency = this.measureLatency(model, x);
      runs.push({ metrics, bestStep: found.step, weights: found.weights, model });
    }
    // The mean over executions of every metric; the weights and step of the best execution.
    const metrics: Record<string, number> = {};
    for (const key of Object.keys(runs[0].metrics)) metrics[key] = runs.reduce((s, r) => s + r.metrics[key], 0) / runs.length;
    const bestRun = runs.reduce((a, b) => (sign * (b.metrics[primary.name] - a.metrics[primary.name]) > 0 ? b : a));
    trial.metrics = metrics;
    trial.score = metrics[primary.name];
    trial.bestStep = bestRun.bestStep;
    trial.status = 'completed';
    this.pending = { weights: bestRun.weights, model: bestRun.model };
  }

  /** The trial that just completed: its best execution's model, holding its scored weights. */
  private pending: { weights: Float32Array[]; model: Model } | null = null;

  /** A non-finite loss fails the trial; an objective missing from the History ends the search. */
  private checkHistory(history: History): void {
    if (!history || typeof history !== 'object' || !history.history) setupError(`expected the hypermodel's fit to return fit()'s History, got ${describeValue(history)}`);
    const losses = history.history.loss ?? [];
    const bad = losses.findIndex((l) => !Number.isFinite(l));
    if (bad >= 0) throw new Error(`the loss became ${losses[bad]} at epoch ${history.epoch[bad]}`);
    for (const o of this.objectives) {
      if ((MEASURED_OBJECTIVES as readonly string[]).includes(o.name)) continue;
      if (!(o.name in history.history)) {
        setupError(`objective '${o.name}' is not in the training history, which has ${Object.keys(history.history).join(', ') || 'nothing'}` +
          (o.name.startsWith('val_') ? ' (val_ metrics need validationSplit or validationData in the fit arguments)' : ''));
      }
    }
  }

  /**
   * Inference milliseconds per sample, by predict() on up to 32 samples after a warm-up: the best
   * of 3 rounds, each repeating predict() for at least 5 ms, since browsers coarsen timers.
   */
  private measureLatency(model: Model, x: Data): number {
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

  private weightsOf(trialId: string): Float32Array[] | undefined {
    return this.resumeWeights.get(trialId) ?? this.keptWeights.get(trialId);
  }

  // ---- Keeping results ----------------------------------------------------------------------

  /** Keeps the new trial's weights if it is among the best, and drops those that fell out. */
  private async keepBest(trial: Trial): Promise<void> {
    const pending = trial.status === 'completed' ? this.pending : null;
    this.pending = null;
    const weights = pending?.weights;
    if (weights && this.oracle.resumableTrialIds.size > 0) this.resumeWeights.set(trial.trialId, weights);
    const resumable = this.oracle.resumableTrialIds;
    for (const id of [...this.resumeWeights.keys()]) if (!resumable.has(id)) this.resumeWeights.delete(id);

    const keep = new Set(this.getBestTrials(this.modelsToKeep).map((t) => t.trialId));
    if (weights && keep.has(trial.trialId)) {
      if (this.store) {
        await this.store.saveModel(trial.trialId, pending!.model);
        this.savedOnDisk.add(trial.trialId);
      } else {
        this.keptWeights.set(trial.trialId, weights);
      }
    }
    for (const id of [...this.keptWeights.keys()]) if (!keep.has(id)) this.keptWeights.delete(id);
    for (const id of [...this.savedOnDisk]) {
      if (!keep.has(id)) {
        await this.store!.deleteModel(id);
        this.savedOnDisk.delete(id);
      }
    }
  }

  // ---- Persistence --------------------------------------------------------------------------

  /** Opens the project directory once: starts over (overwrite) or restores state.json. */
  private async load(): Promise<void> {
    if (this.loaded) return;
    this.loaded = true;
    if (this.args.directory === undefined) return;
    this.store = await openStore(this.args.directory, this.args.projectName ?? 'untitled_project');
    if (this.args.overwrite) {
      await this.store.clear();
      return;
    }
    const text = await this.store.readState();
    if (text === null) return this.store.removeStale(new Set());
    const state = this.parseState(text);
    this.oracle.space.merge(state.space.space);
    for (const trial of state.trials) this.oracle.update(trial);
    this.oracle.setState(state.oracle.state);
    this.trials = state.trials;
    const keep = new Set(this.getBestTrials(this.modelsToKeep).map((t) => t.trialId));
    for (const id of keep) this.savedOnDisk.add(id);
    await this.store.removeStale(keep);
  }

  private parseState(text: string): StateFile {
    const path = this.store!.statePath;
    const corrupt = (why: string): never => {
      throw new Error(`kerasm.Tuner: the state file ${path} is corrupt (${why}); it was left untouched: repair or delete it, or pass overwrite: true to start over`);
    };
    let state: StateFile;
    try {
      state = JSON.parse(text) as StateFile;
    } catch (e) {
      return corrupt(`not valid JSON: ${(e as Error).message}`);
    }
    if (typeof state !== 'object' || state === null || state.format !== 'kerasm-search') corrupt('not a kerasm search state');
    if (state.version !== 1) corrupt(`version ${String(state.version)}, expected 1`);
    if (!Array.isArray(state.trials) || !state.space || !Array.isArray(state.space.space) || !state.oracle) corrupt('missing trials, space or oracle');
    for (const t of state.trials) {
      if (typeof t?.trialId !== 'string' || typeof t.hyperparameters !== 'object' || typeof t.status !== 'string') corrupt('a trial lacks its id, hyperparameters or status');
    }
    const className = this.oracle.algorithm;
    if (state.oracle.algorithm !== className) {
      throw new Error(`kerasm.Tuner: ${path} was written by a ${state.oracle.algorithm} search, not ${className}; use another projectName or overwrite: true`);
    }
    const names = (os: Objective[]) => os.map((o) => `${o.name} (${o.direction})`).join(', ');
    if (names(state.objectives ?? []) !== names(this.objectives)) {
      throw new Error(`kerasm.Tuner: ${path} was written for objectives ${names(state.objectives ?? [])}, not ${names(this.objectives)}; use another projectName or overwrite: true`);
    }
    return state;
  }

  private async saveState(): Promise<void> {
    if (!this.store) return;
    const state: StateFile = {
      format: 'kerasm-search',
      version: 1,
      oracle: { algorithm: this.oracle.algorithm, state: this.oracle.getState() },
      objectives: this.objectives,
      space: this.oracle.space.toJSON(),
      trials: this.trials,
    };
    await this.store.writeState(JSON.stringify(state, null, 1));
  }
}

