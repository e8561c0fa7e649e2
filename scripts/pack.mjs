// Packs the package into a temporary folder (running `prepack`, i.e. the build) and prints
// the tarball's absolute path on the last line of stdout.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function pack() {
  const dir = mkdtempSync(join(tmpdir(), 'genblocks-pack-'));
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const [{ filename }] = JSON.parse(out.slice(out.indexOf('[')));
  return join(dir, filename);
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(pack());
