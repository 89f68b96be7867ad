// The PacketCapture CRD on a real API server: every CEL rule, enum, minimum, maximum and pattern refuses a
// bad spec with a message naming the field; the defaults are Antrea's; Antrea's own example manifests are
// accepted after changing only their apiVersion; the printer columns are served.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import { installCrds, type KubeObject, ResourceClient, readCrdFiles } from '@harbormaster/kube';
import { startTestCluster, type TestCluster } from '@harbormaster/kube-testenv';
import { parse } from 'yaml';
import { API_VERSION, GROUP, KIND, type PacketCaptureSpec, PLURAL, VERSION } from '../src/k8s/types.ts';

const crdFile = new URL('../config/crd/packetcapture.yaml', import.meta.url).pathname;
const antreaCrdFile = new URL('./__fixtures__/antrea/packetcapture-crd.yaml', import.meta.url).pathname;
const antreaManifests = new URL('./__fixtures__/antrea/manifests/', import.meta.url).pathname;

type Loose = KubeObject & { spec?: Draft; status?: Draft };
const packetCaptureType = { group: GROUP, version: VERSION, kind: KIND, plural: PLURAL, namespaced: false };
const antreaType = { ...packetCaptureType, group: 'crd.antrea.io' };
/** The one Antrea example its own CRD refuses: the guide's hostPublicKey is base64url (see SOURCES.md). */
const refusedByAntrea = new Set(['guide-tcp-fileserver.yaml']);

/** A spec as the tests bend it into invalid shapes, any field to any value. */
// biome-ignore lint/suspicious/noExplicitAny: the point is to write what the schema does not allow
type Draft = Record<string, any>;

let serial = 0;
/** A valid capture between two Pods, with `change` applied to a copy of its spec. */
function capture(change: (spec: Draft) => void = () => {}): Loose {
  const spec: Draft = {
    captureConfig: { firstN: { number: 5 } },
    source: { pod: { namespace: 'default', name: 'client' } },
    destination: { pod: { name: 'server' } },
  };
  change(spec);
  return { apiVersion: API_VERSION, kind: KIND, metadata: { name: `pc-${++serial}` }, spec };
}

describe('PacketCapture CRD on a real API server', () => {
  let cluster: TestCluster;
  let captures: ResourceClient<Loose>;
  let antreaCaptures: ResourceClient<Loose>;

  before(async () => {
    cluster = await startTestCluster({ nodes: 1 });
    await installCrds(cluster.rest, await readCrdFiles([crdFile, antreaCrdFile]), {
      fieldManager: 'crd-test',
    });
    captures = new ResourceClient(cluster.rest, packetCaptureType);
    antreaCaptures = new ResourceClient(cluster.rest, antreaType);
  });
  after(() => cluster?.stop());

  /** Creates the object and returns the API server's refusal (fails the test if it was accepted). */
  async function refusal(object: Loose): Promise<string> {
    try {
      await captures.create(object);
    } catch (error) {
      assert.match(String(error), /422 Invalid/);
      return String(error);
    }
    assert.fail(`${object.metadata.name} was accepted: ${JSON.stringify(object.spec)}`);
  }

  it("fills in Antrea's defaults: timeout 60, direction SourceToDestination, ipFamily IPv4, Pod namespace default", async () => {
    const created = await captures.create(capture((s) => (s.packet = { protocol: 'TCP' })));
    const spec = created.spec as PacketCaptureSpec;
    assert.equal(spec.timeout, 60);
    assert.equal(spec.direction, 'SourceToDestination');
    assert.equal(spec.packet?.ipFamily, 'IPv4');
    assert.equal(spec.destination?.pod?.namespace, 'default');
    assert.equal(
      spec.capturePoint,
      undefined,
      'no default: the agent picks the source Pod, else the destination',
    );
    assert.equal(spec.packet?.protocol, 'TCP');
  });

  it('defaults a Service endpoint to namespace default and target ClusterIP', async () => {
    const created = await captures.create(capture((s) => (s.destination = { service: { name: 'web' } })));
    assert.deepEqual((created.spec as PacketCaptureSpec).destination, {
      service: { name: 'web', namespace: 'default', target: 'ClusterIP' },
    });
  });

  it('accepts every extension field in range: CIDR, Service, filter, snap length, file size limit', async () => {
    for (const change of [
      (s: Draft) => (s.destination = { cidr: '10.0.0.0/8' }),
      (s: Draft) => (s.destination = { cidr: 'fd00::/64' }),
      (s: Draft) => (s.destination = { service: { name: 'web', target: 'Endpoints' } }),
      (s: Draft) => (s.filter = 'tcp port 443 and not host 10.0.0.1'),
      (s: Draft) => Object.assign(s.captureConfig, { snapLength: 1, fileSizeLimit: '10Mi' }),
      (s: Draft) => Object.assign(s.captureConfig, { snapLength: 262144, fileSizeLimit: 1048576 }),
      (s: Draft) => (s.destination = { ip: 'fd00::1' }),
      (s: Draft) => (s.fileServer = { url: 'sftp://[fd00::1]:22/upload' }),
    ]) {
      await captures.create(capture(change));
    }
  });

  describe('CEL rules, each message naming the field', () => {
    const cases: [string, (s: Draft) => void, RegExp][] = [
      [
        'neither side a Pod',
        (s) => {
          s.source = { ip: '10.0.0.1' };
          s.destination = { ip: '10.0.0.2' };
        },
        /spec: Invalid value: At least one of source.pod or destination.pod must be specified\./,
      ],
      [
        'no endpoint at all',
        (s) => {
          delete s.source;
          delete s.destination;
        },
        /spec: Invalid value: At least one of source.pod or destination.pod must be specified\./,
      ],
      [
        'capturePoint Source without a source Pod',
        (s) => {
          s.source = { ip: '10.0.0.1' };
          s.capturePoint = 'Source';
        },
        /spec: Invalid value: source.pod must be set when capturePoint is 'Source'/,
      ],
      [
        'capturePoint Destination without a destination Pod',
        (s) => {
          s.destination = { cidr: '10.0.0.0/8' };
          s.capturePoint = 'Destination';
        },
        /spec: Invalid value: destination.pod must be set when capturePoint is 'Destination'/,
      ],
      [
        'source with a Pod and an IP',
        (s) => (s.source.ip = '10.0.0.1'),
        /spec.source: Invalid value: At most one of 'pod', 'ip', 'cidr' or 'service' may be set/,
      ],
      [
        'destination with a CIDR and a Service',
        (s) => (s.destination = { cidr: '10.0.0.0/8', service: { name: 'web' } }),
        /spec.destination: Invalid value: At most one of 'pod', 'ip', 'cidr' or 'service' may be set/,
      ],
      [
        'a CIDR that is an address',
        (s) => (s.destination = { cidr: '10.0.0.1' }),
        /spec.destination.cidr: Invalid value: "10.0.0.1": must be a CIDR such as 10.0.0.0\/8 or fd00::\/64/,
      ],
      [
        'a source CIDR that is not one',
        (s) => (s.source = { cidr: '10.0.0.0/33' }),
        /spec.source.cidr: Invalid value: "10.0.0.0\/33": must be a CIDR such as 10.0.0.0\/8 or fd00::\/64/,
      ],
      [
        'source with a Service and an IP',
        (s) => (s.source = { service: { name: 'web' }, ip: '10.0.0.1' }),
        /spec.source: Invalid value: At most one of 'pod', 'ip', 'cidr' or 'service' may be set/,
      ],
      [
        'TCP and UDP headers together',
        (s) => (s.packet = { transportHeader: { tcp: { dstPort: 80 }, udp: { dstPort: 53 } } }),
        /spec.packet.transportHeader: Invalid value: At most one of 'ICMP', 'ICMPv6', 'UDP', or 'TCP' may be set/,
      ],
      [
        'ICMP and ICMPv6 headers together',
        (s) => (s.packet = { transportHeader: { icmp: {}, icmpv6: {} } }),
        /spec.packet.transportHeader: Invalid value: At most one of 'ICMP', 'ICMPv6', 'UDP', or 'TCP' may be set/,
      ],
    ];
    for (const [what, change, message] of cases) {
      it(`refuses ${what}`, async () => assert.match(await refusal(capture(change)), message));
    }
  });

  describe('every bounded field, one below its minimum and one above its maximum, exact message', () => {
    // [path under spec, minimum, maximum, where the value goes]
    const bounded: [string, number, number, (s: Draft, v: number) => void][] = [
      ['timeout', 1, 300, (s, v) => (s.timeout = v)],
      ['captureConfig.snapLength', 1, 262144, (s, v) => (s.captureConfig.snapLength = v)],
      ...(['tcp', 'udp'] as const).flatMap((proto) =>
        (['srcPort', 'dstPort'] as const).map(
          (port): [string, number, number, (s: Draft, v: number) => void] => [
            `packet.transportHeader.${proto}.${port}`,
            1,
            65535,
            (s, v) => (s.packet = { transportHeader: { [proto]: { [port]: v } } }),
          ],
        ),
      ),
      [
        'packet.transportHeader.tcp.flags[0].value',
        0,
        255,
        (s, v) => (s.packet = { transportHeader: { tcp: { flags: [{ value: v }] } } }),
      ],
      [
        'packet.transportHeader.tcp.flags[0].mask',
        0,
        255,
        (s, v) => (s.packet = { transportHeader: { tcp: { flags: [{ value: 2, mask: v }] } } }),
      ],
      [
        'packet.transportHeader.icmp.messages[0].code',
        0,
        255,
        (s, v) => (s.packet = { transportHeader: { icmp: { messages: [{ type: 3, code: v }] } } }),
      ],
      [
        'packet.transportHeader.icmpv6.messages[0].code',
        0,
        255,
        (s, v) => (s.packet = { transportHeader: { icmpv6: { messages: [{ type: 1, code: v }] } } }),
      ],
    ];
    for (const [path, min, max, set] of bounded) {
      it(`spec.${path}: ${min} and ${max} accepted, ${min - 1} and ${max + 1} refused`, async () => {
        for (const ok of [min, max]) await captures.create(capture((s) => set(s, ok)));
        const field = `spec.${path}`;
        const quoted = field.replace(/[.[\]]/g, (c) => `\\${c}`);
        assert.match(
          await refusal(capture((s) => set(s, min - 1))),
          new RegExp(
            `${quoted}: Invalid value: ${min - 1}: ${quoted} in body should be greater than or equal to ${min}`,
          ),
        );
        assert.match(
          await refusal(capture((s) => set(s, max + 1))),
          new RegExp(
            `${quoted}: Invalid value: ${max + 1}: ${quoted} in body should be less than or equal to ${max}`,
          ),
        );
      });
    }
  });

  describe('enums, bounds, patterns and required fields, each naming the field', () => {
    const cases: [string, (s: Draft) => void, RegExp][] = [
      [
        'an unknown direction',
        (s) => (s.direction = 'Sideways'),
        /spec.direction: Unsupported value: "Sideways": supported values: "SourceToDestination", "DestinationToSource", "Both"/,
      ],
      [
        'an unknown capture point',
        (s) => (s.capturePoint = 'Middle'),
        /spec.capturePoint: Unsupported value: "Middle": supported values: "Source", "Destination"/,
      ],
      [
        'an unknown IP family',
        (s) => (s.packet = { ipFamily: 'IPv5' }),
        /spec.packet.ipFamily: Unsupported value: "IPv5": supported values: "IPv4", "IPv6"/,
      ],
      [
        'an unknown Service target',
        (s) => (s.destination = { service: { name: 'web', target: 'Pods' } }),
        /spec.destination.service.target: Unsupported value: "Pods": supported values: "ClusterIP", "Endpoints"/,
      ],
      [
        'timeout 0',
        (s) => (s.timeout = 0),
        /spec.timeout: Invalid value: 0: spec.timeout in body should be greater than or equal to 1/,
      ],
      [
        'timeout 301',
        (s) => (s.timeout = 301),
        /spec.timeout: Invalid value: 301: spec.timeout in body should be less than or equal to 300/,
      ],
      [
        'TCP source port 0',
        (s) => (s.packet = { transportHeader: { tcp: { srcPort: 0 } } }),
        /spec.packet.transportHeader.tcp.srcPort: Invalid value: 0: spec.packet.transportHeader.tcp.srcPort in body should be greater than or equal to 1/,
      ],
      [
        'TCP destination port 65536',
        (s) => (s.packet = { transportHeader: { tcp: { dstPort: 65536 } } }),
        /spec.packet.transportHeader.tcp.dstPort: Invalid value: 65536: spec.packet.transportHeader.tcp.dstPort in body should be less than or equal to 65535/,
      ],
      [
        'UDP source port 65536',
        (s) => (s.packet = { transportHeader: { udp: { srcPort: 65536 } } }),
        /spec.packet.transportHeader.udp.srcPort: Invalid value: 65536: .*less than or equal to 65535/,
      ],
      [
        'UDP destination port 0',
        (s) => (s.packet = { transportHeader: { udp: { dstPort: 0 } } }),
        /spec.packet.transportHeader.udp.dstPort: Invalid value: 0: .*greater than or equal to 1/,
      ],
      [
        'a TCP flags value 256',
        (s) => (s.packet = { transportHeader: { tcp: { flags: [{ value: 256 }] } } }),
        /spec.packet.transportHeader.tcp.flags\[0\].value: Invalid value: 256: .*less than or equal to 255/,
      ],
      [
        'a TCP flags mask -1',
        (s) => (s.packet = { transportHeader: { tcp: { flags: [{ value: 2, mask: -1 }] } } }),
        /spec.packet.transportHeader.tcp.flags\[0\].mask: Invalid value: -1: .*greater than or equal to 0/,
      ],
      [
        'a TCP flags matcher without a value',
        (s) => (s.packet = { transportHeader: { tcp: { flags: [{ mask: 2 }] } } }),
        /spec.packet.transportHeader.tcp.flags\[0\].value: Required value/,
      ],
      [
        'an ICMP code 256',
        (s) => (s.packet = { transportHeader: { icmp: { messages: [{ type: 3, code: 256 }] } } }),
        /spec.packet.transportHeader.icmp.messages\[0\].code: Invalid value: 256: .*less than or equal to 255/,
      ],
      [
        'an ICMP message without a type',
        (s) => (s.packet = { transportHeader: { icmp: { messages: [{ code: 1 }] } } }),
        /spec.packet.transportHeader.icmp.messages\[0\].type: Required value/,
      ],
      [
        'an ICMPv6 code -1',
        (s) => (s.packet = { transportHeader: { icmpv6: { messages: [{ type: 1, code: -1 }] } } }),
        /spec.packet.transportHeader.icmpv6.messages\[0\].code: Invalid value: -1: .*greater than or equal to 0/,
      ],
      [
        'a snap length 0',
        (s) => (s.captureConfig.snapLength = 0),
        /spec.captureConfig.snapLength: Invalid value: 0: .*greater than or equal to 1/,
      ],
      [
        'a snap length 262145',
        (s) => (s.captureConfig.snapLength = 262145),
        /spec.captureConfig.snapLength: Invalid value: 262145: .*less than or equal to 262144/,
      ],
      [
        'a file size limit 10MB',
        (s) => (s.captureConfig.fileSizeLimit = '10MB'),
        /spec.captureConfig.fileSizeLimit: Invalid value: "10MB": spec.captureConfig.fileSizeLimit in body should match '\^\[0-9\]\+\(Ki\|Mi\|Gi\)\?\$'/,
      ],
      [
        'a capture config without firstN',
        (s) => (s.captureConfig = {}),
        /"spec.captureConfig" must validate one and only one schema \(oneOf\). Found none valid, spec.captureConfig.firstN: Required value/,
      ],
      ['no capture config', (s) => delete s.captureConfig, /spec.captureConfig: Required value/],
      [
        'firstN without a number',
        (s) => (s.captureConfig = { firstN: {} }),
        /spec.captureConfig.firstN.number: Required value/,
      ],
      [
        'a Pod without a name',
        (s) => (s.source = { pod: { namespace: 'default' } }),
        /spec.source.pod.name: Required value/,
      ],
      [
        'a Service without a name',
        (s) => (s.destination = { service: {} }),
        /spec.destination.service.name: Required value/,
      ],
      [
        'an IP that is not one',
        (s) => (s.destination = { ip: '10.0.0.300' }),
        /spec.destination.ip: Invalid value: "10.0.0.300": spec.destination.ip in body must be of type ipv4: "10.0.0.300"/,
      ],
      [
        'a file server URL that is not sftp',
        (s) => (s.fileServer = { url: 'https://files.example:443/up' }),
        /spec.fileServer.url: Invalid value: "https:\/\/files.example:443\/up": spec.fileServer.url in body should match 'sftp:/,
      ],
      [
        'a file server URL without a port',
        (s) => (s.fileServer = { url: 'sftp://files.example/up' }),
        /spec.fileServer.url: Invalid value: "sftp:\/\/files.example\/up"/,
      ],
      [
        'a host key that is not base64',
        (s) => (s.fileServer = { url: 'sftp://10.0.0.1:22/up', hostPublicKey: 'not base64!' }),
        /spec.fileServer.hostPublicKey: Invalid value: "not base64!": spec.fileServer.hostPublicKey in body must be of type byte/,
      ],
      [
        'a filter longer than 4096',
        (s) => (s.filter = 'tcp '.repeat(1025)),
        /spec.filter: Too long: may not be (longer than|more than) 4096/,
      ],
    ];
    for (const [what, change, message] of cases) {
      it(`refuses ${what}`, async () => assert.match(await refusal(capture(change)), message));
    }
  });

  it("treats Antrea's example manifests (docs and e2e test) as Antrea's CRD does, after changing only apiVersion", async () => {
    const files = (await readdir(antreaManifests)).filter((f) => f.endsWith('.yaml')).sort();
    assert.equal(files.length, 6);
    const outcome = async (client: ResourceClient<Loose>, manifest: Loose) => {
      try {
        const created = await client.create(manifest);
        await client.delete(manifest.metadata.name ?? '');
        return { accepted: created.spec };
      } catch (error) {
        // The message names the kind's group; the rest must be the same.
        return { refused: String(error).replace(/^.*? is invalid: /, '') };
      }
    };
    for (const file of files) {
      const manifest = parse(await readFile(antreaManifests + file, 'utf8')) as Loose;
      assert.equal(manifest.apiVersion, 'crd.antrea.io/v1alpha1', file);
      const antrea = await outcome(antreaCaptures, manifest);
      const ours = await outcome(captures, { ...manifest, apiVersion: API_VERSION });
      // Same verdict, same message, same defaults filled in.
      assert.deepEqual(ours, antrea, file);
      if (refusedByAntrea.has(file)) {
        assert.match(ours.refused ?? '', /spec.fileServer.hostPublicKey in body must be of type byte/, file);
      } else {
        assert.ok(ours.accepted, `${file}: ${ours.refused}`);
        // What the manifest said is kept as it was; only defaults are added.
        assert.deepEqual(pick(ours.accepted, manifest.spec), manifest.spec, file);
      }
    }
  });

  it('serves the printer columns, the wide ones at priority 10', async () => {
    const created = await captures.create(capture((s) => (s.destination = { ip: '10.0.0.2' })));
    await captures.patch(
      created.metadata.name ?? '',
      undefined,
      'merge',
      { status: { numberCaptured: 3, conditions: [{ type: 'PacketCaptureStarted', status: 'True' }] } },
      'status',
    );
    const table = await getTable(cluster, `/apis/${API_VERSION}/${PLURAL}/${created.metadata.name}`);
    const columns = table.columnDefinitions.map((c) => `${c.name}:${c.priority}`);
    assert.deepEqual(columns, [
      'Name:0',
      'Source-Pod:10',
      'Destination-Pod:10',
      'Source-IP:10',
      'Destination-IP:10',
      'Timeout:10',
      'Age:0',
      'Captured-Packets:0',
      'Started:0',
      'Complete:0',
      'Uploaded:10',
    ]);
    const cells = table.rows[0]?.cells ?? [];
    assert.equal(cells[0], created.metadata.name);
    assert.equal(cells[4], '10.0.0.2');
    assert.equal(cells[5], 60);
    assert.equal(cells[7], 3);
    assert.equal(cells[8], 'True');
  });
});

/** The parts of `value` that `shape` has, recursively: what a manifest said, read back from the server. */
function pick(value: unknown, shape: unknown): unknown {
  if (Array.isArray(shape) && Array.isArray(value)) return shape.map((item, i) => pick(value[i], item));
  if (shape && typeof shape === 'object' && value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(shape).map((k) => [
        k,
        pick((value as Record<string, unknown>)[k], (shape as Record<string, unknown>)[k]),
      ]),
    );
  }
  return value;
}

type Table = {
  columnDefinitions: { name: string; priority: number }[];
  rows: { cells: unknown[] }[];
};

/** GETs a path as a meta.k8s.io Table, as kubectl get does (the REST client asks for plain JSON only). */
async function getTable(cluster: TestCluster, path: string): Promise<Table> {
  const options: https.RequestOptions = {
    headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' },
  };
  await cluster.kubeConfig.applyToHTTPSOptions(options);
  const url = new URL(cluster.rest.server + path);
  return new Promise((resolve, reject) => {
    https
      .get(url, options, (response) => {
        let body = '';
        response.on('data', (chunk) => (body += chunk));
        response.on('end', () =>
          response.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(`${path}: ${body}`)),
        );
      })
      .on('error', reject);
  });
}
