import '@tensorflow/tfjs-backend-webgpu';
import { backends } from 'genblocks';

await backends.use('webgpu');
