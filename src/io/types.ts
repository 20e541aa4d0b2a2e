// The saved model's parts, named and shaped as TensorFlow.js names them, so that a kerasm
// handler and a TensorFlow.js IOHandler are interchangeable: kerasm's save format IS the
// TensorFlow.js Layers format.
//
//   model.json   {"format": "layers-model", "generatedBy", "convertedBy",
//                 "modelTopology": {"class_name", "config", "keras_version", "backend"},
//                 "weightsManifest": [{"paths": [...], "weights": [{"name", "shape", "dtype"}]}],
//                 "trainingConfig"?}
//   shards       the weights' bytes, little-endian, concatenated in manifest order and cut
//                into files (4 MB each by default)
//
// In memory the same parts travel as ModelArtifacts: the manifest's entries flattened into
// weightSpecs, and every shard's bytes in weightData.
// see: tfjs-core/src/io/types.ts (ModelArtifacts, WeightsManifestEntry, IOHandler)

/** The version written as `generatedBy` ("kerasm <version>"); kept equal to package.json's. */
export const VERSION = '0.1.0';

/** A JSON object as parsed from model.json. */
export type JsonObject = { [key: string]: unknown };

/** Dequantization of a stored weight: value = stored * scale + min (float16 needs neither). */
export interface WeightQuantization {
  dtype: 'uint8' | 'uint16' | 'float16';
  scale?: number;
  min?: number;
  original_dtype?: string;
}

/** One weight in the manifest: `layerName/weightName`, its shape and how it is stored. */
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool' | string;
  /** 'optimizer' marks optimizer state that TensorFlow.js appends with includeOptimizer. */
  group?: string;
  quantization?: WeightQuantization;
}

/** One group of the manifest: the files that hold these weights, in order. */
export interface WeightsManifestGroup {
  paths: string[];
  weights: WeightSpec[];
}

/** A Keras training configuration (snake_case, as Keras and TensorFlow.js write it). */
export interface TrainingConfig {
  loss: unknown;
  metrics?: unknown;
  optimizer_config: { class_name: string; config: JsonObject };
  loss_weights?: number[] | null;
  [key: string]: unknown;
}

/**
 * A saved model in memory: what a handler's `load()` returns and `save()` receives.
 * Field for field the same as TensorFlow.js's ModelArtifacts (for layers models).
 */
export interface ModelArtifacts {
  /** `{class_name, config, keras_version, backend}`, or Keras's `{model_config, ...}`. */
  modelTopology: JsonObject;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  weightSpecs?: WeightSpec[];
  /** The weights' bytes: one buffer, or several to be read one after the other. */
  weightData?: ArrayBuffer | ArrayBuffer[];
  trainingConfig?: TrainingConfig;
  userDefinedMetadata?: JsonObject;
}

/** Sizes of what was saved, as TensorFlow.js reports them. */
export interface ModelArtifactsInfo {
  dateSaved: Date;
  modelTopologyType: 'JSON';
  modelTopologyBytes: number;
  weightSpecsBytes: number;
  weightDataBytes: number;
}

export interface SaveResult {
  modelArtifactsInfo: ModelArtifactsInfo;
  /** Server answers, for handlers that send the model somewhere. */
  responses?: unknown[];
}

/**
 * Where a model's bytes go or come from. Any object with `save` and/or `load` will do,
 * including TensorFlow.js handlers such as `tf.io.withSaveHandler(...)`.
 */
export interface IOHandler {
  save?(artifacts: ModelArtifacts): Promise<SaveResult>;
  load?(): Promise<ModelArtifacts>;
}

/** The parsed model.json. */
export interface ModelJSON {
  modelTopology: JsonObject;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  weightsManifest: WeightsManifestGroup[];
  trainingConfig?: TrainingConfig;
  userDefinedMetadata?: JsonObject;
}

function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}

/** The weight bytes as one list of buffers (a lone buffer becomes a list of one). */
export function weightBuffers(data: ArrayBuffer | ArrayBuffer[] | undefined): ArrayBuffer[] {
  if (data === undefined || data === null) return [];
  return Array.isArray(data) ? data : [data];
}

/** The byte counts of a save. */
export function artifactsInfo(artifacts: ModelArtifacts): ModelArtifactsInfo {
  return {
    dateSaved: new Date(),
    modelTopologyType: 'JSON',
    modelTopologyBytes: utf8Length(JSON.stringify(artifacts.modelTopology)),
    weightSpecsBytes: utf8Length(JSON.stringify(artifacts.weightSpecs ?? [])),
    weightDataBytes: weightBuffers(artifacts.weightData).reduce((n, b) => n + b.byteLength, 0),
  };
}

/** model.json for these artifacts, with the weights stored as `manifest` says. */
export function modelJSONFor(artifacts: ModelArtifacts, manifest: WeightsManifestGroup[]): ModelJSON {
  const json: ModelJSON = {
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy ?? null,
    modelTopology: artifacts.modelTopology,
    weightsManifest: manifest,
  };
  if (artifacts.trainingConfig) json.trainingConfig = artifacts.trainingConfig;
  if (artifacts.userDefinedMetadata) json.userDefinedMetadata = artifacts.userDefinedMetadata;
  return json;
}
