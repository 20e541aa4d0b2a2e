// Bad input gives an Error that names what was expected and what was found, and a failed
// loadWeights leaves the model exactly as it was. Files are stood in for by File-like objects
// (io.browserFiles), so this runs in Node and in the browser.

import { describe, expect, it } from 'vitest';
import {
  Conv2D, Dense, Flatten, io, loadModel, Sequential, type ModelArtifacts, type WeightSpec,
} from '../../src/index.js';
import { expectRejects, saveToMemory } from './helpers.js';

/** conv/kernel [3, 3, 2, 4], conv/bias [4], out/kernel [144, 3], out/bias [3]: 2,044 bytes. */
function model(names = ['conv', 'out']): Sequential {
  return new Sequential([
    new Conv2D({ name: names[0], filters: 4, kernelSize: 3, inputShape: [8, 8, 2] }),
    new Flatten({ name: `${names[0]}_flat` }),
    new Dense({ name: names[1], units: 3 }),
  ]);
}

/** A File stand-in: what io.browserFiles reads. */
function file(name: string, contents: string | ArrayBuffer) {
  const bytes = typeof contents === 'string' ? new TextEncoder().encode(contents) : new Uint8Array(contents);
  return {
    name,
    text: async () => new TextDecoder().decode(bytes),
    arrayBuffer: async () => bytes.slice().buffer,
  };
}

/** model.json text as written to a directory, for `artifacts` stored as weights.bin. */
function modelJSON(a: ModelArtifacts, overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    format: a.format, generatedBy: a.generatedBy, convertedBy: a.convertedBy, modelTopology: a.modelTopology,
    weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }], ...overrides,
  });
}

function withSpecs(a: ModelArtifacts, specs: WeightSpec[], data = a.weightData as ArrayBuffer): ModelArtifacts {
  return { ...a, weightSpecs: specs, weightData: data };
}

describe('loadModel errors', () => {
  it('a truncated model.json', async () => {
    const a = await saveToMemory(model());
    const text = modelJSON(a);
    await expectRejects(
      loadModel(io.browserFiles([file('model.json', text.slice(0, text.length / 2)), file('weights.bin', a.weightData as ArrayBuffer)])),
      /^kerasm\.io\.browserFiles: model\.json is not valid JSON \(.+\); expected a TensorFlow\.js layers model as written by model\.save\(\)$/,
    );
  });

  it('a JSON file that is not a model', async () => {
    await expectRejects(
      loadModel(io.browserFiles([file('model.json', '{"weights": [], "name": "x"}')])),
      "expected model.json to hold a 'modelTopology' object (a TensorFlow.js layers model), got an object with keys weights, name",
    );
    await expectRejects(
      loadModel(io.browserFiles([file('model.json', '{"modelTopology": {}, "weightsManifest": {"paths": 1}}')])),
      'expected weightsManifest in model.json to be a list of {paths, weights}, got {"paths":1}',
    );
  });

  it('a missing weights file', async () => {
    const a = await saveToMemory(model());
    await expectRejects(
      loadModel(io.browserFiles([file('model.json', modelJSON(a)), file('other.bin', new ArrayBuffer(8))])),
      "kerasm.io.browserFiles: expected the weights file 'weights.bin' listed in model.json, got only 'other.bin'",
    );
  });

  it('a short weights file names the byte counts, the file and where the data ends', async () => {
    const a = await saveToMemory(model());
    const short = (a.weightData as ArrayBuffer).slice(0, 1000);
    await expectRejects(
      loadModel(io.browserFiles([file('model.json', modelJSON(a)), file('weights.bin', short)])),
      "kerasm.loadModel: expected 2,044 bytes of weights for 'conv/kernel' and the rest (4 weights), got 1,000 in weights.bin; the data ends inside 'out/kernel' (shape [144, 3])",
    );
  });

  it('too many weight bytes', async () => {
    const a = await saveToMemory(model());
    const long = new Uint8Array(2052);
    long.set(new Uint8Array(a.weightData as ArrayBuffer));
    await expectRejects(loadModel(io.fromMemory({ ...a, weightData: long.buffer })), 'expected 2,044 bytes of weights', 'got 2,052 in weightData; 8 bytes too many');
  });

  it('a manifest whose shapes do not match the topology', async () => {
    const a = await saveToMemory(model());
    const specs = a.weightSpecs!.map((s) => (s.name === 'out/kernel' ? { ...s, shape: [3, 144] } : s));
    await expectRejects(
      loadModel(io.fromMemory(withSpecs(a, specs))),
      "kerasm.loadModel: expected 'out/kernel' of shape [144, 3] (from the model's layers), got shape [3, 144] for 'out/kernel' in the weights manifest",
    );
  });

  it('a manifest that lacks a weight, or has one too many', async () => {
    const a = await saveToMemory(model());
    const specs = a.weightSpecs!;
    const data = a.weightData as ArrayBuffer;
    await expectRejects(
      loadModel(io.fromMemory(withSpecs(a, specs.slice(0, 3), data.slice(0, data.byteLength - 12)))),
      "expected saved weights for 'out/bias' [3]",
    );
    const extra = new Uint8Array(data.byteLength + 4);
    extra.set(new Uint8Array(data));
    await expectRejects(
      loadModel(io.fromMemory(withSpecs(a, [...specs, { name: 'ghost/bias', shape: [1], dtype: 'float32' }], extra.buffer))),
      "expected every saved weight to belong to the model; the saved weights left over are 'ghost/bias' [1]",
    );
  });

  it('an unknown layer class names the layer and what kerasm can load', async () => {
    const a = await saveToMemory(model());
    const topology = structuredClone(a.modelTopology) as { config: { layers: { class_name: string }[] } };
    topology.config.layers[1].class_name = 'Cropping2D';
    await expectRejects(
      loadModel(io.fromMemory({ ...a, modelTopology: topology as never })),
      /^kerasm\.loadModel: unknown layer class 'Cropping2D' \(layer 'conv_flat' \(Cropping2D\)\); kerasm can load Activation, Add, .*Conv2D.*, ZeroPadding2D$/,
    );
  });

  it('a setting kerasm cannot honour names the layer, the key and the value', async () => {
    const a = await saveToMemory(model());
    const topology = structuredClone(a.modelTopology) as { config: { layers: { config: Record<string, unknown> }[] } };
    topology.config.layers[0].config.data_format = 'channels_first';
    await expectRejects(
      loadModel(io.fromMemory({ ...a, modelTopology: topology as never })),
      `kerasm.loadModel: layer 'conv' (Conv2D): expected data_format to be one of 'channels_last', got "channels_first"`,
    );
    topology.config.layers[0].config.data_format = 'channels_last';
    topology.config.layers[0].config.kernel_constraint = { class_name: 'MaxNorm', config: { max_value: 2 } };
    await expectRejects(
      loadModel(io.fromMemory({ ...a, modelTopology: topology as never })),
      `layer 'conv' (Conv2D): kernel_constraint is not supported by kerasm (expected null), got {"class_name":"MaxNorm"`,
    );
  });

  it('a graph model, or a handler that cannot load', async () => {
    const a = await saveToMemory(model());
    await expectRejects(loadModel(io.fromMemory({ ...a, format: 'graph-model' })), "expected format 'layers-model', got 'graph-model' (a TensorFlow.js graph model");
    await expectRejects(loadModel({ save: async () => ({}) } as never), /kerasm\.loadModel: expected a URL .* or a handler with a load\(\) method, got an object with keys save/);
    await expectRejects(loadModel('ftp://host/model.json'), "kerasm.loadModel: expected a URL starting with file:// (Node), indexeddb://, downloads://, http:// or https://, or a handler, got 'ftp://host/model.json'");
    await expectRejects(loadModel('downloads://x'), "kerasm.loadModel: cannot load with 'downloads://x': downloads:// can only save");
  });
});

describe('save errors', () => {
  it('layers with the same name, an unbuilt model, a URL that cannot save', async () => {
    await expectRejects(saveToMemory(model(['twin', 'twin'])), "kerasm.save: expected unique layer names, got 'twin' twice");
    await expectRejects(saveToMemory(new Sequential([new Dense({ units: 2 })])), /kerasm\.save: expected a built model, got Sequential '.*' without an input shape/);
    await expectRejects(model().save('https://host/upload'), "kerasm.save: cannot save with 'https://host/upload': https:// can only load");
  });
});

describe('loadWeights', () => {
  it('loads into a model of the same architecture; by order when the names differ', async () => {
    const source = model(['a_conv', 'a_out']);
    const saved = await saveToMemory(source);
    const target = model(['b_conv', 'b_out']);
    await expectRejects(
      target.loadWeights(io.fromMemory(saved)),
      "kerasm.loadWeights: expected saved weights for 'b_conv/kernel' [3, 3, 2, 4]", "matchBy: 'order'",
    );
    await target.loadWeights(io.fromMemory(saved), { matchBy: 'order' });
    target.weights.forEach((w, i) => expect(w.read()).toEqual(source.weights[i].read()));
  });

  it('a failed load leaves every weight as it was', async () => {
    const target = model(['c_conv', 'c_out']);
    const before = target.weights.map((w) => w.read());
    const saved = await saveToMemory(model(['c_conv', 'c_out']));
    // The last weight is wrong: the ones before it must not be written either.
    const specs = saved.weightSpecs!.map((s) => (s.name === 'c_out/bias' ? { ...s, shape: [1, 3] } : s));
    await expectRejects(target.loadWeights(io.fromMemory(withSpecs(saved, specs))), "expected 'c_out/bias' of shape [3]");
    await expectRejects(target.loadWeights(io.fromMemory({ ...saved, weightData: (saved.weightData as ArrayBuffer).slice(4) })), 'got 2,040 in weightData');
    target.weights.forEach((w, i) => expect(w.read(), w.name).toEqual(before[i]));
  });
});

describe('stored weight formats', () => {
  it('decodes float16 and uint8/uint16 quantization as TensorFlow.js writes them', () => {
    const halves = new Uint16Array([0x3c00, 0xc000, 0x3555, 0x0001, 0x7bff]);
    const bytes = new Uint8Array([0, 128, 255]);
    const words = new Uint16Array([0, 1000]);
    const data = new Uint8Array(halves.byteLength + bytes.byteLength + words.byteLength);
    data.set(new Uint8Array(halves.buffer), 0);
    data.set(bytes, halves.byteLength);
    data.set(new Uint8Array(words.buffer), halves.byteLength + bytes.byteLength);
    const decoded = io.decodeWeights('loadModel', [
      { name: 'h', shape: [5], dtype: 'float32', quantization: { dtype: 'float16' } },
      { name: 'q8', shape: [3], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.5, min: -1 } },
      { name: 'q16', shape: [2], dtype: 'float32', quantization: { dtype: 'uint16', scale: 0.001, min: 0 } },
    ], [data.buffer], 'weights.bin');
    expect(Array.from(decoded[0].values)).toEqual([1, -2, Math.fround(0.333251953125), Math.fround(2 ** -24), 65504]);
    expect(Array.from(decoded[1].values)).toEqual([-1, 63, 126.5]);
    expect(Array.from(decoded[2].values)).toEqual([0, Math.fround(1)]);
  });

  it('rejects a dtype it cannot decode', () => {
    expect(() => io.decodeWeights('loadModel', [{ name: 's', shape: [1], dtype: 'string' }], [new ArrayBuffer(4)], 'weightData'))
      .toThrow("kerasm.loadModel: expected weight 's' to be stored as one of float32, int32, uint16, float16, uint8, bool, got \"string\"");
  });
});
