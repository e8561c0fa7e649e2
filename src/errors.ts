/**
 * Error types thrown by genblocks.
 *
 * Every error a public function throws names the function, the argument, what was expected and
 * what was received, so a message read in a console says what to fix:
 *
 * ```text
 * nonSaturating.generator: argument 'fakeLogits' must have rank 1, 2 or 4, received shape [8,1,1]
 * ```
 *
 * The parts are also available as structured fields for programs that handle errors.
 *
 * @module
 */

/**
 * Base class of every error genblocks throws on purpose. Catch this to tell genblocks'
 * validation errors apart from errors raised inside tfjs.
 *
 * @category Errors
 */
export class GenblocksError extends Error {
  /** The public function (or `Class.method`) that raised the error. */
  readonly fn: string;

  constructor(fn: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.fn = fn;
  }
}

/** Structured description of an invalid argument. @category Errors */
export interface ArgumentErrorDetails {
  /** Public function that validated the argument, e.g. `'losses.gan.hinge.discriminator'`. */
  fn: string;
  /** Argument or config field at fault, e.g. `'realLogits'` or `'config.latentDim'`. */
  arg: string;
  /** What the argument must be, phrased to follow "must": `'have rank 2'`. */
  expected: string;
  /** What was received, e.g. `'shape [8,1,1]'`. */
  received: string;
  /** Optional advice on how to fix the call. */
  hint?: string;
}

/**
 * An argument (or a field of a config object) is invalid.
 *
 * Message format: `fn: argument 'arg' must <expected>, received <received>[. hint]`.
 *
 * @example
 * ```ts
 * try {
 *   losses.gan.nonSaturating.generator(tf.ones([8, 1, 1]));
 * } catch (e) {
 *   if (e instanceof ArgumentError) console.log(e.arg, e.expected, e.received);
 * }
 * ```
 * @category Errors
 */
export class ArgumentError extends GenblocksError {
  /** Argument or config field at fault. */
  readonly arg: string;
  /** What the argument must be. */
  readonly expected: string;
  /** What was received. */
  readonly received: string;
  /** Advice on how to fix the call, when there is one. */
  readonly hint: string | undefined;

  constructor(details: ArgumentErrorDetails) {
    const { fn, arg, expected, received, hint } = details;
    super(fn, `${fn}: argument '${arg}' must ${expected}, received ${received}${hint ? `. ${hint}` : ''}`);
    this.arg = arg;
    this.expected = expected;
    this.received = received;
    this.hint = hint;
  }
}

/** A tensor argument has the wrong rank or shape. @category Errors */
export class ShapeError extends ArgumentError {}

/** A tensor argument has the wrong dtype (for example an int32 tensor where logits belong). @category Errors */
export class DTypeError extends ArgumentError {}

/**
 * A builder's config object is invalid; `arg` names the field (`config.latentDim`).
 * Thrown when a network is built, never later during training.
 *
 * @category Errors
 */
export class ConfigError extends ArgumentError {}

/**
 * A training loss became NaN or ±Infinity, or a step with finite losses wrote NaN or ±Infinity
 * into the training state (a weight, an optimizer slot, batch-norm statistics, EMA weights).
 * By default a trainer stops with this error and keeps the state of the last good step.
 *
 * @category Errors
 */
export class NonFiniteLossError extends GenblocksError {
  /** Step (0-based count of completed steps before this one) at which the loss was non-finite. */
  readonly step: number;
  /** Name of the loss that was non-finite, e.g. `'discriminator'`; when the losses were finite, the state that was not (as `variable`). */
  readonly loss: string;
  /** The non-finite value (NaN when it was the state: which elements are not reported). */
  readonly value: number;
  /**
   * When the losses were finite but the new state was not: which state, as it is named in
   * checkpoints (`generator/3`, `discriminatorOptimizer/dense_Dense2/kernel/v`). Otherwise undefined.
   */
  readonly variable: string | undefined;

  constructor(fn: string, step: number, loss: string, value: number, variable?: string) {
    const what = variable === undefined ? `loss '${loss}' is ${value}` : `the losses were finite but '${variable}' became NaN or ±Infinity`;
    super(
      fn,
      `${fn}: ${what} at step ${step}; the weights of the last good step were kept. ` +
        `Lower the learning rate, check the data for NaN, or pass onNonFinite: 'skip' to discard such steps`,
    );
    this.step = step;
    this.loss = loss;
    this.value = value;
    this.variable = variable;
  }
}

/**
 * A tfjs backend is missing, could not start, or lacks something genblocks needs.
 *
 * @category Errors
 */
export class BackendError extends GenblocksError {}

/** Structured description of what is wrong with a checkpoint. @category Errors */
export interface CheckpointErrorDetails {
  /** Public function that read the checkpoint, e.g. `'train.AdversarialTrainer.restore'`. */
  fn: string;
  /** Where the checkpoint came from (a file path), when known. */
  source?: string | undefined;
  /** The field at fault, e.g. `'meta.step'` or `"tensors['generator/0'].values"`. */
  field: string;
  /** What the field must be, phrased to follow "must". */
  expected: string;
  /** What was found. */
  received: string;
  /** Optional advice. */
  hint?: string | undefined;
}

/**
 * A checkpoint cannot be loaded: a file is missing, truncated or not valid JSON, a field is
 * missing or out of range, the content does not match its checksum, its format version is not
 * one this genblocks reads, or it does not fit the trainer's networks and optimizers. Thrown
 * before anything is assigned: the model and optimizers are left as they were.
 *
 * Message format: `fn: checkpoint 'source': field 'field' must <expected>, received <received>[. hint]`.
 *
 * @example
 * ```ts
 * try {
 *   await trainer.resume(store);
 * } catch (e) {
 *   if (e instanceof CheckpointError) console.log(e.source, e.field, e.received);
 * }
 * ```
 * @category Errors
 */
export class CheckpointError extends GenblocksError {
  /** Where the checkpoint came from (a file path), when known. */
  readonly source: string | undefined;
  /** The field at fault. */
  readonly field: string;
  /** What the field must be. */
  readonly expected: string;
  /** What was found. */
  readonly received: string;
  /** Advice, when there is some. */
  readonly hint: string | undefined;

  constructor(details: CheckpointErrorDetails) {
    const { fn, source, field, expected, received, hint } = details;
    super(
      fn,
      `${fn}: checkpoint${source === undefined ? '' : ` '${source}'`}: field '${field}' must ${expected}, received ${received}${hint ? `. ${hint}` : ''}`,
    );
    this.source = source;
    this.field = field;
    this.expected = expected;
    this.received = received;
    this.hint = hint;
  }
}
