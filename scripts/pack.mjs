// Builds and packs the package into a temporary folder and prints
// the tarball's absolute path on the last line of stdout.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function pack() {
  const dir = mkdtempSync(join(tmpdir(), 'genblocks-pack-'));
  // Build first (its log goes to stderr), then pack without scripts so stdout is pure JSON.
  execFileSync('npm', ['run', 'build'], { stdio: ['ignore', process.stderr, 'inherit'] });
  const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [{ filename }] = JSON.parse(out);
  return join(dir, filename);
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(pack());
