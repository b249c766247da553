/**
 * A block's comments that name the tool calls it makes (`await vm.start(); // limactl start … dev`),
 * checked against the calls a fake tool logged: each named call happened, in the block's order.
 */
import { expect } from 'vitest';

const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The `TOOL …` calls the block's comments name, in order, as patterns over `TOOL arg arg …`. A
 * comment is a list of clauses (`…, then colima stop …`, `deletes the VM: limactl delete …`); a
 * clause that starts with the tool's name is a call. A parenthesis is an aside (what happens only
 * sometimes), not a call; quotes are the shell's (dropped); `…` stands for what varies.
 */
export function commentedCalls(code: string, tool: string): RegExp[] {
  return [...code.matchAll(/^[^\n]*?\/\/ (.*)$/gm)]
    .flatMap((m) => (m[1] as string).replace(/\([^)]*\)/g, '').split(/, then |: /))
    .map((clause) => clause.trim())
    .filter((clause) => clause.startsWith(`${tool} `))
    .map((call) => new RegExp(`^${call.replace(/'/g, '').split('…').map(literal).join('.+')}$`));
}

/** Each commented call is in `calls` (`TOOL arg arg …`), after the one before it. */
export function expectCallsInOrder(calls: string[], commented: RegExp[]): void {
  let at = -1;
  for (const pattern of commented) {
    const next = calls.findIndex((call, i) => i > at && pattern.test(call));
    expect(next, `${pattern} after call ${at} of:\n${calls.join('\n')}`).toBeGreaterThan(at);
    at = next;
  }
}
