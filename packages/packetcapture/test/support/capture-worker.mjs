// Worker entry: registers tsx in the worker (a worker does not inherit --import hooks on Node 20), then runs
// the TypeScript body.
import { register } from 'tsx/esm/api';

register();
await import('./capture-worker.ts');
