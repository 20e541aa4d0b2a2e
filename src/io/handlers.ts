// Where a saved model's bytes go and come from. A handler is any object with `save(artifacts)`
// and/or `load()`, exactly as in TensorFlow.js, so handlers of either library work with both.
//
//   file://path         Node: a directory holding model.json and its weight files
//   indexeddb://name    browsers: IndexedDB, in the database and layout TensorFlow.js uses
//   downloads://name    browsers: saves name.json and name.weights.bin as downloads
//   http(s)://url       loads model.json and the weight files it lists (fetch)
//   fromMemory(...)     ArrayBuffers in memory; withSaveHandler(f) passes them to f
//
// Node built-ins are reached only through dynamic import(), inside the Node handler, so the
// bundle loads in browsers.
// see: tfjs-core/src/io/ (indexed_db.ts, browser_files.ts, http.ts, passthrough.ts)

import { fail } from '../ops/check.js';
import {
  artifactsInfo, modelJSONFor, weightBuffers, type IOHandler, type JsonObject, type ModelArtifacts,
  type ModelJSON, type SaveResult, type WeightsManifestGroup,
} from './types.js';
import { DEFAULT_SHARD_BYTES, flattenManifest, splitShards } from './weights.js';

/** Artifacts as kerasm's own handlers return them: also says where the weights came from. */
export interface LoadedArtifacts extends ModelArtifacts {
  /** The weight files, for error messages (e.g. "weights.bin"). */
  weightSource?: string;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeKeys(value: unknown): string {
  return isObject(value) ? `an object with keys ${Object.keys(value).join(', ') || '(none)'}` : JSON.stringify(value);
}

/**
 * Parses and checks model.json. `source` names the file in errors.
 * @example
 * ```ts
 * const json = parseModelJSON(await file.text(), 'model.json');
 * ```
 */
export function parseModelJSON(text: string, source: string, op = 'loadModel'): ModelJSON {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    fail(op, `${source} is not valid JSON (${(error as Error).message}); expected a TensorFlow.js layers model as written by model.save()`);
  }
  if (!isObject(json) || !isObject(json.modelTopology)) {
    fail(op, `expected ${source} to hold a 'modelTopology' object (a TensorFlow.js layers model), got ${describeKeys(json)}`);
  }
  const manifest = json.weightsManifest ?? [];
  const groupOk = (g: unknown) =>
    isObject(g) && Array.isArray(g.paths) && g.paths.every((p) => typeof p === 'string') && Array.isArray(g.weights);
  if (!Array.isArray(manifest) || !manifest.every(groupOk)) {
    fail(op, `expected weightsManifest in ${source} to be a list of {paths, weights}, got ${JSON.stringify(manifest).slice(0, 200)}`);
  }
  return { ...(json as unknown as ModelJSON), weightsManifest: manifest as WeightsManifestGroup[] };
}

/** Artifacts from a parsed model.json and the bytes of the files it lists. */
export function artifactsFromJSON(json: ModelJSON, weightData: ArrayBuffer[], weightSource: string): LoadedArtifacts {
  const artifacts: LoadedArtifacts = {
    modelTopology: json.modelTopology,
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy ?? null,
    weightSpecs: flattenManifest(json.weightsManifest),
    weightData,
    weightSource,
  };
  if (json.trainingConfig) artifacts.trainingConfig = json.trainingConfig;
  if (json.userDefinedMetadata) artifacts.userDefinedMetadata = json.userDefinedMetadata;
  return artifacts;
}

/** One buffer holding every weight byte. */
function joinBuffers(data: ArrayBuffer | ArrayBuffer[] | undefined): ArrayBuffer {
  const buffers = weightBuffers(data);
  if (buffers.length === 1) return buffers[0];
  const out = new Uint8Array(buffers.reduce((n, b) => n + b.byteLength, 0));
  let offset = 0;
  for (const b of buffers) {
    out.set(new Uint8Array(b), offset);
    offset += b.byteLength;
  }
  return out.buffer;
}

/** "weights.bin" or "group1-shard1of2.bin, group1-shard2of2.bin". */
function describePaths(paths: readonly string[]): string {
  if (paths.length === 0) return 'no weight files';
  return paths.length <= 3 ? paths.join(', ') : `${paths.slice(0, 2).join(', ')}, ... (${paths.length} files)`;
}

// ---- Memory ---------------------------------------------------------------------------------

/**
 * A handler that loads the artifacts it is given: the in-memory counterpart of a file.
 * @example
 * ```ts
 * let saved: ModelArtifacts;
 * await model.save(io.withSaveHandler(async (artifacts) => { saved = artifacts; }));
 * const copy = await loadModel(io.fromMemory(saved));
 * ```
 */
export function fromMemory(artifacts: ModelArtifacts): IOHandler {
  if (!isObject(artifacts) || !isObject(artifacts.modelTopology)) {
    fail('io.fromMemory', `expected {modelTopology, weightSpecs, weightData}, got ${describeKeys(artifacts)}`);
  }
  return { load: async () => artifacts };
}

/**
 * A handler that passes the artifacts (topology, weight specs, weight bytes) to `save`.
 * @example
 * ```ts
 * await model.save(io.withSaveHandler(async (artifacts) => {
 *   await upload(JSON.stringify(artifacts.modelTopology), artifacts.weightData);
 * }));
 * ```
 */
export function withSaveHandler(
  save: (artifacts: ModelArtifacts) => Promise<SaveResult | void> | SaveResult | void,
): IOHandler {
  if (typeof save !== 'function') fail('io.withSaveHandler', `expected a function, got ${typeof save}`);
  return {
    save: async (artifacts) => (await save(artifacts)) ?? { modelArtifactsInfo: artifactsInfo(artifacts) },
  };
}

// ---- Node files -----------------------------------------------------------------------------

export interface FileSystemOptions {
  /** Largest weight file, in bytes: more weights are cut into numbered shards. Default 4 MB. */
  shardSizeBytes?: number;
}

function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

/**
 * Saves to, or loads from, a directory (Node only): model.json plus weights.bin, or numbered
 * shards `group1-shard1ofN.bin` when the weights exceed `shardSizeBytes`. Loading also takes
 * the path of model.json itself. `file://path` URLs make this handler.
 * @example
 * ```ts
 * await model.save('file://./my-model');            // or model.save(io.fileSystem('./my-model'))
 * const copy = await loadModel('file://./my-model/model.json');
 * ```
 */
export function fileSystem(path: string, options: FileSystemOptions = {}): IOHandler {
  if (typeof path !== 'string' || path.length === 0) fail('io.fileSystem', `expected a path, got ${JSON.stringify(path)}`);
  const needNode = (op: string) => {
    if (!isNode()) fail(op, `file:// paths need Node.js; in a browser use indexeddb://, downloads://, http(s):// or io.browserFiles`);
  };
  return {
    async save(artifacts: ModelArtifacts): Promise<SaveResult> {
      needNode('io.fileSystem');
      const fs = await import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:fs/promises');
      const { basename, dirname, join } = await import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:path');
      // A path ending in .json names model.json itself; otherwise it is the directory.
      const [dir, jsonName] = path.endsWith('.json') ? [dirname(path), basename(path)] : [path, 'model.json'];
      await fs.mkdir(dir, { recursive: true });
      const shards = splitShards(joinBuffers(artifacts.weightData), options.shardSizeBytes ?? DEFAULT_SHARD_BYTES);
      const manifest = [{ paths: shards.map((s) => s.path), weights: artifacts.weightSpecs ?? [] }];
      for (const shard of shards) await fs.writeFile(join(dir, shard.path), new Uint8Array(shard.bytes));
      // model.json last: an interrupted save leaves no model.json pointing at missing files.
      await fs.writeFile(join(dir, jsonName), JSON.stringify(modelJSONFor(artifacts, manifest)));
      return { modelArtifactsInfo: artifactsInfo(artifacts) };
    },

    async load(): Promise<LoadedArtifacts> {
      needNode('io.fileSystem');
      const fs = await import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:fs/promises');
      const { join, dirname, isAbsolute, normalize, sep } = await import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:path');
      /** The file's bytes; `what` says what it is in the error when it cannot be read. */
      const read = async (file: string, what: string): Promise<Uint8Array> => {
        try {
          return await fs.readFile(file);
        } catch (error) {
          const code = (error as { code?: string }).code;
          return fail('io.fileSystem', `cannot read ${what} (${code === 'ENOENT' ? 'no such file' : (error as Error).message})`);
        }
      };
      let jsonPath = path;
      const stat = await fs.stat(path).catch(() => null);
      if (stat?.isDirectory()) jsonPath = join(path, 'model.json');
      const json = parseModelJSON(new TextDecoder().decode(await read(jsonPath, `the model file '${jsonPath}'`)), jsonPath, 'io.fileSystem');
      const dir = dirname(jsonPath);
      const paths = json.weightsManifest.flatMap((g) => g.paths);
      const buffers: ArrayBuffer[] = [];
      for (const p of paths) {
        const clean = normalize(p);
        // Weight files live beside model.json; a manifest must not reach elsewhere.
        if (isAbsolute(clean) || clean === '..' || clean.startsWith(`..${sep}`)) {
          fail('io.fileSystem', `expected weight paths beside model.json, got '${p}' in ${jsonPath}`);
        }
        const bytes = await read(join(dir, clean), `the weights file '${join(dir, clean)}' listed in ${jsonPath}`);
        buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
      }
      return artifactsFromJSON(json, buffers, describePaths(paths));
    },
  };
}

// ---- IndexedDB ------------------------------------------------------------------------------

// The database TensorFlow.js uses, so models saved by either library load in the other.
const DATABASE_NAME = 'tensorflowjs';
const DATABASE_VERSION = 1;
const MODEL_STORE = 'models_store';
const INFO_STORE = 'model_info_store';

function openDatabase(op: string): Promise<IDBDatabase> {
  const factory = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  if (!factory) fail(op, 'indexeddb:// needs a browser with IndexedDB');
  return new Promise((resolve, reject) => {
    const request = factory.open(DATABASE_NAME, DATABASE_VERSION);
    request.onupgradeneeded = () => {
      request.result.createObjectStore(MODEL_STORE, { keyPath: 'modelPath' });
      request.result.createObjectStore(INFO_STORE, { keyPath: 'modelPath' });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function completed(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}

/**
 * Saves to, or loads from, the browser's IndexedDB under `name`, in the same database and
 * layout as TensorFlow.js (so `tf.loadLayersModel('indexeddb://name')` reads kerasm's models
 * and the other way round). `indexeddb://name` URLs make this handler.
 * @example
 * ```ts
 * await model.save('indexeddb://my-model');
 * const copy = await loadModel('indexeddb://my-model');
 * ```
 */
export function browserIndexedDB(name: string): IOHandler {
  if (typeof name !== 'string' || name.length === 0) fail('io.browserIndexedDB', `expected a model name, got ${JSON.stringify(name)}`);
  return {
    async save(artifacts: ModelArtifacts): Promise<SaveResult> {
      const db = await openDatabase('io.browserIndexedDB');
      try {
        const stored = { ...artifacts, weightData: joinBuffers(artifacts.weightData) };
        const modelArtifactsInfo = artifactsInfo(stored);
        // Both stores in one transaction: either both records are written or neither.
        const tx = db.transaction([INFO_STORE, MODEL_STORE], 'readwrite');
        tx.objectStore(INFO_STORE).put({ modelPath: name, modelArtifactsInfo });
        tx.objectStore(MODEL_STORE).put({ modelPath: name, modelArtifacts: stored, modelArtifactsInfo });
        await completed(tx);
        return { modelArtifactsInfo };
      } finally {
        db.close();
      }
    },

    async load(): Promise<LoadedArtifacts> {
      const db = await openDatabase('io.browserIndexedDB');
      try {
        const tx = db.transaction(MODEL_STORE, 'readonly');
        const request = tx.objectStore(MODEL_STORE).get(name);
        await completed(tx);
        const record = request.result as { modelArtifacts?: ModelArtifacts } | undefined;
        if (!record?.modelArtifacts) fail('io.browserIndexedDB', `no model named '${name}' in IndexedDB`);
        return { ...record.modelArtifacts, weightSource: `IndexedDB model '${name}'` };
      } finally {
        db.close();
      }
    },
  };
}

/**
 * Deletes a model saved with `indexeddb://name`. Returns whether there was one.
 * @example
 * ```ts
 * await io.removeModel('indexeddb://my-model');
 * ```
 */
export async function removeModel(url: string): Promise<boolean> {
  const prefix = 'indexeddb://';
  if (typeof url !== 'string' || !url.startsWith(prefix)) fail('io.removeModel', `expected an indexeddb:// URL, got ${JSON.stringify(url)}`);
  const name = url.slice(prefix.length);
  const db = await openDatabase('io.removeModel');
  try {
    const tx = db.transaction([INFO_STORE, MODEL_STORE], 'readwrite');
    const count = tx.objectStore(MODEL_STORE).count(name);
    tx.objectStore(MODEL_STORE).delete(name);
    tx.objectStore(INFO_STORE).delete(name);
    await completed(tx);
    return count.result > 0;
  } finally {
    db.close();
  }
}

/**
 * The names of the models saved with `indexeddb://name` whose name starts with `prefix`, sorted.
 * @example
 * ```ts
 * await indexedDBModelNames('search/project/'); // ['search/project/trial_0002', ...]
 * ```
 */
export async function indexedDBModelNames(prefix: string): Promise<string[]> {
  const db = await openDatabase('io.indexedDBModelNames');
  try {
    const tx = db.transaction(INFO_STORE, 'readonly');
    // Every name that starts with prefix sorts between prefix and prefix + the largest code unit.
    const request = tx.objectStore(INFO_STORE).getAllKeys(IDBKeyRange.bound(prefix, `${prefix}\uffff`));
    await completed(tx);
    return (request.result as IDBValidKey[]).map(String);
  } finally {
    db.close();
  }
}

// ---- Browser downloads ----------------------------------------------------------------------

/**
 * Saves as two browser downloads, `<name>.json` and `<name>.weights.bin` (the names
 * TensorFlow.js uses). `downloads://name` URLs make this handler. Load them back with
 * `io.browserFiles` or from a server with `loadModel('https://...')`.
 * @example
 * ```ts
 * await model.save('downloads://my-model'); // my-model.json, my-model.weights.bin
 * ```
 */
export function browserDownloads(name = 'model'): IOHandler {
  const prefix = name.length > 0 ? name : 'model';
  return {
    async save(artifacts: ModelArtifacts): Promise<SaveResult> {
      if (typeof document === 'undefined') fail('io.browserDownloads', 'downloads:// needs a browser page (document); in Node use file://');
      const weightsName = `${prefix}.weights.bin`;
      const manifest = [{ paths: [`./${weightsName}`], weights: artifacts.weightSpecs ?? [] }];
      const json = JSON.stringify(modelJSONFor(artifacts, manifest));
      const files: [string, Blob][] = [
        [`${prefix}.json`, new Blob([json], { type: 'application/json' })],
        [weightsName, new Blob([joinBuffers(artifacts.weightData)], { type: 'application/octet-stream' })],
      ];
      for (const [fileName, blob] of files) {
        const anchor = document.createElement('a');
        anchor.download = fileName;
        anchor.href = URL.createObjectURL(blob);
        anchor.click();
        // One download per task: some browsers keep only the last of several started at once.
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      return { modelArtifactsInfo: artifactsInfo(artifacts) };
    },
  };
}

/** What io.browserFiles needs of a File (a File or Blob with a name). */
export interface FileLike {
  readonly name: string;
  text(): Promise<string>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/**
 * Loads from files the user picked (an `<input type="file" multiple>`): model.json first,
 * then the weight files it lists, matched by file name.
 * @example
 * ```ts
 * const [json, ...weights] = [...input.files];
 * const model = await loadModel(io.browserFiles([json, ...weights]));
 * ```
 */
export function browserFiles(files: readonly FileLike[]): IOHandler {
  if (!Array.isArray(files) || files.length === 0) fail('io.browserFiles', 'expected model.json and its weight files, got no files');
  return {
    async load(): Promise<LoadedArtifacts> {
      const [jsonFile, ...weightFiles] = files;
      const json = parseModelJSON(await jsonFile.text(), jsonFile.name, 'io.browserFiles');
      const byName = new Map(weightFiles.map((f) => [f.name, f]));
      const paths = json.weightsManifest.flatMap((g) => g.paths);
      const buffers: ArrayBuffer[] = [];
      for (const p of paths) {
        const base = p.split('/').pop()!;
        const file = byName.get(base);
        if (!file) {
          fail('io.browserFiles', `expected the weights file '${base}' listed in ${jsonFile.name}, got only ${weightFiles.map((f) => `'${f.name}'`).join(', ') || 'model.json'}`);
        }
        buffers.push(await file.arrayBuffer());
      }
      return artifactsFromJSON(json, buffers, describePaths(paths));
    },
  };
}

// ---- HTTP -----------------------------------------------------------------------------------

interface ResponseLike {
  ok: boolean;
  status: number;
  statusText: string;
  text(): Promise<string>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

export interface HttpOptions {
  /** Passed to every fetch (headers, credentials, ...). */
  requestInit?: Record<string, unknown>;
  /** The fetch to use; default the global one. */
  fetch?: (url: string, init?: Record<string, unknown>) => Promise<ResponseLike>;
}

/**
 * Loads model.json from a URL, then the weight files it lists, relative to it: how models
 * converted from Keras are usually served. `http(s)://` URLs (and, in a page, relative ones)
 * make this handler.
 * @example
 * ```ts
 * const model = await loadModel('https://example.com/models/mnist/model.json');
 * ```
 */
export function http(url: string, options: HttpOptions = {}): IOHandler {
  const fetchFn = options.fetch ?? (globalThis.fetch as unknown as HttpOptions['fetch']);
  return {
    async load(): Promise<LoadedArtifacts> {
      if (!fetchFn) fail('io.http', 'no fetch() in this environment; pass io.http(url, { fetch })');
      const get = async (target: string): Promise<ResponseLike> => {
        let response: ResponseLike;
        try {
          response = await fetchFn(target, options.requestInit);
        } catch (error) {
          return fail('io.http', `cannot fetch '${target}' (${(error as Error).message})`);
        }
        if (!response.ok) fail('io.http', `expected '${target}' to answer 200 OK, got ${response.status} ${response.statusText}`);
        return response;
      };
      const json = parseModelJSON(await (await get(url)).text(), url, 'io.http');
      const paths = json.weightsManifest.flatMap((g) => g.paths);
      const buffers: ArrayBuffer[] = [];
      for (const p of paths) buffers.push(await (await get(new URL(p, url).href)).arrayBuffer());
      return artifactsFromJSON(json, buffers, describePaths(paths));
    },
  };
}

// ---- URLs -----------------------------------------------------------------------------------

const SCHEMES = 'file:// (Node), indexeddb://, downloads://, http:// or https://';

/** The handler for a URL string, checked to be able to `purpose`. */
export function handlerForURL(url: string, purpose: 'save' | 'load', op: string): IOHandler {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  let handler: IOHandler;
  if (scheme === 'file') handler = fileSystem(url.slice('file://'.length));
  else if (scheme === 'indexeddb') handler = browserIndexedDB(url.slice('indexeddb://'.length));
  else if (scheme === 'downloads') handler = browserDownloads(url.slice('downloads://'.length));
  else if (scheme === 'http' || scheme === 'https') handler = http(url);
  else if (scheme === undefined && typeof location !== 'undefined' && typeof location.href === 'string') {
    handler = http(new URL(url, location.href).href); // a relative URL in a page
  } else {
    return fail(op, `expected a URL starting with ${SCHEMES}, or a handler, got '${url}'`);
  }
  if (typeof handler[purpose] !== 'function') {
    fail(op, `cannot ${purpose} with '${url}': ${scheme}:// can only ${purpose === 'save' ? 'load' : 'save'}`);
  }
  return handler;
}

/** A URL or handler, resolved to a handler that can `purpose`. */
export function resolveHandler(destination: string | IOHandler, purpose: 'save' | 'load', op: string): IOHandler {
  if (typeof destination === 'string') return handlerForURL(destination, purpose, op);
  if (!isObject(destination) || typeof destination[purpose] !== 'function') {
    fail(op, `expected a URL (${SCHEMES}) or a handler with a ${purpose}() method, got ${describeKeys(destination)}`);
  }
  return destination;
}
