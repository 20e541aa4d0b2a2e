// AutoModel tasks: give data, get a trained model whose architecture and optimizer were searched.
//
// fit() checks the data against the task, derives the search space from its shape (TaskConfig),
// holds out a seeded validation split, runs a Tuner that tries known-good architectures first,
// then retrains the best one on all the data for the number of epochs that scored best (refit),
// or keeps the best trial's model, or averages several trials' models (ensembleSize).
//
// What must stay true:
// - Labels are encoded once, in fit(): predict() answers with the labels as they were given
//   (numbers or strings) and evaluate() refuses labels fit() never saw.
// - Bad data ends fit() before any trial, with an error that says what the task expected.
// see: autokeras/auto_model.py, autokeras/tasks/image.py, autokeras/tasks/structured_data.py

import { ActivationLayer, Input } from '../../layers/core.js';
import type { SymbolicTensor } from '../../layers/layer.js';
import { Average } from '../../layers/merge.js';
import type { Normalization } from '../../layers/preprocessing.js';
import { fail } from '../../ops/check.js';
import * as ops from '../../ops/index.js';
import { Model } from '../../models/model.js';
import { Tensor, tensor, tidy } from '../../tensor.js';
import { History, type Logs } from '../../training/callbacks.js';
import type { Data } from '../../training/fit.js';
import { Random } from '../../util/random.js';
import { setRandomSeed } from '../../util/seed.js';
import type { HPValues, HyperParameters } from '../hyperparameters.js';
import { ASHA } from '../oracles/asha.js';
import { BayesianOptimization } from '../oracles/bayesian.js';
import { GridSearch } from '../oracles/grid_search.js';
import { Hyperband } from '../oracles/hyperband.js';
import type { Oracle, Trial } from '../oracles/oracle.js';
import { RandomSearch } from '../oracles/random_search.js';
import { RegularizedEvolution } from '../oracles/regularized_evolution.js';
import { describeValue } from '../trial.js';
import { Tuner } from '../tuner.js';
import { availableCores } from '../../workers/pool.js';
import { bundleUrl } from '../../workers/script.js';
import { buildTaskModel, taskHyperModel, warmStartValues, type TaskConfig, type TaskName } from './hypermodel.js';

export type TunerName = 'random' | 'grid' | 'bayesian' | 'hyperband' | 'asha' | 'evolution';

export interface AutoModelArgs {
  /** Trials to run (default 10). fit() may lower it for one call. */
  maxTrials?: number;
  /** The search algorithm (default 'evolution', which mutates the best architectures so far). */
  tuner?: TunerName | Oracle;
  /** Default: val_accuracy (max) for classifiers, val_loss (min) for regressors. */
  objective?: string;
  seed?: number;
  /** Node: where the search state goes, so that a later fit() with overwrite: false resumes. */
  directory?: string;
  projectName?: string;
  /** Start over instead of resuming from `directory` (default false). */
  overwrite?: boolean;
  /** Models with more parameters are not trained. */
  maxModelSize?: number;
  /** Seconds a trial may take before it is stopped and marked failed (see TunerArgs.trialTimeout). */
  trialTimeout?: number;
  /** Epochs without improvement of val_loss before a trial stops (default DEFAULT_PATIENCE, 10, as in AutoKeras). */
  patience?: number;
  /** Values fixed for every trial (e.g. `{ 'conv/blocks': 2 }`); the others are searched. */
  hyperparameters?: HPValues;
  /** Try the task's known-good architectures first (default true). */
  warmStart?: boolean;
  /**
   * Without refit: the final model averages the outputs of up to this many of the best trials'
   * models (default 1: the best alone). Going down the ranking, a trial's model joins only if
   * the average then scores better on the validation data by the objective (on a tie, by the
   * loss): Caruana et al.'s greedy ensemble selection, without repeats. exportModel() gives one
   * model with a branch per member and an Average layer.
   */
  ensembleSize?: number;
  onTrialEnd?: (trial: Trial) => void | Promise<void>;
  /**
   * Trials run at once, each in a worker running the kerasm bundle (default: the number of
   * cores when kerasm runs from its bundle, else 1).
   */
  workers?: number;
  /** The bundle workers run (default: the kerasm bundle this code comes from). */
  workerScript?: string | URL;
  /** 1: the search's progress line after every trial. Default: 1 in a Node terminal. */
  verbose?: 0 | 1;
}

export interface AutoFitArgs {
  /** Epochs per trial, the most a trial trains (default 10). */
  epochs?: number;
  batchSize?: number;
  /** Fraction held out to score trials (default 0.2), unless validationData is given. */
  validationSplit?: number;
  validationData?: [Data, Data];
  maxTrials?: number;
  /** Seconds for the search; trials still running then stop at the end of their current batch. */
  timeBudget?: number;
  /**
   * Retrain the best architecture on all the data (training and validation) for its best
   * number of epochs (default true without validationData, as AutoKeras does, unless
   * ensembleSize is above 1: an ensemble is made of the trials' own models).
   */
  refit?: boolean;
  /** 0 silent, 1 progress of the final training. */
  verbose?: 0 | 1;
}

type Labels = (number | string)[];

/** A trial whose model is part of the final model. */
interface Member {
  values: HPValues;
  model: Model;
}

/**
 * One model that averages the outputs of `members` (task models with one input and one output,
 * their layers used by no other member) on a shared input: each member's layers are applied
 * again, in order, to the new input, and an Average layer joins the branches. It keeps the
 * first member's loss and metrics, so evaluate() works; it is not meant to be trained.
 */
function averaged(members: Model[], name: string): Model {
  const input = Input({ shape: members[0].inputs[0].shape.slice(1) as number[] });
  const branches = members.map((member) => {
    const mapped = new Map<SymbolicTensor, SymbolicTensor>([[member.inputs[0], input]]);
    for (const node of member.graph) {
      if (node.inputs.length === 0) continue; // the member's own input
      const outputs = node.layer.applyAll(node.inputs.map((t) => mapped.get(t)!));
      node.outputs.forEach((t, i) => mapped.set(t, outputs[i]));
    }
    return mapped.get(member.outputs[0])!;
  });
  return compiledLike(new Model({ inputs: input, outputs: new Average().apply(branches), name: `${name}_ensemble` }), members[0]);
}

/** `model` compiled with `source`'s loss and metrics, for evaluate() (an optimizer it never uses). */
function compiledLike(model: Model, source: Model): Model {
  const { loss, metrics } = source.compileArgs!;
  model.compile({ optimizer: 'sgd', loss, ...(metrics ? { metrics } : {}) });
  return model;
}

/** Maps the labels given to fit() to class indices and back. */
class LabelEncoder {
  private readonly index = new Map<number | string, number>();
  constructor(readonly classes: Labels) {
    classes.forEach((c, i) => this.index.set(c, i));
  }
  encode(labels: Labels, what: string): Float32Array {
    return Float32Array.from(labels, (l, i) => {
      const k = this.index.get(l);
      if (k === undefined) fail(what, `expected labels among the classes seen in fit() (${this.classes.slice(0, 10).join(', ')}${this.classes.length > 10 ? ', ...' : ''}), got ${JSON.stringify(l)} at sample ${i}`);
      return k;
    });
  }
}

/** Rows of a 2-D array or tensor as an array of rows, or a flat list of labels. */
function labelsOf(y: Data | Labels, what: string): { labels: Labels; oneHot: boolean } {
  if (y instanceof Tensor) {
    const values = Array.from(y.dataSync() as ArrayLike<number>);
    if (y.rank === 1 || (y.rank === 2 && y.shape[1] === 1)) return { labels: values, oneHot: false };
    if (y.rank === 2) return { labels: oneHotRows(values, y.shape[1], what), oneHot: true };
    return fail(what, `expected labels of shape [samples], [samples, 1] or one-hot [samples, classes], got [${y.shape.join(', ')}]`);
  }
  if (!Array.isArray(y) || y.length === 0) return fail(what, `expected a non-empty array or Tensor of labels, got ${Array.isArray(y) ? 'an empty array' : typeof y}`);
  if (Array.isArray(y[0])) {
    const rows = y as unknown as number[][];
    if (rows.every((r) => r.length === 1)) return { labels: rows.map((r) => r[0]), oneHot: false };
    return { labels: oneHotRows(rows.flat(), rows[0].length, what), oneHot: true };
  }
  return { labels: y as Labels, oneHot: false };
}

function oneHotRows(values: number[], classes: number, what: string): number[] {
  const labels: number[] = [];
  for (let r = 0; r * classes < values.length; r++) {
    const row = values.slice(r * classes, (r + 1) * classes);
    const hot = row.indexOf(Math.max(...row));
    if (row.filter((v) => v !== 0).length !== 1 || row[hot] !== 1) fail(what, `expected one-hot rows (one 1, the rest 0), got [${row.join(', ')}] at sample ${r}`);
    labels.push(hot);
  }
  return labels;
}

/** x as a float32 Tensor, checked for finite values. */
function toTensor(x: Data, what: string): Tensor {
  if (Array.isArray(x) && x.length > 0 && x[0] instanceof Tensor) fail(what, 'expected one input (a Tensor or nested arrays), got an array of Tensors');
  const t = x instanceof Tensor ? x : tensor(x as number[][]);
  const values = t.dataSync() as ArrayLike<number>;
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) fail(what, `expected finite inputs, found ${values[i]} at flat index ${i}`);
  }
  return t;
}

function rows(t: Tensor, indices: ArrayLike<number>): Tensor {
  const row = t.size / t.shape[0];
  const src = t.dataSync() as Float32Array;
  const out = new Float32Array(indices.length * row);
  for (let i = 0; i < indices.length; i++) out.set(src.subarray(indices[i] * row, (indices[i] + 1) * row), i * row);
  return tensor(out, [indices.length, ...t.shape.slice(1)]);
}

/** Mean and variance of each entry of the last axis, over everything else. */
function featureStats(x: Tensor): { mean: number[]; variance: number[] } {
  const features = x.shape[x.rank - 1];
  const values = x.dataSync() as Float32Array;
  const count = values.length / features;
  const mean = new Float64Array(features);
  const m2 = new Float64Array(features);
  for (let i = 0; i < values.length; i++) mean[i % features] += values[i];
  for (let f = 0; f < features; f++) mean[f] /= count;
  for (let i = 0; i < values.length; i++) m2[i % features] += (values[i] - mean[i % features]) ** 2;
  return { mean: Array.from(mean), variance: Array.from(m2, (v) => v / count) };
}

const TUNER_NAMES: readonly TunerName[] = ['random', 'grid', 'bayesian', 'hyperband', 'asha', 'evolution'];

function checkTuner(tuner: unknown, what: string): void {
  if (tuner === undefined || (typeof tuner === 'string' && (TUNER_NAMES as readonly string[]).includes(tuner))) return;
  if (typeof tuner === 'object' && tuner !== null && typeof (tuner as Oracle).populateSpace === 'function') return;
  fail(what, `expected tuner one of ${TUNER_NAMES.join(', ')} or an Oracle, got ${typeof tuner === 'string' ? `'${tuner}'` : describeValue(tuner)}`);
}

function makeOracle(tuner: TunerName | Oracle, seed: number | undefined): Oracle {
  if (typeof tuner !== 'string') return tuner;
  switch (tuner) {
    case 'random': return new RandomSearch({ seed });
    case 'grid': return new GridSearch({ seed });
    case 'bayesian': return new BayesianOptimization({ seed });
    case 'hyperband': return new Hyperband({ seed, maxEpochs: 10 });
    case 'asha': return new ASHA({ seed, maxEpochs: 10 });
    case 'evolution': return new RegularizedEvolution({ seed, populationSize: 6, sampleSize: 3 });
    default: return fail('AutoModel', `expected tuner one of random, grid, bayesian, hyperband, asha, evolution or an Oracle, got '${String(tuner)}'`);
  }
}

/** What is common to every task; subclasses say how data maps to a TaskConfig. */
export abstract class AutoModel {
  abstract readonly task: TaskName;
  /** The search, once fit() has started. */
  tuner: Tuner | null = null;
  /** The final model, once fit() has finished. */
  model: Model | null = null;
  protected readonly args: AutoModelArgs;
  private config: TaskConfig | null = null;
  private encoder: LabelEncoder | null = null;
  /** The trials whose models make the final model, best first, with those models (one unless ensembled). */
  private members: Member[] = [];

  constructor(args: AutoModelArgs = {}) {
    if (args.maxTrials !== undefined && !(Number.isInteger(args.maxTrials) && args.maxTrials > 0)) {
      fail(this.constructor.name, `expected maxTrials to be a positive integer, got ${args.maxTrials}`);
    }
    checkTuner(args.tuner, this.constructor.name);
    if (args.ensembleSize !== undefined && !(Number.isInteger(args.ensembleSize) && args.ensembleSize > 0)) {
      fail(this.constructor.name, `expected ensembleSize to be a positive integer, got ${args.ensembleSize}`);
    }
    this.args = args;
  }

  protected get classifier(): boolean {
    return this.task.endsWith('classifier');
  }

  /** x as the task wants it (images get a channel axis), or an error saying what was expected. */
  protected prepareInputs(x: Tensor): Tensor {
    const what = this.constructor.name;
    if (this.task.startsWith('image')) {
      if (x.rank === 3) return x.reshape([...x.shape, 1]);
      if (x.rank === 4) return x;
      return fail(what, `expected images of shape [samples, height, width] or [samples, height, width, channels], got [${x.shape.join(', ')}]`);
    }
    if (x.rank === 2) return x;
    return fail(what, `expected a table of numeric features of shape [samples, features], got [${x.shape.join(', ')}]`);
  }

  /** Searches architectures and training settings, then trains the best one (refit). Returns that training's History, empty without refit. */
  async fit(x: Data, y: Data | Labels, args: AutoFitArgs = {}): Promise<History> {
    const name = `${this.constructor.name}.fit`;
    const inputs = this.prepareInputs(toTensor(x, name));
    const n = inputs.shape[0];
    const targets = this.encodeTargets(y, n, name, true);
    const split = args.validationSplit ?? 0.2;
    if (args.validationData === undefined && !(split > 0 && split < 1)) fail(name, `expected validationSplit in (0, 1), got ${split}`);
    if (args.timeBudget !== undefined && !(args.timeBudget > 0)) fail(name, `expected timeBudget > 0 seconds, got ${args.timeBudget}`);
    const ensembleSize = this.args.ensembleSize ?? 1;
    const refit = args.refit ?? (args.validationData === undefined && ensembleSize === 1);
    if (refit && ensembleSize > 1) fail(name, `expected refit: false with ensembleSize ${ensembleSize} (an ensemble is made of the trials' own models; refit retrains the best alone), got refit: true`);
    const maxTrials = args.maxTrials ?? this.args.maxTrials ?? 10;
    if (!(Number.isInteger(maxTrials) && maxTrials > 0)) fail(name, `expected maxTrials to be a positive integer, got ${maxTrials}`);

    // A seeded shuffle before the split, so that sorted data still gives a fair validation set.
    let train = { x: inputs, y: targets };
    let validation: { x: Tensor; y: Tensor };
    if (args.validationData) {
      const vx = this.prepareInputs(toTensor(args.validationData[0], `${name} validationData`));
      validation = { x: vx, y: this.encodeTargets(args.validationData[1], vx.shape[0], `${name} validationData`) };
    } else {
      const order = Int32Array.from({ length: n }, (_, i) => i);
      new Random(this.args.seed ?? 1).shuffle(order);
      const held = Math.max(1, Math.round(n * split));
      if (n - held < 1) fail(name, `expected enough samples to hold out ${held} for validation, got ${n}`);
      train = { x: rows(inputs, order.subarray(held)), y: rows(targets, order.subarray(held)) };
      validation = { x: rows(inputs, order.subarray(0, held)), y: rows(targets, order.subarray(0, held)) };
    }

    const timeBudget = args.timeBudget;
    this.config = {
      task: this.task,
      inputShape: inputs.shape.slice(1),
      outputUnits: this.classifier ? this.encoder!.classes.length : targets.shape[1],
      stats: featureStats(train.x),
      ...(this.args.patience !== undefined ? { patience: this.args.patience } : {}),
      decaySteps: (args.epochs ?? 10) * Math.ceil(train.x.shape[0] / (args.batchSize ?? 32)),
      ...(this.args.hyperparameters ? { fixed: { ...this.args.hyperparameters } } : {}),
    };
    const objective = this.args.objective ?? (this.classifier ? 'val_accuracy' : 'val_loss');
    const oracle = makeOracle(this.args.tuner ?? 'evolution', this.args.seed);
    if (this.args.warmStart ?? true) oracle.initialHyperparameters = warmStartValues(this.task);
    // In workers the hypermodel is rebuilt from its JSON config by the bundle's own export.
    const script = this.args.workerScript ?? bundleUrl();
    const bundled = /\.(c|m)?js$/.test(new URL(String(script)).pathname);
    const workers = this.args.workers ?? (bundled ? await availableCores() : 1);
    this.tuner = new Tuner({
      hypermodel: workers > 1 ? { module: script, exportName: 'taskHyperModel', config: this.config } : taskHyperModel(this.config),
      workers,
      ...(this.args.workerScript !== undefined ? { workerScript: this.args.workerScript } : {}),
      ...(this.args.verbose !== undefined ? { verbose: this.args.verbose } : {}),
      oracle,
      objective,
      maxTrials,
      seed: this.args.seed,
      ...(timeBudget !== undefined ? { timeBudget } : {}),
      maxModelSize: this.args.maxModelSize,
      ...(this.args.trialTimeout !== undefined ? { trialTimeout: this.args.trialTimeout } : {}),
      maxRetriesPerTrial: 1,
      directory: this.args.directory,
      projectName: this.args.projectName ?? this.task,
      overwrite: this.args.overwrite ?? false,
      modelsToKeep: ensembleSize,
      onTrialEnd: this.args.onTrialEnd,
    });
    const epochs = args.epochs ?? 10;
    const batchSize = args.batchSize ?? 32;
    await this.tuner.search(train.x, train.y, { epochs, batchSize, validationData: [validation.x, validation.y], verbose: 0 });

    const [best] = this.tuner.getBestTrials(1);
    if (!best) {
      const errors = this.tuner.trials.map((t) => `trial ${t.trialId}: ${t.status}${t.error ? ` (${t.error})` : ''}`);
      throw new Error(`kerasm.${name}: no trial completed; ${errors.join('; ') || 'no trial ran (is the time budget too small?)'}`);
    }
    if (refit) {
      // The best architecture again, trained on everything for as long as its best trial took.
      if (this.args.seed !== undefined) setRandomSeed(this.args.seed);
      const all = args.validationData ? train : { x: inputs, y: targets };
      const refitEpochs = (best.bestStep ?? epochs - 1) + 1;
      const hp = this.tuner.oracle.space.withValues(best.hyperparameters) as HyperParameters;
      const model = buildTaskModel(hp, { ...this.config, decaySteps: refitEpochs * Math.ceil(all.x.shape[0] / batchSize) });
      const history = await model.fit(all.x, all.y, { epochs: refitEpochs, batchSize, verbose: args.verbose ?? 0 });
      this.members = [{ values: best.hyperparameters, model }];
      this.model = model;
      return history;
    }
    // A resumed search may hold the weights of fewer trials than ensembleSize asks for (it kept
    // them with a smaller one): the candidates are the best trials up to the first without.
    const ranked = this.tuner.getBestTrials(ensembleSize);
    const held = ranked.findIndex((t) => !this.tuner!.hasModel(t.trialId));
    const count = Math.max(1, held < 0 ? ranked.length : held);
    const models = await this.tuner.getBestModels(count);
    const candidates = ranked.slice(0, count).map((t, i) => ({ values: t.hyperparameters, model: models[i] }));
    if (candidates.length > 1) {
      const { members, model } = this.selectEnsemble(candidates, validation, objective);
      this.members = members;
      this.model = model;
    } else {
      this.members = candidates;
      this.model = candidates[0].model;
    }
    // No training after the search: an empty History (the trials' scores are in tuner.trials).
    return new History();
  }

  /**
   * Greedy ensemble selection on the validation data: the best trial's model, then each next
   * one that makes the average score better by the objective (on a tie, by the loss). Each
   * candidate predicts the validation data once; a combination is scored by evaluating the mean
   * of those outputs through an identity model compiled with the task's loss and metrics.
   * The members are inference copies, built here, so that their layers and the Average come
   * from one copy of kerasm even when the trials' models come from a worker's bundle.
   * see: Caruana et al., "Ensemble Selection from Libraries of Models", ICML 2004.
   */
  private selectEnsemble(candidates: Member[], validation: { x: Tensor; y: Tensor }, objective: string): { members: Member[]; model: Model } {
    const copies = candidates.map((m) => this.inferenceCopy(m));
    const outputs = copies.map((copy) => copy.predict(validation.x) as Tensor);
    const input = Input({ shape: outputs[0].shape.slice(1) });
    const scorer = compiledLike(new Model({ inputs: input, outputs: new ActivationLayer({ activation: 'linear' }).apply(input) }), copies[0]);
    const metric = objective.replace(/^val_/, '');
    const sign = this.tuner!.objectives[0].direction === 'max' ? 1 : -1;
    const scoreOf = (chosen: number[]) => {
      const logs = tidy(() => {
        const sum = chosen.slice(1).reduce((acc, i) => ops.add(acc, outputs[i]), outputs[chosen[0]]);
        return scorer.evaluate(ops.scaleShift(sum, 1 / chosen.length), validation.y);
      });
      return { value: sign * logs[metric], loss: logs.loss };
    };
    let chosen = [0];
    let score = scoreOf(chosen);
    // An objective evaluate() does not give (params, latency): the best trial alone.
    if (Number.isFinite(score.value)) {
      for (let i = 1; i < candidates.length; i++) {
        const s = scoreOf([...chosen, i]);
        if (s.value > score.value || (s.value === score.value && s.loss < score.loss)) {
          chosen = [...chosen, i];
          score = s;
        }
      }
    }
    outputs.forEach((t) => t.dispose());
    const members = chosen.map((i) => candidates[i]);
    return { members, model: members.length > 1 ? averaged(chosen.map((i) => copies[i]), this.task) : members[0].model };
  }

  /** The hyperparameter values of each trial whose model is part of the final one, best first. */
  getEnsembleHyperparameters(): HPValues[] {
    if (this.members.length === 0) fail(`${this.constructor.name}.getEnsembleHyperparameters`, 'expected fit() to have run first');
    return this.members.map((m) => ({ ...m.values }));
  }

  /** The best trial's hyperparameter values. */
  getBestHyperparameters(): HPValues {
    if (this.members.length === 0) fail(`${this.constructor.name}.getBestHyperparameters`, 'expected fit() to have run first');
    return { ...this.members[0].values };
  }

  /**
   * Class labels (classifiers, as given to fit()) or predicted values (regressors, a Tensor).
   */
  predict(x: Data): Labels | Tensor {
    const model = this.trained('predict');
    const out = model.predict(this.prepareInputs(toTensor(x, `${this.constructor.name}.predict`))) as Tensor;
    if (!this.classifier) return out;
    const [n, k] = out.shape;
    const p = out.dataSync() as Float32Array;
    const labels: Labels = [];
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let j = 1; j < k; j++) if (p[i * k + j] > p[i * k + best]) best = j;
      labels.push(this.encoder!.classes[best]);
    }
    return labels;
  }

  /** Class probabilities, [samples, classes], in the order of `classes`. */
  predictProba(x: Data): Tensor {
    if (!this.classifier) fail(`${this.constructor.name}.predictProba`, 'expected a classifier task');
    return this.trained('predictProba').predict(this.prepareInputs(toTensor(x, `${this.constructor.name}.predictProba`))) as Tensor;
  }

  /** The classes, in the order of predictProba's columns. */
  get classes(): Labels {
    if (!this.encoder) fail(`${this.constructor.name}.classes`, 'expected fit() to have run first');
    return [...this.encoder.classes];
  }

  /** Loss and metrics of the final model on (x, y). */
  evaluate(x: Data, y: Data | Labels, args: { batchSize?: number } = {}): Logs {
    const name = `${this.constructor.name}.evaluate`;
    const model = this.trained('evaluate');
    const inputs = this.prepareInputs(toTensor(x, name));
    return model.evaluate(inputs, this.encodeTargets(y, inputs.shape[0], name), args);
  }

  /**
   * The final model for inference: a kerasm Model without the layers that act only in training
   * (an ensemble: one branch per member, joined by an Average layer), ready for model.save()
   * in kerasm's or TensorFlow.js's format.
   */
  exportModel(): Model {
    this.trained('exportModel');
    const exported = this.members.map((m) => this.inferenceCopy(m));
    return exported.length > 1 ? averaged(exported, this.task) : exported[0];
  }

  /** A member's model without its augmentation layers, with its trained weights. */
  private inferenceCopy({ values, model }: Member): Model {
    const hp = this.tuner!.oracle.space.withValues(values);
    const exported = buildTaskModel(hp as HyperParameters, { ...this.config!, inference: true });
    // Both models come from the same values, so their layers pair up in order once the
    // augmentation layers (the identity at inference) are left out.
    const source = model.layers.filter((l) => !l.augmentation);
    if (source.length !== exported.layers.length) {
      throw new Error(`kerasm.${this.constructor.name}.exportModel: the inference model has ${exported.layers.length} layers, expected ${source.length}`);
    }
    source.forEach((layer, i) => {
      const target = exported.layers[i].weights;
      if (layer.className === 'Normalization') {
        const { scale, offset } = (layer as Normalization).affine();
        const f = scale.length;
        const kernel = new Float32Array(target[0].value.size);
        // DepthwiseConv2D's [1, 1, f, 1] kernel is the scale; Dense's [f, f] kernel is diag(scale).
        for (let k = 0; k < f; k++) kernel[kernel.length === f ? k : k * f + k] = scale[k];
        target[0].assign(kernel);
        target[1].assign(offset);
      } else {
        layer.weights.forEach((w, k) => target[k].assign(w.read()));
      }
    });
    return exported;
  }

  private trained(what: string): Model {
    if (!this.model) fail(`${this.constructor.name}.${what}`, 'expected fit() to have run first');
    return this.model;
  }

  /** Class indices [samples] for classifiers, targets [samples, k] for regressors. */
  private encodeTargets(y: Data | Labels, samples: number, what: string, learn = false): Tensor {
    if (this.classifier) {
      const { labels } = labelsOf(y, what);
      if (labels.length !== samples) fail(what, `expected as many labels as samples (${samples}), got ${labels.length}`);
      if (learn) {
        const distinct = [...new Set(labels)].sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b))));
        if (distinct.length < 2) fail(what, `expected at least 2 classes, got ${distinct.length} (${JSON.stringify(distinct)})`);
        this.encoder = new LabelEncoder(distinct);
      }
      return tensor(this.encoder!.encode(labels, what), [samples]);
    }
    const t = toTensor(y as Data, what);
    if (t.shape[0] !== samples) fail(what, `expected as many targets as samples (${samples}), got ${t.shape[0]}`);
    if (t.rank === 1) return t.reshape([samples, 1]);
    if (t.rank !== 2) fail(what, `expected targets of shape [samples] or [samples, outputs], got [${t.shape.join(', ')}]`);
    return t;
  }
}
