/**
 * The version of genblocks, kept equal to `package.json` by a test.
 *
 * @category Meta
 */
export const version = '0.1.0';
