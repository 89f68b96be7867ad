import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Ecosystem } from '../schema.ts';
import { ignores, parseRequirement } from './requirement.ts';

const ignored = (eco: Ecosystem, reqs: string[], version: string) =>
  ignores(
    reqs.map((r) => parseRequirement(r, eco)),
    version.split('.').map(Number),
  );

describe('Dependabot requirement semantics', () => {
  it('reads Maven/Gradle bracket ranges, unions and the accepted malformed `1.7.26,)`', () => {
    assert.ok(ignored('maven', ['[1.2.16,)'], '1.2.16'));
    assert.ok(!ignored('maven', ['[1.2.16,)'], '1.2.15'));
    assert.ok(ignored('maven', ['(,2.0)'], '1.9.9') && !ignored('maven', ['(,2.0)'], '2.0.0'));
    assert.ok(ignored('gradle', ['[1.0,2.0)'], '1.0') && !ignored('gradle', ['[1.0,2.0)'], '2'));
    assert.ok(ignored('maven', ['1.7.26,)'], '1.7.26') && !ignored('maven', ['1.7.26,)'], '1.7.25'));
    assert.ok(ignored('maven', ['(,1.0],[1.2,)'], '1.3') && !ignored('maven', ['(,1.0],[1.2,)'], '1.1'));
    assert.ok(ignored('gradle', ['2.+'], '2.5') && !ignored('gradle', ['2.+'], '3.0'));
  });

  it('reads Ruby requirements: several entries are a union, commas an intersection, ~> pessimistic', () => {
    assert.ok(ignored('bundler', ['> 1.329.0', '< 2'], '0.1'));
    assert.ok(ignored('bundler', ['> 1.329.0', '< 2'], '5.0'));
    assert.ok(ignored('bundler', ['>= 5, < 6'], '5.9') && !ignored('bundler', ['>= 5, < 6'], '6.0'));
    assert.ok(ignored('bundler', ['~> 7.1'], '7.9') && !ignored('bundler', ['~> 7.1'], '8.0'));
    assert.ok(ignored('bundler', ['~> 7.1.2'], '7.1.9') && !ignored('bundler', ['~> 7.1.2'], '7.2'));
  });

  it('reads PEP 440 compound specifiers, pre-release bounds, wildcards and ~=', () => {
    assert.ok(ignored('pip', ['>= 2.4.a, < 2.5'], '2.4') && !ignored('pip', ['>= 2.4.a, < 2.5'], '2.5'));
    assert.ok(!ignored('pip', ['>= 2.4.a, < 2.5'], '2.3.9'));
    assert.ok(ignored('pip', ['> 0.15.5, < 1'], '0.15.6') && !ignored('pip', ['> 0.15.5, < 1'], '0.15.5'));
    assert.ok(ignored('pip', ['==1.2.*'], '1.2.7') && !ignored('pip', ['==1.2.*'], '1.3'));
    assert.ok(ignored('uv', ['~=2.2'], '2.9') && !ignored('uv', ['~=2.2'], '3.0'));
    assert.equal(parseRequirement('~=2', 'pip').ok, false);
  });

  it('reads npm carets, tildes, x-ranges, hyphens and || unions', () => {
    assert.ok(ignored('npm', ['~6.0.0'], '6.0.9') && !ignored('npm', ['~6.0.0'], '6.1.0'));
    assert.ok(ignored('npm', ['^7.0.0'], '7.9.0') && !ignored('npm', ['^7.0.0'], '8.0.0'));
    assert.ok(ignored('npm', ['^0.2.3'], '0.2.9') && !ignored('npm', ['^0.2.3'], '0.3.0'));
    assert.ok(ignored('npm', ['1.x || >=3'], '3.1.0') && !ignored('npm', ['1.x || >=3'], '2.0.0'));
    assert.ok(ignored('npm', ['1.2 - 2.3'], '2.3.5') && !ignored('npm', ['1.2 - 2.3'], '2.4.0'));
    assert.ok(ignored('npm', ['>1.2'], '1.3.0') && !ignored('npm', ['>1.2'], '1.2.5'));
  });

  it('reads composer (|| and ~ on the last part), cargo (bare = caret), NuGet, Go, Docker and Actions forms', () => {
    assert.ok(ignored('composer', ['~1.2'], '1.9') && !ignored('composer', ['~1.2'], '2.0'));
    assert.ok(ignored('composer', ['^5.0 | ^6.0'], '6.1') && !ignored('composer', ['^5.0 | ^6.0'], '7.0'));
    assert.ok(ignored('cargo', ['0.13.17'], '0.13.20') && !ignored('cargo', ['0.13.17'], '0.14.0'));
    assert.ok(ignored('cargo', ['~1'], '1.0.5') && !ignored('cargo', ['~1'], '1.1.0'));
    assert.ok(ignored('nuget', ['[5.0,6.0)'], '5.9') && !ignored('nuget', ['[5.0,6.0)'], '6.0'));
    assert.ok(ignored('nuget', ['5.*'], '5.1.2') && !ignored('nuget', ['5.*'], '6.0'));
    assert.ok(ignored('gomod', ['>= 0.20.0, < 0.21'], '0.20.3'));
    assert.ok(ignored('docker', ['>=15'], '16.1') && !ignored('docker', ['>=15'], '14'));
    assert.ok(ignored('github-actions', ['>= 4'], '4') && !ignored('github-actions', ['>= 4'], '3.9'));
  });

  it('says why a requirement cannot be read', () => {
    const r = parseRequirement('latest', 'docker');
    assert.ok(!r.ok && /not a version/.test(r.reason));
    const p = parseRequirement('2.0.0-beta.1 || 2.0.0-rc.1', 'npm');
    assert.ok(!p.ok && /pre-release/.test(p.reason), JSON.stringify(p));
    const exact = [parseRequirement('v2.0.0-beta1', 'gomod')];
    assert.ok(ignores(exact, [2], 'v2.0.0-beta1') && !ignores(exact, [2], 'v2.0.0'));
  });
});
