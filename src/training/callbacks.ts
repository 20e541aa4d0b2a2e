// Callbacks: hooks into fit(). Logs are plain objects of numbers ({loss, accuracy, val_loss,
// ...}), as in Keras.

import { fail } from '../ops/check.js';
import type { Tensor } from '../tensor.js';

export type Logs = Record<string, number>;

/** What a callback may reach of the model being trained. */
export interface TrainingTarget {
  stopTraining: boolean;
  getWeights(): Tensor[];
  setWeights(weights: readonly Tensor[]): void;
  optimizer?: { learningRate: number };
  save?(path: string): Promise<unknown>;
}

export interface TrainingParams {
  epochs: number;
  steps: number | null;
  verbose: number;
  samples: number | null;
  metrics: string[];
}

export abstract class Callback {
  model!: TrainingTarget;
  params!: TrainingParams;
  setModel(model: TrainingTarget) {
    this.model = model;
  }
  setParams(params: TrainingParams) {
    this.params = params;
  }
  onTrainBegin(logs?: Logs): void | Promise<void> {
    void logs;
  }
  onTrainEnd(logs?: Logs): void | Promise<void> {
    void logs;
  }
  onEpochBegin(epoch: number, logs?: Logs): void | Promise<void> {
    void epoch;
    void logs;
  }
  onEpochEnd(epoch: number, logs?: Logs): void | Promise<void> {
    void epoch;
    void logs;
  }
  onBatchBegin(batch: number, logs?: Logs): void | Promise<void> {
    void batch;
    void logs;
  }
  onBatchEnd(batch: number, logs?: Logs): void | Promise<void> {
    void batch;
    void logs;
  }
}

/** The record fit() returns: history[metric] holds one value per epoch. */
export class History extends Callback {
  epoch: number[] = [];
  history: Record<string, number[]> = {};
  override onEpochEnd(epoch: number, logs: Logs = {}) {
    this.epoch.push(epoch);
    for (const [k, v] of Object.entries(logs)) (this.history[k] ??= []).push(v);
  }
}

type Mode = 'auto' | 'min' | 'max';

function improvement(monitor: string, mode: Mode): (current: number, best: number, minDelta: number) => boolean {
  const maximize = mode === 'max' || (mode === 'auto' && /acc|precision|recall|auc/.test(monitor));
  return maximize ? (c, b, d) => c > b + d : (c, b, d) => c < b - d;
}

function monitored(monitor: string, logs: Logs | undefined, who: string): number | undefined {
  const value = logs?.[monitor];
  if (value === undefined && logs) {
    // Keras warns and skips; a wrong name would otherwise silently never trigger.
    fail(who, `expected '${monitor}' in the logs, got ${Object.keys(logs).join(', ') || 'no metrics'}`);
  }
  return value;
}

export interface EarlyStoppingArgs {
  monitor?: string;
  minDelta?: number;
  patience?: number;
  mode?: Mode;
  baseline?: number;
  restoreBestWeights?: boolean;
  startFromEpoch?: number;
}

/** Stops training when `monitor` stops improving for `patience` epochs. */
export class EarlyStopping extends Callback {
  readonly monitor: string;
  private readonly better: (c: number, b: number, d: number) => boolean;
  private readonly args: EarlyStoppingArgs;
  private wait = 0;
  private best = NaN;
  private bestWeights: Tensor[] | null = null;
  stoppedEpoch = 0;
  bestEpoch = 0;

  constructor(args: EarlyStoppingArgs = {}) {
    super();
    this.args = args;
    this.monitor = args.monitor ?? 'val_loss';
    this.better = improvement(this.monitor, args.mode ?? 'auto');
  }

  override onTrainBegin() {
    this.wait = 0;
    this.best = this.args.baseline ?? NaN;
    this.bestWeights = null;
  }

  override onEpochEnd(epoch: number, logs?: Logs) {
    const current = monitored(this.monitor, logs, 'EarlyStopping');
    if (current === undefined || epoch < (this.args.startFromEpoch ?? 0)) return;
    if (this.args.restoreBestWeights && this.bestWeights === null) this.bestWeights = this.model.getWeights();
    if (Number.isNaN(this.best) || this.better(current, this.best, Math.abs(this.args.minDelta ?? 0))) {
      this.best = current;
      this.bestEpoch = epoch;
      this.wait = 0;
      if (this.args.restoreBestWeights) this.bestWeights = this.model.getWeights();
      return;
    }
    this.wait++;
    if (this.wait >= (this.args.patience ?? 0)) {
      this.stoppedEpoch = epoch;
      this.model.stopTraining = true;
    }
  }

  override onTrainEnd() {
    if (this.args.restoreBestWeights && this.bestWeights && this.stoppedEpoch > 0) {
      this.model.setWeights(this.bestWeights);
    }
  }
}

export interface ReduceLROnPlateauArgs {
  monitor?: string;
  factor?: number;
  patience?: number;
  mode?: Mode;
  minDelta?: number;
  cooldown?: number;
  minLr?: number;
}

/** Multiplies the learning rate by `factor` when `monitor` plateaus. */
export class ReduceLROnPlateau extends Callback {
  readonly monitor: string;
  private readonly args: Required<Omit<ReduceLROnPlateauArgs, 'monitor' | 'mode'>>;
  private readonly better: (c: number, b: number, d: number) => boolean;
  private wait = 0;
  private cooldownLeft = 0;
  private best = NaN;

  constructor(args: ReduceLROnPlateauArgs = {}) {
    super();
    this.monitor = args.monitor ?? 'val_loss';
    const factor = args.factor ?? 0.1;
    if (!(factor < 1 && factor > 0)) fail('ReduceLROnPlateau', `expected factor in (0, 1), got ${factor}`);
    this.args = { factor, patience: args.patience ?? 10, minDelta: args.minDelta ?? 1e-4, cooldown: args.cooldown ?? 0, minLr: args.minLr ?? 0 };
    this.better = improvement(this.monitor, args.mode ?? 'auto');
  }

  override onEpochEnd(_epoch: number, logs?: Logs) {
    const current = monitored(this.monitor, logs, 'ReduceLROnPlateau');
    if (current === undefined || !this.model.optimizer) return;
    if (logs) logs.learning_rate = this.model.optimizer.learningRate;
    if (this.cooldownLeft > 0) {
      this.cooldownLeft--;
      this.wait = 0;
    }
    if (Number.isNaN(this.best) || this.better(current, this.best, this.args.minDelta)) {
      this.best = current;
      this.wait = 0;
    } else if (this.cooldownLeft === 0) {
      this.wait++;
      if (this.wait >= this.args.patience) {
        const lr = this.model.optimizer.learningRate;
        if (lr > this.args.minLr) {
          this.model.optimizer.learningRate = Math.max(lr * this.args.factor, this.args.minLr);
          this.cooldownLeft = this.args.cooldown;
          this.wait = 0;
        }
      }
    }
  }
}

/** Stops training as soon as a batch's loss is NaN or infinite, saying where. */
export class TerminateOnNaN extends Callback {
  /** Set when training was stopped: the batch and the loss seen. */
  reason: string | null = null;
  override onBatchEnd(batch: number, logs?: Logs) {
    const loss = logs?.loss;
    if (loss !== undefined && !Number.isFinite(loss)) {
      this.reason = `batch ${batch}: loss is ${loss}`;
      this.model.stopTraining = true;
    }
  }
}

export interface LambdaCallbackArgs {
  onTrainBegin?: (logs?: Logs) => void | Promise<void>;
  onTrainEnd?: (logs?: Logs) => void | Promise<void>;
  onEpochBegin?: (epoch: number, logs?: Logs) => void | Promise<void>;
  onEpochEnd?: (epoch: number, logs?: Logs) => void | Promise<void>;
  onBatchBegin?: (batch: number, logs?: Logs) => void | Promise<void>;
  onBatchEnd?: (batch: number, logs?: Logs) => void | Promise<void>;
}

/** A callback made of functions. @example `new LambdaCallback({ onEpochEnd: (e, logs) => ... })` */
export class LambdaCallback extends Callback {
  constructor(private readonly fns: LambdaCallbackArgs) {
    super();
  }
  override onTrainBegin(logs?: Logs) {
    return this.fns.onTrainBegin?.(logs);
  }
  override onTrainEnd(logs?: Logs) {
    return this.fns.onTrainEnd?.(logs);
  }
  override onEpochBegin(epoch: number, logs?: Logs) {
    return this.fns.onEpochBegin?.(epoch, logs);
  }
  override onEpochEnd(epoch: number, logs?: Logs) {
    return this.fns.onEpochEnd?.(epoch, logs);
  }
  override onBatchBegin(batch: number, logs?: Logs) {
    return this.fns.onBatchBegin?.(batch, logs);
  }
  override onBatchEnd(batch: number, logs?: Logs) {
    return this.fns.onBatchEnd?.(batch, logs);
  }
}

/**
 * Writes one row per epoch, as CSV or JSON lines, through `write` (in Node, for example,
 * `(text) => fs.appendFileSync('log.csv', text)`). The rows are also kept in `rows`.
 */
export class CSVLogger extends Callback {
  readonly rows: Logs[] = [];
  private keys: string[] | null = null;
  constructor(private readonly write: (text: string) => void = () => {}, private readonly format: 'csv' | 'json' = 'csv', private readonly separator = ',') {
    super();
  }
  override onEpochEnd(epoch: number, logs: Logs = {}) {
    const row = { epoch, ...logs };
    this.rows.push(row);
    if (this.format === 'json') {
      this.write(`${JSON.stringify(row)}\n`);
      return;
    }
    if (this.keys === null) {
      this.keys = Object.keys(row);
      this.write(`${this.keys.join(this.separator)}\n`);
    }
    this.write(`${this.keys.map((k) => row[k as keyof typeof row] ?? '').join(this.separator)}\n`);
  }
}

export interface ModelCheckpointArgs {
  /**
   * Where to save, as for model.save(): 'file://dir' in Node, 'indexeddb://name' or
   * 'downloads://name' in browsers. `{epoch}` and any log key (`{val_loss}`) are filled in.
   */
  filepath: string;
  monitor?: string;
  /** Save only when `monitor` improves on the best so far. */
  saveBestOnly?: boolean;
  mode?: Mode;
  /** Save every this many epochs (default 1). */
  saveFreq?: number;
}

/** Saves the model after epochs, optionally only when the monitored value improves. */
export class ModelCheckpoint extends Callback {
  private readonly args: ModelCheckpointArgs;
  private readonly better: (c: number, b: number, d: number) => boolean;
  private best = NaN;
  /** Paths written so far. */
  readonly saved: string[] = [];

  constructor(args: ModelCheckpointArgs) {
    super();
    if (typeof args.filepath !== 'string' || args.filepath === '') fail('ModelCheckpoint', `expected a filepath string, got ${String(args.filepath)}`);
    this.args = args;
    this.better = improvement(args.monitor ?? 'val_loss', args.mode ?? 'auto');
  }

  override async onEpochEnd(epoch: number, logs: Logs = {}) {
    if ((epoch + 1) % (this.args.saveFreq ?? 1) !== 0) return;
    if (this.args.saveBestOnly) {
      const current = monitored(this.args.monitor ?? 'val_loss', logs, 'ModelCheckpoint');
      if (current === undefined) return;
      if (!Number.isNaN(this.best) && !this.better(current, this.best, 0)) return;
      this.best = current;
    }
    if (!this.model.save) fail('ModelCheckpoint', 'expected a model that can save()');
    const path = this.args.filepath.replace(/\{(\w+)\}/g, (_, key: string) =>
      key === 'epoch' ? String(epoch + 1) : logs[key] !== undefined ? logs[key].toFixed(4) : `{${key}}`);
    await this.model.save(path);
    this.saved.push(path);
  }
}
