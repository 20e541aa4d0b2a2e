// A fixed number of workers running tasks, the same over Node's worker_threads and browsers'
// module Web Workers. Every worker runs one script (normally the kerasm bundle itself, see
// serve.ts), receives one init message when it starts, then one task at a time.
//
// What must stay true:
// - A worker that dies (exits, is killed, throws an uncaught error) costs only the task it was
//   running: that task is rejected with a WorkerCrashError, and a new worker takes its place
//   (and gets the init message again).
// - A pool whose workers cannot start (a wrong script, an init that throws) does not retry
//   forever: it rejects every task with a WorkerPoolError saying why.
// - node:worker_threads is reached by dynamic import(), so the bundle still loads in browsers.

import { POOL_MARK, POOL_NAME_PREFIX, type ErrorReply, type FromWorker, type ToWorker } from './protocol.js';

export interface WorkerPoolOptions {
  /** The module every worker runs (a file URL or path in Node, a URL in browsers). */
  script: string | URL;
  /** Which role of the script the workers play (see serveIfPoolWorker). */
  role: string;
  /** Number of workers. */
  size: number;
  /**
   * The init payload of one new worker, and the buffers to transfer with it. Called again for
   * every replacement, so a transferred buffer must be a fresh copy each time.
   */
  init: () => { payload: unknown; transfer?: Transferable[] };
}

/** A worker died while running this task; the pool has replaced it. */
export class WorkerCrashError extends Error {
  override name = 'WorkerCrashError';
}

/** A task ran past its time limit; the pool ended its worker and started another. */
export class WorkerTimeoutError extends Error {
  override name = 'WorkerTimeoutError';
}

/** The pool cannot run tasks: its workers fail to start, or it was terminated. */
export class WorkerPoolError extends Error {
  override name = 'WorkerPoolError';
}

/** What the pool has done so far. */
export interface WorkerPoolStats {
  /** Workers started, replacements included; each got exactly one init message. */
  started: number;
  /** Workers that died without being terminated by the pool. */
  crashed: number;
  /** Tasks sent to workers. */
  tasks: number;
  /** Workers the pool ended because their task ran past its time limit. */
  timedOut: number;
}

interface Thread {
  post(message: ToWorker, transfer?: Transferable[]): void;
  terminate(): Promise<unknown> | void;
}

type Spawn = (script: string | URL, role: string, onMessage: (m: FromWorker) => void, onDeath: (reason: string) => void) => Thread;

interface Task {
  id: number;
  payload: unknown;
  transfer: Transferable[];
  /** Milliseconds the task may run once a worker has it; past that its worker is ended. */
  timeoutMs: number;
  timer: ReturnType<typeof setTimeout> | null;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

interface Slot {
  /** 1, 2, ... in start order, for messages. */
  number: number;
  thread: Thread;
  ready: boolean;
  alive: boolean;
  task: Task | null;
}

/** Failed starts in a row (no worker becoming ready in between) before the pool gives up. */
const MAX_FAILED_STARTS = 3;

function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

async function nodeSpawn(): Promise<Spawn> {
  const { Worker } = await import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:worker_threads');
  return (script, role, onMessage, onDeath) => {
    const where = typeof script === 'string' && script.startsWith('file:') ? new URL(script) : script;
    const worker = new Worker(where, { workerData: { [POOL_MARK]: role } });
    // 'error' (an uncaught exception) is always followed by 'exit'; the error says more.
    let error: string | null = null;
    worker.on('message', onMessage);
    worker.on('error', (e: unknown) => { error = e instanceof Error ? e.message : String(e); });
    worker.on('messageerror', (e: unknown) => {
      error = `a message could not be deserialized: ${e instanceof Error ? e.message : String(e)}`;
      void worker.terminate();
    });
    worker.on('exit', (code: number) => onDeath(error ?? `it exited with code ${code}`));
    return {
      post: (message, transfer = []) => worker.postMessage(message, transfer as never),
      terminate: () => worker.terminate(),
    };
  };
}

function browserSpawn(): Spawn {
  return (script, role, onMessage, onDeath) => {
    const worker = new Worker(script, { type: 'module', name: `${POOL_NAME_PREFIX}${role}` });
    worker.addEventListener('message', (event: MessageEvent<FromWorker>) => onMessage(event.data));
    // A Web Worker survives an uncaught error, but its task is lost: treated as a death.
    worker.addEventListener('error', (event: ErrorEvent) => {
      event.preventDefault();
      worker.terminate();
      const where = event.filename ? ` at ${event.filename}:${event.lineno}` : '';
      onDeath(event.message ? `${event.message}${where}` : `its script ${String(script)} failed to load`);
    });
    worker.addEventListener('messageerror', () => {
      worker.terminate();
      onDeath('a message could not be deserialized');
    });
    return {
      post: (message, transfer = []) => worker.postMessage(message, transfer),
      terminate: () => worker.terminate(),
    };
  };
}

function fromReply(reply: ErrorReply): Error {
  const error = new Error(reply.message);
  error.name = reply.name;
  if (reply.stack) error.stack = reply.stack;
  return error;
}

/**
 * @example
 * ```ts
 * const pool = await WorkerPool.create({ script: bundleUrl, role: 'trials', size: 2, init: () => ({ payload: data }) });
 * try {
 *   const results = await Promise.all(tasks.map((t) => pool.run(t)));
 * } finally {
 *   await pool.terminate();
 * }
 * ```
 */
export class WorkerPool {
  readonly size: number;
  readonly stats: WorkerPoolStats = { started: 0, crashed: 0, tasks: 0, timedOut: 0 };
  /** What each worker's init returned, in the order they became ready. */
  readonly infos: unknown[] = [];
  private readonly options: WorkerPoolOptions;
  private readonly spawn: Spawn;
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextTaskId = 0;
  private failedStarts = 0;
  /** Set once the pool can no longer run tasks. */
  private error: WorkerPoolError | null = null;

  private constructor(options: WorkerPoolOptions, spawn: Spawn) {
    this.options = options;
    this.size = options.size;
    this.spawn = spawn;
    for (let i = 0; i < options.size; i++) this.slots.push(this.start());
  }

  /** Starts `size` workers; tasks may be queued at once, they run as workers become ready. */
  static async create(options: WorkerPoolOptions): Promise<WorkerPool> {
    if (!Number.isInteger(options.size) || options.size < 1) {
      throw new Error(`kerasm.WorkerPool: expected size to be a positive integer, got ${options.size}`);
    }
    if (!(typeof options.script === 'string' || options.script instanceof URL) || String(options.script) === '') {
      throw new Error(`kerasm.WorkerPool: expected script to be a URL or a path, got ${String(options.script)}`);
    }
    let spawn: Spawn;
    if (isNode()) spawn = await nodeSpawn();
    else if (typeof Worker === 'function') spawn = browserSpawn();
    else throw new Error('kerasm.WorkerPool: this environment has neither node:worker_threads nor Web Workers');
    return new WorkerPool(options, spawn);
  }

  /**
   * Runs one task on the next free worker; rejects with WorkerCrashError if its worker dies,
   * and with WorkerTimeoutError if it runs longer than `timeoutMs` (its worker is then ended:
   * the only way to stop code that does not return).
   */
  run(payload: unknown, transfer: Transferable[] = [], options: { timeoutMs?: number } = {}): Promise<unknown> {
    if (this.error) return Promise.reject(this.error);
    const timeoutMs = options.timeoutMs ?? Infinity;
    if (!(timeoutMs > 0)) return Promise.reject(new Error(`kerasm.WorkerPool: expected timeoutMs > 0, got ${timeoutMs}`));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextTaskId++, payload, transfer, timeoutMs, timer: null, resolve, reject });
      this.dispatch();
    });
  }

  /** Ends every worker; tasks not finished are rejected. */
  async terminate(): Promise<void> {
    this.fail(new WorkerPoolError('kerasm.WorkerPool: the pool was terminated'));
    await Promise.all(this.slots.map((slot) => slot.thread.terminate()));
  }

  private start(): Slot {
    this.stats.started++;
    const slot: Slot = { number: this.stats.started, thread: null as unknown as Thread, ready: false, alive: true, task: null };
    slot.thread = this.spawn(this.options.script, this.options.role, (m) => this.onMessage(slot, m), (reason) => this.onDeath(slot, reason));
    const { payload, transfer } = this.options.init();
    slot.thread.post({ type: 'init', payload }, transfer);
    return slot;
  }

  private onMessage(slot: Slot, message: FromWorker): void {
    if (!slot.alive) return;
    switch (message.type) {
      case 'ready':
        slot.ready = true;
        this.failedStarts = 0;
        this.infos.push(message.info);
        break;
      case 'init-failed':
        // The same init would fail on every worker: no point in replacing this one.
        this.fail(new WorkerPoolError(`kerasm.WorkerPool: a worker could not set itself up: ${message.error.message}`));
        return;
      case 'done':
      case 'failed': {
        if (!slot.task || slot.task.id !== message.id) return;
        const task = this.release(slot)!;
        if (message.type === 'done') task.resolve(message.value);
        else task.reject(fromReply(message.error));
        break;
      }
    }
    this.dispatch();
  }

  private onDeath(slot: Slot, reason: string): void {
    if (!slot.alive) return; // terminated by the pool
    this.stats.crashed++;
    this.replace(slot, new WorkerCrashError(`kerasm.WorkerPool: worker ${slot.number} died while running a task: ${reason}`), reason);
  }

  /** Takes `slot`'s task off it (and stops its time limit); returns the task, if there was one. */
  private release(slot: Slot): Task | null {
    const task = slot.task;
    slot.task = null;
    if (task?.timer != null) clearTimeout(task.timer);
    return task;
  }

  /** Ends a worker whose task ran out of time, and starts another in its place. */
  private onTimeout(slot: Slot, task: Task): void {
    if (!slot.alive || slot.task !== task) return;
    this.stats.timedOut++;
    const seconds = Number((task.timeoutMs / 1000).toPrecision(3));
    const reason = `its task ran past ${seconds} s`;
    this.replace(slot, new WorkerTimeoutError(`kerasm.WorkerPool: worker ${slot.number} was ended: ${reason}`), reason);
  }

  /** Ends `slot`'s worker, rejects its task with `error` and starts a replacement. */
  private replace(slot: Slot, error: Error, reason: string): void {
    slot.alive = false;
    void slot.thread.terminate();
    this.release(slot)?.reject(error);
    if (!slot.ready && ++this.failedStarts >= MAX_FAILED_STARTS) {
      this.fail(new WorkerPoolError(
        `kerasm.WorkerPool: ${MAX_FAILED_STARTS} workers in a row died before they were ready (the last one: ${reason}); ` +
          `check that ${String(this.options.script)} is the kerasm bundle (dist/kerasm.js or dist/kerasm.cjs)`,
      ));
      return;
    }
    if (this.error) return;
    this.slots[this.slots.indexOf(slot)] = this.start();
    this.dispatch();
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (!slot.alive || !slot.ready || slot.task) continue;
      const task = this.queue.shift()!;
      slot.task = task;
      this.stats.tasks++;
      if (Number.isFinite(task.timeoutMs)) task.timer = setTimeout(() => this.onTimeout(slot, task), task.timeoutMs);
      slot.thread.post({ type: 'task', id: task.id, payload: task.payload }, task.transfer);
    }
  }

  /** Rejects every queued and running task, and ends the workers. */
  private fail(error: WorkerPoolError): void {
    if (this.error) return;
    this.error = error;
    for (const task of this.queue.splice(0)) task.reject(error);
    for (const slot of this.slots) {
      this.release(slot)?.reject(error);
      if (slot.alive) {
        slot.alive = false;
        void slot.thread.terminate();
      }
    }
  }
}

/** Logical cores: os.availableParallelism() in Node, navigator.hardwareConcurrency in browsers. */
export async function availableCores(): Promise<number> {
  if (isNode()) {
    const os = await import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:os');
    return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
  }
  const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return Math.max(1, cores ?? 1);
}
