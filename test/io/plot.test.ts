/**
 * data.lossPlotSvg / data.lossCsv and their Node writers: SVG well-formedness (a small XML
 * checker written here), coordinates computed by hand, gaps for non-finite values, CSV text.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { data } from '../../src/index.js';
import { writeLossCsv, writeLossPlot } from '../../src/node.js';

const dir = mkdtempSync(join(tmpdir(), 'genblocks-plot-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

/**
 * Minimal XML parser for the subset an SVG writer emits (elements, double-quoted attributes,
 * text with the five predefined entities). Throws on anything malformed: unbalanced or
 * mismatched tags, unquoted attributes, a raw '<' or '&' in text, content after the root.
 */
function parseXml(text: string): XmlElement {
  const root: XmlElement = { name: '#document', attrs: {}, children: [], text: '' };
  const stack = [root];
  const tokens = text.match(/<[^>]*>|[^<]+/g) ?? [];
  for (const token of tokens) {
    const top = stack[stack.length - 1]!;
    if (!token.startsWith('<')) {
      if (/&(?!(lt|gt|amp|apos|quot);)/.test(token)) throw new Error(`raw & in text: ${token}`);
      if (token.trim() && top === root) throw new Error('text outside the root element');
      top.text += token
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&apos;/g, "'")
        .replace(/&quot;/g, '"')
        .replace(/&amp;/g, '&');
      continue;
    }
    const close = token.match(/^<\/([\w:-]+)\s*>$/);
    if (close) {
      if (top.name !== close[1]) throw new Error(`</${close[1]}> closes <${top.name}>`);
      stack.pop();
      continue;
    }
    const open = token.match(/^<([\w:-]+)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>$/);
    if (!open) throw new Error(`malformed tag: ${token}`);
    const attrs: Record<string, string> = {};
    for (const [, k, v] of open[2]!.matchAll(/([\w:-]+)="([^"]*)"/g)) {
      if (k! in attrs) throw new Error(`duplicate attribute ${k}`);
      attrs[k!] = v!;
    }
    if (top === root && root.children.length) throw new Error('two root elements');
    const el: XmlElement = { name: open[1]!, attrs, children: [], text: '' };
    top.children.push(el);
    if (!open[3]) stack.push(el);
  }
  if (stack.length !== 1) throw new Error(`unclosed <${stack[stack.length - 1]!.name}>`);
  return root.children[0]!;
}

function all(el: XmlElement, name: string): XmlElement[] {
  return [...(el.name === name ? [el] : []), ...el.children.flatMap((c) => all(c, name))];
}

describe('the test XML checker', () => {
  it('rejects malformed documents (so the SVG assertions below can fail)', () => {
    expect(() => parseXml('<svg><g></svg>')).toThrow(/closes/);
    expect(() => parseXml('<svg><text>a < b</text></svg>')).toThrow();
    expect(() => parseXml('<svg><text>a & b</text></svg>')).toThrow(/raw &/);
    expect(() => parseXml('<svg x=1></svg>')).toThrow(/malformed/);
    expect(() => parseXml('<svg>')).toThrow(/unclosed/);
  });
});

describe('data.lossPlotSvg', () => {
  it('is a well-formed SVG with axes, one curve and one legend entry per series', () => {
    const svg = parseXml(data.lossPlotSvg({ generator: [1, 2, 3], discriminator: [0.5, 0.4] }, { title: 'GAN' }));
    expect(svg.name).toBe('svg');
    expect(svg.attrs).toMatchObject({ xmlns: 'http://www.w3.org/2000/svg', width: '720', height: '400', viewBox: '0 0 720 400' });
    const curves = svg.children.find((c) => c.attrs.class === 'curves')!;
    expect(all(curves, 'path')).toHaveLength(2);
    const legend = svg.children.find((c) => c.attrs.class === 'legend')!;
    expect(all(legend, 'text').map((t) => t.text)).toEqual(['generator', 'discriminator']);
    expect(all(svg, 'text').map((t) => t.text)).toEqual(expect.arrayContaining(['GAN', 'step', 'loss']));
  });

  it('maps values to pixels: [0, 1, 2, 3] runs corner to corner of the plot area', () => {
    // Defaults: 720×400, margins left 64, right 16, top 16 (no title), bottom 44 → plot area
    // x ∈ [64, 704], y ∈ [16, 356]. Nice ticks for 0…3 on both axes are 0, 1, 2, 3, so step i,
    // value v sit at x = 64 + 640·i/3, y = 356 − 340·v/3 (rounded to 0.1).
    const svg = parseXml(data.lossPlotSvg({ loss: [0, 1, 2, 3] }));
    const [path] = all(
      svg.children.find((c) => c.attrs.class === 'curves')!,
      'path',
    );
    expect(path!.attrs.d).toBe('M64,356L277.3,242.7L490.7,129.3L704,16');
    const yTicks = all(
      svg.children.find((c) => c.attrs.class === 'y-ticks')!,
      'text',
    ).map((t) => t.text);
    expect(yTicks).toEqual(['0', '1', '2', '3']);
  });

  it('breaks a curve at NaN and Infinity, and escapes names', () => {
    const svg = data.lossPlotSvg({ 'a<b & "c"': [1, NaN, 2, 3, Infinity, 4] });
    const doc = parseXml(svg);
    const d = all(doc, 'path')[0]!.attrs.d!;
    expect(d.match(/M/g)).toHaveLength(3);
    expect(d).not.toMatch(/NaN|Infinity/);
    expect(all(doc, 'text').map((t) => t.text)).toContain('a<b & "c"');
  });

  it('with smoothing draws a faint raw curve and a debiased moving average', () => {
    // Debiased EMA of [1, 1, 1] is exactly 1 at every step (s_t = (1 − w^t) / (1 − w^t)).
    const doc = parseXml(data.lossPlotSvg({ flat: [1, 1, 1], other: [0, 2, 0] }, { smoothing: 0.9 }));
    const paths = all(doc, 'path');
    expect(paths).toHaveLength(4);
    expect(paths[0]!.attrs['stroke-opacity']).toBe('0.3');
    expect(paths[1]!.attrs.d).toBe(paths[0]!.attrs.d);
    expect(paths[3]!.attrs.d).not.toBe(paths[2]!.attrs.d);
  });

  it('handles a constant series and an all-NaN series without dividing by zero', () => {
    const doc = parseXml(data.lossPlotSvg({ c: [2, 2, 2], n: [NaN] }));
    expect(data.lossPlotSvg({ c: [2, 2, 2] })).not.toMatch(/NaN|Infinity/);
    expect(all(doc, 'path')).toHaveLength(2);
  });

  it('rejects bad series and options', () => {
    expect(() => data.lossPlotSvg({})).toThrow(/data\.lossPlotSvg: argument 'series' must be an object of named number arrays/);
    expect(() => data.lossPlotSvg({ g: [1, '2' as unknown as number] })).toThrow(
      /argument 'series\.g' must hold only numbers, received '2' at index 1/,
    );
    expect(() => data.lossPlotSvg({ g: [1] }, { smoothing: 1 })).toThrow(
      /options\.smoothing' must be a finite number >= 0 and < 1, received 1/,
    );
    expect(() => data.lossPlotSvg({ g: [1] }, { width: 10 })).toThrow(/options\.width' must be an integer >= 160/);
  });
});

describe('data.lossCsv', () => {
  it('writes a header and one row per step, empty cells for shorter series, quoted names', () => {
    expect(data.lossCsv({ generator: [0.7, 0.6], 'd,loss': [1.5, NaN, 1.25] })).toBe(
      'step,generator,"d,loss"\n0,0.7,1.5\n1,0.6,NaN\n2,,1.25\n',
    );
  });

  it('keeps full precision', () => {
    expect(data.lossCsv({ x: [0.1 + 0.2] })).toBe('step,x\n0,0.30000000000000004\n');
  });

  it('labels rows with given step numbers, one per row', () => {
    expect(data.lossCsv({ g: [0.5, 0.25] }, { steps: [10, 20] })).toBe('step,g\n10,0.5\n20,0.25\n');
    expect(() => data.lossCsv({ g: [0.5, 0.25] }, { steps: [10] })).toThrow(
      /data\.lossCsv: argument 'options\.steps' must be an array of 2 numbers \(one per row\), received array of length 1/,
    );
  });
});

describe('writeLossPlot / writeLossCsv', () => {
  it('write the same text as the core functions', async () => {
    const series = { generator: [1, 0.8, 0.9], discriminator: [1.4, 1.3, 1.35] };
    await writeLossPlot(join(dir, 'out', 'loss.svg'), series, { title: 't' });
    await writeLossCsv(join(dir, 'out', 'loss.csv'), series);
    expect(readFileSync(join(dir, 'out', 'loss.svg'), 'utf8')).toBe(data.lossPlotSvg(series, { title: 't' }));
    expect(readFileSync(join(dir, 'out', 'loss.csv'), 'utf8')).toBe(data.lossCsv(series));
    await expect(writeLossPlot('', series)).rejects.toThrow(/writeLossPlot: argument 'path' must be a non-empty string/);
  });
});
