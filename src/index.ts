// kerasm: Keras-style deep learning for TypeScript, computed by WebAssembly SIMD kernels.

export { init, getBackend, setBackend, createBackend, createBackendAsync, createReferenceBackend } from './backend/backend.js';
export type { Backend, BackendFlavor, BackendOptions } from './backend/backend.js';
export { OutOfMemoryError } from './backend/heap.js';
export { Tensor, tensor, tidy, StepArena, type DType, type Shape } from './tensor.js';
export { zeros, ones, fill } from './ops/elementwise.js';
export * as ops from './ops/index.js';
export { valueAndGrads, grad } from './autodiff/backprop.js';
export { noGrad } from './autodiff/tape.js';
export { setRandomSeed } from './util/seed.js';

export * from './layers/index.js';
export * as layers from './layers/index.js';
export { Model, type ModelArgs } from './models/model.js';
export { Sequential, type SequentialArgs } from './models/sequential.js';
export { SGD, Adam, AdamW, RMSprop, Adagrad, Optimizer, exponentialDecay, cosineDecay } from './training/optimizers.js';
export * as losses from './training/losses.js';
export * as metrics from './training/metrics.js';
export {
  Callback, History, EarlyStopping, ReduceLROnPlateau, TerminateOnNaN, LambdaCallback, CSVLogger,
  ModelCheckpoint,
  type Logs,
} from './training/callbacks.js';
export type { CompileArgs, FitArgs, Batch } from './training/fit.js';
export { loadModel, type IOHandler, type ModelArtifacts, type SaveResult } from './io/index.js';
export * as io from './io/index.js';
export * as search from './search/index.js';
export {
  Tuner, HyperParameters, RandomSearch, GridSearch, BayesianOptimization, Hyperband, ASHA, RegularizedEvolution,
  type TunerArgs, type HyperModel, type HyperModelModule, type Trial,
  ImageClassifier, ImageRegressor, StructuredDataClassifier, StructuredDataRegressor, taskHyperModel,
  type AutoModelArgs, type AutoFitArgs,
} from './search/index.js';

import { serveIfPoolWorker } from './workers/serve.js';
import { TRIAL_ROLE, trialWorkerRole } from './search/trial_worker.js';

// The one thing loading the bundle does by itself: in a worker that a Tuner's pool started, it
// answers the pool (src/workers/serve.ts). Anywhere else this returns without doing anything.
serveIfPoolWorker({ [TRIAL_ROLE]: trialWorkerRole });
