/**
 * The stateful-layer hook of checkpoints.
 *
 * @module
 */

/**
 * A layer that carries state besides its weights (a seeded sample counter, a noise or dropout
 * counter) declares it by implementing these two methods; trainers then save it in their
 * checkpoints and put it back on restore, without knowing the layer's class. The state is a
 * flat record of numbers (JSON-safe: finite numbers only). `vae.Reparameterize` implements it
 * for its `sampleCount`.
 *
 * Trainers find such layers by walking their networks' `layers` (nested models included), in
 * order, and save each one's `getState()` with its class name under the network's name.
 *
 * @example
 * ```ts
 * class CountingNoise extends tfl.layers.Layer implements train.StatefulLayer {
 *   static className = 'my>CountingNoise';
 *   calls = 0;
 *   getState() {
 *     return { calls: this.calls };
 *   }
 *   setState(state: Record<string, number>) {
 *     this.calls = state['calls']!;
 *   }
 * }
 * ```
 * @category Training
 */
export interface StatefulLayer {
  /** The layer's state besides its weights, as finite numbers. */
  getState(): Record<string, number>;
  /** Puts back a state that `getState` returned (same keys; validated by the trainer). */
  setState(state: Record<string, number>): void;
}

/** Whether `x` implements {@link StatefulLayer}. @internal */
export function isStatefulLayer(x: unknown): x is StatefulLayer {
  return (
    x !== null &&
    typeof x === 'object' &&
    typeof (x as StatefulLayer).getState === 'function' &&
    typeof (x as StatefulLayer).setState === 'function'
  );
}

/** The stateful layers of a network, in layer order, nested models included. @internal */
export function statefulLayers(network: unknown): StatefulLayer[] {
  const found: StatefulLayer[] = [];
  const seen = new Set<unknown>();
  const walk = (layers: readonly unknown[] | undefined): void => {
    for (const layer of layers ?? []) {
      if (seen.has(layer)) continue;
      seen.add(layer);
      if (isStatefulLayer(layer)) found.push(layer);
      else walk((layer as { layers?: unknown[] } | null)?.layers);
    }
  };
  walk((network as { layers?: unknown[] } | null)?.layers);
  return found;
}

/** The class name a stateful layer is saved under: its registered `className`, else its constructor's name. @internal */
export function layerClassName(layer: StatefulLayer): string {
  const ctor = (layer as { constructor?: { className?: unknown; name?: unknown } }).constructor;
  return typeof ctor?.className === 'string' ? ctor.className : typeof ctor?.name === 'string' ? ctor.name : 'Object';
}
