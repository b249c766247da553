// A malformed v1 backend: no list(), no driver().
export const backend = {
  specificationVersion: 'vms-backend-v1',
  name: 'broken',
  capabilities: {},
  optionsSchema: {},
  detect: async () => ({ available: true }),
};
