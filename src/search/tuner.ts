// The trial loop: ask the oracle for values, build and train a model with them, score it from
// its History, report back, keep the best weights, write the state, repeat. With workers, up to
// that many trials run at once, each in its own worker thread; the loop asks the oracle for a
// new trial whenever one is free.
//
// What must stay true:
// - A trial that throws, or whose loss stops being finite, is recorded as failed (with its
//   error), retried up to maxRetriesPerTrial times, and never ends the search. Mistakes in the
//   search's own setup (build returns no compiled Model, an objective missing from the History)
//   do end it, with an error saying what to fix, since every trial would fail the same way.
// - A worker that dies costs only the attempt it was running: the trial is retried (at least
//   once, whatever maxRetriesPerTrial says) on the worker that replaces it.
// - Every trial counts towards maxTrials, whatever its status, so a search always ends.
// - Trial ids follow start order; trials may end in any order. `trials` holds finished trials
//   sorted by id.
// - With a directory, the state is rewritten after every trial. It holds the finished trials
//   and the requests of those still running, so an interrupted search resumes (overwrite:
//   false) by running again only the trials that were in flight.
// see: KerasTuner's Tuner and Oracle (keras_tuner/engine), whose workflow this follows.

import { layersTfjsCannotRead } from '../io/tfjs_classes.js';
import type { IOHandler } from '../io/types.js';
import type { Model } from '../models/model.js';
import type { Data, FitArgs } from '../training/fit.js';
import { availableCores, WorkerCrashError, WorkerTimeoutError } from '../workers/pool.js';
import { bundleUrl } from '../workers/script.js';
import { HyperParameters, type HyperParametersJSON } from './hyperparameters.js';
import { paretoFront, toObjectives, type Objective, type ObjectiveLike } from './objective.js';
import type { Oracle, OracleState, Trial, TrialRequest } from './oracles/oracle.js';
import { defaultSearchVerbose, ProgressLine, progressOf } from './progress.js';
import { openStore, type ProjectStore } from './storage.js';
import {
  asHyperModel, buildModel, describeValue, failedOutcome, isHyperModelModule, loadHyperModel,
  type HyperModel, type HyperModelLike, type HyperModelModule, type TrialOutcome, type TrialSettings, type TrialTask,
} from './trial.js';
import { inThreadRunner, workerRunner, workersReport, type TrialRunner, type WorkerRunner } from './trial_runner.js';

export type { HyperModel, HyperModelModule } from './trial.js';

export interface TunerArgs {
  /**
   * A function (hp) => Model, a {build(hp), fit?} object, or, for trials in workers, a module
   * reference {module, exportName?, config?} (see HyperModelModule).
   */
  hypermodel: HyperModelLike;
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
  /**
   * Seconds of search. No trial starts after the budget is spent, and the trials still running
   * stop at the end of their current batch and complete with their best epoch so far (the epoch
   * cut short is validated and counts too). A hypermodel whose own fit leaves out the callbacks
   * it is given cannot be stopped this way.
   */
  timeBudget?: number;
  /** Re-runs of a failed trial with the same values (default 0). A timed-out trial is not re-run. */
  maxRetriesPerTrial?: number;
  /**
   * Seconds a trial may take. Past it, training stops at the end of the current batch and the
   * trial fails with an error saying so. A trial in a worker that has not returned by 1.5 times
   * the limit plus one second (code stuck outside training) has its worker ended and replaced.
   * On the tuner's own thread only the first, cooperative stop is possible.
   */
  trialTimeout?: number;
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
  /**
   * Trials run at once, each in its own worker (a Node worker_thread or a browser module Web
   * Worker) running the kerasm bundle. Default: the number of cores when the hypermodel is a
   * module reference; 1 otherwise, which runs trials on this thread.
   */
  workers?: number;
  /**
   * The module workers run: default the kerasm bundle this Tuner comes from. An app that
   * bundles kerasm into its own code points this at a copy of dist/kerasm.js instead, since
   * its own bundle would run the whole app in every worker.
   */
  workerScript?: string | URL;
  /** 1: a progress line after every trial (redrawn in place in a terminal). Default: 1 in a Node terminal, else 0. */
  verbose?: 0 | 1;
}

/** The worker pool of a search, as it ended. */
export interface WorkerStats {
  workers: number;
  /** Workers started, replacements included; each received the training data once. */
  started: number;
  /** Workers that died and were replaced. */
  crashed: number;
  /** Workers ended and replaced because their trial ran well past trialTimeout. */
  timedOut: number;
  /** Whether the workers received the training data as shared memory (SharedArrayBuffer). */
  sharedData: boolean;
  /** The kernels the workers computed with: the tuner thread's flavor ('simd', 'relaxed-simd', 'reference'). */
  kernels: string;
  /** Whether every worker instantiated the tuner thread's compiled kernel module instead of compiling its own. */
  reusedKernels: boolean;
}

interface StateFile {
  format: 'kerasm-search';
  version: 1;
  oracle: { algorithm: string; state: OracleState };
  objectives: Objective[];
  space: HyperParametersJSON;
  /** Finished trials, by id. */
  trials: Trial[];
  /** Trials running when the state was written, run again on resume. */
  running?: { trialId: string; request: TrialRequest }[];
}

/** A trial that has been proposed and not yet finished. */
interface Started {
  trialId: string;
  /** Its place in start order. */
  index: number;
  request: TrialRequest;
}

function checkPositive(name: string, value: number | undefined, integer: boolean): void {
  if (value === undefined) return;
  if (!(value > 0) || (integer && !Number.isInteger(value))) {
    throw new Error(`kerasm.Tuner: expected ${name} to be a positive ${integer ? 'integer' : 'number'}, got ${value}`);
  }
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
 * Trials in parallel: the hypermodel comes from a module that every worker imports.
 * ```ts
 * const tuner = new Tuner({
 *   hypermodel: { module: new URL('./hypermodel.mjs', import.meta.url), exportName: 'classifier' },
 *   oracle: new RandomSearch(), objective: 'val_accuracy', maxTrials: 20, workers: 2,
 * });
 * for await (const trial of tuner.searchIterator(x, y, { epochs: 5, validationSplit: 0.2 })) {
 *   console.log(trial.trialId, trial.status, trial.score);
 * }
 * ```
 */
export class Tuner {
  readonly oracle: Oracle;
  readonly objectives: Objective[];
  /** Every finished trial, sorted by id (also those restored from the saved state). */
  trials: Trial[] = [];
  /** The worker pool of the last search; null when its trials ran on this thread. */
  workerStats: WorkerStats | null = null;
  private hypermodel: HyperModel | null;
  private hypermodelLoading: Promise<HyperModel> | null = null;
  private readonly args: TunerArgs;
  private readonly modelsToKeep: number;
  private store: ProjectStore | null = null;
  private loaded = false;
  /** Trials found running in the saved state, to run again first. */
  private rerun: Started[] = [];
  /** Weights of the best trials when there is no directory. */
  private readonly keptWeights = new Map<string, Float32Array[]>();
  /** Weights a multi-fidelity oracle may continue from. */
  private readonly resumeWeights = new Map<string, Float32Array[]>();
  /** Trials whose weights are in the project directory. */
  private readonly savedOnDisk = new Set<string>();
  /** Trials running now. */
  private readonly running = new Map<string, Started>();

  constructor(args: TunerArgs) {
    this.args = args;
    const hm = args.hypermodel;
    this.hypermodel = asHyperModel(hm);
    if (!this.hypermodel && !isHyperModelModule(hm)) {
      throw new Error(`kerasm.Tuner: expected hypermodel to be a function (hp) => Model, {build(hp), fit?} or a module reference {module, exportName?, config?}, got ${describeValue(hm)}`);
    }
    if (!args.oracle || typeof args.oracle.populateSpace !== 'function') {
      throw new Error(`kerasm.Tuner: expected an oracle (RandomSearch, GridSearch, BayesianOptimization, Hyperband), got ${describeValue(args.oracle)}`);
    }
    checkPositive('maxTrials', args.maxTrials, true);
    checkPositive('timeBudget', args.timeBudget, false);
    checkPositive('executionsPerTrial', args.executionsPerTrial, true);
    checkPositive('maxModelSize', args.maxModelSize, true);
    checkPositive('workers', args.workers, true);
    checkPositive('trialTimeout', args.trialTimeout, false);
    if (args.maxRetriesPerTrial !== undefined && !(Number.isInteger(args.maxRetriesPerTrial) && args.maxRetriesPerTrial >= 0)) {
      throw new Error(`kerasm.Tuner: expected maxRetriesPerTrial to be an integer >= 0, got ${args.maxRetriesPerTrial}`);
    }
    if (args.workers !== undefined && args.workers > 1 && this.hypermodel) {
      throw new Error(`kerasm.Tuner: workers: ${args.workers} needs the hypermodel as a module reference, ` +
        "{ module: new URL('./hypermodel.mjs', import.meta.url), exportName: 'build' }, since a function cannot be sent to a worker");
    }
    if (args.verbose !== undefined && args.verbose !== 0 && args.verbose !== 1) {
      throw new Error(`kerasm.Tuner: expected verbose to be 0 or 1, got ${String(args.verbose)}`);
    }
    this.modelsToKeep = args.modelsToKeep ?? 3;
    this.objectives = toObjectives(args.objective ?? 'val_loss');
    this.oracle = args.oracle;
    this.oracle.maximize = this.objectives[0].direction === 'max';
    this.oracle.seed ??= args.seed;
  }

  /** Runs trials until maxTrials, the time budget, or the oracle runs out of values. */
  async search(x: Data, y: Data, fitArgs: FitArgs = {}): Promise<void> {
    for await (const trial of this.searchIterator(x, y, fitArgs)) void trial;
  }

  /**
   * Runs the search and yields each trial as it finishes (in the order they finish, which with
   * workers is not always id order). Leaving the loop early stops the search: trials still
   * running are abandoned and, with a directory, run again by the next search.
   * @example
   * ```ts
   * for await (const trial of tuner.searchIterator(x, y, { epochs: 5, validationSplit: 0.2 })) {
   *   if (trial.score !== null && trial.score > 0.99) break;
   * }
   * ```
   */
  async *searchIterator(x: Data, y: Data, fitArgs: FitArgs = {}): AsyncGenerator<Trial, void, undefined> {
    await this.load();
    // The budget's end, on the clock the trials' budget stop reads too (Date.now(), the same in
    // every thread), so that a trial it stopped never finds time left to start another.
    const stopAt = this.args.timeBudget === undefined ? undefined : Date.now() + this.args.timeBudget * 1000;
    const withinBudget = () => stopAt === undefined || Date.now() < stopAt;
    const secondsLeft = () => (stopAt === undefined ? null : Math.max(0, (stopAt - Date.now()) / 1000));
    this.workerStats = null;
    const verbose = this.args.verbose ?? defaultSearchVerbose();
    const progress = verbose ? new ProgressLine() : null;
    // Trials running when the budget runs out stop at their next batch (see TrialSettings.stopAt).
    const runner = await this.startRunner(x, y, fitArgs, stopAt);
    if (runner === null) return;
    // A settled trial, or the error that ends the search; never a rejected promise, so that
    // trials still running when the search ends cannot raise unhandled rejections.
    type Settled = { trialId: string; trial?: Trial; error?: unknown };
    const inFlight = new Map<string, Promise<Settled>>();
    let exhausted = false;
    const fill = () => {
      while (!exhausted && inFlight.size < runner.concurrency) {
        const next = this.nextTrial(withinBudget(), inFlight.size);
        if (next === 'wait') return;
        if (next === 'done') {
          exhausted = true;
          return;
        }
        this.running.set(next.trialId, next);
        inFlight.set(next.trialId, this.runTrial(runner, next).then(
          (trial) => ({ trialId: next.trialId, trial }),
          (error: unknown) => ({ trialId: next.trialId, error }),
        ));
      }
    };
    try {
      for (;;) {
        fill();
        if (inFlight.size === 0) break;
        const settled = await Promise.race(inFlight.values());
        inFlight.delete(settled.trialId);
        if (settled.error !== undefined) throw settled.error;
        const trial = settled.trial!;
        await this.finish(trial);
        // Free workers start their next trial before the caller sees this one. On this thread
        // the next trial waits for the caller, as it always did.
        if (runner.offThread) fill();
        progress?.show(progressOf(this.trials, this.getBestTrials(1)[0], this.args.maxTrials, this.objectives[0].name, secondsLeft()));
        await this.args.onTrialEnd?.(structuredClone(trial));
        yield structuredClone(trial);
      }
    } finally {
      progress?.end();
      // Trials abandoned here (the caller left the loop, or an error ended it) run first next time.
      this.rerun = [...this.rerun, ...this.running.values()].sort((a, b) => a.index - b.index);
      this.running.clear();
      await runner.close();
      if ('pool' in runner) {
        const pool = (runner as WorkerRunner).pool;
        this.workerStats = {
          workers: runner.concurrency, started: pool.stats.started, crashed: pool.stats.crashed, timedOut: pool.stats.timedOut,
          ...workersReport(runner as WorkerRunner),
        };
      }
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
    const hypermodel = await this.hyperModel();
    const models: Model[] = [];
    for (const trial of this.getBestTrials(n)) {
      const model = buildModel(hypermodel, this.oracle.space.withValues(trial.hyperparameters));
      // Layer names differ between builds (dense_3 vs dense_7), so weights are matched by position:
      // the same values rebuild the same architecture.
      const weights = this.keptWeights.get(trial.trialId);
      if (weights) model.setWeights(weights);
      else if (this.store && this.savedOnDisk.has(trial.trialId)) await model.loadWeights(this.store.modelUrl(trial.trialId), { matchBy: 'order' });
      else if (this.store && this.getBestTrials(this.modelsToKeep).includes(trial)) {
        throw new Error(`kerasm.Tuner.getBestModels: the weights of trial ${trial.trialId} are not in ${this.store.modelUrl(trial.trialId)} ` +
          '(deleted, or kept by a run with a smaller modelsToKeep); hasModel(trialId) tells which trials have them');
      } else throw new Error(`kerasm.Tuner.getBestModels: the weights of trial ${trial.trialId} were not kept; ask for at most modelsToKeep (${this.modelsToKeep}) models`);
      models.push(model);
    }
    return models;
  }

  /**
   * The best trial's model with its trained weights; given a URL or an IOHandler, also saved
   * there. kerasm's format is TensorFlow.js's Layers format, so the files load with kerasm's
   * loadModel and with tf.loadLayersModel, unless the model holds a layer tfjs lacks (the
   * preprocessing layers): `format: 'tfjs'` refuses those before writing anything.
   * @example
   * ```ts
   * const best = await tuner.exportModel('file://./best-model', { format: 'tfjs' });
   * ```
   */
  async exportModel(destination?: string | IOHandler, options: { format?: 'kerasm' | 'tfjs' } = {}): Promise<Model> {
    const format = options.format ?? 'kerasm';
    if (format !== 'kerasm' && format !== 'tfjs') throw new Error(`kerasm.Tuner.exportModel: expected format 'kerasm' or 'tfjs', got '${String(format)}'`);
    const [model] = await this.getBestModels(1);
    if (!model) throw new Error('kerasm.Tuner.exportModel: no trial has completed yet');
    if (format === 'tfjs') {
      const unreadable = layersTfjsCannotRead(model.layers);
      if (unreadable.length > 0) {
        throw new Error(`kerasm.Tuner.exportModel: TensorFlow.js cannot load ${unreadable.join(', ')}; remove them from the hypermodel for export (AutoModel tasks' exportModel() does this)`);
      }
    }
    if (destination !== undefined) await model.save(destination);
    return model;
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
      lines.push(`Trial ${t.trialId}: score ${t.score!.toPrecision(5)} at epoch ${t.bestStep}${t.cutShort ? ' (cut short by the time budget)' : ''}` +
        (t.stoppedEarly ? ` (stopped by the median rule after ${epochsText(t.curve?.length ?? 0)})` : ''));
      for (const [k, v] of Object.entries(t.hyperparameters)) lines.push(`  ${k}: ${JSON.stringify(v)}`);
      const others = this.objectives.slice(1).map((o) => `${o.name} ${t.metrics[o.name]?.toPrecision(5)}`);
      if (others.length) lines.push(`  also: ${others.join(', ')}`);
    }
    const count = (s: Trial['status']) => this.trials.filter((t) => t.status === s).length;
    lines.push('', `Trials: ${this.trials.length} (${count('completed')} completed, ${count('failed')} failed, ${count('invalid')} invalid)`);
    return lines.join('\n');
  }

  // ---- Trials --------------------------------------------------------------------------------

  /** The hypermodel on this thread (a module reference is imported once). */
  private async hyperModel(): Promise<HyperModel> {
    if (this.hypermodel) return this.hypermodel;
    this.hypermodelLoading ??= loadHyperModel(this.args.hypermodel as HyperModelModule);
    this.hypermodel = await this.hypermodelLoading;
    return this.hypermodel;
  }

  private settings(stopAt?: number): TrialSettings {
    return {
      objectives: this.objectives,
      executionsPerTrial: this.args.executionsPerTrial ?? 1,
      maxModelSize: this.args.maxModelSize,
      seed: this.args.seed,
      ...(this.args.trialTimeout !== undefined ? { trialTimeout: this.args.trialTimeout } : {}),
      ...(stopAt !== undefined ? { stopAt } : {}),
    };
  }

  /** Trials on this thread, or a pool of workers; null when no trial is left to run. */
  private async startRunner(x: Data, y: Data, fitArgs: FitArgs, stopAt?: number): Promise<TrialRunner | null> {
    const left = this.args.maxTrials - this.trials.length;
    if (left <= 0) return null;
    // The main thread needs the hypermodel too (to rebuild the best models); importing it here
    // also reports a wrong module before any worker starts.
    const hypermodel = await this.hyperModel();
    const ref = this.args.hypermodel;
    let workers = this.args.workers ?? (isHyperModelModule(ref) ? await availableCores() : 1);
    workers = Math.min(workers, left);
    if (workers <= 1 || !isHyperModelModule(ref)) return inThreadRunner(hypermodel, this.settings(stopAt), x, y, fitArgs);
    return workerRunner({
      script: this.args.workerScript ?? bundleUrl(), size: workers, hypermodel: ref, settings: this.settings(stopAt), x, y, fitArgs,
    });
  }

  /** The next trial to start, 'wait' until a running one finishes, or 'done'. */
  private nextTrial(withinBudget: boolean, running: number): Started | 'wait' | 'done' {
    if (!withinBudget || this.trials.length + running >= this.args.maxTrials) return 'done';
    const again = this.rerun.shift();
    if (again) return again;
    // Ids are dense: every id below this one is finished or running.
    const index = this.trials.length + running;
    const trialId = String(index).padStart(4, '0');
    if (running > 0 && this.oracle.space.space.length === 0) this.discoverSpace();
    const request = this.oracle.populateSpace(trialId);
    if (request === 'exhausted') return 'done';
    if (request === 'wait') {
      if (running === 0) throw new Error(`kerasm.Tuner: the ${this.oracle.algorithm} oracle asked to wait for a running trial, but none is running`);
      return 'wait';
    }
    return { trialId, index, request };
  }

  /**
   * Registers the space by building the running trials' models on this thread (the first trial
   * has the defaults), and tells the oracle the values those trials really have. Otherwise the
   * space would be learnt only when the first trial reports; with workers, this lets the next
   * trials start beside it instead of waiting. (KerasTuner builds once up front too.)
   */
  private discoverSpace(): void {
    for (const { trialId, request } of this.running.values()) {
      const hp = new HyperParameters(request.values);
      try {
        this.hypermodel?.build(hp);
        this.oracle.space.merge(hp);
      } catch {
        // The trial runs the same build and reports what is wrong with it.
      }
      this.oracle.markRunning(trialId, { ...request, values: { ...hp.values } });
    }
  }

  /** Runs a trial's attempts until one does not fail or the retries are spent. */
  private async runTrial(runner: TrialRunner, started: Started): Promise<Trial> {
    const { trialId, index, request } = started;
    const retries = this.args.maxRetriesPerTrial ?? 0;
    // Taken once: the oracle may stop offering them by the time a retry runs.
    const resumeWeights = request.resumedFrom !== undefined ? this.weightsOf(request.resumedFrom) : undefined;
    let crashed = false;
    let trial: Trial | null = null;
    let outcome: TrialOutcome | null = null;
    for (let attempt = 0; attempt <= Math.max(retries, crashed ? 1 : 0); attempt++) {
      const task: TrialTask = {
        trialId, index, attempt, request, space: this.oracle.space.space, ...(resumeWeights ? { resumeWeights } : {}),
      };
      try {
        outcome = await runner.run(task);
      } catch (e) {
        if (!(e instanceof WorkerCrashError || e instanceof WorkerTimeoutError)) throw e;
        const timedOut = e instanceof WorkerTimeoutError;
        crashed ||= !timedOut;
        outcome = { ...failedOutcome(task, e.message), ...(timedOut ? { timedOut } : {}) };
      }
      try {
        this.oracle.space.merge(outcome.space);
      } catch (e) {
        outcome = { ...outcome, status: 'failed', error: e instanceof Error ? e.message : String(e), weights: undefined, model: undefined };
      }
      trial = {
        trialId, hyperparameters: { ...outcome.hyperparameters }, metrics: outcome.metrics, status: outcome.status, score: outcome.score, bestStep: outcome.bestStep,
        ...(request.epochs !== undefined ? { epochs: request.epochs, initialEpoch: request.resumedFrom !== undefined && !resumeWeights ? 0 : request.initialEpoch ?? 0 } : {}),
        ...(request.resumedFrom !== undefined ? { resumedFrom: request.resumedFrom } : {}),
        ...(attempt > 0 ? { retries: attempt } : {}),
        ...(outcome.error !== undefined ? { error: outcome.error } : {}),
        ...(outcome.cutShort ? { cutShort: true } : {}),
        ...(outcome.curve ? { curve: outcome.curve } : {}),
        ...(outcome.stoppedEarly ? { stoppedEarly: true } : {}),
      };
      if (outcome.status !== 'failed' || outcome.timedOut) break;
    }
    this.outcomes.set(trialId, outcome!);
    return trial!;
  }

  /** Outcomes of trials that finished and are not yet recorded (their weights and model). */
  private readonly outcomes = new Map<string, TrialOutcome>();

  /** Records a finished trial: the oracle, the kept weights, the saved state. */
  private async finish(trial: Trial): Promise<void> {
    this.running.delete(trial.trialId);
    const at = this.trials.findIndex((t) => t.trialId > trial.trialId);
    this.trials.splice(at < 0 ? this.trials.length : at, 0, trial);
    this.oracle.update(trial);
    const outcome = this.outcomes.get(trial.trialId);
    this.outcomes.delete(trial.trialId);
    await this.keepBest(trial, outcome);
    await this.saveState();
  }

  /** A trial's model rebuilt on this thread with its weights (for trials that ran in a worker). */
  private async rebuild(trial: Trial, weights: Float32Array[]): Promise<Model> {
    const model = buildModel(await this.hyperModel(), this.oracle.space.withValues(trial.hyperparameters));
    model.setWeights(weights);
    return model;
  }

  private weightsOf(trialId: string): Float32Array[] | undefined {
    return this.resumeWeights.get(trialId) ?? this.keptWeights.get(trialId);
  }

  // ---- Keeping results ----------------------------------------------------------------------

  /** Keeps the new trial's weights if it is among the best, and drops those that fell out. */
  private async keepBest(trial: Trial, outcome: TrialOutcome | undefined): Promise<void> {
    const weights = trial.status === 'completed' ? outcome?.weights : undefined;
    if (weights && this.oracle.resumableTrialIds.size > 0) this.resumeWeights.set(trial.trialId, weights);
    const resumable = this.oracle.resumableTrialIds;
    for (const id of [...this.resumeWeights.keys()]) if (!resumable.has(id)) this.resumeWeights.delete(id);

    const keep = new Set(this.getBestTrials(this.modelsToKeep).map((t) => t.trialId));
    if (weights && keep.has(trial.trialId)) {
      if (this.store) {
        await this.store.saveModel(trial.trialId, outcome!.model ?? (await this.rebuild(trial, weights)));
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
    if (text === null) {
      await this.store.removeStale(new Set());
      return;
    }
    const state = this.parseState(text);
    this.oracle.space.merge(state.space.space);
    for (const trial of state.trials) this.oracle.update(trial);
    this.oracle.setState(state.oracle.state);
    this.trials = [...state.trials].sort((a, b) => (a.trialId < b.trialId ? -1 : a.trialId > b.trialId ? 1 : 0));
    for (const { trialId, request } of state.running ?? []) {
      this.oracle.markRunning(trialId, request);
      this.rerun.push({ trialId, index: Number(trialId), request });
    }
    // The best trials by the current modelsToKeep; the search may have kept fewer.
    const keep = new Set(this.getBestTrials(this.modelsToKeep).map((t) => t.trialId));
    for (const id of await this.store.removeStale(keep)) this.savedOnDisk.add(id);
  }

  /** Whether a finished trial's trained weights are kept (see modelsToKeep and getBestModels). */
  hasModel(trialId: string): boolean {
    return this.keptWeights.has(trialId) || this.savedOnDisk.has(trialId);
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
    if (state.running !== undefined && (!Array.isArray(state.running) || state.running.some((r) => typeof r?.trialId !== 'string' || typeof r.request?.values !== 'object'))) {
      corrupt('a running trial lacks its id or request');
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
      running: [...this.running.values()].sort((a, b) => a.index - b.index).map(({ trialId, request }) => ({ trialId, request })),
    };
    await this.store.writeState(JSON.stringify(state, null, 1));
  }
}

/** '1 epoch', '3 epochs'. */
function epochsText(n: number): string {
  return `${n} epoch${n === 1 ? '' : 's'}`;
}
