export { normaliseText, recordText, type DedupeTextOptions } from "./normalize.js";
export { DuplicateDetector, type DetectionResult, type DetectorOptions } from "./detector.js";
export { chooseLshParams, candidateProbability, type LshParams } from "./lsh-params.js";
export { MinHasher, estimateJaccard } from "./minhash.js";
export { jaccardSorted, shingleHashes } from "./shingles.js";
export {
  DedupeOptionsSchema,
  DetectionOptionsSchema,
  LeakageOptionsSchema,
  type DedupeOptions,
  type DedupeOptionsInput,
  type LeakageOptions,
  type LeakageOptionsInput,
} from "./options.js";
export { planDedupe, applyDedupe, type DedupePlan, type DedupeReport, type ClusterReport } from "./dedupe.js";
export { planLeakageCheck, applyLeakageCheck, type LeakagePlan, type LeakageReport } from "./leakage.js";
export { measureDetectorQuality, selectQualitySample, type DetectorQuality } from "./quality.js";
export { recordId } from "./record-id.js";
