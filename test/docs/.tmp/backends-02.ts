import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-wasm';
import { backends } from 'genblocks';

// WebGL when the device has it, otherwise wasm (served from /wasm/).
await backends.use('auto', { wasmPaths: '/wasm/' });
