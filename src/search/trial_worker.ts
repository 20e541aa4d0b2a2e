// The worker side of a parallel search: a pool worker imports the hypermodel module and
// unpacks the training data once (init), then runs trials with runTrial, the function the tuner
// uses on its own thread.

import type { Data, FitArgs } from '../training/fit.js';
import type { WorkerRole } from '../workers/protocol.js';
import { isShared, unpackData, type PackedData } from '../workers/tensors.js';
import {
  loadHyperModel, runTrial, SetupError, type HyperModel, type HyperModelModule, type TrialOutcome, type TrialSettings, type TrialTask,
} from './trial.js';

/** The pool role name of trial workers. */
export const TRIAL_ROLE = 'search-trials';

export interface TrialWorkerInit {
  hypermodel: HyperModelModule & { module: string };
  settings: TrialSettings;
  x: PackedData;
  y: PackedData;
  validationData?: [PackedData, PackedData];
  /** fit() arguments without callbacks (they cannot cross threads) and validationData. */
  fitArgs: FitArgs;
}

/** What a trial worker reports once set up. */
export interface TrialWorkerInfo {
  /** Whether the training data arrived as shared memory rather than a copy. */
  shared: boolean;
}

/** A trial's outcome as it crosses back: no Model, and a setup error as a message. */
export type TrialReply = Omit<TrialOutcome, 'model'> & { setupError?: string };

let state: { hypermodel: HyperModel; settings: TrialSettings; x: Data; y: Data; fitArgs: FitArgs } | null = null;

export const trialWorkerRole: WorkerRole = {
  async init(payload) {
    const init = payload as TrialWorkerInit;
    const fitArgs: FitArgs = { ...init.fitArgs };
    if (init.validationData) fitArgs.validationData = [unpackData(init.validationData[0]), unpackData(init.validationData[1])];
    state = {
      hypermodel: await loadHyperModel(init.hypermodel),
      settings: init.settings,
      x: unpackData(init.x),
      y: unpackData(init.y),
      fitArgs,
    };
    const info: TrialWorkerInfo = { shared: isShared(init.x) && isShared(init.y) };
    return info;
  },

  async run(payload) {
    if (!state) throw new Error('kerasm.Tuner: a trial worker got a task before its init message');
    try {
      const { model, ...outcome } = await runTrial(state.hypermodel, state.settings, payload as TrialTask, state.x, state.y, state.fitArgs);
      void model;
      const reply: TrialReply = outcome;
      return { value: reply, transfer: (outcome.weights ?? []).map((w) => w.buffer as ArrayBuffer) };
    } catch (e) {
      if (!(e instanceof SetupError)) throw e;
      const task = payload as TrialTask;
      const reply: TrialReply = {
        status: 'failed', metrics: {}, score: null, bestStep: null, hyperparameters: task.request.values, space: task.space, setupError: e.message,
      };
      return { value: reply };
    }
  },
};
