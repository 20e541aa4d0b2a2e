// Hyperparameter search: spaces, oracles (the algorithms) and the tuner that runs trials.

export {
  HyperParameters, type HPValue, type HPValues, type HyperParameterSpec, type HyperParametersJSON,
  type Condition, type RangeOptions, type Sampling,
} from './hyperparameters.js';
export { Oracle, type Trial, type TrialRequest, type TrialStatus, type OracleArgs, type OracleState, type MedianStoppingArgs } from './oracles/oracle.js';
export { RandomSearch } from './oracles/random_search.js';
export { GridSearch, type GridSearchArgs } from './oracles/grid_search.js';
export { BayesianOptimization, type BayesianOptimizationArgs } from './oracles/bayesian.js';
export { Hyperband, type HyperbandArgs } from './oracles/hyperband.js';
export { ASHA, type ASHAArgs } from './oracles/asha.js';
export { RegularizedEvolution, type RegularizedEvolutionArgs } from './oracles/regularized_evolution.js';
export { paretoFront, dominates, inferDirection, type Objective, type ObjectiveLike, type Direction } from './objective.js';
export { Tuner, type TunerArgs, type HyperModel, type HyperModelModule, type WorkerStats } from './tuner.js';
export { formatSearchProgress, type SearchProgress } from './progress.js';
export {
  AutoModel, ImageClassifier, ImageRegressor, StructuredDataClassifier, StructuredDataRegressor, taskHyperModel,
  type AutoModelArgs, type AutoFitArgs, type TunerName, type TaskConfig, type TaskName,
} from './tasks/index.js';
