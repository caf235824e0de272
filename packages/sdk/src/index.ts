export * from './srp/index.ts';
export * from './licensing/index.ts';
