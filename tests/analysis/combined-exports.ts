/**
 * The package root with the analysis API added, as src/index.ts will have it (`export * from './analysis'`).
 * `tsc --noEmit` fails with TS2308 here if an analysis name collides with a name the root already exports.
 */
export * from '../../src/index';
export * from '../../src/analysis';
