/**
 * The gradient of `tile` as one reduction.
 *
 * tfjs-core 4.22's `Tile` gradient adds up one `slice` of `dy` per repetition (`reps[0]·reps[1]`
 * slices and adds for a rank-2 tensor). `tf.layers.layerNormalization` tiles its `[rows, 1]`
 * moments across the normalized axis, so its backward pass ran 2·width tiny kernels per call:
 * on wasm, 256 `Slice` and 260 `Add` calls took 90% of a `[768, 128]` layer norm's
 * forward+backward time. Viewing `dy` with every tiled axis split in two gives the same sum in
 * one pass,
 *
 *     dy: [r₀·s₀, …, r_{k−1}·s_{k−1}]  viewed as  [r₀, s₀, …, r_{k−1}, s_{k−1}]
 *     dx[i₀, …, i_{k−1}] = Σ_{j₀ … j_{k−1}} dy[j₀, i₀, …, j_{k−1}, i_{k−1}]
 *
 * (axes with `r = 1` are not split; axes with `s = 1` keep only their `r` part), which is what
 * the slices add up, in another order of float32 additions.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';

const MARK = Symbol.for('genblocks.tileGradient');

/** `dy` of `tile(x, reps)` summed back to `x`'s shape (see the module comment). */
export function tileBackward(dy: tf.Tensor, xShape: readonly number[], reps: readonly number[]): tf.Tensor {
  return tf.tidy(() => {
    const view: number[] = [];
    const axes: number[] = [];
    xShape.forEach((s, i) => {
      const r = reps[i]!;
      if (r !== 1) {
        axes.push(view.length);
        view.push(r);
      }
      if (s !== 1 || r === 1) view.push(s);
    });
    if (axes.length === 0) return tf.reshape(dy, [...xShape]);
    return tf.reshape(tf.sum(tf.reshape(dy, view), axes), [...xShape]);
  });
}

/** The `Tile` gradient configuration genblocks registers. */
const tileGradConfig: tf.GradConfig & { [MARK]?: tf.GradConfig | null } = {
  kernelName: 'Tile',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved;
    const reps = attrs.reps as unknown as number[];
    return { x: () => tileBackward(dy as tf.Tensor, x!.shape, reps) };
  },
};

/** The `Tile` gradient that was registered before {@link installTileGradient} (restored by uninstall). */
let previous: tf.GradConfig | undefined;

/**
 * Registers the one-reduction `Tile` gradient in place of tfjs-core's (global: gradients are not
 * per backend). Idempotent; returns whether this call changed the registry.
 */
export function installTileGradient(): boolean {
  const current = tf.getGradient('Tile');
  if (current === tileGradConfig) return false;
  if (current != null && (current as { [MARK]?: unknown })[MARK] !== undefined) return false; // another copy of genblocks
  previous = current;
  (tileGradConfig as { [MARK]?: tf.GradConfig | null })[MARK] = current ?? null;
  tf.registerGradient(tileGradConfig);
  return true;
}

/** Restores the `Tile` gradient that {@link installTileGradient} replaced (benchmarks, tests). */
export function uninstallTileGradient(): void {
  if (tf.getGradient('Tile') !== tileGradConfig || previous == null) return;
  tf.registerGradient(previous);
}

/** Whether genblocks' `Tile` gradient is the registered one. */
export function tileGradientInstalled(): boolean {
  const current = tf.getGradient('Tile');
  return current != null && (current as { [MARK]?: unknown })[MARK] !== undefined;
}
