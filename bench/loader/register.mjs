/**
 * Runs the benchmarks' TypeScript as the published package runs: `node --import
 * ./bench/loader/register.mjs bench/run.ts` (what `npm run bench` does).
 *
 * Why not tsx: tsx always transforms with esbuild's `keepNames`, which wraps every named
 * function and class in a call that sets its `name` (`__name(fn, "fn")`, an
 * `Object.defineProperty`), at every creation of a closure. The published `dist/` is emitted
 * by tsc and has none of these calls, nor has tfjs, so under tsx genblocks' own code (the trainers,
 * the wasm kernels' JS) runs slower than users run it while tfjs does not: a bias against
 * every row that compares genblocks' code with tfjs's, such as the trainer-overhead suite. This
 * loader transforms each `.ts` file on its own with the same esbuild, without `keepNames`, and
 * resolves the sources' `.js` import specifiers to their `.ts` files as tsc's NodeNext
 * resolution does. Only files under this repository are transformed; packages load as they are.
 */
import * as nodeModule from 'node:module';

if (typeof nodeModule.register !== 'function') {
  throw new Error(
    `bench/loader needs module.register (Node 20.6 or later), this is Node ${process.versions.node}: ` +
      'upgrade Node, or run the script with --import tsx instead',
  );
}
nodeModule.register('./hooks.mjs', import.meta.url);
