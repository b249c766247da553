/** The contract itself, the options edge and the refusals of missing capabilities: no guest needed. */
import { missingCapabilityMethods } from '../../capabilities.js';
import { backendProblems } from '../../define-backend.js';
import { createInstance } from '../../instance.js';
import { parseInstanceOptions } from '../../options.js';
import { optionsJsonSchema, propertiesAt } from '../../options-json-schema.js';
import { type BackendV1, CAPABILITY_NAMES, type Capability } from '../../spec/v1.js';
import { expectCode, expectWorld, group, type Suite, thrown, withOptions } from './harness.js';

/** A plausible typo of `key`: its last two letters swapped (or one appended). */
function misspell(key: string): string {
  return key.length >= 2 ? `${key.slice(0, -2)}${key.at(-1)}${key.at(-2)}` : `${key}x`;
}

export function contractGroups(s: Suite): void {
  const { it, expect } = s.t;
  const t = s.timeout;

  group(s, 'contract', undefined, () => {
    it('declares vms-backend-v1 with a well-formed shape', () => {
      expect(s.registrationErrors, 'problems found when the suite registered').toEqual([]);
      expect(backendProblems(s.backend), `backend ${s.backend.name} is malformed`).toEqual([]);
    });

    it('implements the driver methods of every capability it declares', () => {
      const parsed = parseInstanceOptions(s.backend.optionsSchema, s.subject.options());
      const driver = s.backend.driver('vmsconf-methods', parsed);
      expect(
        missingCapabilityMethods(s.backend, driver),
        `capabilities declared true whose driver methods are missing (capability: method)`,
      ).toEqual([]);
    });

    it(
      'detects its tool as available',
      async () => {
        const detected = await s.backend.detect({ signal: AbortSignal.timeout(60_000) });
        expect(
          detected.available,
          `detect() says unavailable: ${detected.reason} (${detected.hint})`,
        ).toBe(true);
      },
      t,
    );
  });

  group(s, 'options', undefined, () => {
    it('publishes its options as JSON Schema (what the CLI and other tools read)', () => {
      const json = optionsJsonSchema(s.backend.optionsSchema);
      expect(json, 'zod could not express the options schema as JSON Schema').toBeDefined();
      const props = json ? propertiesAt(json, []) : undefined;
      expect(props, 'the options JSON Schema is not an object with properties').toBeDefined();
      const given = Object.keys(s.subject.options() ?? {});
      expect(
        given.filter((k) => !props?.includes(k)),
        'keys of the subject options missing from the JSON Schema',
      ).toEqual([]);
    });

    it('refuses a misspelt option, naming it and the closest valid one', () => {
      const options: unknown = s.subject.options();
      const key = Object.keys(options ?? {})[0] ?? 'cpus';
      const typo = misspell(key);
      // The erased type (any schema) takes unknown input: what a CLI or a JSON caller passes.
      const erased: BackendV1 = s.backend;
      const error = thrown(() =>
        createInstance(
          erased,
          'vmsconf-typo',
          withOptions(options, { [typo]: 1 }),
          s.subject.settings,
        ),
      );
      expect(error, `createInstance accepted the unknown option ${typo}`).toMatchObject({
        code: 'INVALID_OPTIONS',
        field: typo,
      });
      expect(
        String((error as Error).message),
        'the message names the closest valid option',
      ).toContain(key);
    });

    it('refuses an invalid instance name with INVALID_OPTIONS naming the field', () => {
      const error = thrown(() =>
        createInstance(s.backend, 'no spaces/allowed', s.subject.options(), s.subject.settings),
      );
      expect(error, 'createInstance with the name "no spaces/allowed"').toMatchObject({
        code: 'INVALID_OPTIONS',
        field: 'name',
      });
    });

    const optionRefusals: [option: 'ports' | 'mounts', capability: Capability, value: unknown][] = [
      ['ports', 'portForward', [{ guest: 80 }]],
      ['mounts', 'mounts', [{ source: '/tmp', target: '/mnt/vmsconf' }]],
    ];
    for (const [option, capability, value] of optionRefusals) {
      it.skipIf(s.capabilities[capability])(
        `refuses ${option} without ${capability}, naming the capability${s.capabilities[capability] ? ` (skipped: ${s.backend.name} supports ${capability})` : ''}`,
        () => {
          const error = thrown(() =>
            createInstance(
              s.backend,
              'vmsconf-caps',
              withOptions(s.subject.options(), { [option]: value }),
              s.subject.settings,
            ),
          );
          expect(error, `createInstance with ${option}`).toMatchObject({
            code: 'CAPABILITY_UNSUPPORTED',
            capability,
            option,
          });
        },
      );
    }
  });

  const missing = CAPABILITY_NAMES.filter((c) => !s.capabilities[c]);
  group(s, 'refusals', missing.length ? undefined : 'every capability is supported', () => {
    const refusals: Partial<
      Record<Capability, (vm: ReturnType<Suite['make']>) => Promise<unknown>>
    > = {
      suspend: (vm) => vm.suspend(),
      exec: (vm) => vm.exec(['true']),
      logs: (vm) => vm.logs(),
      snapshot: (vm) => vm.snapshots.list(),
      copy: (vm) => vm.copyIn('/etc/hostname', '/tmp/vmsconf'),
    };
    for (const capability of CAPABILITY_NAMES) {
      const call = refusals[capability];
      if (!call) continue;
      it.skipIf(s.capabilities[capability])(
        `refuses ${capability} with CAPABILITY_UNSUPPORTED before touching the world${s.capabilities[capability] ? ` (skipped: ${s.backend.name} supports ${capability})` : ''}`,
        async () => {
          const vm = s.make();
          const error = await expectCode(
            s,
            call(vm),
            'CAPABILITY_UNSUPPORTED',
            `${capability} on ${s.backend.name}`,
          );
          expect(error, 'the error names the capability').toMatchObject({ capability });
          await expectWorld(s, vm.name, 'absent', `after the refused ${capability}`);
        },
        t,
      );
    }
  });
}
