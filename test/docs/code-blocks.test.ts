/**
 * Runs every ```ts code block of README.md and docs/*.md, so the documentation cannot drift
 * from the API.
 *
 * Each block is written to `test/docs/.tmp/<doc>-<n>.ts` and run as its own program with
 * `node --import tsx`, from the repository root, where `genblocks` and `genblocks/node` resolve to
 * the sources (tsconfig `paths`). The exit code of every block is asserted. All blocks are also
 * type-checked together with `tsc` against the same sources.
 *
 * Conventions, written as HTML comments on the lines right before a fence (invisible on GitHub
 * and in the typedoc site):
 *
 * - `<!-- docs-test: skip (reason) -->`: the block is not run (browser-only code, a backend
 *   that cannot be installed here, a full-length training run). The reason is required.
 * - `<!-- docs-test: replace "from" => "to" -->`: before running, the first occurrence of `from`
 *   in the block is replaced by `to` (e.g. `"epochs: 20" => "epochs: 1"`), so the block shows
 *   real sizes and the test runs tiny ones. `from` must occur in the block.
 * - `<!-- docs-test: env NAME=value -->`: sets an environment variable for the block.
 * - `<!-- docs-test: no-typecheck (reason) -->`: runs the block but leaves it out of `tsc`.
 *
 * Files the blocks write under `out/` (the folder the guides show users) go to a temporary folder
 * instead, one per block (`os.tmpdir()`, removed afterwards): the harness rewrites each
 * `'out/`, `"out/` and `` `out/ `` string prefix, so a test run never replaces a user's trained
 * models or samples in the working tree. The generated programs themselves stay in
 * `test/docs/.tmp/` (ignored by git, removed afterwards): they must sit inside the repository for
 * `node_modules` and the tsconfig `paths` to resolve.
 *
 * Every block runs with `GENBLOCKS_DOCS_TEST=1` set. `DOCS_TEST_VERBOSE=1 npx vitest run test/docs`
 * prints each block's output. Blocks must pick their backend themselves
 * (`backends.use('wasm')`), as a user's program does.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TMP = join(ROOT, 'test', 'docs', '.tmp');
/** Per-block limit; the whole suite should stay under about a minute. */
const BLOCK_TIMEOUT_MS = 45_000;
/** Blocks run as concurrent child processes, at most this many at a time. */
const CONCURRENCY = 2;

interface Block {
  /** Markdown file, relative to the repository root. */
  doc: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** Index of the ts block within its file (1-based). */
  index: number;
  code: string;
  skip?: string;
  noTypecheck?: string;
  replacements: Array<[string, string]>;
  env: Record<string, string>;
}

const DIRECTIVE = /^<!--\s*docs-test:\s*(.*?)\s*-->$/;

/** Extracts the ```ts blocks of a Markdown file with the directives written right above them. */
function extractBlocks(markdown: string, doc: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  let index = 0;
  for (let i = 0; i < lines.length; i++) {
    const fence = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/.exec(lines[i]!);
    if (!fence) continue;
    const [, indent, marker, lang] = fence;
    // Find the closing fence (same marker, at least as long).
    let end = i + 1;
    while (end < lines.length && !lines[end]!.trimStart().startsWith(marker!)) end++;
    if (lang === 'ts' || lang === 'typescript') {
      index++;
      const block: Block = {
        doc,
        line: i + 1,
        index,
        code: lines
          .slice(i + 1, end)
          .map((l) => (l.startsWith(indent!) ? l.slice(indent!.length) : l))
          .join('\n'),
        replacements: [],
        env: {},
      };
      // Directives: the consecutive HTML comment lines right above the fence.
      for (let j = i - 1; j >= 0; j--) {
        const m = DIRECTIVE.exec(lines[j]!.trim());
        if (!m) break;
        applyDirective(block, m[1]!);
      }
      blocks.push(block);
    }
    i = end;
  }
  return blocks;
}

function applyDirective(block: Block, text: string): void {
  const where = `${block.doc}:${block.line}`;
  let m: RegExpExecArray | null;
  if ((m = /^skip\s*\((.+)\)$/.exec(text))) {
    block.skip = m[1]!;
  } else if ((m = /^no-typecheck\s*\((.+)\)$/.exec(text))) {
    block.noTypecheck = m[1]!;
  } else if ((m = /^replace\s+"((?:[^"\\]|\\.)*)"\s*=>\s*"((?:[^"\\]|\\.)*)"$/.exec(text))) {
    block.replacements.push([JSON.parse(`"${m[1]}"`) as string, JSON.parse(`"${m[2]}"`) as string]);
  } else if ((m = /^env\s+([A-Z_][A-Z0-9_]*)=(.*)$/.exec(text))) {
    block.env[m[1]!] = m[2]!;
  } else {
    throw new Error(`${where}: unknown docs-test directive '${text}' (skip (reason), replace "a" => "b", env NAME=value, no-typecheck (reason))`);
  }
}

/** The block's code after its replacements; throws when a replacement does not apply. */
function prepared(block: Block): string {
  let code = block.code;
  for (const [from, to] of block.replacements) {
    if (!code.includes(from)) throw new Error(`${block.doc}:${block.line}: replace "${from}" does not occur in the block`);
    code = code.replace(from, to);
  }
  return code;
}

/**
 * The block's code with every path under `out/` moved under `dir`: string literals and
 * template literals that start with `out/` (`'out/models/x'`, `` `out/step-${s}.png` ``).
 */
function redirectOutputs(code: string, dir: string): string {
  const to = dir.replaceAll('\\', '/');
  return code.replace(/(['"`])out\//g, (_m, quote: string) => `${quote}${to}/`);
}

function fileName(block: Block): string {
  return `${basename(block.doc, '.md').toLowerCase()}-${String(block.index).padStart(2, '0')}.ts`;
}

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

function run(command: string, args: string[], env: Record<string, string>, timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      // An uncaught error inside the wasm module prints its whole minified source line: keep the end.
      resolve({ code, signal, output: output.length > 6000 ? `[...]${output.slice(-6000)}` : output });
    });
  });
}

/** A counting semaphore: `limit(f)` runs `f` once fewer than `n` calls are running. */
function limiter(n: number): <T>(f: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async (f) => {
    if (active >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await f();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}
const limit = limiter(CONCURRENCY);

const DOCS = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];
const BLOCKS = DOCS.flatMap((doc) => extractBlocks(readFileSync(join(ROOT, doc), 'utf8'), doc));
const RUNNABLE = BLOCKS.filter((b) => b.skip === undefined);

describe('extractBlocks', () => {
  it('reads ts fences with their directives and ignores other languages', () => {
    const md = [
      '```sh',
      'npm test',
      '```',
      '<!-- docs-test: skip (browser only) -->',
      '```ts',
      'a();',
      '```',
      '',
      '<!-- docs-test: replace "epochs: 20" => "epochs: 1" -->',
      '<!-- docs-test: env SIZE=2 -->',
      '```ts',
      'fit({ epochs: 20 });',
      '```',
      '<!-- docs-test: skip (x) -->',
      '',
      '```ts',
      'b();',
      '```',
    ].join('\n');
    const blocks = extractBlocks(md, 'x.md');
    expect(blocks.map((b) => [b.line, b.code, b.skip])).toEqual([
      [5, 'a();', 'browser only'],
      [11, 'fit({ epochs: 20 });', undefined],
      [16, 'b();', undefined], // a blank line separates a directive from the fence
    ]);
    expect(blocks[1]!.replacements).toEqual([['epochs: 20', 'epochs: 1']]);
    expect(blocks[1]!.env).toEqual({ SIZE: '2' });
    expect(prepared(blocks[1]!)).toBe('fit({ epochs: 1 });');
    expect(() => prepared({ ...blocks[1]!, code: 'fit();' })).toThrow(/does not occur/);
    expect(() => extractBlocks('<!-- docs-test: skipp -->\n```ts\n```', 'y.md')).toThrow(/unknown docs-test directive/);
  });

  it('redirectOutputs moves every out/ path of a block under the given folder, and nothing else', () => {
    const code = [
      "await saveModel(net, 'out/models/mnist-feature-net');",
      'await writePng(grid, "out/first-gan.png");',
      'write: (grid, { epoch }) => writePng(grid, `out/dcgan/epoch-${epoch}.png`),',
      "await rm('out/runs/gan', { recursive: true });",
      "const layout = 'checkout/x'; // not a path under out/",
    ].join('\n');
    expect(redirectOutputs(code, 'C:\\tmp\\d')).toBe(
      [
        "await saveModel(net, 'C:/tmp/d/models/mnist-feature-net');",
        'await writePng(grid, "C:/tmp/d/first-gan.png");',
        'write: (grid, { epoch }) => writePng(grid, `C:/tmp/d/dcgan/epoch-${epoch}.png`),',
        "await rm('C:/tmp/d/runs/gan', { recursive: true });",
        "const layout = 'checkout/x'; // not a path under out/",
      ].join('\n'),
    );
  });
});

describe('run', () => {
  it('reports the exit code and output of a block, and kills one that hangs', async () => {
    const failed = await run(process.execPath, ['-e', 'console.error("boom"); process.exit(3)'], {}, 10_000);
    expect(failed).toMatchObject({ code: 3, signal: null });
    expect(failed.output).toMatch(/boom/);
    const hung = await run(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], {}, 300);
    expect(hung.signal).toBe('SIGKILL');
  });
});

describe('documentation code blocks', () => {
  let typecheck: Promise<RunResult>;
  /** Where the blocks' `out/` files go: one subfolder per block, removed afterwards. */
  let outputs: string;
  beforeAll(() => {
    rmSync(TMP, { recursive: true, force: true });
    mkdirSync(TMP, { recursive: true });
    outputs = mkdtempSync(join(tmpdir(), 'genblocks-docs-out-'));
    for (const block of BLOCKS) {
      const code = redirectOutputs(prepared(block), join(outputs, basename(fileName(block), '.ts')));
      writeFileSync(join(TMP, fileName(block)), code + '\n');
    }
    // tsc over all blocks, started now so it overlaps with running them.
    const files = BLOCKS.filter((b) => b.noTypecheck === undefined).map(fileName);
    writeFileSync(
      join(TMP, 'tsconfig.json'),
      JSON.stringify({
        extends: '../../../tsconfig.json',
        // Snippets may declare values only to show them.
        compilerOptions: { noUnusedLocals: false, noUnusedParameters: false },
        include: [],
        files,
      }),
    );
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    typecheck = run(process.execPath, [tsc, '--noEmit', '-p', relative(ROOT, join(TMP, 'tsconfig.json'))], {}, 120_000);
  });
  afterAll(async () => {
    await typecheck; // never leave tsc running on deleted files
    rmSync(TMP, { recursive: true, force: true });
    rmSync(outputs, { recursive: true, force: true });
  }, 125_000);

  it('finds the guides and their blocks', () => {
    for (const guide of ['getting-started', 'backends', 'losses', 'training-recipes', 'saving-and-deploying', 'evaluation']) {
      expect(DOCS).toContain(`docs/${guide}.md`);
    }
    expect(RUNNABLE.length).toBeGreaterThanOrEqual(15);
    // Skips stay rare.
    expect(BLOCKS.length - RUNNABLE.length).toBeLessThanOrEqual(Math.ceil(BLOCKS.length / 3));
  });

  it('runs no block that writes under the repository\'s out/', () => {
    // The guides write models, samples and checkpoints under out/ (e.g. evaluation.md's
    // 'out/models/mnist-feature-net'); the harness must have moved every such path.
    const written = BLOCKS.filter((b) => /['"`]out\//.test(prepared(b)));
    expect(written.length, 'the guides show out/ paths (else this check is vacuous)').toBeGreaterThanOrEqual(5);
    for (const block of BLOCKS) {
      const code = readFileSync(join(TMP, fileName(block)), 'utf8');
      expect(code, `${block.doc}:${block.line}`).not.toMatch(/['"`]out\//);
      if (written.includes(block)) expect(code).toContain(outputs.replaceAll('\\', '/'));
    }
  });

  it.concurrent.each(RUNNABLE.map((b) => [`${b.doc} block ${b.index} (line ${b.line})`, b] as const))(
    '%s runs and exits with code 0',
    async (_name, block) => {
      const file = relative(ROOT, join(TMP, fileName(block)));
      const result = await limit(() =>
        run(process.execPath, ['--import', 'tsx', file], { GENBLOCKS_DOCS_TEST: '1', ...block.env }, BLOCK_TIMEOUT_MS),
      );
      if (process.env['DOCS_TEST_VERBOSE']) console.log(`--- ${block.doc}:${block.line}\n${result.output}`);
      expect(result.signal, `${block.doc}:${block.line} was killed (timeout ${BLOCK_TIMEOUT_MS} ms?)\n${result.output}`).toBeNull();
      expect(result.code, `${block.doc}:${block.line} failed:\n${result.output}`).toBe(0);
    },
    // Includes the wait for a free slot; each child is killed after BLOCK_TIMEOUT_MS.
    4 * BLOCK_TIMEOUT_MS,
  );

  it('type-checks against the sources', async () => {
    const result = await typecheck;
    expect(result.code, `tsc found errors in the documentation blocks (test/docs/.tmp/<doc>-<n>.ts):\n${result.output}`).toBe(0);
  }, 125_000);
});
