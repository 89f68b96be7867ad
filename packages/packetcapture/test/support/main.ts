// Test-only: runs the packetcapture command line from source (agent and controller processes of the e2e
// tests), so they need no bundle.
import { main } from '../../src/cli.ts';

process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
