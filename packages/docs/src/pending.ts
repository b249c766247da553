/**
 * READMEs whose blocks are not held to the rule yet, each with why. The lead removes an entry
 * once its README's blocks are claimed by tests or marked not-run.
 */
export const PENDING: Readonly<Record<string, string>> = {
  'packages/core/README.md':
    'being rewritten with core’s public API by the contract work; its blocks are covered after it lands',
  'packages/lima/README.md':
    'being rewritten by the colima work; its blocks are covered after it lands (against the lima and colima fakes)',
};
