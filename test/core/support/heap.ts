import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * A full garbage collection. Jest's sandbox does not expose `gc` even under --expose-gc, so the flag is
 * set at run time and the function taken from a fresh context (a documented V8 flag, no native module).
 */
export function collectGarbage(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === 'function') return exposed;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** Heap used after full collections (several: weak references and finalizers need more than one). */
export async function settledHeapUsed(): Promise<number> {
  const gc = collectGarbage();
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  gc();
  return process.memoryUsage().heapUsed;
}
