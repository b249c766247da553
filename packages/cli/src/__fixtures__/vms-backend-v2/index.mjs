// A backend written for a future contract version.
export default {
  specificationVersion: 'vms-backend-v2',
  name: 'v2',
  capabilities: {},
  optionsSchema: {},
  detect: async () => ({ available: true }),
  list: async () => [],
  driver: () => ({}),
};
