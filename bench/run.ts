/**
 * `npm run bench [-- --quick] [--only <substring>] [--backend cpu,wasm] [--merge] [--out dir]`
 *
 * Runs every `bench/*.bench.ts` suite on the available backends, prints a table per suite and
 * writes `bench/results.json` and `bench/RESULTS.md` (with the machine described).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-layers';

import { backends } from '../src/index.js';
import { importedLoader, type BenchContext, type BenchResult, type BenchSuite, type Timing } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    backend: { type: 'string', default: 'cpu,wasm' },
    out: { type: 'string', default: here },
    // Replace only the rows of the suites (and backends) this run measured in an existing
    // results.json/RESULTS.md, keeping the others: a partial rerun without losing the full run.
    merge: { type: 'boolean', default: false },
  },
});

interface Record_ extends BenchResult {
  suite: string;
  backend: string;
  simd: boolean;
  threads: number;
}

const fmt = (t: Timing) => `${t.medianMs.toFixed(2)} ms (IQR ${t.p25Ms.toFixed(2)}–${t.p75Ms.toFixed(2)}, n=${t.runs})`;

/**
 * Which TypeScript loader this process was started with: `bench/loader` (what `npm run bench`
 * uses: no esbuild keepNames wrappers, as in the published build) or another, e.g. tsx, whose
 * wrappers slow genblocks' own code; recorded with the results.
 */
function typescriptLoader(): string {
  const given = importedLoader();
  if (given === undefined) return 'unknown';
  return given.includes('bench/loader') ? 'bench/loader' : given;
}

async function activate(name: string): Promise<{ simd: boolean; threads: number }> {
  const use = (backends as unknown as { use?: (n: string) => Promise<{ simd?: boolean; threads?: number }> }).use;
  if (use) {
    const d = await use(name);
    return { simd: Boolean(d?.simd), threads: d?.threads ?? 1 };
  }
  await tf.setBackend(name);
  await tf.ready();
  return { simd: name === 'wasm' && tf.env().getBool('WASM_HAS_SIMD_SUPPORT'), threads: 1 };
}

async function main(): Promise<void> {
  const files = readdirSync(here)
    .filter((f) => f.endsWith('.bench.ts'))
    .filter((f) => !args.only || f.includes(args.only))
    .sort();
  const wanted = args
    .backend!.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const records: Record_[] = [];
  for (const file of files) {
    const suite = (await import(pathToFileURL(join(here, file)).href)).default as BenchSuite;
    for (const backend of wanted) {
      if (suite.backends && !suite.backends.includes(backend)) continue;
      const { simd, threads } = await activate(backend);
      const ctx: BenchContext = { backend, quick: args.quick!, runs: args.quick ? 3 : 15, warmup: args.quick ? 1 : 3 };
      console.log(`\n## ${suite.name} on ${backend} (SIMD ${simd}, threads ${threads})`);
      const before = tf.memory().numTensors;
      const results = await suite.run(ctx);
      const leaked = tf.memory().numTensors - before;
      if (leaked !== 0) console.warn(`  warning: suite ${suite.name} leaked ${leaked} tensors`);
      for (const r of results) {
        records.push({ ...r, suite: suite.name, backend, simd, threads });
        const base = r.baseline ? ` | ${r.baseline.name}: ${fmt(r.baseline.timing)} | ratio ${r.ratio!.toFixed(2)}x` : '';
        const extra = r.extra
          ? ` | ${Object.entries(r.extra)
              .map(([k, v]) => `${k} ${typeof v === 'number' ? +v.toFixed(3) : v}`)
              .join(', ')}`
          : '';
        console.log(`  ${r.name}${r.size ? ` [${r.size}]` : ''}: ${fmt(r.timing)}${base}${extra}`);
      }
    }
  }
  const machine = {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    tfjs: tf.version_core,
    date: new Date().toISOString(),
    quick: args.quick,
    loader: typescriptLoader(),
  };
  mkdirSync(args.out!, { recursive: true });
  const resultsFile = join(args.out!, 'results.json');
  let notes: string[] = [];
  if (args.merge && existsSync(resultsFile)) {
    const previous = JSON.parse(readFileSync(resultsFile, 'utf8')) as {
      machine: Omit<typeof machine, 'loader'> & { loader?: string; notes?: string[] };
      results: Record_[];
    };
    const ran = new Set(records.map((r) => `${r.suite}|${r.backend}`));
    const kept = previous.results.filter((r) => !ran.has(`${r.suite}|${r.backend}`));
    // Keep the file's order: each rerun suite takes the place of its old rows.
    const merged: Record_[] = [];
    const placed = new Set<string>();
    for (const r of previous.results) {
      const key = `${r.suite}|${r.backend}`;
      if (!ran.has(key)) merged.push(r);
      else if (!placed.has(key)) {
        placed.add(key);
        merged.push(...records.filter((n) => `${n.suite}|${n.backend}` === key));
      }
    }
    merged.push(...records.filter((n) => !placed.has(`${n.suite}|${n.backend}`)));
    notes = [
      ...(previous.machine.notes ?? []),
      `${[...ran].join(', ')} rerun on ${machine.date.slice(0, 10)} (--merge, TypeScript loaded by ${machine.loader})`,
    ];
    console.log(`merging: ${records.length} new rows, ${kept.length} kept`);
    records.splice(0, records.length, ...merged);
    // Files written before the loader was recorded ran under tsx.
    Object.assign(machine, { date: previous.machine.date, quick: previous.machine.quick, loader: previous.machine.loader ?? 'tsx' });
  }
  writeFileSync(resultsFile, JSON.stringify({ machine: { ...machine, notes }, results: records }, null, 2) + '\n');
  const lines = [
    '# Benchmark results',
    '',
    `Generated by \`npm run bench${args.quick ? ' -- --quick' : ''}\` on ${machine.date.slice(0, 10)}: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, tfjs ${machine.tfjs}, TypeScript loaded by ${machine.loader}.`,
    'Times are medians over repeated runs after warm-up (IQR in brackets); ratio = baseline median / genblocks median, measured interleaved in the same process (> 1 means genblocks is faster).',
    ...notes.map((n) => `Updated: ${n}.`),
    '',
    '| suite | benchmark | size | backend | SIMD | threads | median ms (IQR) | baseline | baseline ms | ratio | extra |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...records.map((r) =>
      [
        r.suite,
        r.name,
        r.size ?? '',
        r.backend,
        r.simd ? 'yes' : 'no',
        r.threads,
        `${r.timing.medianMs.toFixed(2)} (${r.timing.p25Ms.toFixed(2)}–${r.timing.p75Ms.toFixed(2)})`,
        r.baseline?.name ?? '',
        r.baseline ? r.baseline.timing.medianMs.toFixed(2) : '',
        r.ratio ? `${r.ratio.toFixed(2)}x` : '',
        r.extra
          ? Object.entries(r.extra)
              .map(([k, v]) => `${k}: ${typeof v === 'number' ? +v.toFixed(3) : v}`)
              .join('; ')
          : '',
      ]
        .join(' | ')
        .replace(/^/, '| ')
        .replace(/$/, ' |'),
    ),
    '',
  ];
  // The bundle-size section (measured by test/package.test.ts, not by this runner) is kept.
  const previous = existsSync(join(args.out!, 'RESULTS.md')) ? readFileSync(join(args.out!, 'RESULTS.md'), 'utf8') : '';
  const kept = previous.indexOf('\n## Bundle size');
  writeFileSync(join(args.out!, 'RESULTS.md'), lines.join('\n') + (kept >= 0 ? previous.slice(kept) : ''));
  console.log(`\nwrote ${join(args.out!, 'results.json')} and RESULTS.md (${records.length} results)`);
  tf.engine().reset();
  process.exit(0);
}

await main();
