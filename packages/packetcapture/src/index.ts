export * from './capture.ts';
export * from './formats.ts';
export * from './read.ts';
export * from './sink.ts';
