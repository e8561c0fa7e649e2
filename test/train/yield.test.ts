/**
 * The event-loop yield of the trainers: its default interval per host.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';

import { defaultYieldIntervalMs } from '../../src/train/yield.js';

describe('train yield', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('defaults to 50 ms where nothing renders (Node)', () => {
    expect((globalThis as { document?: unknown }).document).toBeUndefined();
    expect(defaultYieldIntervalMs()).toBe(50);
  });

  it('defaults to 15 ms (about one frame) in a page', () => {
    vi.stubGlobal('document', {});
    expect(defaultYieldIntervalMs()).toBe(15);
  });
});
