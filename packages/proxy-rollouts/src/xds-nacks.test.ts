import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EgMetricsExporter } from './sim/eg-metrics-exporter.ts';
import { EnvoyGatewayMetrics, parseXdsNacks } from './xds-nacks.ts';

const listener = 'type.googleapis.com/envoy.config.listener.v3.Listener';

describe('parseXdsNacks', () => {
  it('reads every xds_nack_total series above 0, by node ID and type URL', () => {
    const text = [
      '# HELP xds_nack_total Total number of xds updates rejected (NACKed) by Envoy, by node id and resource type.',
      '# TYPE xds_nack_total counter',
      `xds_nack_total{nodeID="envoy-default-eg-37a8eec1-c-5d9f1-abcde",typeURL="${listener}"} 2`,
      'xds_nack_total{nodeID="envoy-default-eg-37a8eec1-7b9c4d-xyz12",typeURL="type.googleapis.com/envoy.config.cluster.v3.Cluster"} 0',
      'xds_nack_total_other{nodeID="not-this"} 5',
      'xds_snapshot_update_total{nodeID="envoy-default-eg-37a8eec1-c-5d9f1-abcde",status="success"} 7',
      '',
    ].join('\n');
    assert.deepEqual(parseXdsNacks(text), [
      { pod: 'envoy-default-eg-37a8eec1-c-5d9f1-abcde', typeUrl: listener, count: 2 },
    ]);
  });

  it('undoes escapes and takes labels in any order, with or without a timestamp', () => {
    const text = 'xds_nack_total{typeURL="a\\"b}",nodeID="pod\\\\1"} 1 1700000000000\n';
    assert.deepEqual(parseXdsNacks(text), [{ pod: 'pod\\1', typeUrl: 'a"b}', count: 1 }]);
  });

  it('ignores series without a node ID and counts that are not numbers', () => {
    assert.deepEqual(parseXdsNacks('xds_nack_total{typeURL="x"} 1\nxds_nack_total{nodeID="p"} NaN\n'), []);
  });
});

describe('EnvoyGatewayMetrics', () => {
  let exporter: EgMetricsExporter;
  before(async () => {
    exporter = await EgMetricsExporter.start();
  });
  after(() => exporter.close());

  it('reads the exporter in EG’s format and scrapes once however many ask within maxAge', async () => {
    exporter.nacks = [{ pod: 'canary-1', typeUrl: listener, count: 3 }];
    const metrics = new EnvoyGatewayMetrics(exporter.url, fetch, 60_000);
    const before = exporter.scrapes;
    const [a, b] = await Promise.all([metrics.nacks(), metrics.nacks()]);
    assert.deepEqual(a, [{ pod: 'canary-1', typeUrl: listener, count: 3 }]);
    assert.deepEqual(b, a);
    assert.equal(exporter.scrapes - before, 1);
  });

  it('names the address and the cause when EG cannot be read, and tries again next time', async () => {
    const gone = await EgMetricsExporter.start();
    await gone.close();
    const metrics = new EnvoyGatewayMetrics(gone.url, fetch, 60_000);
    await assert.rejects(metrics.nacks(), { message: `EG metrics ${gone.url}: ECONNREFUSED` });
    await assert.rejects(metrics.nacks(), /ECONNREFUSED/);
    const missing = new EnvoyGatewayMetrics(exporter.url.replace('/metrics', '/nope'), fetch);
    await assert.rejects(missing.nacks(), /HTTP 404/);
  });
});
