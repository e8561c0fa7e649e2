// npm install @tensorflow/tfjs-node-gpu@4.22.0
import '@tensorflow/tfjs-node-gpu'; // registers the 'tensorflow' backend
import { backends } from 'genblocks';

const info = await backends.use('tensorflow');
console.log(info.name); // 'tensorflow'; nothing is added or replaced
