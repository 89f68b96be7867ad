// Test-only: a worker thread that starts a capture and reports when it is listening; the test then
// terminates the worker mid-capture to check the environment clean-up hook releases everything.
import { parentPort, workerData } from 'node:worker_threads';
import { compileFilter } from '@harbormaster/bpf';
import { Capture } from '../../src/capture.ts';
import { fileSink } from '../../src/sink.ts';

const { netns, file } = workerData as { netns: string; file: string };
const r = compileFilter('');
if ('error' in r) throw new Error(r.error.message);
await Capture.start({ interface: 'vb', netns, program: r.program }, await fileSink(file));
parentPort?.postMessage('listening');
