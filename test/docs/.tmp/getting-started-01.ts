import { backends } from 'genblocks';

const info = await backends.use('wasm');
console.log(info.name, info.simd, info.threads); // wasm true 1
console.log(info.added); // ['Conv2DBackpropFilter', ...]: kernels genblocks registered
