// Saving and loading models in the TensorFlow.js Layers format (kerasm's own format):
// model.json (Keras topology + weights manifest) plus little-endian float32 weight files.
//
//   await model.save('file://./my-model');                  // Node
//   const model = await loadModel('file://./my-model/model.json');
//   await model.save('indexeddb://my-model');               // browsers, also 'downloads://'
//   const model = await loadModel('https://host/model.json'); // converted from Keras
//
// Handlers are TensorFlow.js-compatible objects with save() and/or load(), so
// tf.io.withSaveHandler / tf.io.fromMemory work here and these work in TensorFlow.js.

export { loadModel, modelFromTopology, type LoadOptions } from './load.js';
export { loadWeightsInto as loadWeights, type LoadWeightsOptions } from './load_weights.js';
export { saveModel, modelArtifacts, modelTopology, type SaveOptions } from './save.js';
export {
  fromMemory, withSaveHandler, fileSystem, browserIndexedDB, browserDownloads, browserFiles, http,
  removeModel, parseModelJSON, type FileLike, type FileSystemOptions, type HttpOptions,
} from './handlers.js';
export { encodeWeights, decodeWeights, DEFAULT_SHARD_BYTES } from './weights.js';
export { LOADABLE_CLASSES, type LayerClassName } from './serialization.js';
export {
  VERSION, type IOHandler, type ModelArtifacts, type ModelArtifactsInfo, type ModelJSON, type SaveResult,
  type TrainingConfig, type WeightSpec, type WeightsManifestGroup,
} from './types.js';
