// A worker that loads the built bundle and multiplies two matrices, used unchanged as a Node
// worker_threads Worker and as a browser module Web Worker: the point is that the one bundle
// works in both.
//
// Request:  { bundle, a, aShape, b, bShape }   bundle: what to import() ('kerasm' or a URL)
// Reply:    { flavor, shape, values, resolved } or { error } (a stack trace)
//
// Plain JavaScript, so that Node can run it directly without a loader.

async function compute({ bundle, a, aShape, b, bShape }) {
  const kerasm = await import(bundle);
  const backend = await kerasm.init();
  const product = kerasm.ops.matmul(kerasm.tensor(a, aShape), kerasm.tensor(b, bShape));
  const reply = {
    flavor: backend.flavor,
    shape: [...product.shape],
    values: Array.from(product.dataSync()),
    resolved: import.meta.resolve?.(bundle) ?? bundle,
  };
  product.dispose();
  return reply;
}

async function answer(request) {
  try {
    return await compute(request);
  } catch (error) {
    return { error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
}

if (typeof WorkerGlobalScope !== 'undefined' && globalThis instanceof WorkerGlobalScope) {
  globalThis.addEventListener('message', async (event) => {
    globalThis.postMessage(await answer(event.data));
  });
} else {
  const { parentPort, workerData } = await import('node:worker_threads');
  parentPort.postMessage(await answer(workerData));
}
