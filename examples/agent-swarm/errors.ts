/**
 * The model's failures, one class per kind with a stable `code`. They cross
 * the worker bridge with their name, message and code, and end up as an error
 * note in the document (the agent's error boundary).
 *
 * @module
 */

/** Any failure of a model: the base class, `code` says which. */
export class ModelError extends Error {
  constructor(
    message: string,
    /** Stable code for programmatic checks. */
    readonly code: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ModelError';
  }
}

/** The endpoint answered with an HTTP error status (before any token). */
export class ModelHttpError extends ModelError {
  constructor(
    /** The HTTP status. */
    readonly status: number,
    message: string,
  ) {
    super(`HTTP ${status}: ${message}`, 'ERR_MODEL_HTTP');
    this.name = 'ModelHttpError';
  }
}

/** The event stream broke: the connection was lost, an error event came, or a chunk was malformed. */
export class ModelStreamError extends ModelError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, 'ERR_MODEL_STREAM', options);
    this.name = 'ModelStreamError';
  }
}

/** The simulated model failed on purpose (`failRate` / `failIds`), to show the error boundary. */
export class SimulatedFailureError extends ModelError {
  constructor(message: string) {
    super(message, 'ERR_MODEL_SIMULATED');
    this.name = 'SimulatedFailureError';
  }
}
