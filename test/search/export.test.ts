// Tuner.exportModel: the best trial's model, saved where asked, loadable again; format 'tfjs'
// refuses layers TensorFlow.js cannot read, before writing anything.

import { describe, expect, it } from 'vitest';
import { Dense, io, loadModel, Normalization, RandomSearch, Sequential, Tuner, setRandomSeed, tensor, type ModelArtifacts, type Tensor } from '../../src/index.js';
import type { HyperParameters } from '../../src/search/index.js';

function data() {
  const x = tensor(Array.from({ length: 40 }, (_, i) => [Math.sin(i), Math.cos(i)]));
  const y = tensor(Array.from({ length: 40 }, (_, i) => [Math.sin(i) + Math.cos(i)]));
  return { x, y };
}

function hypermodel(withNormalization: boolean) {
  return (hp: HyperParameters) => {
    const model = new Sequential([
      ...(withNormalization ? [new Normalization({ mean: 0, variance: 1, inputShape: [2] })] : []),
      new Dense({ units: hp.choice('units', [4, 8]), activation: 'tanh', ...(withNormalization ? {} : { inputShape: [2] }) }),
      new Dense({ units: 1 }),
    ]);
    model.compile({ optimizer: 'adam', loss: 'mse' });
    return model;
  };
}

describe('Tuner.exportModel', () => {
  it('returns the best model and saves it where asked; the saved files load and predict the same', async () => {
    setRandomSeed(1);
    const { x, y } = data();
    const tuner = new Tuner({ hypermodel: hypermodel(false), oracle: new RandomSearch({ seed: 1 }), maxTrials: 2, verbose: 0 });
    await expect(tuner.exportModel()).rejects.toThrow(/no trial has completed yet/);
    await tuner.search(x, y, { epochs: 2, validationSplit: 0.25 });
    let saved: ModelArtifacts | null = null;
    const model = await tuner.exportModel(io.withSaveHandler(async (a) => {
      saved = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }), { format: 'tfjs' });
    const [best] = await tuner.getBestModels(1);
    expect(Array.from((model.predict(x) as Tensor).dataSync())).toEqual(Array.from((best.predict(x) as Tensor).dataSync()));
    const loaded = await loadModel(io.fromMemory(saved!));
    expect(Array.from((loaded.predict(x) as Tensor).dataSync())).toEqual(Array.from((model.predict(x) as Tensor).dataSync()));
    await expect(tuner.exportModel(undefined, { format: 'onnx' as never })).rejects.toThrow(/expected format 'kerasm' or 'tfjs', got 'onnx'/);
  });

  it("format 'tfjs' names the layers TensorFlow.js cannot load and writes nothing", async () => {
    setRandomSeed(2);
    const { x, y } = data();
    const tuner = new Tuner({ hypermodel: hypermodel(true), oracle: new RandomSearch({ seed: 1 }), maxTrials: 1, verbose: 0 });
    await tuner.search(x, y, { epochs: 1, validationSplit: 0.25 });
    let writes = 0;
    const handler = io.withSaveHandler(async () => {
      writes++;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    });
    await expect(tuner.exportModel(handler, { format: 'tfjs' })).rejects.toThrow(/TensorFlow\.js cannot load normalization(_\d+)? \(Normalization\)/);
    expect(writes).toBe(0);
    await tuner.exportModel(handler);
    expect(writes).toBe(1);
  });
});
