// Node: models saved to and loaded from directories (file://), in one weights.bin or in 4 MB
// shards, and loaded over HTTP from a local server; errors for missing, short and broken files.

import { mkdtemp, readdir, readFile, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Conv2D, Dense, Flatten, io, loadModel, MaxPooling2D, Sequential, setRandomSeed } from '../../src/index.js';
import { expectRejects, expectSameModel, inputsFor } from './helpers.js';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kerasm-io-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function convnet(): Sequential {
  setRandomSeed(3);
  return new Sequential([
    new Conv2D({ filters: 4, kernelSize: 3, activation: 'relu', inputShape: [10, 10, 1] }),
    new MaxPooling2D(),
    new Flatten(),
    new Dense({ units: 3, activation: 'softmax' }),
  ]);
}

describe('file://', () => {
  it('saves model.json and weights.bin, and loads from either path', async () => {
    const model = convnet();
    const dir = join(root, 'convnet');
    await model.save(`file://${dir}`);
    expect((await readdir(dir)).sort()).toEqual(['model.json', 'weights.bin']);
    const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    expect(json.format).toBe('layers-model');
    expect(json.weightsManifest).toEqual([{ paths: ['weights.bin'], weights: expect.any(Array) }]);
    expect((await readFile(join(dir, 'weights.bin'))).byteLength).toBe(4 * model.countParams());
    const xs = inputsFor(model, 2, 1);
    expectSameModel(model, await loadModel(`file://${dir}/model.json`), xs);
    expectSameModel(model, await loadModel(`file://${dir}`), xs);
  });

  it('cuts weights over 4 MB into shards, as the TensorFlow.js converter does', async () => {
    setRandomSeed(4);
    const model = new Sequential([new Dense({ units: 1100, inputShape: [1000] }), new Dense({ units: 2 })]);
    const dir = join(root, 'large');
    await model.save(`file://${dir}`);
    expect((await readdir(dir)).sort()).toEqual(['group1-shard1of2.bin', 'group1-shard2of2.bin', 'model.json']);
    expect((await readFile(join(dir, 'group1-shard1of2.bin'))).byteLength).toBe(io.DEFAULT_SHARD_BYTES);
    expectSameModel(model, await loadModel(`file://${dir}/model.json`), inputsFor(model, 2, 2));
  });

  it('takes a shard size, and a model.json path to save to', async () => {
    const model = convnet();
    const dir = join(root, 'shards');
    await model.save(io.fileSystem(join(dir, 'net.json'), { shardSizeBytes: 512 }));
    const files = (await readdir(dir)).sort();
    expect(files).toContain('net.json');
    expect(files.filter((f) => f.endsWith('.bin'))).toHaveLength(Math.ceil((4 * model.countParams()) / 512));
    expectSameModel(model, await loadModel(`file://${dir}/net.json`), inputsFor(model, 2, 3));
  });

  it('a missing, short or broken file gives an error naming it', async () => {
    const dir = join(root, 'broken');
    await convnet().save(`file://${dir}`);
    const bytes = (await readFile(join(dir, 'weights.bin'))).byteLength;
    await truncate(join(dir, 'weights.bin'), 100);
    await expectRejects(
      loadModel(`file://${dir}/model.json`),
      `kerasm.loadModel: expected ${bytes.toLocaleString('en-US')} bytes of weights for`, 'got 100 in weights.bin',
    );
    await unlink(join(dir, 'weights.bin'));
    await expectRejects(
      loadModel(`file://${dir}/model.json`),
      `kerasm.io.fileSystem: cannot read the weights file '${join(dir, 'weights.bin')}' listed in ${dir}/model.json (no such file)`,
    );
    const text = await readFile(join(dir, 'model.json'), 'utf8');
    await writeFile(join(dir, 'model.json'), text.slice(0, 300));
    await expectRejects(loadModel(`file://${dir}/model.json`), `kerasm.io.fileSystem: ${dir}/model.json is not valid JSON`);
    await expectRejects(loadModel(`file://${root}/nowhere/model.json`), `cannot read the model file '${root}/nowhere/model.json' (no such file)`);
  });

  it('refuses weight paths outside the model directory', async () => {
    const dir = join(root, 'escape');
    await convnet().save(`file://${dir}`);
    const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    json.weightsManifest[0].paths = ['../secret.bin'];
    await writeFile(join(dir, 'model.json'), JSON.stringify(json));
    await expectRejects(loadModel(`file://${dir}`), "expected weight paths beside model.json, got '../secret.bin'");
  });
});

describe('http(s)://', () => {
  let server: Server;
  let base: string;
  const dir = () => join(root, 'served');

  beforeAll(async () => {
    server = createServer((request, response) => {
      readFile(join(dir(), decodeURIComponent(new URL(request.url!, 'http://x').pathname)))
        .then((body) => response.end(body))
        .catch(() => {
          response.statusCode = 404;
          response.end();
        });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('loads model.json and the weight files it lists, relative to it', async () => {
    const model = convnet();
    await model.save(io.fileSystem(dir(), { shardSizeBytes: 1000 }));
    expectSameModel(model, await loadModel(`${base}/model.json`), inputsFor(model, 2, 4));
  });

  it('an error answer names the URL and the status', async () => {
    await expectRejects(loadModel(`${base}/missing/model.json`), `kerasm.io.http: expected '${base}/missing/model.json' to answer 200 OK, got 404 Not Found`);
  });
});

describe('the version written as generatedBy', () => {
  it('is package.json\'s', async () => {
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'));
    expect(io.VERSION).toBe(pkg.version);
  });
});
