import { setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { backends } from 'genblocks';

setThreadsCount(4);
const info = await backends.use('wasm', { wasmPaths: '/wasm/' });
console.log(info.threads, info.simd);
