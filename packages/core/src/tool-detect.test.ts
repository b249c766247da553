import { describe, expect, it } from 'vitest';
import {
  BackendUnavailableError,
  CommandFailedError,
  TimeoutError,
  ToolNotFoundError,
} from './errors.js';
import { processRunnerSchema } from './runner.js';
import { detectTool, unavailableReason } from './tool-detect.js';

const installHint = 'apt-get install frob';

describe('detectTool', () => {
  it('reports the version and the tool when the probe answers', async () => {
    expect(await detectTool({ toolPath: 'frob', probe: async () => '1.2.3', installHint })).toEqual(
      { available: true, toolPath: 'frob', version: '1.2.3' },
    );
    expect(
      await detectTool({ toolPath: 'frob', probe: async () => undefined, installHint }),
    ).toEqual({ available: true, toolPath: 'frob' });
  });

  it('says a missing tool is not found, where it looked, and how to install it', async () => {
    const missing = async () => {
      throw new ToolNotFoundError('frob');
    };
    expect(await detectTool({ toolPath: 'frob', probe: missing, installHint })).toEqual({
      available: false,
      reason: 'frob not found on PATH',
      hint: installHint,
    });
    expect(
      await detectTool({ toolPath: '/opt/frob/bin/frob', probe: missing, installHint }),
    ).toEqual({ available: false, reason: '/opt/frob/bin/frob not found', hint: installHint });
  });

  it("gives a failing tool's message, with its own hint, else the failure hint, else the install hint", async () => {
    const failed = new CommandFailedError(['frob', '--version'], {
      exitCode: 3,
      stderr: 'frob: broken config',
    });
    const probe = async () => {
      throw failed;
    };
    expect(await detectTool({ toolPath: 'frob', probe, installHint })).toEqual({
      available: false,
      reason: failed.message,
      hint: installHint,
    });
    expect(
      await detectTool({ toolPath: 'frob', probe, installHint, failureHint: 'run frob doctor' }),
    ).toMatchObject({ hint: 'run frob doctor' });
    const timeout = async () => {
      throw new TimeoutError('frob --version timed out', { hint: 'is frob hung?' });
    };
    expect(
      await detectTool({ toolPath: 'frob', probe: timeout, installHint, failureHint: 'x' }),
    ).toEqual({ available: false, reason: 'frob --version timed out', hint: 'is frob hung?' });
    const plain = async () => {
      throw 'not an error';
    };
    expect(await detectTool({ toolPath: 'frob', probe: plain, installHint })).toMatchObject({
      available: false,
      reason: 'not an error',
    });
  });

  it('does not repeat "backend X is unavailable" inside the reason', async () => {
    const probe = async () => {
      throw new BackendUnavailableError('frob-vm', 'frob cannot run as root', {
        hint: 'run as a regular user',
      });
    };
    expect(await detectTool({ toolPath: 'frob', probe, installHint })).toEqual({
      available: false,
      reason: 'frob cannot run as root',
      hint: 'run as a regular user',
    });
    expect(unavailableReason(new Error('plain'))).toBe('plain');
  });
});

describe('processRunnerSchema', () => {
  it('accepts an object with run and spawn, and rejects anything else naming what it needs', () => {
    const runner = { run: async () => undefined, spawn: () => undefined };
    expect(processRunnerSchema.safeParse(runner).success).toBe(true);
    for (const bad of [{ run: async () => undefined }, { spawn: () => undefined }, null, 'run']) {
      const result = processRunnerSchema.safeParse(bad);
      expect(result.success).toBe(false);
      expect(result.error?.issues[0]?.message).toBe('must be a ProcessRunner ({ run, spawn })');
    }
  });
});
