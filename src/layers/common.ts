/**
 * Shared pieces of the custom layers.
 *
 * @module
 * @internal
 */

/**
 * Keys that tfjs-layers itself puts in (or passes to) a layer's config: the base `Layer`'s
 * `getConfig` fields and the `customObjects` of deserialization. Layer constructors accept them
 * besides their own arguments.
 */
export const BASE_LAYER_KEYS = ['name', 'trainable', 'dtype', 'batchInputShape', 'inputShape', 'batchSize', 'customObjects'] as const;
