// Where the tuner's trials run: on its own thread, one at a time, or in a pool of workers, one
// trial per worker. Both call runTrial (trial.ts); the tuner sees the same outcomes either way.

import { getBackend } from '../backend/backend.js';
import type { Data, FitArgs } from '../training/fit.js';
import { WorkerCrashError, WorkerPool, WorkerPoolError, WorkerTimeoutError } from '../workers/pool.js';
import { canShareMemory, forOneWorker, packData } from '../workers/tensors.js';
import {
  failedOutcome, moduleSpecifier, runTrial, SetupError, type HyperModel, type HyperModelModule, type TrialOutcome, type TrialSettings, type TrialTask,
} from './trial.js';
import { TRIAL_ROLE, type TrialReply, type TrialWorkerInfo, type TrialWorkerInit } from './trial_worker.js';

export interface TrialRunner {
  /** Trials that may run at once. */
  readonly concurrency: number;
  /** Whether trials run on other threads (so that starting one costs this thread nothing). */
  readonly offThread: boolean;
  /**
   * One attempt; throws SetupError (the search must end), WorkerCrashError (the attempt was
   * lost) or WorkerTimeoutError (its worker was ended past trialTimeout).
   */
  run(task: TrialTask): Promise<TrialOutcome>;
  close(): Promise<void>;
}

/** Runs trials on this thread, one at a time. */
export function inThreadRunner(hypermodel: HyperModel, settings: TrialSettings, x: Data, y: Data, fitArgs: FitArgs): TrialRunner {
  return {
    concurrency: 1,
    offThread: false,
    run: (task) => runTrial(hypermodel, settings, task, x, y, fitArgs),
    close: async () => {},
  };
}

/** A pool of trial workers, plus what it has done (for tests and diagnostics). */
export interface WorkerRunner extends TrialRunner {
  readonly pool: WorkerPool;
  /** Whether the training data went to the workers as shared memory (else one copy per worker). */
  readonly shared: boolean;
}

export interface WorkerRunnerArgs {
  script: string | URL;
  size: number;
  hypermodel: HyperModelModule;
  settings: TrialSettings;
  x: Data;
  y: Data;
  fitArgs: FitArgs;
}

/** Starts `size` workers, each given the data once. */
export async function workerRunner(args: WorkerRunnerArgs): Promise<WorkerRunner> {
  const { validationData, callbacks, ...rest } = args.fitArgs;
  if (callbacks && callbacks.length > 0) {
    throw new Error('kerasm.Tuner: fit callbacks cannot be sent to trial workers; leave callbacks out of the fit arguments, or pass workers: 1 to run trials on this thread');
  }
  const shared = canShareMemory();
  // One copy of the values for all workers; in shared memory, it is the only one.
  const x = packData(args.x, shared, 'x');
  const y = packData(args.y, shared, 'y');
  const validation = validationData
    ? [packData(validationData[0], shared, 'validationData[0]'), packData(validationData[1], shared, 'validationData[1]')] as const
    : undefined;
  const hypermodel = { ...args.hypermodel, module: moduleSpecifier(args.hypermodel.module) };
  const fitArgs = structuredCloneable(rest);
  const { flavor, module } = getBackend();
  // Past trialTimeout a trial stops itself at its next batch; a worker still busy well after
  // that is stuck outside training, and ending it is the only way to get the core back.
  const limit = args.settings.trialTimeout;
  const timeoutMs = limit === undefined ? Infinity : (limit * 1.5 + 1) * 1000;
  const kernels = { flavor, ...(module ? { module } : {}) };
  const pool = await WorkerPool.create({
    script: args.script,
    role: TRIAL_ROLE,
    size: args.size,
    init: () => {
      const parts = [x, y, ...(validation ?? [])].map(forOneWorker);
      const payload: TrialWorkerInit = {
        hypermodel, settings: args.settings, x: parts[0].packed, y: parts[1].packed, fitArgs, kernels,
        ...(validation ? { validationData: [parts[2].packed, parts[3].packed] } : {}),
      };
      return { payload, transfer: parts.flatMap((p) => p.transfer) };
    },
  });
  return {
    concurrency: args.size,
    offThread: true,
    pool,
    shared,
    async run(task) {
      // The tuner keeps its own copy of the weights to continue from (a retry may need them).
      const resumeWeights = task.resumeWeights?.map((w) => w.slice());
      let reply: TrialReply;
      try {
        reply = (await pool.run({ ...task, resumeWeights }, resumeWeights?.map((w) => w.buffer) ?? [], { timeoutMs })) as TrialReply;
      } catch (e) {
        if (e instanceof WorkerPoolError) throw new SetupError(`kerasm.Tuner: the trial workers cannot run: ${e.message}`);
        if (e instanceof WorkerCrashError || e instanceof WorkerTimeoutError) throw e;
        // The worker's own machinery failed (not the trial's code, which runTrial catches).
        return failedOutcome(task, e instanceof Error ? e.message : String(e));
      }
      if (reply.setupError !== undefined) throw new SetupError(reply.setupError);
      return reply;
    },
    close: () => pool.terminate(),
  };
}

/** The fit arguments as they reach a worker; anything structuredClone cannot copy is refused here. */
function structuredCloneable(fitArgs: FitArgs): FitArgs {
  try {
    return structuredClone(fitArgs);
  } catch (e) {
    throw new Error(`kerasm.Tuner: the fit arguments cannot be sent to trial workers: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** What a pool's workers reported when they set up: shared data, the kernels they run. */
export function workersReport(runner: WorkerRunner): { sharedData: boolean; kernels: string; reusedKernels: boolean } {
  const infos = runner.pool.infos as TrialWorkerInfo[];
  const all = (f: (info: TrialWorkerInfo) => boolean) => infos.length > 0 && infos.every(f);
  return {
    sharedData: all((info) => info.shared),
    kernels: [...new Set(infos.map((info) => info.flavor))].join(', '),
    reusedKernels: all((info) => info.reusedModule),
  };
}
