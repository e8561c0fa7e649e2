// Writes a CommonJS twin `x.d.cts` of every declaration file `dist/**/x.d.ts` that tsc emitted,
// with relative imports rewritten from `./y.js` to `./y.cjs` (which TypeScript resolves to
// `./y.d.cts`). In a `"type": "module"` package a `.d.ts` describes an ES module; `require`
// consumers under moduleResolution node16 need declarations that describe the `.cjs` files.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const DIST = new URL('../dist/', import.meta.url).pathname;
// `from './x.js'`, `import('./x.js')` and `import './x.js'`: relative specifiers only.
const RELATIVE_JS = /((?:from|import)\s*\(?\s*['"])(\.{1,2}\/[^'"]*?)\.js(['"])/g;

let count = 0;
for (const entry of readdirSync(DIST, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith('.d.ts')) continue;
  const file = join(entry.parentPath, entry.name);
  const source = readFileSync(file, 'utf8');
  writeFileSync(file.replace(/\.d\.ts$/, '.d.cts'), source.replace(RELATIVE_JS, '$1$2.cjs$3'));
  count++;
}
console.log(`cts-types: wrote ${count} .d.cts files`);
