/**
 * Generates text from a GPT saved by the text-gpt example, streaming it as it is sampled: the
 * save/load path a user's app takes.
 *
 *   npm run example:generate-text -- [--model out/text-gpt/model] [--prompt "Fellow-Citizens"]
 *                                    [--length 500] [--temperature 0.8] [--top-k 40] [--top-p 1]
 *                                    [--seed 1] [--overflow shift|crop] [--keep N] [--no-cache]
 *
 * The model folder holds `model.json`, the weights and `vocabulary.json` (the characters). With
 * temperature 0 the text is greedy. Prints the speed in characters per second at the end.
 *
 * Past the model's block (64 characters for text-gpt's default), `--overflow shift` (default
 * here) goes on with the key/value cache by a context shift: when the cache is full, the last
 * `--keep` characters (default half the block) are fed again from position 0, so each character
 * sees between `keep` and `blockSize` characters of context. `--overflow crop` is nanoGPT's
 * exact cropping (the library's default): every character recomputes the last-block window,
 * each seeing exactly `blockSize` characters, about 20x slower. Measured on text-gpt's default
 * model (see docs/autoregressive.md): the shift's validation loss is no worse than cropping's.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { autoregressive, backends, data } from 'genblocks';
import { loadModel } from 'genblocks/node';

export interface GenerateTextOptions {
  model: string;
  prompt: string;
  length: number;
  temperature: number;
  topK?: number;
  topP: number;
  seed: number;
  cache: boolean;
  /** What generation does past the block: see {@link autoregressive.GenerateOptions.overflow}. */
  overflow: 'shift' | 'crop';
  /** Characters kept at a context shift (default half the block). */
  keep?: number;
  backend: backends.BackendName;
  /** Collect the text instead of writing it to stdout (tests). */
  quiet?: boolean;
}

export function parseOptions(argv: string[]): GenerateTextOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string', default: 'out/text-gpt/model' },
      prompt: { type: 'string', default: '\n' },
      length: { type: 'string', default: '500' },
      temperature: { type: 'string', default: '0.8' },
      'top-k': { type: 'string', default: '40' },
      'top-p': { type: 'string', default: '1' },
      seed: { type: 'string', default: '1' },
      overflow: { type: 'string', default: 'shift' },
      keep: { type: 'string' },
      'no-cache': { type: 'boolean', default: false },
      backend: { type: 'string', default: 'wasm' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(
      'usage: npm run example:generate-text -- [--model out/text-gpt/model] [--prompt TEXT] [--length 500] [--temperature 0.8] [--top-k 40] [--top-p 1] [--seed 1] [--overflow shift|crop] [--keep N] [--no-cache]',
    );
    process.exit(0);
  }
  const number = (name: string, v: string | undefined, integer: boolean) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n)))
      throw new Error(`generate-text: --${name} must be a non-negative ${integer ? 'integer' : 'number'}, received '${v}'`);
    return n;
  };
  const topK = number('top-k', values['top-k'], true);
  const overflow = values.overflow;
  if (overflow !== 'shift' && overflow !== 'crop')
    throw new Error(`generate-text: --overflow must be 'shift' or 'crop', received '${overflow}'`);
  return {
    model: resolve(values.model!),
    prompt: values.prompt!,
    length: number('length', values.length, true),
    temperature: number('temperature', values.temperature, false),
    topK: topK === 0 ? undefined : topK,
    topP: number('top-p', values['top-p'], false),
    seed: number('seed', values.seed, true),
    cache: !values['no-cache'],
    overflow,
    keep: values.keep === undefined ? undefined : number('keep', values.keep, true),
    backend: values.backend as backends.BackendName,
    quiet: values.quiet,
  };
}

export async function main(options: GenerateTextOptions): Promise<{ text: string; charactersPerSecond: number }> {
  await backends.use(options.backend);
  const model = await loadModel(options.model);
  const vocabulary = data.TextVocabulary.fromJSON(readFileSync(join(options.model, 'vocabulary.json'), 'utf8'));
  const prompt = vocabulary.encode(options.prompt);
  if (!options.quiet) process.stdout.write(options.prompt);
  let text = '';
  // The context shift needs the cache: without it, generation crops.
  const overflow = options.cache ? options.overflow : 'crop';
  const t0 = performance.now();
  for await (const id of autoregressive.generateStream(model, prompt, {
    maxNewTokens: options.length,
    temperature: options.temperature,
    topK: options.topK,
    topP: options.topP,
    seed: options.seed,
    cache: options.cache,
    overflow,
    keep: overflow === 'shift' ? options.keep : undefined,
  })) {
    const c = vocabulary.decode([id]);
    text += c;
    if (!options.quiet) process.stdout.write(c);
  }
  const charactersPerSecond = options.length / ((performance.now() - t0) / 1000);
  console.log(
    `\n(${options.length} characters at ${charactersPerSecond.toFixed(0)} characters/s${options.cache ? ' with the key/value cache' : ' without the cache'}; past the block: ${overflow === 'shift' ? 'context shift' : 'cropping'})`,
  );
  model.dispose();
  return { text, charactersPerSecond };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(parseOptions(process.argv.slice(2))).then(
    () => process.exit(0),
    (e) => {
      console.error(e instanceof Error ? e.message : e);
      process.exit(1);
    },
  );
}
