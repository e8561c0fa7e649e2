/**
 * The `train` family of genblocks: the adversarial step and trainer, the VAE trainer,
 * callbacks and checkpoints. Exports are listed by name.
 *
 * @module
 */
export { adamW, AdamWOptimizer } from './adam-w.js';
export type { AdamWOptions } from './adam-w.js';
export { adversarialStep } from './adversarial-step.js';
export type { AdversarialStepConfig, AdversarialStepInputs, AdversarialStepLosses, LatentCode, Penalty } from './adversarial-step.js';
export { AdversarialTrainer } from './adversarial-trainer.js';
export type { AdversarialTrainerConfig } from './adversarial-trainer.js';
export type { Callback, Logs, TrainingContext } from './callbacks.js';
export { checkpoint, checkpointName } from './checkpoint.js';
export type { Checkpoint, CheckpointMeta, CheckpointOptions, CheckpointStore, CheckpointTensor } from './checkpoint.js';
export { earlyStop } from './early-stop.js';
export type { EarlyStop, EarlyStopOptions } from './early-stop.js';
export { fusedAdam, FusedAdamOptimizer } from './fused-adam.js';
export type { FusedAdamOptions } from './fused-adam.js';
export { history } from './history.js';
export { cosineDecay, learningRateSchedule } from './learning-rate.js';
export type { CosineDecayOptions, Schedule } from './learning-rate.js';
export type { History, HistoryOptions } from './history.js';
export type { Network, WeightHolder } from './network.js';
export { progressBar } from './progress-bar.js';
export type { ProgressBarOptions, ProgressStream } from './progress-bar.js';
export { sampleGrid } from './sample-grid.js';
export type { SampleGridInfo, SampleGridOptions } from './sample-grid.js';
export { MAX_CONSECUTIVE_SKIPS, Trainer } from './trainer.js';
export type { BatchLike, BatchSource, DatasetLike, FitOptions, FitResult, TrainerOptions, TrainingBatch } from './trainer.js';
export { VaeTrainer } from './vae-trainer.js';
export type { VaeTrainerConfig } from './vae-trainer.js';
