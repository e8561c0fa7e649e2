// Installs a packed genblocks tarball into a fresh temporary project, offline, the way a user's
// `npm install genblocks` lays it out: `npm install --offline` of the tarball (genblocks has no
// runtime dependencies, only peers, so nothing is fetched), then the peers the consumer needs
// are linked from this repository's node_modules (tfjs packages, @types/node, and the optional
// Node-only peers pngjs and cli-progress), so the test never downloads anything.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Packages linked into the consumer project when this repository has them. */
const PEERS = [
  '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-layers',
  '@tensorflow/tfjs-backend-cpu',
  '@tensorflow/tfjs-backend-wasm',
  '@tensorflow/tfjs-backend-webgl',
  '@tensorflow/tfjs-backend-webgpu',
  '@types/node',
];

/**
 * Returns the path of a new project with `tarball` installed as `node_modules/genblocks`.
 * `optionalPeers: false` leaves out pngjs and cli-progress (to test the errors without them).
 */
export function installTarball(tarball, { optionalPeers = true, type } = {}) {
  const project = mkdtempSync(join(tmpdir(), 'genblocks-consumer-'));
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, ...(type ? { type } : {}) }));
  execFileSync(
    'npm',
    ['install', '--offline', '--no-audit', '--no-fund', '--no-package-lock', '--legacy-peer-deps', '--ignore-scripts', tarball],
    { cwd: project, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const peers = optionalPeers ? [...PEERS, 'pngjs', 'cli-progress'] : PEERS;
  for (const name of peers) {
    const source = join(ROOT, 'node_modules', name);
    if (!existsSync(source)) continue;
    const target = join(project, 'node_modules', name);
    mkdirSync(dirname(target), { recursive: true });
    symlinkSync(source, target, 'dir');
  }
  return project;
}
