export * from './metrics';
export * from './labels';
export * from './exact-money';
