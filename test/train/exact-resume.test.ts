/**
 * Exact resume: an interrupted-and-resumed run equals the uninterrupted run bit for bit, for
 * both trainers, with a shuffled `data.batches` and with a `tf.data`-style dataset that
 * reshuffles on every `iterator()` call, when the run is stopped mid-epoch (`stop()`, a
 * callback error) and `fit` is called again, when it resumes from a checkpoint with a new
 * trainer and a new source (as a new process does), and across real processes (the issue's
 * repro and the example of docs/saving-and-deploying.md).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { data, train } from '../../src/index.js';
import { TEST_BACKENDS, useTestBackend } from '../helpers/backends.js';
import { ganData, makeGan, makeVae, vaeData, type Run } from './resume-fixtures.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The generated scripts of the docs example: inside the repository, where their imports resolve. */
const TMP = join(ROOT, 'test', 'train', '.tmp');
/** What the processes write (checkpoints, weights): a temporary folder, never the working tree. */
let OUTPUTS: string;

beforeAll(() => {
  rmSync(TMP, { recursive: true, force: true });
  mkdirSync(TMP, { recursive: true });
  OUTPUTS = mkdtempSync(join(tmpdir(), 'genblocks-exact-resume-'));
});
afterAll(() => {
  rmSync(TMP, { recursive: true, force: true });
  rmSync(OUTPUTS, { recursive: true, force: true });
});

/**
 * A `tf.data`-style dataset: only `iterator()`. Like tf.data's `shuffle` (with
 * `reshuffleEachIteration`), each `iterator()` call draws the next order of a seeded stream,
 * so epoch `e`'s order depends on how many iterators were opened before.
 */
class ShufflingDataset {
  private calls = 0;
  constructor(
    private readonly x: tf.Tensor,
    private readonly batchSize: number,
  ) {}
  async iterator(): Promise<{ next(): Promise<IteratorResult<{ xs: tf.Tensor }>> }> {
    const order = data.epochOrder(this.x.shape[0]!, 7, this.calls++);
    let b = 0;
    return {
      next: async () => {
        const start = b * this.batchSize;
        if (start >= order.length) return { done: true, value: undefined };
        b++;
        const xs = tf.tidy(() => tf.gather(this.x, tf.tensor1d(order.subarray(start, start + this.batchSize), 'int32')));
        return { done: false, value: { xs } };
      },
    };
  }
}

type SourceKind = 'data.batches' | 'dataset';
const makeSource = (kind: SourceKind, x: tf.Tensor) =>
  kind === 'dataset' ? new ShufflingDataset(x, 16) : data.batches(x, { batchSize: 16, shuffle: true, seed: 1 });

const stateOf = (run: Run): number[][] =>
  [...run.networks.flatMap((n) => n.getWeights()), ...run.extra()].map((w) => Array.from(w.dataSync()));

const memoryStore = (): train.CheckpointStore => {
  const saved = new Map<string, train.Checkpoint>();
  return {
    save: async (name, c) => void saved.set(name, c),
    load: async (name) => saved.get(name ?? [...saved.keys()].sort().pop() ?? ''),
    list: async () => [...saved.keys()].sort(),
    delete: async (name) => void saved.delete(name),
  };
};

/** A callback that interrupts the run once, after step `at`. */
function interruptAt(at: number, how: 'stop' | 'throw'): train.Callback {
  let done = false;
  return {
    onStepEnd(step, _logs, context) {
      if (done || step !== at) return;
      done = true;
      if (how === 'stop') context.stop();
      else throw new Error('callback failed');
    },
  };
}

const TOTAL = 14; // 4 batches per epoch: the run spans 4 epochs, interrupted at step 5 (epoch 1, batch 1)

describe.each(TEST_BACKENDS)('exact resume on %s', (backend) => {
  beforeAll(async () => {
    await useTestBackend(backend);
  });

  describe.each([
    ['AdversarialTrainer', makeGan, ganData],
    ['VaeTrainer (seeded Reparameterize)', makeVae, vaeData],
  ] as const)('%s', (_name, make, makeData) => {
    describe.each(['data.batches', 'dataset'] as const)('with %s', (kind) => {
      let x: tf.Tensor;
      let straight: number[][];
      beforeAll(async () => {
        x = makeData();
        const run = make(1);
        await run.trainer.fit(makeSource(kind, x), { steps: TOTAL });
        straight = stateOf(run);
      });
      afterAll(() => x.dispose());

      it('stop() mid-epoch, then fit again on the same objects', async () => {
        const run = make(1);
        const source = makeSource(kind, x);
        const first = await run.trainer.fit(source, { steps: TOTAL, callbacks: [interruptAt(5, 'stop')] });
        expect(first).toMatchObject({ step: 5, stopped: true });
        await run.trainer.fit(source, { steps: TOTAL });
        expect(stateOf(run)).toEqual(straight);
      });

      it('a callback error mid-epoch, then fit again on the same objects', async () => {
        const run = make(1);
        const source = makeSource(kind, x);
        await expect(run.trainer.fit(source, { steps: TOTAL, callbacks: [interruptAt(5, 'throw')] })).rejects.toThrow('callback failed');
        expect(run.trainer.step).toBe(5);
        await run.trainer.fit(source, { steps: TOTAL });
        expect(stateOf(run)).toEqual(straight);
      });

      it('a checkpoint mid-epoch, then a new trainer (other initial weights) and a new source resume', async () => {
        const store = memoryStore();
        const first = make(1);
        await first.trainer.fit(makeSource(kind, x), { steps: 5, callbacks: [train.checkpoint({ store, every: 5 })] });
        const resumed = make(2);
        expect(await resumed.trainer.resume(store)).toBe(true);
        await resumed.trainer.fit(makeSource(kind, x), { steps: TOTAL });
        expect(stateOf(resumed)).toEqual(straight);
      });
    });
  });
});

interface Output {
  code: number | null;
  output: string;
}

function node(args: string[]): Promise<Output> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output: output.slice(-4000) }));
  });
}

async function runOk(args: string[]): Promise<void> {
  const { code, output } = await node(args);
  expect(code, output).toBe(0);
}

describe('exact resume across processes', () => {
  it.each([
    ['cpu', 'gan'],
    ['wasm', 'gan'],
    ['wasm', 'vae'],
  ] as const)(
    '%s %s: process 1 fits 6 steps (checkpoint every 6), process 2 resumes and fits to 24 = one 24-step run',
    async (backend, model) => {
      const child = join('test', 'train', 'resume-child.ts');
      const base = join(OUTPUTS, `${backend}-${model}`);
      const out = (phase: string) => `${base}-${phase}.json`;
      await Promise.all([
        runOk([child, backend, model, 'straight', `${base}-unused`, out('straight')]),
        runOk([child, backend, model, 'first', `${base}-store`, out('first')]),
      ]);
      await runOk([child, backend, model, 'second', `${base}-store`, out('second')]);
      const read = (phase: string) => JSON.parse(readFileSync(out(phase), 'utf8')) as { step: number; weights: number[][] };
      expect(read('first').step).toBe(6);
      const second = read('second');
      expect(second.step).toBe(24);
      expect(second.weights).toEqual(read('straight').weights);
    },
    120_000,
  );

  it('the resume example of docs/saving-and-deploying.md, its halves in two processes, equals an uninterrupted run', async () => {
    const markdown = readFileSync(join(ROOT, 'docs', 'saving-and-deploying.md'), 'utf8');
    const blocks = [...markdown.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
    const example = blocks.find((b) => b.includes("fileCheckpointStore('out/runs/gan/checkpoints')"));
    expect(example, 'the resume example is in the docs').toBeDefined();
    const firstAt = example!.indexOf('// First process');
    const secondAt = example!.indexOf('// Later, a new process');
    expect(firstAt).toBeGreaterThan(0);
    expect(secondAt).toBeGreaterThan(firstAt);
    // The example's folder (out/runs/gan) moves under OUTPUTS: running the test must not
    // delete or replace a user's run in the working tree.
    const runs = join(OUTPUTS, 'docs-runs').replaceAll('\\', '/');
    // The example's code, with 'genblocks' resolved to the sources, its folder moved under a
    // temporary one, and Math.random seeded: the builders draw initial weights from it, and the
    // uninterrupted run must start from the same ones as the first process.
    const prelude = example!
      .slice(0, firstAt)
      .replace("from 'genblocks/node'", `from '${ROOT}/src/node.ts'`)
      .replace("from 'genblocks'", `from '${ROOT}/src/index.ts'`)
      .replaceAll("'out/runs/gan", `'${runs}/gan`)
      .concat(
        '\n{ let a = 12345; Math.random = () => { a = (a + 0x6d2b79f5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; }; }\n',
      );
    const dump = (name: string) =>
      `\nimport { writeFileSync as __write } from 'node:fs';\n__write('${runs}/${name}.json', JSON.stringify([...${name}.trainer.generator.getWeights(), ...${name}.trainer.discriminator.getWeights()].map((w) => Array.from(w.dataSync()))));\n`;
    const scripts = {
      first: prelude + example!.slice(firstAt, secondAt).replaceAll("'out/runs/gan", `'${runs}/gan`) + dump('first'),
      second: prelude + example!.slice(secondAt).replaceAll("'out/runs/gan", `'${runs}/gan`) + dump('second'),
      straight: `${prelude}const straight = makeRun();\nawait straight.trainer.fit(straight.batches, { epochs: 4 });\n${dump('straight')}`,
    };
    for (const [name, code] of Object.entries(scripts)) {
      expect(code, `the ${name} script writes nothing under out/`).not.toMatch(/['"`]out\//);
      writeFileSync(join(TMP, `docs-${name}.ts`), code);
    }
    mkdirSync(runs, { recursive: true });
    await Promise.all([
      runOk([join('test', 'train', '.tmp', 'docs-first.ts')]),
      runOk([join('test', 'train', '.tmp', 'docs-straight.ts')]),
    ]);
    await runOk([join('test', 'train', '.tmp', 'docs-second.ts')]);
    const read = (name: string) => JSON.parse(readFileSync(join(runs, `${name}.json`), 'utf8')) as number[][];
    expect(read('second')).toEqual(read('straight'));
    // And the first process really stopped halfway (its weights differ from the end result).
    expect(read('first')).not.toEqual(read('straight'));
  }, 120_000);
});
