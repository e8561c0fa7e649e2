// `npm run check:package`: lint the packed tarball the way npm users will receive it.
//  - publint: package.json fields, exports map, files that exist;
//  - are-the-types-wrong: types resolve for ESM and CJS consumers of both entries.
// The node10 resolution profile is skipped: `genblocks/node` needs an exports-aware resolver
// (Node >= 12.7, TypeScript moduleResolution node16/nodenext/bundler), and engines says >= 20.
import { execFileSync } from 'node:child_process';

import { pack } from './pack.mjs';

const tarball = pack();
console.log(`packed ${tarball}`);
const run = (cmd, args) => execFileSync(cmd, args, { stdio: 'inherit' });
run('npx', ['--no-install', 'publint', '--strict', tarball]);
run('npx', ['--no-install', 'attw', '--pack', '--profile', 'node16', tarball].filter((a) => a !== '--pack'));
console.log('check:package: publint and are-the-types-wrong passed');
