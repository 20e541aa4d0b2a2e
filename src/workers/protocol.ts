// The messages between a WorkerPool and its workers. A worker is told what it is for when it
// starts (Node: workerData; browsers: the Worker's name, the only thing a Web Worker can read
// before its first message), gets one init message, then tasks one at a time:
//
//   pool -> worker   { type: 'init', payload }          once, before any task
//   worker -> pool   { type: 'ready', info }            init done; info is the role's reply
//                    { type: 'init-failed', error }     the role's init threw
//   pool -> worker   { type: 'task', id, payload }
//   worker -> pool   { type: 'done', id, value }
//                    { type: 'failed', id, error }      the role's run threw

/** workerData[POOL_MARK] names the role of a Node pool worker. */
export const POOL_MARK = 'kerasmPoolRole';
/** A browser pool worker's name is this prefix followed by its role. */
export const POOL_NAME_PREFIX = 'kerasm-pool:';

export interface ErrorReply {
  name: string;
  message: string;
  stack?: string;
}

export type ToWorker =
  | { type: 'init'; payload: unknown }
  | { type: 'task'; id: number; payload: unknown };

export type FromWorker =
  | { type: 'ready'; info: unknown }
  | { type: 'init-failed'; error: ErrorReply }
  | { type: 'done'; id: number; value: unknown }
  | { type: 'failed'; id: number; error: ErrorReply };

/** What a worker does: set itself up once, then run tasks. */
export interface WorkerRole {
  /** Receives the init payload; what it returns reaches the pool as the worker's info. */
  init(payload: unknown): unknown | Promise<unknown>;
  /** One task; `transfer` lists buffers to move (not copy) back with the value. */
  run(payload: unknown): Promise<{ value: unknown; transfer?: Transferable[] }>;
}

export function toErrorReply(error: unknown): ErrorReply {
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack };
  return { name: 'Error', message: String(error) };
}
