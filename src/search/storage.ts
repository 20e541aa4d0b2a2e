// Where a search keeps its state between runs: one state text plus the weights of the best
// trials only, so that storage stays bounded however many trials run.
//
//   Node      <directory>/<projectName>/state.json and trial_<id>/ (model.json + weights.bin)
//   browsers  IndexedDB: see storage_indexeddb.ts
//
// What must stay true, so that a process killed at any instant leaves a project that resumes:
// - writeState replaces the state atomically: a reader sees the old state or the new one.
// - The weights of a trial are saved before the state that names them, and deleted only after
//   a state that no longer keeps them is written (deleteModel waits for the next writeState).
//   A crash therefore leaves at worst weights that no state keeps, which removeStale deletes
//   when the project is opened again.
// fs is reached through dynamic import() so that the bundle still loads in browsers.

import type { Model } from '../models/model.js';
import { indexedDBStore } from './storage_indexeddb.js';

export interface ProjectStore {
  /** Where the state lives, for messages. */
  readonly statePath: string;
  /** The state's text, or null when there is none. */
  readState(): Promise<string | null>;
  /**
   * Replaces the state atomically: a reader sees the old state or the new one, never half of
   * one. Then deletes the weights deleteModel asked for.
   */
  writeState(text: string): Promise<void>;
  /** Deletes the project's state and weights, and nothing else. */
  clear(): Promise<void>;
  saveModel(trialId: string, model: Model): Promise<void>;
  /** The URL loadWeights reads a trial's model from. */
  modelUrl(trialId: string): string;
  /**
   * Deletes a trial's weights once the next state is written, so that the stored state never
   * keeps a trial whose weights are gone.
   */
  deleteModel(trialId: string): Promise<void>;
  /**
   * Deletes what an interrupted run may have left behind: the weights of every trial not in
   * `keep`, and half-written state. Returns the trials of `keep` whose weights are stored (a
   * search that kept fewer models than `keep` holds has none for the others).
   */
  removeStale(keep: ReadonlySet<string>): Promise<Set<string>>;
}

function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

/** The trial id of a stored model's name (`trial_<id>`), or null for anything else. */
function trialIdOf(name: string): string | null {
  return /^trial_([\w.-]+)$/.exec(name)?.[1] ?? null;
}

/** The project store for this platform: files in Node, IndexedDB in browsers and workers. */
export async function openStore(directory: string, projectName: string): Promise<ProjectStore> {
  if (typeof directory !== 'string' || directory.length === 0) {
    throw new Error(`kerasm.Tuner: expected directory to be a non-empty string, got ${JSON.stringify(directory)}`);
  }
  if (!/^[\w.-]+$/.test(projectName)) throw new Error(`kerasm.Tuner: expected a projectName of letters, digits, '_', '.' or '-', got '${projectName}'`);
  if (isNode()) return fileStore(directory, projectName);
  if ((globalThis as { indexedDB?: unknown }).indexedDB) return indexedDBStore(directory, projectName);
  throw new Error('kerasm.Tuner: a directory needs Node.js (fs) or IndexedDB, and this environment has neither; leave `directory` out and results stay in memory');
}

export async function fileStore(directory: string, projectName: string): Promise<ProjectStore> {
  const fs = await import('node:fs/promises');
  const exists = (file: string) => fs.access(file).then(() => true, () => false);
  const path = await import('node:path');
  const root = path.join(directory, projectName);
  const statePath = path.join(root, 'state.json');
  const trialDir = (trialId: string) => path.join(root, `trial_${trialId}`);
  const doomed = new Set<string>();
  // Writes run one after another, in the order they were asked for, so that trials finishing
  // together cannot leave an older state last.
  let lastWrite: Promise<void> = Promise.resolve();
  return {
    statePath,
    async readState() {
      try {
        return await fs.readFile(statePath, 'utf8');
      } catch (e) {
        if ((e as { code?: string }).code === 'ENOENT') return null;
        throw e;
      }
    },
    writeState(text) {
      const write = lastWrite.then(async () => {
        await fs.mkdir(root, { recursive: true });
        const temp = `${statePath}.${process.pid}.tmp`;
        await fs.writeFile(temp, text, 'utf8');
        await fs.rename(temp, statePath);
        for (const id of doomed) await fs.rm(trialDir(id), { recursive: true, force: true });
        doomed.clear();
      });
      lastWrite = write.catch(() => {});
      return write;
    },
    async clear() {
      doomed.clear();
      await fs.rm(root, { recursive: true, force: true });
    },
    async saveModel(trialId, model) {
      doomed.delete(trialId);
      await fs.mkdir(root, { recursive: true });
      await model.save(`file://${trialDir(trialId)}`);
    },
    modelUrl(trialId) {
      return `file://${path.join(trialDir(trialId), 'model.json')}`;
    },
    async deleteModel(trialId) {
      doomed.add(trialId);
    },
    async removeStale(keep) {
      // A kept trial counts as stored only with its model.json (written last by save()).
      const stored = new Set<string>();
      let names: string[];
      try {
        names = await fs.readdir(root);
      } catch (e) {
        if ((e as { code?: string }).code === 'ENOENT') return stored;
        throw e;
      }
      for (const name of names) {
        const id = trialIdOf(name);
        // state.json.<pid>.tmp: a writeState killed before its rename.
        const halfWritten = name.startsWith('state.json.') && name.endsWith('.tmp');
        if ((id !== null && !keep.has(id)) || halfWritten) await fs.rm(path.join(root, name), { recursive: true, force: true });
        else if (id !== null && await exists(path.join(root, name, 'model.json'))) stored.add(id);
      }
      return stored;
    },
  };
}
