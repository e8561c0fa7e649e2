/**
 * A character vocabulary for character-level language models.
 *
 * @module
 */
import { ArgumentError, ConfigError } from '../errors.js';
import { describe } from '../validation.js';

/** The JSON form of a {@link TextVocabulary} (save it beside the model). @category Data */
export interface TextVocabularyJson {
  /** Format tag. */
  format: 'genblocks-text-vocabulary';
  /** Format version. */
  version: 1;
  /** The characters, in id order (Unicode code points). */
  characters: string[];
}

/**
 * Maps characters (Unicode code points) to ids `0…V−1` in sorted order and back, as nanoGPT's
 * `shakespeare_char/prepare.py` (`stoi`/`itos`). Build one with {@link textVocabulary}; save it
 * with `JSON.stringify(vocabulary)` and restore it with {@link TextVocabulary.fromJSON}, so a
 * model trained on it decodes to the same characters later.
 *
 * @example
 * ```ts
 * const vocabulary = data.textVocabulary('hello world');
 * vocabulary.encode('hold');          // Int32Array [3, 5, 4, 1] (ids of ' ', d, e, h, l, o, r, w: 0…7)
 * vocabulary.decode([3, 2, 4, 4, 5]); // 'hello'
 * ```
 * @category Data
 */
export class TextVocabulary {
  /** The characters in id order. */
  readonly characters: readonly string[];
  private readonly ids: Map<string, number>;

  /** @param characters Distinct characters (code points), in id order. */
  constructor(characters: readonly string[]) {
    const fn = 'data.TextVocabulary';
    if (!Array.isArray(characters) || characters.length === 0) {
      throw new ArgumentError({ fn, arg: 'characters', expected: 'be a non-empty array of characters', received: describe(characters) });
    }
    this.ids = new Map();
    characters.forEach((c, i) => {
      if (typeof c !== 'string' || [...c].length !== 1 || this.ids.has(c)) {
        throw new ArgumentError({ fn, arg: `characters[${i}]`, expected: 'be a single character, not repeated', received: describe(c) });
      }
      this.ids.set(c, i);
    });
    this.characters = characters.slice();
  }

  /** Number of characters V. */
  get size(): number {
    return this.characters.length;
  }

  /**
   * The ids of `text`'s characters.
   *
   * @throws {@link ArgumentError} naming the first character not in the vocabulary.
   */
  encode(text: string): Int32Array {
    if (typeof text !== 'string')
      throw new ArgumentError({ fn: 'data.TextVocabulary.encode', arg: 'text', expected: 'be a string', received: describe(text) });
    const out = new Int32Array(text.length);
    let n = 0;
    for (const c of text) {
      const id = this.ids.get(c);
      if (id === undefined) {
        throw new ArgumentError({
          fn: 'data.TextVocabulary.encode',
          arg: 'text',
          expected: 'contain only characters of the vocabulary',
          received: `${JSON.stringify(c)} at code-point index ${n}`,
        });
      }
      out[n++] = id;
    }
    return n === out.length ? out : out.slice(0, n);
  }

  /** The text of `ids`. @throws {@link ArgumentError} for an id outside `0…V−1`. */
  decode(ids: ArrayLike<number>): string {
    let text = '';
    for (let i = 0; i < ids.length; i++) {
      const c = this.characters[ids[i]!];
      if (c === undefined)
        throw new ArgumentError({
          fn: 'data.TextVocabulary.decode',
          arg: `ids[${i}]`,
          expected: `be an integer in [0, ${this.size})`,
          received: String(ids[i]),
        });
      text += c;
    }
    return text;
  }

  /** The JSON form ({@link TextVocabularyJson}). */
  toJSON(): TextVocabularyJson {
    return { format: 'genblocks-text-vocabulary', version: 1, characters: this.characters.slice() };
  }

  /** Restores a vocabulary from {@link TextVocabulary.toJSON}'s output (parsed or as a string). */
  static fromJSON(json: TextVocabularyJson | string): TextVocabulary {
    const value = typeof json === 'string' ? (JSON.parse(json) as unknown) : json;
    const v = value as Partial<TextVocabularyJson> | null;
    if (v === null || typeof v !== 'object' || v.format !== 'genblocks-text-vocabulary' || !Array.isArray(v.characters)) {
      throw new ConfigError({
        fn: 'data.TextVocabulary.fromJSON',
        arg: 'json',
        expected: "be the output of TextVocabulary.toJSON (format 'genblocks-text-vocabulary')",
        received: describe(value),
      });
    }
    return new TextVocabulary(v.characters);
  }
}

/**
 * The character vocabulary of `text`: its distinct code points, sorted by code point (so the
 * same text always gives the same ids).
 *
 * @param text The training text.
 * @returns A {@link TextVocabulary}.
 * @example
 * ```ts
 * const vocabulary = data.textVocabulary(corpus);
 * const ids = vocabulary.encode(corpus); // Int32Array, one id per character
 * ```
 * @category Data
 */
export function textVocabulary(text: string): TextVocabulary {
  if (typeof text !== 'string' || text.length === 0) {
    throw new ArgumentError({ fn: 'data.textVocabulary', arg: 'text', expected: 'be a non-empty string', received: describe(text) });
  }
  const distinct = new Set<string>();
  for (const c of text) distinct.add(c);
  return new TextVocabulary([...distinct].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!));
}
