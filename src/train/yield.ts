/**
 * Yielding to the host's event loop between steps.
 *
 * @module
 */

type Immediate = (fn: () => void) => unknown;

/**
 * The default of `fit`'s `yieldIntervalMs`: 15 ms (about one frame) where a page has to stay
 * responsive (`document` exists), 50 ms elsewhere (Node, Deno, workers), where nothing renders
 * and timers, signal handlers and I/O still run 20 times a second. A yield is not free: on Node
 * a return to the event loop after a few milliseconds of compute costs about 0.1 ms (median;
 * 0.25 ms mean on a loaded machine), about 1% of a run at 15 ms, so the longer interval keeps
 * it near 0.3% where no frame needs it.
 *
 * @internal
 */
export function defaultYieldIntervalMs(): number {
  return (globalThis as { document?: unknown }).document === undefined ? 50 : 15;
}

let channel: { port1: { onmessage: (() => void) | null }; port2: { postMessage(v: unknown): void } } | undefined;
const waiting: (() => void)[] = [];

/**
 * Resolves on the next macrotask: `setImmediate` in Node (no 1 ms timer clamp), a
 * `MessageChannel` message in browsers (not clamped to 4 ms like nested `setTimeout`), so that
 * rendering, input and timers run between training steps.
 *
 * @internal
 */
export function nextMacrotask(): Promise<void> {
  const g = globalThis as unknown as { setImmediate?: Immediate; MessageChannel?: new () => NonNullable<typeof channel> };
  if (typeof g.setImmediate === 'function') return new Promise((resolve) => void g.setImmediate!(resolve));
  if (typeof g.MessageChannel === 'function') {
    if (!channel) {
      channel = new g.MessageChannel();
      channel.port1.onmessage = () => waiting.shift()?.();
    }
    return new Promise((resolve) => {
      waiting.push(resolve);
      channel!.port2.postMessage(0);
    });
  }
  return new Promise((resolve) => setTimeout(resolve, 0));
}
