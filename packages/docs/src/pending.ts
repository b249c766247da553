/**
 * READMEs whose blocks are not held to the rule yet, each with why. The lead removes an entry
 * once its README's blocks are claimed by tests or marked not-run. None today.
 */
export const PENDING: Readonly<Record<string, string>> = {};
