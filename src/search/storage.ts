// Where a search keeps its state between runs: <directory>/<projectName>/state.json and the
// weights of the best trials in trial_<id>/ (model.json + weights.bin). Node only; fs is reached
// through dynamic import() so that the bundle still loads in browsers, where a search simply
// keeps its results in memory.

import type { Model } from '../models/model.js';

export interface ProjectStore {
  /** Where state.json lives, for messages. */
  readonly statePath: string;
  /** state.json's text, or null when there is none. */
  readState(): Promise<string | null>;
  /** Replaces state.json atomically: a reader sees the old file or the new one, never half of one. */
  writeState(text: string): Promise<void>;
  /** Deletes the whole project directory. */
  clear(): Promise<void>;
  saveModel(trialId: string, model: Model): Promise<void>;
  /** The URL loadWeights reads a trial's model from. */
  modelUrl(trialId: string): string;
  deleteModel(trialId: string): Promise<void>;
}

function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

export async function fileStore(directory: string, projectName: string): Promise<ProjectStore> {
  if (!isNode()) {
    throw new Error('kerasm.Tuner: a directory needs Node.js (fs); in a browser leave `directory` out and results stay in memory');
  }
  if (!/^[\w.-]+$/.test(projectName)) throw new Error(`kerasm.Tuner: expected a projectName of letters, digits, '_', '.' or '-', got '${projectName}'`);
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  const root = path.join(directory, projectName);
  const statePath = path.join(root, 'state.json');
  const trialDir = (trialId: string) => path.join(root, `trial_${trialId}`);
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
    async writeState(text) {
      await fs.mkdir(root, { recursive: true });
      const temp = `${statePath}.${process.pid}.tmp`;
      await fs.writeFile(temp, text, 'utf8');
      await fs.rename(temp, statePath);
    },
    async clear() {
      await fs.rm(root, { recursive: true, force: true });
    },
    async saveModel(trialId, model) {
      await fs.mkdir(root, { recursive: true });
      await model.save(`file://${trialDir(trialId)}`);
    },
    modelUrl(trialId) {
      return `file://${path.join(trialDir(trialId), 'model.json')}`;
    },
    async deleteModel(trialId) {
      await fs.rm(trialDir(trialId), { recursive: true, force: true });
    },
  };
}
