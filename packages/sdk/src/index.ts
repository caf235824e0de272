export * from './srp/index.ts';
