import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { API_VERSION, KIND, type PacketCapture, type PacketCaptureSpec } from '../types.ts';
import { type AdmissionRequest, sftpUrlProblem, type UserInfo, validatePacketCapture } from './validate.ts';

const KEY = 'AAAAC3NzaC1lZDI1NTE5AAAAIBoJGYijQS2Qvn8U4Q7ItqUg1+8yOTOIa5PGle+G8uos';
const alice: UserInfo = { username: 'alice', groups: ['system:authenticated'], uid: '42' };

function pc(spec: Partial<PacketCaptureSpec> = {}, started = false): PacketCapture {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name: 'pc' },
    spec: { captureConfig: { firstN: { number: 5 } }, source: { pod: { name: 'a' } }, ...spec },
    status: started ? { conditions: [{ type: 'PacketCaptureStarted', status: 'True' }] } : undefined,
  };
}

/** Runs the validation with a Secret check that answers `allowed` (or throws) and records who it was asked about. */
async function run(request: Partial<AdmissionRequest>, allowed: boolean | Error = true) {
  const asked: UserInfo[] = [];
  const verdict = await validatePacketCapture(
    { uid: '1', operation: 'CREATE', userInfo: alice, ...request },
    {
      secretRef: 'kube-system/packetcapture-fileserver-auth',
      canReadSecret: async (user) => {
        asked.push(user);
        if (allowed instanceof Error) throw allowed;
        return allowed;
      },
    },
  );
  return { ...verdict, asked };
}

describe('validatePacketCapture', () => {
  it('admits a plain capture without asking about the Secret', async () => {
    assert.deepEqual(await run({ object: pc() }), { allowed: true, asked: [] });
  });

  it('asks about the Secret as the requester, with their groups, uid and extra, when fileServer is set', async () => {
    const spec = { fileServer: { url: 'sftp://10.0.0.1:22/up', hostPublicKey: KEY } };
    const allowed = await run({ object: pc(spec) });
    assert.deepEqual(allowed, { allowed: true, asked: [alice] });
    const refused = await run({ object: pc(spec) }, false);
    assert.equal(refused.allowed, false);
    assert.equal(refused.forbidden, true);
    assert.equal(
      refused.message,
      'spec.fileServer: user "alice" is not allowed to get Secret kube-system/packetcapture-fileserver-auth, whose credentials the agent would send to this file server',
    );
  });

  it('refuses when the review fails, without passing on its reason', async () => {
    const r = await run({ object: pc({ fileServer: { url: 'sftp://h:22/' } }) }, new Error('policy details'));
    assert.equal(r.allowed, false);
    assert.equal(r.forbidden, false);
    assert.equal(
      r.message,
      'spec.fileServer: could not check whether user "alice" may get Secret kube-system/packetcapture-fileserver-auth: Error',
    );
  });

  it('asks again on UPDATE only when fileServer changed', async () => {
    const old = pc({ fileServer: { url: 'sftp://h:22/' } });
    const same = await run(
      { operation: 'UPDATE', oldObject: old, object: pc({ ...old.spec, timeout: 9 }) },
      false,
    );
    assert.deepEqual(same, { allowed: true, asked: [] });
    const moved = await run(
      { operation: 'UPDATE', oldObject: old, object: pc({ fileServer: { url: 'sftp://x:22/' } }) },
      false,
    );
    assert.equal(moved.allowed, false);
    assert.equal(moved.asked.length, 1);
  });

  it('refuses a spec change once started, naming every changed field; status-only updates pass', async () => {
    const old = pc({ timeout: 10, packet: { protocol: 'TCP' } }, true);
    const changed = await run({
      operation: 'UPDATE',
      oldObject: old,
      object: { ...pc({ timeout: 20, packet: { protocol: 'UDP' } }), status: old.status },
    });
    assert.equal(
      changed.message,
      'spec is immutable once the capture has started (status.conditions has PacketCaptureStarted); changed: spec.packet.protocol, spec.timeout',
    );
    const statusOnly = { ...old, status: { ...old.status, numberCaptured: 3 } };
    assert.deepEqual(await run({ operation: 'UPDATE', oldObject: old, object: statusOnly }), {
      allowed: true,
      asked: [],
    });
  });

  it('names the field of each compile problem, all of them at once', async () => {
    const r = await run({
      object: pc({
        destination: { cidr: 'fd00::/64' },
        filter: 'tcp port 70000',
        packet: { protocol: 'ICMPv6' },
        fileServer: { url: 'sftp://h:22/', hostPublicKey: Buffer.from('nope').toString('base64') },
      }),
    });
    assert.equal(r.allowed, false);
    assert.equal(r.forbidden, false);
    const problems = r.message?.split('; ') ?? [];
    assert.deepEqual(
      problems.map((p) => p.split(':')[0]),
      [
        'spec.filter',
        'spec.packet.protocol',
        'spec.destination.cidr',
        'spec.fileServer.hostPublicKey is not an SSH public key in wire format (RFC 4253 §6.6)',
      ],
    );
    assert.equal(
      problems[0],
      'spec.filter: illegal port number 70000 > 65535 (column 10 of "tcp port 70000")',
    );
  });

  it('checks the file server URL fully, which the CRD pattern (unanchored, as Antrea) does not', () => {
    assert.equal(sftpUrlProblem('sftp://10.0.0.1:22/upload'), undefined);
    assert.equal(sftpUrlProblem('sftp://[fd00::1]:2222/'), undefined);
    assert.equal(sftpUrlProblem('sftp://files.example:22'), undefined);
    assert.equal(
      sftpUrlProblem('https://x.example/?sftp://h:22'),
      'scheme https is not sftp; expected sftp://host:port/path',
    );
    assert.equal(sftpUrlProblem('sftp://u:p@h:22/'), 'must not carry credentials: they come from the Secret');
    assert.equal(sftpUrlProblem('sftp://h/'), '"sftp://h/" has no port; expected sftp://host:port/path');
    assert.equal(
      sftpUrlProblem('sftp://h:70000/'),
      '"sftp://h:70000/" is not a URL; expected sftp://host:port/path',
    );
    assert.equal(
      sftpUrlProblem('sftp://h:22/x?y=1'),
      '"sftp://h:22/x?y=1" has a query or fragment; expected sftp://host:port/path',
    );
  });

  it('leaves DELETE and CONNECT alone', async () => {
    assert.equal((await run({ operation: 'DELETE', oldObject: pc({}, true) })).allowed, true);
    assert.equal((await run({ operation: 'CONNECT' })).allowed, true);
  });
});
