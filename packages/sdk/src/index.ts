export * from './srp/index.ts';
export * from './collab/index.ts';
export * from './licensing/index.ts';
