import { backends } from 'genblocks';

const info = await backends.use('wasm');
console.log(info.added); // ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', ...]
console.log(info.replaced); // ['BatchMatMul', '_FusedMatMul', 'Conv2DBackpropInput']
console.log(backends.describeBackend()); // the same description, at any time
