// A search's project in a browser (or Web Worker): IndexedDB, under the name
// `<directory>/<projectName>`.
//
//   state        the record `<directory>/<projectName>` of the object store 'states' in the
//                database 'kerasm-search', written in one transaction (atomic)
//   kept models  `indexeddb://<directory>/<projectName>/trial_<id>`, the ordinary model saving
//                of io/handlers.ts (TensorFlow.js's database, so tfjs lists and loads them too)
//
// The state and the models live in two databases, so no transaction spans both: the order of
// writes described in storage.ts is what keeps a project loadable after a crash.

import { indexedDBModelNames, removeModel } from '../io/handlers.js';
import type { ProjectStore } from './storage.js';

const DATABASE_NAME = 'kerasm-search';
const DATABASE_VERSION = 1;
const STATE_STORE = 'states';

interface StateRecord {
  project: string;
  state: unknown;
}

function openDatabase(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DATABASE_NAME, DATABASE_VERSION);
    request.onupgradeneeded = () => {
      request.result.createObjectStore(STATE_STORE, { keyPath: 'project' });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/** Runs `body` in one transaction of the state store; resolves once it has committed. */
async function inTransaction<T>(mode: IDBTransactionMode, body: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await openDatabase();
  try {
    const tx = db.transaction(STATE_STORE, mode);
    const request = body(tx.objectStore(STATE_STORE));
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
    });
    return request.result;
  } finally {
    db.close();
  }
}

export async function indexedDBStore(directory: string, projectName: string): Promise<ProjectStore> {
  const project = `${directory.replace(/\/+$/, '')}/${projectName}`;
  const modelPrefix = `${project}/trial_`;
  const modelUrl = (trialId: string) => `indexeddb://${modelPrefix}${trialId}`;
  const statePath = `IndexedDB record '${project}' of database '${DATABASE_NAME}'`;
  /** The trial ids of this project's saved models (not those of a project nested inside it). */
  const savedTrialIds = async () =>
    (await indexedDBModelNames(modelPrefix)).map((name) => name.slice(modelPrefix.length)).filter((id) => !id.includes('/'));
  const doomed = new Set<string>();
  // Writes run one after another, in the order they were asked for (see storage.ts).
  let lastWrite: Promise<void> = Promise.resolve();
  return {
    statePath,
    async readState() {
      const record = await inTransaction('readonly', (store) => store.get(project) as IDBRequest<StateRecord | undefined>);
      if (record === undefined) return null;
      if (typeof record.state !== 'string') {
        throw new Error(`kerasm.Tuner: the state ${statePath} is corrupt (expected its 'state' to be text, got ${typeof record.state}); ` +
          'it was left untouched: delete it, or pass overwrite: true to start over');
      }
      return record.state;
    },
    writeState(text) {
      const write = lastWrite.then(async () => {
        await inTransaction('readwrite', (store) => store.put({ project, state: text } satisfies StateRecord));
        for (const id of doomed) await removeModel(modelUrl(id));
        doomed.clear();
      });
      lastWrite = write.catch(() => {});
      return write;
    },
    async clear() {
      doomed.clear();
      await inTransaction('readwrite', (store) => store.delete(project));
      for (const id of await savedTrialIds()) await removeModel(modelUrl(id));
    },
    async saveModel(trialId, model) {
      doomed.delete(trialId);
      await model.save(modelUrl(trialId));
    },
    modelUrl,
    async deleteModel(trialId) {
      doomed.add(trialId);
    },
    async removeStale(keep) {
      const stored = new Set<string>();
      for (const id of await savedTrialIds()) {
        if (!keep.has(id)) await removeModel(modelUrl(id));
        else stored.add(id);
      }
      return stored;
    },
  };
}
