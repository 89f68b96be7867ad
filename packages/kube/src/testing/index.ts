export * from './fake-apiserver.ts';
export * from './until.ts';
