import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-wasm';
import { backends } from './src/index.js';
import { makeGanStep } from './bench/gan-step-common.js';
await backends.use('wasm');
const mlp = (units: number[], out: string) => { const l: tfl.layers.Layer[] = []; for (let i = 1; i < units.length; i++) { const last = i === units.length - 1; l.push(tfl.layers.dense({ units: units[i]!, ...(i === 1 ? { inputShape: [units[0]!] } : {}), activation: (last ? out : 'linear') as 'linear' })); if (!last) l.push(tfl.layers.leakyReLU({ alpha: 0.2 })); } return tfl.sequential({ layers: l }); };
const g = mlp([100, 256, 512, 1024, 784], 'tanh'), d = mlp([784, 1024, 512, 256, 1], 'linear');
const { step } = makeGanStep(g, d, 100, 64, [784]);
for (let i = 0; i < 3; i++) await step();
let t0 = performance.now(); for (let i = 0; i < 5; i++) await step(); console.log('ms/step', (performance.now() - t0) / 5);
const prof = await tf.profile(async () => { await step(); });
const agg = new Map<string, [number, number]>();
for (const k of prof.kernels) { const e = agg.get(k.name) ?? [0, 0]; e[0]++; e[1] += k.kernelTimeMs as number; agg.set(k.name, e); }
console.log([...agg].sort((a, b) => b[1][1] - a[1][1]).slice(0, 14).map(([n, [c, t]]) => `${n} ${c} ${t.toFixed(1)}`).join('\n'));
const mm = prof.kernels.filter(k => k.name.includes('MatMul')).map(k => `${k.name} ${JSON.stringify(k.inputShapes)} ${(k.kernelTimeMs as number).toFixed(2)}`);
console.log(mm.join('\n'));
