import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { convert } from './convert.ts';
import { locateRejections } from './rejections.ts';

describe('locateRejections', () => {
  it("maps the validator's packageRules index and top-level option back to the Dependabot key and line", () => {
    const r = convert(
      'version: 2\nupdates:\n  - package-ecosystem: npm\n    directory: /\n    schedule: { interval: weekly, timezone: Mars/Olympus }\n    ignore:\n      - dependency-name: x\n        versions: [">= 2"]\n',
    );
    assert.ok(r.ok);
    const i = r.config.packageRules!.findIndex((p) => 'allowedVersions' in p);
    const found = locateRejections(r, [
      `Found errors in configuration errors=${JSON.stringify([
        { topic: 'Configuration Error', message: `Invalid regExp for packageRules[${i}].allowedVersions: x` },
        {
          topic: 'Configuration Error',
          message: 'timezone: Invalid schedule: Unsupported timezone Mars/Olympus',
        },
      ])}`,
    ]);
    assert.deepEqual(
      found.map((f) => [f.option, f.source?.path, f.source?.line]),
      [
        [`packageRules[${i}].allowedVersions`, 'updates[0].ignore[0]', 7],
        ['timezone', 'updates[0].schedule.timezone', 5],
      ],
    );
  });
});
