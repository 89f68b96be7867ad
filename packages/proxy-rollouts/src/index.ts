export * from './api.ts';
export * from './crds.ts';
export * from './analysis.ts';
export * from './expression.ts';
export * from './reconcile.ts';
export * from './revision.ts';
