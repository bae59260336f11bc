/** The runtime beneath the stages: finding Python, the worker and its protocol, and pooled local models. */
export { findPython, probeTorch, pythonCandidates, pythonNotFoundError, INSTALL_FIX, type FindPythonOptions, type PythonAttempt, type PythonFound } from "./python.js";
export { WorkerClient, workerPackageRoot, type StartWorkerOptions } from "./worker-client.js";
export { startWorker, withWorker } from "./worker-session.js";
export { DistributedTrain, type DistributedTrainOptions } from "./worker-once.js";
export { WORKER_PROTOCOL, PROTOCOL_FIX, assertProtocol, type WorkerLaunch } from "./protocol-version.js";
export type { CheckpointEvent, DoneEvent, ErrorEvent, GenerateParams, GenerateResult, LogEvent, MetricEvent, ProgressEvent, ReadyEvent, SubmitParams, SubmitResult, TokenEvent, TrainResult, WorkerEvent } from "./worker-events.js";
export { ServingWorker, type ServingLimits } from "./serving-worker.js";
export { streamFromPrompt, type StreamPiece, type StreamedText } from "./stream-text.js";
export { generateText, generateFromPrompt, decodeCompletion, type GenerateTextOptions, type GeneratedText, type SamplingOptions } from "./generate-text.js";
export { LocalModel, type LocalModelOptions, type LocalSampling, type PromptOptions } from "./local-model.js";
export { LocalModelPool, localModels, type LocalModelLease } from "./local-model-pool.js";
export { trainedPromptFormat, type TrainedPromptFormat } from "./trained-prompt-format.js";
export { PRNG_NAME, createRandom, shuffleInPlace, shuffleSeeded } from "./random.js";
export { DEFAULT_RETRY, isRetryableStatus, parseRetryAfterMs, withRetry } from "./retry.js";
export type { RetryPolicy } from "./retry.js";
