/**
 * The `train` family of genblocks: the generic trainer and the model trainer, the adversarial
 * step and trainer, the VAE trainer, callbacks, checkpoints, EMA and gradient clipping. Exports are listed by name.
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
export { clipByGlobalNorm } from './clip-by-global-norm.js';
export type { ClippedGradients } from './clip-by-global-norm.js';
export type { Checkpoint, CheckpointMeta, CheckpointOptions, CheckpointStore, CheckpointTensor } from './checkpoint.js';
export { earlyStop } from './early-stop.js';
export { ExponentialMovingAverage } from './ema.js';
export type { ExponentialMovingAverageOptions } from './ema.js';
export type { EarlyStop, EarlyStopOptions } from './early-stop.js';
export { fusedAdam, FusedAdamOptimizer } from './fused-adam.js';
export type { FusedAdamOptions } from './fused-adam.js';
export { history } from './history.js';
export { cosineDecay, learningRateSchedule } from './learning-rate.js';
export type { CosineDecayOptions, Schedule } from './learning-rate.js';
export type { History, HistoryOptions } from './history.js';
export { ModelTrainer } from './model-trainer.js';
export type { LossTerms, ModelStepContext, ModelTrainerConfig, OptimizerAssignment } from './model-trainer.js';
export type { Network, WeightHolder } from './network.js';
export { progressBar } from './progress-bar.js';
export type { ProgressBarOptions, ProgressStream } from './progress-bar.js';
export { sampleGrid } from './sample-grid.js';
export type { SampleGridInfo, SampleGridOptions } from './sample-grid.js';
export { MAX_CONSECUTIVE_SKIPS, Trainer } from './trainer.js';
export type { BatchLike, BatchSource, DatasetLike, FitOptions, FitResult, SampleOptions, SampleRange, TrainerOptions, TrainingBatch } from './trainer.js';
export type { OptimizerGroup, VariableGroup } from './state.js';
export { VaeTrainer } from './vae-trainer.js';
export type { VaeTrainerConfig } from './vae-trainer.js';
