export * from './binaries.ts';
export * from './cluster.ts';
export * from './eventually.ts';
