export * from './api.ts';
export * from './crds.ts';
