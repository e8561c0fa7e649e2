/**
 * The `train` family of genblocks: the generic trainer and the model trainer, the adversarial
 * step and trainer, the VAE trainer, callbacks, checkpoints, EMA and gradient clipping. Exports are listed by name.
 *
 * @module
 */
export { adamW, AdamWOptimizer } from './optim/adam-w.js';
export type { AdamWOptions } from './optim/adam-w.js';
export { adversarialObjectives, adversarialStep } from './adversarial-step.js';
export type {
  AdversarialContext,
  AdversarialObjectives,
  AdversarialStepConfig,
  AdversarialStepInputs,
  AdversarialStepLosses,
  AdversarialTerm,
  AuxiliaryClassifier,
  DiscriminatorOutputs,
  LatentCode,
  Penalty,
} from './adversarial-step.js';
export { AdversarialTrainer } from './adversarial-trainer.js';
export type { AdversarialTrainerConfig } from './adversarial-trainer.js';
export type { Callback, Logs, TrainingContext } from './callbacks/callback.js';
export { checkpoint, checkpointName } from './checkpoint.js';
export { clipByGlobalNorm, globalNormScale } from './optim/clip-by-global-norm.js';
export type { ClippedGradients, GlobalNormScale } from './optim/clip-by-global-norm.js';
export type {
  Checkpoint,
  CheckpointChecksum,
  CheckpointMeta,
  CheckpointOptions,
  CheckpointStore,
  CheckpointTensor,
  LayerState,
} from './checkpoint.js';
export { earlyStop } from './callbacks/early-stop.js';
export { ExponentialMovingAverage } from './optim/ema.js';
export type { ExponentialMovingAverageOptions } from './optim/ema.js';
export type { EarlyStop, EarlyStopOptions } from './callbacks/early-stop.js';
export { fusedAdam, FusedAdamOptimizer } from './optim/fused-adam.js';
export type { FusedAdamOptions } from './optim/fused-adam.js';
export { history } from './callbacks/history.js';
export { cosineDecay, learningRateSchedule } from './callbacks/learning-rate.js';
export type { CosineDecayOptions, Schedule } from './callbacks/learning-rate.js';
export type { History, HistoryOptions } from './callbacks/history.js';
export { DiffusionTrainer } from './diffusion-trainer.js';
export type { DiffusionSamplerOptions, DiffusionTrainerConfig } from './diffusion-trainer.js';
export { ModelTrainer } from './model-trainer.js';
export type { LossTerms, ModelStepContext, ModelTrainerConfig, ModelTrainerEmaOptions, OptimizerAssignment } from './model-trainer.js';
export type { Network, WeightHolder } from './network.js';
export { progressBar } from './callbacks/progress-bar.js';
export type { ProgressBarOptions, ProgressStream } from './callbacks/progress-bar.js';
export { sampleGrid } from './callbacks/sample-grid.js';
export type { SampleGridInfo, SampleGridOptions } from './callbacks/sample-grid.js';
export { MAX_CONSECUTIVE_SKIPS, Trainer } from './trainer.js';
export type {
  BatchLike,
  BatchSource,
  DatasetLike,
  FitOptions,
  FitResult,
  ResumableSource,
  SampleOptions,
  SampleRange,
  TrainerOptions,
  TrainingBatch,
} from './trainer.js';
export type { OptimizerGroup, VariableGroup } from './state.js';
export type { StatefulLayer } from './stateful-layer.js';
export { VaeTrainer } from './vae-trainer.js';
export type { VaeTrainerConfig } from './vae-trainer.js';
