export * from './fake-apiserver.ts';
