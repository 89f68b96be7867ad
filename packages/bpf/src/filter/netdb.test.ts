import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { compileFilterUnoptimized } from './compile.ts';
import { loadNetDb, lookupPort, systemNetDb } from './netdb.ts';

const dir = mkdtempSync(join(tmpdir(), 'bpf-netdb-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('reads services, protocols and networks as glibc does: first entry wins, aliases count', () => {
  const services = join(dir, 'services');
  const protocols = join(dir, 'protocols');
  const networks = join(dir, 'networks');
  writeFileSync(
    services,
    'web 8080/tcp www alt # comment\nweb 9090/tcp\ndns 53/tcp\ndns 53/udp\nq 9/udp\nmixed 1/tcp\nmixed 2/udp\n',
  );
  writeFileSync(protocols, '# comment\nfoo 200 FOO\nfoo 201\n');
  writeFileSync(networks, 'lab 10.20\nloop 127.0.0.0 lo\n');
  const ethers = join(dir, 'ethers');
  writeFileSync(ethers, '# comment\n0:1:2:3:4:5 router\nzz:1:2:3:4:5 bad\n');
  const db = loadNetDb({ services, protocols, networks, ethers });
  assert.deepEqual(lookupPort(db, 'web'), { port: 8080, proto: 'tcp' });
  assert.deepEqual(lookupPort(db, 'alt'), { port: 8080, proto: 'tcp' });
  assert.deepEqual(lookupPort(db, 'dns'), { port: 53, proto: 'any' });
  assert.deepEqual(lookupPort(db, 'q'), { port: 9, proto: 'udp' });
  assert.deepEqual(lookupPort(db, 'mixed'), { port: 1, proto: 'tcp' });
  assert.equal(lookupPort(db, 'none'), undefined);
  assert.equal(db.protocols.get('FOO'), 200);
  assert.equal(db.protocols.get('foo'), 200);
  assert.equal(db.networks.get('lab'), 0x0a14);
  assert.equal(db.networks.get('lo'), 0x7f000000);
  assert.deepEqual(db.ethers.get('router'), [0, 1, 2, 3, 4, 5]);
  assert.equal(db.ethers.has('bad'), false);
  // `ether host name` compiles to what the address itself compiles to.
  const byName = compileFilterUnoptimized('ether src host router', { netdb: db });
  const byAddress = compileFilterUnoptimized('ether src host 0:1:2:3:4:5');
  assert.deepEqual(byName, byAddress);
  assert.ok('error' in compileFilterUnoptimized('ether host nobody', { netdb: db }));
});

test('missing files fall back to a built-in table with the common entries', () => {
  const missing = join(dir, 'missing');
  const db = loadNetDb({ services: missing, protocols: missing, networks: missing, ethers: missing });
  assert.deepEqual(lookupPort(db, 'http'), { port: 80, proto: 'tcp' });
  assert.deepEqual(lookupPort(db, 'domain'), { port: 53, proto: 'any' });
  assert.equal(db.protocols.get('tcp'), 6);
  assert.equal(db.networks.size, 0);
  // The system's databases are what this machine's tcpdump reads.
  assert.deepEqual(lookupPort(systemNetDb(), 'domain'), { port: 53, proto: 'any' });
});
