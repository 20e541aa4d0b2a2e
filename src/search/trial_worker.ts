// The worker side of a parallel search: a pool worker imports the hypermodel module and
// unpacks the training data once (init), then runs trials with runTrial, the function the tuner
// uses on its own thread.

import { createBackend, setBackend, type BackendFlavor } from '../backend/backend.js';
import type { Data, FitArgs } from '../training/fit.js';
import type { WorkerRole } from '../workers/protocol.js';
import { isShared, unpackData, type PackedData } from '../workers/tensors.js';
import {
  failedOutcome, loadHyperModel, runTrial, SetupError, type HyperModel, type HyperModelModule, type TrialOutcome, type TrialSettings, type TrialTask,
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
  /**
   * The tuner thread's kernels: workers compute with the same flavor, and instantiate its
   * compiled module rather than compiling their own.
   */
  kernels: { flavor: BackendFlavor; module?: WebAssembly.Module };
}

/** What a trial worker reports once set up. */
export interface TrialWorkerInfo {
  /** Whether the training data arrived as shared memory rather than a copy. */
  shared: boolean;
  /** The kernels this worker computes with. */
  flavor: BackendFlavor;
  /** Whether it instantiated the tuner thread's compiled module (no compile of its own). */
  reusedModule: boolean;
}

/** A trial's outcome as it crosses back: no Model, and a setup error as a message. */
export type TrialReply = Omit<TrialOutcome, 'model'> & { setupError?: string };

let state: { hypermodel: HyperModel; settings: TrialSettings; x: Data; y: Data; fitArgs: FitArgs } | null = null;

export const trialWorkerRole: WorkerRole = {
  async init(payload) {
    const init = payload as TrialWorkerInit;
    // First, so that the data below lands in this backend's heap.
    setBackend(createBackend(init.kernels));
    const fitArgs: FitArgs = { ...init.fitArgs };
    if (init.validationData) fitArgs.validationData = [unpackData(init.validationData[0]), unpackData(init.validationData[1])];
    state = {
      hypermodel: await loadHyperModel(init.hypermodel),
      settings: init.settings,
      x: unpackData(init.x),
      y: unpackData(init.y),
      fitArgs,
    };
    const info: TrialWorkerInfo = {
      shared: isShared(init.x) && isShared(init.y), flavor: init.kernels.flavor, reusedModule: init.kernels.module !== undefined,
    };
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
      const reply: TrialReply = { ...failedOutcome(task), setupError: e.message };
      return { value: reply };
    }
  },
};
