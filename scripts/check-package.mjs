// `npm run check:package`: check the packed tarball the way npm users will receive it.
//  - publint: package.json fields, exports map, files that exist;
//  - are-the-types-wrong: types resolve for ESM and CJS consumers of every entry, under node10
//    (through `typesVersions`), node16 and bundler resolution;
//  - test/package.test.ts (vitest): the tarball installed in a fresh project, imported as ESM and
//    CJS, its declarations type-checked with skipLibCheck off under node16/bundler/node10
//    together with every docs code block, bundle-size budgets, and builds with esbuild, Vite and
//    webpack without warnings.
import { execFileSync } from 'node:child_process';

import { pack } from './pack.mjs';

const tarball = pack();
console.log(`packed ${tarball}`);
const run = (cmd, args, env = process.env) => execFileSync(cmd, args, { stdio: 'inherit', env });
run('npx', ['--no-install', 'publint', '--strict', tarball]);
run('npx', ['--no-install', 'attw', tarball]);
console.log('check:package: publint and are-the-types-wrong passed');
run('npx', ['--no-install', 'vitest', 'run', 'test/package.test.ts', 'test/package/'], { ...process.env, GENBLOCKS_TARBALL: tarball });
console.log('check:package: passed');
