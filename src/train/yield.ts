/**
 * Yielding to the host's event loop between steps.
 *
 * @module
 */

type Immediate = (fn: () => void) => unknown;

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
