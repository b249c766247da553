import { expectPositionals } from './args.js';
import { findCommand } from './commands.js';
import type { CommandModule } from './context.js';
import { EXIT } from './exit-codes.js';
import { commandHelp, mainHelp } from './help.js';
import { UsageError } from './usage-error.js';

export const run: CommandModule['run'] = async (ctx, args) => {
  expectPositionals('help', args.positionals, 0, 1, 'command');
  const topic = args.positionals[0];
  if (!topic) {
    ctx.out.stdout.write(mainHelp(ctx.version));
    return EXIT.ok;
  }
  const def = findCommand(topic);
  if (!def) throw new UsageError(`unknown command ${JSON.stringify(topic)}`, 'run: vms help');
  ctx.out.stdout.write(commandHelp(def));
  return EXIT.ok;
};
