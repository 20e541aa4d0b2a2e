// AutoModel tasks (AutoKeras-style): the architecture and optimizer are searched from the data.
export { AutoModel, type AutoModelArgs, type AutoFitArgs, type TunerName } from './auto_model.js';
export { ImageClassifier, ImageRegressor } from './image.js';
export { StructuredDataClassifier, StructuredDataRegressor } from './structured.js';
export { taskHyperModel, buildTaskModel, warmStartValues, type TaskConfig, type TaskName } from './hypermodel.js';
