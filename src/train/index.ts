/**
 * The `train` family of genblocks. Exports are listed by name.
 *
 * @module
 */
export {};
