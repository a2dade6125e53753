export { diffObject, formatPath } from './diff.js';
export type { DriftChange, DriftOp } from './diff.js';
export { canonicalQuantity } from './quantity.js';
export { loadDesiredState, objectKey, DesiredStateError } from './desired-state.js';
export type { DesiredObject } from './desired-state.js';
export { scanDrift, compareOne } from './scan.js';
export type { ObjectDrift, ScanResult } from './scan.js';
