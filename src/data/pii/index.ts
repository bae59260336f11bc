export { PII_TYPES, PiiOptionsSchema, type PiiOptions, type PiiOptionsInput, type PiiType } from "./options.js";
export { scanText, type PiiMatch } from "./scan.js";
export { PiiScanner, detectPii, type PiiFinding, type PiiReport } from "./redact.js";
export { luhnValid, cardNetwork, isCardNumber, ibanValid, ssnValid, shannonEntropy } from "./checksums.js";
export { looksLikeSecret } from "./detectors.js";
