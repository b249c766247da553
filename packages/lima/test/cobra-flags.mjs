/**
 * cobra/pflag flag parsing for the fake Go CLIs (fake-limactl, fake-colima): `--flag value`,
 * `--flag=value`, booleans (`--flag`, `--flag=false`), repeated flags, `--` ending the flags,
 * and errors worded as pflag's. `spec` maps each spelling to `{ type: 'bool'|'string'|'multi',
 * name? }`; `fail(message)` returns the error to throw (each fake reports it its own way).
 */
export function parseFlags(args, spec, { stopAtFirstPositional = false, fail }) {
  const flags = {};
  const positional = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (a.startsWith('-') && a !== '-') {
      const [key, inline] = a.split(/=(.*)/s, 2);
      const kind = spec[key];
      if (!kind) throw fail(`unknown flag: ${key}`);
      const name = kind.name ?? key.replace(/^-+/, '');
      if (kind.type === 'bool') {
        if (inline !== undefined && inline !== 'true' && inline !== 'false') {
          throw fail(
            `invalid argument "${inline}" for "${key}" flag: strconv.ParseBool: parsing "${inline}": invalid syntax`,
          );
        }
        flags[name] = inline === undefined ? true : inline === 'true';
      } else {
        const value = inline ?? args[++i];
        if (value === undefined) throw fail(`flag needs an argument: ${key}`);
        if (kind.type === 'multi') flags[name] = [...(flags[name] ?? []), value];
        else flags[name] = value;
      }
      continue;
    }
    positional.push(a);
    if (stopAtFirstPositional) {
      positional.push(...args.slice(i + 1));
      break;
    }
  }
  return { flags, positional };
}
