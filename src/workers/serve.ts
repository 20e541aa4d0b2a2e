// The worker side of a WorkerPool. The bundle calls serveIfPoolWorker once at load: in a thread
// that a pool started it answers the pool's messages; anywhere else it does nothing (in Node it
// only loads the worker_threads built-in to find out).

import { POOL_MARK, POOL_NAME_PREFIX, toErrorReply, type FromWorker, type ToWorker, type WorkerRole } from './protocol.js';

interface Port {
  post(message: FromWorker, transfer?: Transferable[]): void;
  listen(handler: (message: ToWorker) => void): void;
}

function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

/** A browser worker's global scope, or null elsewhere. */
function browserWorkerScope(): (typeof globalThis & { name: string; postMessage(m: unknown, t?: Transferable[]): void }) | null {
  const scope = globalThis as unknown as { WorkerGlobalScope?: new () => unknown };
  if (typeof scope.WorkerGlobalScope === 'undefined' || !(globalThis instanceof scope.WorkerGlobalScope)) return null;
  return globalThis as typeof globalThis & { name: string; postMessage(m: unknown, t?: Transferable[]): void };
}

/** Starts answering a pool if this thread is one of its workers. */
export function serveIfPoolWorker(roles: Readonly<Record<string, WorkerRole>>): void {
  const scope = browserWorkerScope();
  if (scope) {
    if (typeof scope.name !== 'string' || !scope.name.startsWith(POOL_NAME_PREFIX)) return;
    const port: Port = {
      post: (message, transfer = []) => scope.postMessage(message, transfer),
      listen: (handler) => scope.addEventListener('message', (event) => handler((event as MessageEvent<ToWorker>).data)),
    };
    serve(port, roles, scope.name.slice(POOL_NAME_PREFIX.length));
    return;
  }
  if (!isNode()) return;
  // Messages the pool posts before this resolves wait in the port's queue until a listener is attached.
  void import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:worker_threads').then(({ isMainThread, parentPort, workerData }) => {
    const role = (workerData as Record<string, unknown> | null)?.[POOL_MARK];
    if (isMainThread || !parentPort || typeof role !== 'string') return;
    const port: Port = {
      post: (message, transfer = []) => parentPort.postMessage(message, transfer as never),
      listen: (handler) => parentPort.on('message', handler),
    };
    serve(port, roles, role);
  });
}

/** Set on the worker's global object by the first copy of kerasm that answers the pool. */
const SERVING = Symbol.for('kerasm.poolWorker');

function serve(port: Port, roles: Readonly<Record<string, WorkerRole>>, roleName: string): void {
  // A worker may load two copies of kerasm (the CommonJS bundle it runs, and the ES bundle a
  // hypermodel module imports): only the first answers, or every message would get two replies.
  const global = globalThis as { [SERVING]?: true };
  if (global[SERVING]) return;
  global[SERVING] = true;
  const role = Object.hasOwn(roles, roleName) ? roles[roleName] : undefined;
  // Tasks arrive only after 'ready', but the init message itself may arrive before init resolves.
  let ready: Promise<boolean> | null = null;
  port.listen((message) => {
    if (message.type === 'init') {
      ready = (async () => {
        try {
          if (!role) throw new Error(`kerasm.WorkerPool: this script has no worker role '${roleName}' (it has ${Object.keys(roles).join(', ')})`);
          port.post({ type: 'ready', info: await role.init(message.payload) });
          return true;
        } catch (e) {
          port.post({ type: 'init-failed', error: toErrorReply(e) });
          return false;
        }
      })();
      return;
    }
    const { id, payload } = message;
    void (async () => {
      if (!(await ready)) return;
      try {
        const { value, transfer } = await role!.run(payload);
        port.post({ type: 'done', id, value }, transfer);
      } catch (e) {
        port.post({ type: 'failed', id, error: toErrorReply(e) });
      }
    })();
  });
}
