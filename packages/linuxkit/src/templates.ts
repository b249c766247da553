/**
 * LinuxKit YAML templates: the ones shipped in the package's `templates/` directory and the
 * user's own (`$XDG_CONFIG_HOME/vms/linuxkit/templates`, else `~/.config/vms/linuxkit/templates`,
 * or a directory given in the settings). A user template with a built-in's name replaces it.
 */
import { readdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { extname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NotFoundError, parseOptions } from '@vms/core';
import * as z from '@vms/core/zod';
import {
  substituteVariables,
  type TemplateVariables,
  type TemplateVars,
  templateVariables,
} from './template-vars.js';

/** The package's own templates (next to dist/ and src/). */
export const BUILTIN_TEMPLATES_DIR = fileURLToPath(new URL('../templates/', import.meta.url));

/** `$XDG_CONFIG_HOME/vms/linuxkit/templates`, else `~/.config/vms/linuxkit/templates`. */
export function defaultUserTemplatesDir(): string {
  const xdg = process.env.XDG_CONFIG_HOME;
  const config = xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.config');
  return join(config, 'vms', 'linuxkit', 'templates');
}

export const TEMPLATE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;
export const templateNameSchema = z
  .string()
  .regex(
    TEMPLATE_NAME,
    'must be letters, digits, "_", "." or "-", starting with a letter or digit',
  );
const EXTENSIONS = ['.yml', '.yaml'];

export interface TemplateInfo {
  name: string;
  /** The first comment line of the file, or a generic text. */
  description: string;
  source: 'builtin' | 'user';
  path: string;
  variables: TemplateVariables;
}

export interface Template extends TemplateInfo {
  /** The raw template text (before substitution). */
  content: string;
}

function describe(content: string): string {
  for (const line of content.split('\n')) {
    const m = /^\s*#\s*(.*\S)\s*$/.exec(line);
    if (m?.[1]) return m[1];
    if (line.trim() && !line.trim().startsWith('#')) break;
  }
  return 'User-defined LinuxKit template';
}

async function scan(dir: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return found;
    throw error;
  }
  for (const file of names) {
    const ext = extname(file);
    if (!EXTENSIONS.includes(ext)) continue;
    const name = file.slice(0, -ext.length);
    // `x.yml` wins over `x.yaml` (sorted first); names that could not be typed are skipped.
    if (!TEMPLATE_NAME.test(name) || found.has(name)) continue;
    found.set(name, join(dir, file));
  }
  return found;
}

export const templateCatalogSettingsSchema = z
  .object({
    /** Directory of the user's templates (default `defaultUserTemplatesDir()`, read lazily). */
    userDir: z.string().refine(isAbsolute, 'must be an absolute path').optional(),
    /** Directory of the built-in templates (default: the package's `templates/`). */
    builtinDir: z.string().refine(isAbsolute, 'must be an absolute path').optional(),
  })
  .strict();
export type TemplateCatalogSettings = z.input<typeof templateCatalogSettingsSchema>;

export interface TemplateCatalog {
  /** Every template, built-in and user, sorted by name (a user one replaces a built-in). */
  list(): Promise<TemplateInfo[]>;
  /** One template with its text. NotFoundError names the known ones. */
  show(name: string): Promise<Template>;
  /** The template with `vars` substituted (one pass; every missing variable reported at once). */
  render(name: string, vars?: TemplateVars): Promise<string>;
}

export function createTemplateCatalog(settings: TemplateCatalogSettings = {}): TemplateCatalog {
  const s = parseOptions(templateCatalogSettingsSchema, settings, 'templates');
  const builtinDir = s.builtinDir ?? BUILTIN_TEMPLATES_DIR;

  async function all(): Promise<Map<string, { path: string; source: 'builtin' | 'user' }>> {
    const merged = new Map<string, { path: string; source: 'builtin' | 'user' }>();
    for (const [name, path] of await scan(builtinDir))
      merged.set(name, { path, source: 'builtin' });
    for (const [name, path] of await scan(s.userDir ?? defaultUserTemplatesDir()))
      merged.set(name, { path, source: 'user' });
    return new Map([...merged].sort(([a], [b]) => a.localeCompare(b)));
  }

  async function load(name: string, entry: { path: string; source: 'builtin' | 'user' }) {
    const content = await readFile(entry.path, 'utf8');
    return {
      name,
      description: describe(content),
      source: entry.source,
      path: entry.path,
      variables: templateVariables(content),
      content,
    } satisfies Template;
  }

  async function show(name: string): Promise<Template> {
    parseOptions(templateNameSchema, name, 'template.name');
    const templates = await all();
    const entry = templates.get(name);
    if (!entry) {
      throw new NotFoundError(`no LinuxKit template named ${JSON.stringify(name)}`, {
        hint: `known templates: ${[...templates.keys()].join(', ') || '(none)'}; user templates go in ${s.userDir ?? defaultUserTemplatesDir()}`,
      });
    }
    return load(name, entry);
  }

  return {
    async list() {
      const out: TemplateInfo[] = [];
      for (const [name, entry] of await all()) {
        const { content: _content, ...info } = await load(name, entry);
        out.push(info);
      }
      return out;
    },
    show,
    async render(name, vars = {}) {
      const checked = parseOptions(
        z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'invalid variable name'), z.string()),
        vars,
        'vars',
      );
      const t = await show(name);
      return substituteVariables(t.content, checked, `template ${name}`);
    },
  };
}
