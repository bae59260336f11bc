/**
 * The tunekit library: `import { … } from "tunekit"`. Shells (the CLI, the gateway server, the dashboard)
 * import from here or from the stage modules; nothing here imports a shell. One block per lifecycle stage.
 */
// Foundation
export { AuthError, ConfigError, ConflictError, DataError, EXIT_CODES, ForbiddenError, HTTP_STATUSES, NotFoundError, PayloadTooLargeError, ProviderError, RateLimitError, RegistryError, RequestTimeoutError, TunekitError, UsageError, WorkerError, errorBody, exitCodeFor, formatError, httpStatusFor, isTunekitError, toTunekitError } from "./errors/index.js";
export type { ErrorKind, ErrorOptions } from "./errors/index.js";
export { REDACTED, URL_PASSWORD_MASK, createLogger, isSecretKey, redactSecrets, redactValue } from "./log/index.js";
export type { Logger, LoggerOptions } from "./log/index.js";
export { CONFIG_FILE, TunekitConfigSchema, closestKey, configErrorFrom, configJsonSchema, deepMerge, describeIssues, formatPath, knownKeysAt, loadConfig, valueAt } from "./config/index.js";
export type { ConfigProblem, KnownKeys, LoadConfigOptions, TunekitConfig, TunekitConfigInput } from "./config/index.js";
export { ArtifactStore, DatasetStore, ModelStore, RESUMABLE_STATUSES, RUN_KINDS, RUN_STATUSES, Registry, RunStore, STATE_DIR, assertTransition, currentOwner, findWorkspaceRoot, fsyncDirSync, initWorkspace, isTerminal, migrate, newId, nowIso, openSqliteRegistryDb, openWorkspace, ownerState, parseOwner, processStartTime, runMigrations, tempPathFor, writeFileAtomic, writeFileAtomicSync, writeTransaction } from "./registry/index.js";
export type { AddDatasetVersionInput, Artifact, ArtifactOptions, ArtifactWriter, ArtifactsTable, CreateModelInput, CreateRunInput, Dataset, DatasetVersion, DatasetVersionsTable, DatasetsTable, InitResult, MigrationSet, Model, ModelsTable, OpenSqliteOptions, OpenWorkspaceOptions, OwnerState, RegistryDatabase, RegistryDb, Run, RunEvent, RunEventInput, RunEventType, RunEventsTable, RunFilter, RunKind, RunOwner, RunStatus, RunsTable, Workspace } from "./registry/index.js";

// Data
export { ChatRecordSchema, MessageSchema, MetadataSchema, PreferenceRecordSchema, ROLES, TextRecordSchema, ToolCallSchema, ToolSchema, isChatRecord, isPreferenceRecord, isTextRecord, recordKind, JsonlReader, emptyJsonlSummary, firstInvalidUtf8Offset, formatBytes, readJsonlFile, readJsonlStream, commitVersion, readVersion, recordKey, resolveVersion, diffVersions, describeDetection, prepareImport, Validator, createTargetChecker, validateEntries, validateRecords, CleanOptionsSchema, Cleaner, DedupeOptionsSchema, DetectionOptionsSchema, DuplicateDetector, LeakageOptionsSchema, MinHasher, applyDedupe, applyLeakageCheck, candidateProbability, chooseLshParams, estimateJaccard, jaccardSorted, measureDetectorQuality, normaliseText, planDedupe, planLeakageCheck, recordId, recordText, selectQualitySample, shingleHashes, PII_TYPES, PiiOptionsSchema, PiiScanner, cardNetwork, detectPii, ibanValid, isCardNumber, looksLikeSecret, luhnValid, scanText, shannonEntropy, ssnValid, STRATA_LISTED, applySplit, planSplit, splitDataset, SPLITS, SPLIT_ALIASES, canonicalSplit, isHeldOut, isInSplit, isTrainedOn, isValidatedOn, splitKey, splitMembership, splitOf, NgramStats, StatsCollector, StatsOptionsSchema, collectStats, detectLanguage, estimateTokens, renderStatsHtml, renderStatsText, statsWarnings, summarize, exportRecords } from "./data/index.js";
export type { ChatRecord, DatasetRecord, Message, Metadata, PreferenceRecord, RecordKind, Role, TextRecord, Tool, ToolCall, JsonlEntry, JsonlProblemCode, JsonlReadOptions, JsonlSummary, LineProblem, CommitVersionInput, VersionDiff, FileImportReport, ImportOptions, ImportReport, PreparedImport, IssueKindSummary, ValidateOptions, ValidationSummary, ChangeSample, CleanOptions, CleanReport, DropSample, ClusterReport, DedupeOptions, DedupeOptionsInput, DedupePlan, DedupeReport, DedupeTextOptions, DetectionResult, DetectorOptions, DetectorQuality, LeakageOptions, LeakageOptionsInput, LeakagePlan, LeakageReport, LshParams, PiiFinding, PiiMatch, PiiOptions, PiiOptionsInput, PiiReport, PiiType, SplitCounts, SplitPlan, SplitReport, SplitRun, SplitMembership, SplitName, BatchCountTokens, CountTokens, DatasetStats, Distribution, StatsOptions, StatsOptionsInput, StatsWarning, ExportOptions, ExportReport, ExportedFile } from "./data/index.js";

// Models by name from the Hugging Face Hub (into the standard HF cache)
export { DEFAULT_HUB_URL, DEFAULT_REVISION, formatModelRef, hubCacheDir, hubTokenOf, hubUrlOf, isHubOffline, isNeededFile, isSnapshotComplete, isValidRepoId, parseModelRef, repoCacheDir, resolveHubModel, resolveModel, selectModelFiles } from "./hub/index.js";
export type { DownloadProgress, ModelPurpose, ModelRef, ResolveModelOptions, ResolvedModel } from "./hub/index.js";

// Tokenize
export { CHATML_TEMPLATE, CLAUDE_ESTIMATE_FACTOR, ENCODINGS, END_OF_TURN_TOKENS, MODEL_ENCODINGS, NAMED_TEMPLATES, SHARD_SPLITS, SequencePacker, addsSpecialTokens, buildExample, buildExamples, buildPrompt, compileShards, countTokens, countTokensDetailed, encodingForModel, finishExample, fitDocument, loadChatTemplate, loadTokenizer, parseTemplateVariables, prepareExample, previewExamples, renderConversation, renderPreview, toTemplateMessages } from "./tokenize/index.js";
export type { BuiltPrompt, ChatTemplate, CompileInput, CompileResult, CountOptions, EncodeOptions, EncodedText, EncodingName, ExampleOptions, PackDocument, PackedSequence, PreviewExample, PreviewOptions, PreviewSegment, PromptInput, RenderOptions, RenderWarning, RenderedConversation, ShardHeader, ShardSplit, SplitSummary, TemplateChoice, TemplateMessage, TokenCount, TokenizedExample, Tokenizer, TrainOn, TrainedSpan } from "./tokenize/index.js";

// Runtime (Python, the worker, pooled local models), train (local runs) and hosted providers
export { LORA_TARGET_MODULES, TRAIN_PROVIDERS, TrainSpecSchema, loadTrainSpec, parseSetFlags, parseTrainSpec, readTrainSpecInput, safeParseTrainSpec, trainSpecJsonSchema, PAUSE_REQUESTED, isSupervisorAlive, newestCheckpoint, resumeRun, runPaths, startTrainRun, supervisorOf, cancelRun } from "./train/index.js";
export type { TrainProvider, TrainSpec, TrainSpecInput, RunPaths, TrainRunHooks, TrainRunOutcome, CancelOptions, CancelOutcome } from "./train/index.js";
export { DistributedTrain, INSTALL_FIX, LocalModel, LocalModelPool, PROTOCOL_FIX, WORKER_PROTOCOL, WorkerClient, assertProtocol, decodeCompletion, findPython, generateFromPrompt, generateText, localModels, probeTorch, pythonCandidates, pythonNotFoundError, startWorker, trainedPromptFormat, withWorker, workerPackageRoot } from "./runtime/index.js";
export type { CheckpointEvent, DistributedTrainOptions, DoneEvent, ErrorEvent, FindPythonOptions, GenerateParams, GenerateResult, GenerateTextOptions, GeneratedText, LocalModelLease, LocalModelOptions, LocalSampling, LogEvent, MetricEvent, ProgressEvent, PromptOptions, PythonAttempt, PythonFound, ReadyEvent, SamplingOptions, StartWorkerOptions, TrainResult, TrainedPromptFormat, WorkerEvent, WorkerLaunch } from "./runtime/index.js";
export { createBackend, HOSTED_PROVIDERS, isFinalJobStatus } from "./providers/index.js";
export type { BackendContext, FineTuneBackend, HostedProvider, JobCheckpoint, JobEvent, JobMetric, JobState, JobStatus, SubmitInput, SubmitResult } from "./providers/index.js";

// Evaluate
export { runEvalSuite, BUILTIN_METRICS, CandidateSpecSchema, EvalSuiteSchema, MetricSpecSchema, evalSuiteJsonSchema, loadEvalSuite, metricName, parseEvalSuite } from "./eval/index.js";
export type { RunSuiteOptions, SuiteOutcome, CandidateSpec, EvalSuite, LoadedSuite, MetricSpec } from "./eval/index.js";

// Export (llama.cpp / Ollama)
export { exportGguf, GGUF_ARCHITECTURES } from "./export/index.js";
export type { ExportGgufOptions, ExportedGguf, GgufQuant } from "./export/index.js";

// Cost
export { HOURS_PER_MONTH, estimateCandidate, validateEstimateInput, TOKENS_PER_PRICE_UNIT, requestCostUsd, roundUsd, tokensCostUsd, RETIREMENTS, SERVICE_CLOSURES, closureFor, hostedPathStatus, retirementFor } from "./cost/index.js";
export type { Candidate, CandidateEstimate, EstimateInput, EstimateOptions, LocalSettings, Workload, ClosureStatus, HostedPathStatus, RetirementEntry, RetirementStatus, ServiceClosure } from "./cost/index.js";

// Serve & monitor
export { CLIENT_CLOSED_REQUEST, Gateway, assertExposureAllowed } from "./gateway/index.js";
export type { StartGatewayOptions } from "./gateway/index.js";

// Report, dashboard, quickstart
export { renderCurvesSvg, renderModelCardHtml, renderModelCardMarkdown, writeModelCard } from "./report/index.js";
export type { WrittenModelCard } from "./report/index.js";
export { startUiServer } from "./ui/index.js";
export type { UiServer, UiServerOptions } from "./ui/index.js";
export { DEMO_MODEL_DIR, QuickstartOptionsSchema, RecordingReporter, SAMPLE_CSV, comparisonRows, quickstartSizes, renderComparison, runQuickstart } from "./quickstart/index.js";
export type { ComparisonRow, QuickstartOptions, QuickstartOptionsInput, QuickstartProgress, QuickstartReporter, QuickstartResult } from "./quickstart/index.js";
// Migration from a hosted fine-tune, and the promotion gate
export { nonInferiority } from "./eval/index.js";
export type { NonInferiorityOutcome, NonInferiorityVerdict } from "./eval/index.js";
export { MigrateOptionsSchema, compareOldNew, distillFromLogs, gateVerdict, importJobFiles, mapHyperparameters, promoteCandidate, readHostedJob, runMigration, setupExperiment } from "./migrate/index.js";
export type { HostedJob, MigrateOptions, MigrateOptionsInput, MigrateReporter, MigrationResult, PromoteInput, PromoteOutcome } from "./migrate/index.js";
